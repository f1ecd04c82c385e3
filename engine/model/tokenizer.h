// Tokenizer: the DeepSeek V3/V4 byte-level BPE tokenizer, loaded from a
// Hugging Face tokenizer.json, encoding exactly as the `tokenizers` library
// does with that file (../shared/golden/tokenizer/cases.jsonl: 375/375).
//
// encode(text) runs the tokenizer.json pipeline:
//   1. added tokens (<｜User｜>, <｜end▁of▁sentence｜>, <think> in V4, ...) are
//      found literally in the raw text, leftmost-longest, whether flagged
//      special or not (engine/model/added_tokens.h); each becomes its id;
//   2. the text between them is pre-tokenized (engine/model/pretokenizer.h)
//      into pieces;
//   3. each piece is encoded by byte-level BPE (engine/model/bpe.h).
// No BOS/EOS is added: prompt builders write the BOS literal or id
// themselves (V4's add_bos_token is false).
//
// Untrusted text (file contents, tool output) is encoded with
// allow_special = false: step 1 is skipped, so no added-token id can come
// out, and no plain BPE merge sequence reaches one either (their vocabulary
// spellings contain characters outside the byte alphabet).
//
// Invalid UTF-8 is encoded byte for byte (each bad byte is its own
// pre-tokenizer unit and byte token), so decode(encode(bytes)) == bytes for
// any input. decode() returns raw bytes, which may be invalid UTF-8 when ids
// end inside a character: callers that need text handle that themselves.
//
// Unknown ids in decode() (negative, past the vocabulary, or an unused id
// between the BPE vocabulary and the added tokens) are skipped silently,
// as the reference does.
//
// Supported tokenizer.json files: a BPE model (no byte fallback, no
// continuing-subword prefix or end-of-word suffix, no dropout; ignore_merges
// honoured), no normalizer, the DeepSeek pre-tokenizer sequence verbatim,
// added tokens without lstrip/rstrip/single_word. Anything else is refused
// at load with a message naming the key, rather than tokenized differently.
//
// Nuance vs the reference: Hugging Face first matches added tokens whose
// "normalized" flag is false, then the others in the remaining text. With no
// normalizer that equals one leftmost-longest pass over all of them unless
// two tokens overlap in the text (a suffix of one is a prefix of another);
// no pair of V3 tokens can, and the V4 additions only could around
// "<｜/table>｜" + "｜DSML｜".
//
// Thread contract: const after load and safe to share across threads; a
// copy shares the loaded tables. Each concurrent encode() borrows its own
// scratch area and merge cache from a small pool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/result.h"

namespace beluga {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = false;  // only matters to decode(..., skip_special = true)
};

class Tokenizer {
 public:
  // Loads a tokenizer.json; `extra_added` are added on top of its
  // added_tokens (e.g. the V4 tokens of v4_added_tokens.json). An extra
  // token identical to an existing one is accepted; one that reuses an id or
  // a content with a different partner is an error.
  static Result<Tokenizer> load(const std::string& path, std::span<const AddedToken> extra_added = {});
  static Result<Tokenizer> parse(std::string_view json_text, std::string_view label,
                                 std::span<const AddedToken> extra_added = {});

  std::vector<int32_t> encode(std::string_view text, bool allow_special = true) const;
  // Appends to `out` (reuse one vector across calls).
  void encode_into(std::string_view text, bool allow_special, std::vector<int32_t>& out) const;

  // Concatenated token bytes; special added tokens dropped when skip_special.
  std::string decode(std::span<const int32_t> ids, bool skip_special = false) const;
  // The bytes id decodes to; nullopt for an unknown id.
  std::optional<std::string_view> token_bytes(int32_t id) const;

  // The id of an added token with exactly this content, else of the BPE
  // vocabulary entry whose bytes are `piece` (raw text: " the", not the
  // "Ġthe" spelling tokenizer.json uses).
  std::optional<int32_t> token_id(std::string_view piece) const;

  // Highest id + 1 (BPE vocabulary and added tokens): the rows an embedding
  // needs. 128815 for the V3 file, 129280 for V4.
  int32_t vocab_size() const;
  bool is_added(int32_t id) const;
  bool is_special(int32_t id) const;  // an added token flagged "special"
  // Every added token, sorted by id.
  const std::vector<AddedToken>& added_tokens() const;

 private:
  struct Impl;
  explicit Tokenizer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  static Result<Tokenizer> parse_checked(std::string_view json_text, std::string_view label,
                                         std::span<const AddedToken> extra_added);
  std::shared_ptr<Impl> impl_;
};

}  // namespace beluga
