// Token counts of file contents, as a function passed in.
//
// The indexer knows nothing of the model (DESIGN.md): it is handed a
// TokenCounter. The command line builds one from the project's tokenizer
// when given `--tokenizer FILE` (daemon/index_commands.cpp); without one,
// the estimate below is used and every count is marked estimated. The
// context packer (a later increment) takes the same type, so budgets and
// the index agree on what a token is.
//
// `identity` is stored in the index: when it changes (another tokenizer,
// or the estimate replaced by a tokenizer), every file is counted again,
// so the index never mixes two kinds of count.
//
// Thread contract: `count` is called from several indexing threads at once
// and must be safe to share (Tokenizer::encode is).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace beluga::indexer {

struct TokenCounter {
  std::string identity;   // e.g. "estimate:bytes/3" or "tokenizer:<git blob id of tokenizer.json>"
  bool estimated = true;  // counts are an approximation, not the model's tokenizer
  std::function<int64_t(std::string_view text)> count;
};

// ceil(bytes / 3). Why 3: DeepSeek's byte-level BPE averages 3.3 bytes per
// token on this repository's own sources (docs/indexer.md gives the
// measurement), so bytes/3 errs about 10 % high: an estimated budget may
// waste a little room but never overflows the context.
int64_t estimate_tokens(std::string_view text);
TokenCounter estimated_token_counter();

}  // namespace beluga::indexer
