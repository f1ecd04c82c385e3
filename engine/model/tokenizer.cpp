// Loading tokenizer.json and running encode/decode (design: tokenizer.h).
//
// tokenizer.json layout (the keys read here):
//   added_tokens   [{id, content, special, lstrip, rstrip, single_word, normalized}]
//   normalizer     null or an empty Sequence
//   pre_tokenizer  the DeepSeek Sequence (kPreTokenizerJson below), verbatim
//   decoder        ByteLevel (or null)
//   model          {type: "BPE", vocab: {token: id}, merges: ["a b" | ["a","b"]],
//                   byte_fallback, dropout, continuing_subword_prefix,
//                   end_of_word_suffix, ignore_merges}
// post_processor is not applied: encode() never adds BOS/EOS.
//
// Vocabulary strings use GPT-2's byte-to-unicode alphabet: bytes that are
// printable Latin-1 ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves, the
// other 68 bytes are U+0100 + n in byte order. The loader turns every entry
// back into raw bytes; an entry with a character outside the alphabet (the
// V3 file's ids 0-2, "<｜begin▁of▁sentence｜>" ...) can never come out of
// BPE and decodes to its UTF-8 spelling, as in the reference's ByteLevel
// decoder (which also decodes added tokens through the alphabet when every
// character of the content is in it, e.g. "<think>").
#include "engine/model/tokenizer.h"

#include <algorithm>
#include <array>
#include <mutex>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "engine/base/files.h"
#include "engine/model/added_tokens.h"
#include "engine/model/bpe.h"
#include "engine/model/pretokenizer.h"
#include "engine/model/string_index.h"
#include "engine/model/tokenizer_json.h"

namespace beluga {

using nlohmann::json;

namespace {

constexpr uint64_t kMaxTokenizerFileBytes = 256ull << 20;
constexpr int64_t kMaxTokenId = (1 << 24) - 1;  // 16M ids: far beyond any real vocabulary
constexpr size_t kMaxPooledScratch = 16;

// The only pre-tokenizer implemented (engine/model/pretokenizer.h).
constexpr const char* kPreTokenizerJson = R"({"type": "Sequence", "pretokenizers": [
  {"type": "Split", "pattern": {"Regex": "\\p{N}{1,3}"}, "behavior": "Isolated", "invert": false},
  {"type": "Split", "pattern": {"Regex": "[一-龥぀-ゟ゠-ヿ]+"}, "behavior": "Isolated", "invert": false},
  {"type": "Split", "pattern": {"Regex": "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"}, "behavior": "Isolated", "invert": false},
  {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]})";

// GPT-2 bytes_to_unicode: code point (< 0x144) -> byte, -1 if not in the alphabet.
const std::array<int16_t, 0x200>& unicode_to_byte() {
  static const std::array<int16_t, 0x200> table = [] {
    std::array<int16_t, 0x200> t;
    t.fill(-1);
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      t[static_cast<size_t>(printable ? b : 0x100 + extra++)] = static_cast<int16_t>(b);
    }
    return t;
  }();
  return table;
}

// Decodes one well-formed UTF-8 character at s[i]; false at a malformed one.
bool next_code_point(std::string_view s, size_t& i, char32_t& cp) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  int n = b0 < 0x80 ? 1 : (b0 >> 5) == 6 ? 2 : (b0 >> 4) == 14 ? 3 : (b0 >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + static_cast<size_t>(n) > s.size()) return false;
  cp = n == 1 ? b0 : n == 2 ? (b0 & 0x1F) : n == 3 ? (b0 & 0x0F) : (b0 & 0x07);
  for (int k = 1; k < n; ++k) {
    const auto b = static_cast<uint8_t>(s[i + static_cast<size_t>(k)]);
    if ((b & 0xC0) != 0x80) return false;
    cp = (cp << 6) | (b & 0x3F);
  }
  i += static_cast<size_t>(n);
  return true;
}

// The bytes a vocabulary spelling stands for; nullopt if any character is
// outside the byte alphabet.
std::optional<std::string> alphabet_to_bytes(std::string_view spelling) {
  std::string bytes;
  bytes.reserve(spelling.size());
  const auto& table = unicode_to_byte();
  for (size_t i = 0; i < spelling.size();) {
    char32_t cp = 0;
    if (!next_code_point(spelling, i, cp) || cp >= table.size() || table[cp] < 0) return std::nullopt;
    bytes.push_back(static_cast<char>(table[cp]));
  }
  return bytes;
}

constexpr uint8_t kKnown = 1, kAdded = 2, kSpecial = 4;

Error key_error(std::string_view label, std::string_view key, const std::string& why) {
  return make_error(std::string(label) + ": key '" + std::string(key) + "': " + why);
}

