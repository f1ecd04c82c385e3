// Added-token lists and the assembled DeepSeek V4 tokenizer.json.
//
// No verified copy of the released V4 tokenizer.json is at hand
// (../shared/golden/tokenizer-v4/README.md). V4 has the same BPE core as V3
// and 465 more added tokens (ids 128815-129279, listed in
// v4_added_tokens.json as {"id", "content"} objects), so a V4 tokenizer is
// built as "V3 tokenizer.json + that list" — either in memory
// (Tokenizer::load(path, extra)) or as a complete file written here.
//
// The "special" flag of the new tokens (it only matters when decoding with
// special tokens skipped). V4_ADDED_TOKENS.md establishes that <think>,
// </think>, ｜DSML｜ and the task tokens <｜action｜> ... <｜read_url｜> are
// special: false, and nothing about the rest. V3's convention is that only
// the tokens that carry no text are special (BOS/EOS/pad, <|EOT|> and the
// <｜place▁holder▁no▁N｜> placeholders), while structural tokens that a
// transcript shows (<｜User｜>, FIM, tool-call markers) are not. Following
// it, default_added_token_special() makes the 415 multimodal span
// placeholders <|place_holder_mm_span_NNNN|> special and every other V4
// token not special: skipping special tokens then drops only placeholders
// and never a token that structures a transcript. A list entry's own
// "special" field, when present, wins. "normalized" follows V3 too:
// false for special tokens, true otherwise (no effect without a normalizer).
//
// Thread contract: plain functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/base/result.h"
#include "engine/model/tokenizer.h"

namespace beluga {

// The special flag a listed token gets when its entry does not say.
bool default_added_token_special(std::string_view content);

// A v4_added_tokens.json-style list: a JSON array of
// {"id": int, "content": string, "special": bool (optional)}.
Result<std::vector<AddedToken>> parse_added_token_list(std::string_view json_text, std::string_view label);
Result<std::vector<AddedToken>> load_added_token_list(const std::string& path);

struct AssembledTokenizer {
  std::string json_text;
  size_t tokens_added = 0;  // tokens of the list that were not in the base yet
};

// The text of `base_json` (a tokenizer.json) with `added` appended to its
// "added_tokens" array, everything else byte for byte as it was. Tokens
// already present with the same id and content are skipped (assembling twice
// changes nothing); a conflicting id or content is an error. The result is
// loaded once to prove it is a working tokenizer with every token at its id.
Result<AssembledTokenizer> assemble_tokenizer_json(std::string_view base_json, std::string_view base_label,
                                                   const std::vector<AddedToken>& added);

// Reads `base_path` and `added_path`, assembles, and writes `out_path`
// atomically (temp file + rename). Returns the number of tokens added.
Result<size_t> assemble_tokenizer_file(const std::string& base_path, const std::string& added_path,
                                       const std::string& out_path);

}  // namespace beluga