std::string short_dump(const json& value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  return text.size() > 200 ? text.substr(0, 200) + "..." : text;
}

}  // namespace

struct Tokenizer::Impl {
  BpeModel bpe;
  AddedTokenMatcher matcher;
  std::vector<AddedToken> added;          // sorted by id
  std::vector<std::string> decoded;       // id -> bytes
  std::vector<uint8_t> flags;             // id -> kKnown | kAdded | kSpecial
  StringIndex bpe_by_bytes;               // reachable vocabulary entries, raw bytes -> id
  StringIndex added_by_content;
  bool ignore_merges = false;

  std::mutex pool_mutex;
  std::vector<std::unique_ptr<BpeScratch>> pool;

  std::unique_ptr<BpeScratch> borrow() {
    {
      std::lock_guard<std::mutex> lock(pool_mutex);
      if (!pool.empty()) {
        auto scratch = std::move(pool.back());
        pool.pop_back();
        return scratch;
      }
    }
    return std::make_unique<BpeScratch>();
  }
  void give_back(std::unique_ptr<BpeScratch> scratch) {
    std::lock_guard<std::mutex> lock(pool_mutex);
    if (pool.size() < kMaxPooledScratch) pool.push_back(std::move(scratch));
  }

  void encode_plain(std::string_view text, BpeScratch& scratch, std::vector<int32_t>& out) const {
    PreTokenizer cursor(text);
    std::string_view piece;
    while (cursor.next(piece)) {
      if (ignore_merges) {
        if (const int32_t id = bpe_by_bytes.find(piece); id >= 0) {
          out.push_back(id);
          continue;
        }
      }
      bpe.encode_piece(piece, scratch, out);
    }
  }
};

namespace {

// obj[key] as a string, or "" when absent or not a string.
std::string string_at(const json& obj, const char* key) {
  if (!obj.is_object() || !obj.contains(key) || !obj[key].is_string()) return {};
  return obj[key].get<std::string>();
}

bool present(const json& obj, const char* key) { return obj.contains(key) && !obj[key].is_null(); }

Status check_supported(const json& doc, std::string_view label) {
  if (present(doc, "normalizer")) {
    const json& n = doc["normalizer"];
    const bool empty_sequence = string_at(n, "type") == "Sequence" && n.contains("normalizers") &&
                                n["normalizers"].is_array() && n["normalizers"].empty();
    if (!empty_sequence) return key_error(label, "normalizer", "unsupported normalizer " + short_dump(n) + " (only none)");
  }
  if (!doc.contains("pre_tokenizer") || doc["pre_tokenizer"] != json::parse(kPreTokenizerJson))
    return key_error(label, "pre_tokenizer",
                     "only the DeepSeek V3/V4 pre-tokenizer sequence is implemented; found " +
                         short_dump(doc.contains("pre_tokenizer") ? doc["pre_tokenizer"] : json()));
  if (present(doc, "decoder") && string_at(doc["decoder"], "type") != "ByteLevel")
    return key_error(label, "decoder", "unsupported decoder " + short_dump(doc["decoder"]) + " (only ByteLevel)");
  const json& model = doc["model"];
  if (present(model, "type") && string_at(model, "type") != "BPE")
    return key_error(label, "model.type", "only BPE is supported, found " + short_dump(model["type"]));
  if (present(model, "byte_fallback") && model["byte_fallback"] != false)
    return key_error(label, "model.byte_fallback", "byte fallback is not supported (must be false)");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (present(model, key) && model[key] != "")
      return key_error(label, std::string("model.") + key, "not supported (must be null)");
  }
  if (present(model, "dropout") && !(model["dropout"].is_number() && model["dropout"].get<double>() == 0.0))
    return key_error(label, "model.dropout", "BPE dropout is not supported");
  if (present(model, "ignore_merges") && !model["ignore_merges"].is_boolean())
    return key_error(label, "model.ignore_merges", "must be a boolean");
  return {};
}

// Reads one added-token object of tokenizer.json.
Result<AddedToken> parse_added_token(const json& entry, std::string_view label, size_t index) {
  const std::string where = "added_tokens[" + std::to_string(index) + "]";
  if (!entry.is_object()) return key_error(label, where, "must be an object");
  if (!entry.contains("id") || !entry["id"].is_number_integer() || entry["id"].get<int64_t>() < 0 ||
      entry["id"].get<int64_t>() > kMaxTokenId)
    return key_error(label, where + ".id", "must be an integer in 0.." + std::to_string(kMaxTokenId));
  if (!entry.contains("content") || !entry["content"].is_string() || entry["content"].get_ref<const std::string&>().empty())
    return key_error(label, where + ".content", "must be a non-empty string");
  for (const char* flag : {"lstrip", "rstrip", "single_word"}) {
    if (entry.contains(flag) && entry[flag] == true)
      return key_error(label, where + "." + flag, "is not supported (must be false)");
  }
  if (entry.contains("special") && !entry["special"].is_boolean())
    return key_error(label, where + ".special", "must be a boolean");
  return AddedToken{static_cast<int32_t>(entry["id"].get<int64_t>()), entry["content"].get<std::string>(),
                    entry.contains("special") && entry["special"] == true};
}

// Adds `token` to `added` unless an identical one is there; conflicting ids
// or contents are errors.
Status merge_added(std::vector<AddedToken>& added, std::unordered_map<int32_t, size_t>& by_id,
                   StringIndex& by_content, const AddedToken& token, std::string_view label) {
  auto id_it = by_id.find(token.id);
  const int32_t content_id = by_content.find(token.content);
  if (id_it != by_id.end()) {
    const AddedToken& existing = added[id_it->second];
    if (existing.content == token.content) return {};
    return make_error(std::string(label) + ": added token id " + std::to_string(token.id) + " is already '" +
                      existing.content + "', cannot also be '" + token.content + "'");
  }
  if (content_id >= 0)
    return make_error(std::string(label) + ": added token '" + token.content + "' already has id " +
                      std::to_string(content_id) + ", cannot also be " + std::to_string(token.id));
  by_id[token.id] = added.size();
  by_content.insert(token.content, token.id);
  added.push_back(token);
  return {};
}

}  // namespace

Result<Tokenizer> Tokenizer::load(const std::string& path, std::span<const AddedToken> extra_added) {
  auto text = read_text_file(path, kMaxTokenizerFileBytes);
  if (!text) return text.error();
  return parse(*text, path, extra_added);
}

Result<Tokenizer> Tokenizer::parse(std::string_view json_text, std::string_view label,
                                   std::span<const AddedToken> extra_added) {
  // The checks below look before they read; this only turns a missed case
  // into an error instead of an escaping exception.
  try {
    return parse_checked(json_text, label, extra_added);
  } catch (const json::exception& e) {
    return make_error(std::string(label) + ": unexpected tokenizer.json content: " + e.what());
  }
}

Result<Tokenizer> Tokenizer::parse_checked(std::string_view json_text, std::string_view label,
                                           std::span<const AddedToken> extra_added) {
  auto read = read_tokenizer_json(json_text, label);
  if (!read) return read.error();
  TokenizerJson& file = *read;
  const json& doc = file.rest;
  if (!doc.is_object()) return make_error(std::string(label) + ": not a tokenizer.json (top level is not an object)");
  if (!doc.contains("model") || !doc["model"].is_object()) return key_error(label, "model", "missing or not an object");
  if (!file.has_vocab) return key_error(label, "model.vocab", "missing or not an object");
  if (!file.has_merges) return key_error(label, "model.merges", "missing or not an array");
  if (Status s = check_supported(doc, label); !s) return s.error();

  auto impl = std::make_shared<Impl>();
  const json& model = doc["model"];
  impl->ignore_merges = present(model, "ignore_merges") && model["ignore_merges"] == true;

  int64_t max_id = -1;
  for (const auto& [spelling, id] : file.vocab) {
    if (id < 0 || id > kMaxTokenId)
      return key_error(label, "model.vocab", "entry '" + spelling + "' has id " + std::to_string(id) +
                                                 ", not in 0.." + std::to_string(kMaxTokenId));
    max_id = std::max(max_id, id);
  }
  // Added tokens (file, then extra).
  std::vector<AddedToken> added;
  std::unordered_map<int32_t, size_t> added_index;
  if (present(doc, "added_tokens")) {
    if (!doc["added_tokens"].is_array()) return key_error(label, "added_tokens", "must be an array");
    size_t index = 0;
    for (const json& entry : doc["added_tokens"]) {
      auto token = parse_added_token(entry, label, index++);
      if (!token) return token.error();
      if (Status s = merge_added(added, added_index, impl->added_by_content, *token, label); !s) return s.error();
    }
  }
  for (const AddedToken& token : extra_added) {
    if (token.id < 0 || token.id > kMaxTokenId || token.content.empty())
      return make_error(std::string(label) + ": extra added token '" + token.content + "' (id " +
                        std::to_string(token.id) + ") needs a non-empty content and an id in 0.." +
                        std::to_string(kMaxTokenId));
    if (Status s = merge_added(added, added_index, impl->added_by_content, token, "extra added tokens"); !s)
      return s.error();
  }
  for (const AddedToken& token : added) max_id = std::max<int64_t>(max_id, token.id);

  // Vocabulary: spelling -> id (for the merges), and each id's bytes.
  const auto size = static_cast<size_t>(max_id + 1);
  impl->decoded.resize(size);
  impl->flags.assign(size, 0);
  impl->bpe_by_bytes.reserve(file.vocab.size());
  StringIndex id_of_spelling;
  id_of_spelling.reserve(file.vocab.size());
  for (const auto& [spelling, id64] : file.vocab) {
    const auto id = static_cast<int32_t>(id64);
    if (!id_of_spelling.insert(spelling, id))
      return key_error(label, "model.vocab", "entry '" + spelling + "' appears twice");
    if (impl->flags[static_cast<size_t>(id)] & kKnown)
      return key_error(label, "model.vocab", "id " + std::to_string(id) + " is used by two entries");
    impl->flags[static_cast<size_t>(id)] = kKnown;
    auto& bytes = impl->decoded[static_cast<size_t>(id)];
    if (auto raw = alphabet_to_bytes(spelling)) {
      bytes = std::move(*raw);
      impl->bpe_by_bytes.insert(bytes, id);
    } else {
      bytes = spelling;  // unreachable by BPE; decodes to its spelling
    }
  }
  for (int b = 0; b < 256; ++b) {
    const char byte = static_cast<char>(b);
    impl->bpe.set_byte_token(static_cast<uint8_t>(b), impl->bpe_by_bytes.find(std::string_view(&byte, 1)));
  }

  // Merges, in rank order.
  std::string joined;
  for (size_t rank = 0; rank < file.merges.size(); ++rank) {
    const auto& [left, right] = file.merges[rank];
    joined.assign(left).append(right);
    const int32_t l = id_of_spelling.find(left), r = id_of_spelling.find(right), j = id_of_spelling.find(joined);
    if (l < 0 || r < 0 || j < 0)
      return key_error(label, "model.merges[" + std::to_string(rank) + "]",
                       "'" + left + " " + right + "': '" + (l < 0 ? left : r < 0 ? right : joined) +
                           "' is not in the vocabulary");
    impl->bpe.add_merge(l, r, j);
  }
  impl->bpe.finish();

  // Added tokens override the decoding of their ids.
  std::sort(added.begin(), added.end(), [](const AddedToken& a, const AddedToken& b) { return a.id < b.id; });
  for (const AddedToken& token : added) {
    const auto id = static_cast<size_t>(token.id);
    auto raw = alphabet_to_bytes(token.content);
    impl->decoded[id] = raw ? std::move(*raw) : token.content;
    impl->flags[id] = static_cast<uint8_t>(kKnown | kAdded | (token.special ? kSpecial : 0));
    impl->matcher.add(token.content, token.id);
  }
  impl->matcher.build();
  impl->added = std::move(added);
  return Tokenizer(std::move(impl));
}

void Tokenizer::encode_into(std::string_view text, bool allow_special, std::vector<int32_t>& out) const {
  Impl& impl = *impl_;
  std::unique_ptr<BpeScratch> scratch = impl.borrow();
  if (allow_special && !impl.matcher.empty()) {
    size_t pos = 0;
    AddedTokenMatcher::Match match;
    while (impl.matcher.find(text, pos, match)) {
      impl.encode_plain(text.substr(pos, match.begin - pos), *scratch, out);
      out.push_back(match.id);
      pos = match.begin + match.size;
    }
    impl.encode_plain(text.substr(pos), *scratch, out);
  } else {
    impl.encode_plain(text, *scratch, out);
  }
  impl.give_back(std::move(scratch));
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool allow_special) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  encode_into(text, allow_special, ids);
  return ids;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  std::string text;
  for (int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= impl_->flags.size()) continue;
    const uint8_t f = impl_->flags[static_cast<size_t>(id)];
    if (!(f & kKnown) || (skip_special && (f & kSpecial))) continue;
    text += impl_->decoded[static_cast<size_t>(id)];
  }
  return text;
}

std::optional<std::string_view> Tokenizer::token_bytes(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= impl_->flags.size() || !(impl_->flags[static_cast<size_t>(id)] & kKnown))
    return std::nullopt;
  return std::string_view(impl_->decoded[static_cast<size_t>(id)]);
}

std::optional<int32_t> Tokenizer::token_id(std::string_view piece) const {
  if (const int32_t id = impl_->added_by_content.find(piece); id >= 0) return id;
  if (const int32_t id = impl_->bpe_by_bytes.find(piece); id >= 0) return id;
  return std::nullopt;
}

int32_t Tokenizer::vocab_size() const { return static_cast<int32_t>(impl_->flags.size()); }

bool Tokenizer::is_added(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < impl_->flags.size() && (impl_->flags[static_cast<size_t>(id)] & kAdded);
}

bool Tokenizer::is_special(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < impl_->flags.size() && (impl_->flags[static_cast<size_t>(id)] & kSpecial);
}

const std::vector<AddedToken>& Tokenizer::added_tokens() const { return impl_->added; }

}  // namespace beluga
