// SAX reading of tokenizer.json (see tokenizer_json.h).
//
// The handler builds the tree itself (a stack of open containers) and
// diverts two subtrees: the object under key "vocab" and the array under key
// "merges", both directly inside the top-level "model" object. Inside them
// only the expected shapes are accepted ({"token": id} and "left right" or
// ["left", "right"]); anything else stops the parse with an error naming the
// entry.
#include "engine/model/tokenizer_json.h"
#include "engine/model/unicode_tables.h"

namespace beluga {
namespace {

using nlohmann::json;

class Handler {
 public:
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  Handler(TokenizerJson& out, std::string_view label) : out_(out), label_(label) {}

  const std::string& error() const { return error_; }

  bool null() { return value(json(nullptr)); }
  bool boolean(bool v) { return value(json(v)); }
  bool number_integer(number_integer_t v) {
    if (mode_ == Mode::kVocab) return vocab_id(v);
    return value(json(v));
  }
  bool number_unsigned(number_unsigned_t v) {
    if (mode_ == Mode::kVocab) {
      if (v > static_cast<number_unsigned_t>(INT64_MAX)) return vocab_bad("is too large");
      return vocab_id(static_cast<int64_t>(v));
    }
    return value(json(v));
  }
  bool number_float(number_float_t v, const string_t&) { return value(json(v)); }
  bool binary(binary_t&) { return fail("binary values are not JSON"); }

  bool string(string_t& s) {
    if (mode_ == Mode::kMerges) {
      const size_t space = s.find(' ');
      if (space == string_t::npos || space == 0 || space + 1 >= s.size() || s.find(' ', space + 1) != string_t::npos)
        return merge_bad("'" + s + "' is not \"left right\"");
      out_.merges.emplace_back(s.substr(0, space), s.substr(space + 1));
      return true;
    }
    if (mode_ == Mode::kMergePair) {
      if (pair_parts_ >= 2) return merge_bad("must be [left, right]");
      (pair_parts_ == 0 ? pair_.first : pair_.second) = std::move(s);
      ++pair_parts_;
      return true;
    }
    return value(json(std::move(s)));
  }

  bool key(string_t& k) {
    if (mode_ == Mode::kVocab) {
      vocab_key_ = std::move(k);
      return true;
    }
    pending_key_ = std::move(k);
    return true;
  }

  bool start_object(std::size_t) {
    if (mode_ != Mode::kTree) return mode_ == Mode::kVocab ? vocab_bad("is not an integer") : merge_bad("must be a string or [left, right]");
    if (in_model() && pending_key_ == "vocab") {
      out_.has_vocab = true;
      if (!value(json(nullptr))) return false;
      mode_ = Mode::kVocab;
      return true;
    }
    json* container = add(json::object());
    if (!container) return false;
    path_.push_back(stack_.size() == 1 ? pending_key_ : std::string());
    stack_.push_back(container);
    return true;
  }

  bool end_object() {
    if (mode_ == Mode::kVocab) {
      mode_ = Mode::kTree;
      return true;
    }
    stack_.pop_back();
    path_.pop_back();
    return true;
  }

  bool start_array(std::size_t) {
    if (mode_ == Mode::kVocab) return vocab_bad("is not an integer");
    if (mode_ == Mode::kMergePair) return merge_bad("must be [left, right]");
    if (mode_ == Mode::kMerges) {
      mode_ = Mode::kMergePair;
      pair_parts_ = 0;
      return true;
    }
    if (in_model() && pending_key_ == "merges") {
      out_.has_merges = true;
      if (!value(json(nullptr))) return false;
      mode_ = Mode::kMerges;
      return true;
    }
    json* container = add(json::array());
    if (!container) return false;
    path_.push_back(std::string());
    stack_.push_back(container);
    return true;
  }

  bool end_array() {
    if (mode_ == Mode::kMergePair) {
      if (pair_parts_ != 2) return merge_bad("must be [left, right]");
      out_.merges.emplace_back(std::move(pair_.first), std::move(pair_.second));
      mode_ = Mode::kMerges;
      return true;
    }
    if (mode_ == Mode::kMerges) {
      mode_ = Mode::kTree;
      return true;
    }
    stack_.pop_back();
    path_.pop_back();
    return true;
  }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    if (error_.empty()) error_ = std::string(label_) + ": not valid JSON (byte " + std::to_string(position) + "): " + e.what();
    return false;
  }

 private:
  enum class Mode { kTree, kVocab, kMerges, kMergePair };

  // Directly inside the top-level "model" object.
  bool in_model() const { return stack_.size() == 2 && path_[1] == "model" && stack_.back()->is_object(); }

  json* add(json v) {
    if (stack_.empty()) {
      out_.rest = std::move(v);
      return &out_.rest;
    }
    json* top = stack_.back();
    if (top->is_array()) {
      top->push_back(std::move(v));
      return &top->back();
    }
    json& slot = (*top)[pending_key_];
    slot = std::move(v);
    return &slot;
  }
  bool value(json v) {
    if (mode_ == Mode::kMerges || mode_ == Mode::kMergePair) return merge_bad("must be a string or [left, right]");
    if (mode_ == Mode::kVocab) return vocab_bad("is not an integer");
    return add(std::move(v)) != nullptr;
  }
  bool vocab_id(int64_t id) {
    out_.vocab.emplace_back(std::move(vocab_key_), id);
    return true;
  }
  bool vocab_bad(const std::string& why) {
    return fail("key 'model.vocab': the id of '" + vocab_key_ + "' " + why);
  }
  bool merge_bad(const std::string& why) {
    return fail("key 'model.merges[" + std::to_string(out_.merges.size()) + "]': " + why);
  }
  bool fail(const std::string& message) {
    if (error_.empty()) error_ = std::string(label_) + ": " + message;
    return false;
  }

  TokenizerJson& out_;
  std::string_view label_;
  std::string error_;
  Mode mode_ = Mode::kTree;
  std::vector<json*> stack_;
  std::vector<std::string> path_;  // key of each open container (top-level children only)
  std::string pending_key_;
  std::string vocab_key_;
  std::pair<std::string, std::string> pair_;
  int pair_parts_ = 0;
};

// --- fast path -----------------------------------------------------------------
//
// A tight scanner for the two big tables, which are all strings and small
// integers: it finds "model" -> "vocab" / "merges" by a structural scan of
// the top two levels, decodes them itself, and hands nlohmann only the rest
// of the text with the two tables replaced by null. Anything it does not
// expect (a negative or fractional id, a malformed merge, bad escapes,
// invalid UTF-8, control characters) makes it give up, and the SAX path
// above parses the file again to report the problem precisely.

class FastScanner {
 public:
  explicit FastScanner(std::string_view s) : s_(s) {}

  bool read(TokenizerJson& out) {
    size_t i = space(0);
    if (!expect(i, '{')) return false;
    std::string key;
    for (i = space(i); i < s_.size() && s_[i] == '"';) {
      if (!string(i, &key)) return false;
      i = space(i);
      if (!expect(i, ':')) return false;
      i = space(i);
      if (key == "model" && i < s_.size() && s_[i] == '{') {
        if (!model(i, out)) return false;
      } else if (!skip(i)) {
        return false;
      }
      i = space(i);
      if (i < s_.size() && s_[i] == ',') i = space(i + 1);
      else break;
    }
    if (!out.has_vocab || !out.has_merges) return false;  // let the SAX path say what is missing
    // The rest, with the tables replaced by null (spans are in text order).
    std::string rest;
    rest.reserve(s_.size() - (vocab_.second - vocab_.first) - (merges_.second - merges_.first) + 8);
    auto first = vocab_.first < merges_.first ? vocab_ : merges_;
    auto second = vocab_.first < merges_.first ? merges_ : vocab_;
    rest.append(s_.substr(0, first.first)).append("null");
    rest.append(s_.substr(first.second, second.first - first.second)).append("null");
    rest.append(s_.substr(second.second));
    out.rest = json::parse(rest, nullptr, /*allow_exceptions=*/false);
    return !out.rest.is_discarded();
  }

 private:
  size_t space(size_t i) const {
    while (i < s_.size() && (s_[i] == ' ' || s_[i] == '\n' || s_[i] == '\r' || s_[i] == '\t')) ++i;
    return i;
  }
  bool expect(size_t& i, char c) const {
    if (i >= s_.size() || s_[i] != c) return false;
    ++i;
    return true;
  }

  bool hex4(size_t i, uint32_t& v) const {
    if (i + 4 > s_.size()) return false;
    v = 0;
    for (size_t k = i; k < i + 4; ++k) {
      const char c = s_[k];
      const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (d < 0) return false;
      v = v << 4 | static_cast<uint32_t>(d);
    }
    return true;
  }
  // Length of the well-formed UTF-8 sequence at i, 0 if malformed.
  size_t utf8_length(size_t i) const {
    const auto* u = reinterpret_cast<const uint8_t*>(s_.data());
    const size_t left = s_.size() - i;
    const uint8_t b0 = u[i];
    auto cont = [&](size_t k) { return (u[i + k] & 0xC0) == 0x80; };
    if (b0 >= 0xC2 && b0 <= 0xDF) return left >= 2 && cont(1) ? 2 : 0;
    if (b0 >= 0xE0 && b0 <= 0xEF) {
      if (left < 3 || !cont(2)) return 0;
      const uint8_t lo = b0 == 0xE0 ? 0xA0 : 0x80, hi = b0 == 0xED ? 0x9F : 0xBF;
      return u[i + 1] >= lo && u[i + 1] <= hi ? 3 : 0;
    }
    if (b0 >= 0xF0 && b0 <= 0xF4) {
      if (left < 4 || !cont(2) || !cont(3)) return 0;
      const uint8_t lo = b0 == 0xF0 ? 0x90 : 0x80, hi = b0 == 0xF4 ? 0x8F : 0xBF;
      return u[i + 1] >= lo && u[i + 1] <= hi ? 4 : 0;
    }
    return 0;
  }
  // The string at s_[i] == '"', decoded into *out (when given); i moves past it.
  bool string(size_t& i, std::string* out) const {
    if (i >= s_.size() || s_[i] != '"') return false;
    if (out) out->clear();
    for (++i; i < s_.size();) {
      const auto c = static_cast<uint8_t>(s_[i]);
      if (c == '"') {
        ++i;
        return true;
      }
      if (c < 0x20) return false;
      if (c < 0x80 && c != '\\') {
        if (out) *out += static_cast<char>(c);
        ++i;
        continue;
      }
      if (c >= 0x80) {
        const size_t n = utf8_length(i);
        if (n == 0) return false;
        if (out) out->append(s_.substr(i, n));
        i += n;
        continue;
      }
      if (i + 1 >= s_.size()) return false;
      const char e = s_[i + 1];
      i += 2;
      char plain = 0;
      switch (e) {
        case '"': plain = '"'; break;
        case '\\': plain = '\\'; break;
        case '/': plain = '/'; break;
        case 'b': plain = '\b'; break;
        case 'f': plain = '\f'; break;
        case 'n': plain = '\n'; break;
        case 'r': plain = '\r'; break;
        case 't': plain = '\t'; break;
        case 'u': {
          uint32_t cp = 0;
          if (!hex4(i, cp)) return false;
          i += 4;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t low = 0;
            if (i + 6 > s_.size() || s_[i] != '\\' || s_[i + 1] != 'u' || !hex4(i + 2, low) || low < 0xDC00 || low > 0xDFFF)
              return false;
            i += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          if (out) unicode::append_utf8(cp, *out);
          continue;
        }
        default:
          return false;
      }
      if (out) *out += plain;
    }
    return false;
  }
  // Any value, structurally (strings checked as above).
  bool skip(size_t& i) const {
    int depth = 0;
    do {
      i = space(i);
      if (i >= s_.size()) return false;
      const char c = s_[i];
      if (c == '"') {
        if (!string(i, nullptr)) return false;
      } else if (c == '{' || c == '[') {
        ++depth;
        ++i;
      } else if (c == '}' || c == ']') {
        if (--depth < 0) return false;
        ++i;
      } else if (c == ',' || c == ':') {
        ++i;
      } else {
        const size_t start = i;
        while (i < s_.size() && std::string_view(",:{}[] \t\r\n\"").find(s_[i]) == std::string_view::npos) ++i;
        if (i == start) return false;
      }
    } while (depth > 0);
    return true;
  }

  bool model(size_t& i, TokenizerJson& out) {
    ++i;  // '{'
    std::string key;
    for (i = space(i); i < s_.size() && s_[i] == '"';) {
      if (!string(i, &key)) return false;
      i = space(i);
      if (!expect(i, ':')) return false;
      i = space(i);
      const size_t begin = i;
      if (key == "vocab" && i < s_.size() && s_[i] == '{') {
        if (out.has_vocab || !vocab(i, out)) return false;
        vocab_ = {begin, i};
      } else if (key == "merges" && i < s_.size() && s_[i] == '[') {
        if (out.has_merges || !merges(i, out)) return false;
        merges_ = {begin, i};
      } else if (!skip(i)) {
        return false;
      }
      i = space(i);
      if (i < s_.size() && s_[i] == ',') i = space(i + 1);
      else break;
    }
    return expect(i, '}');
  }

  bool vocab(size_t& i, TokenizerJson& out) {
    ++i;  // '{'
    out.has_vocab = true;
    i = space(i);
    if (i < s_.size() && s_[i] == '}') return ++i, true;
    std::string key;
    for (;;) {
      if (!string(i, &key)) return false;
      i = space(i);
      if (!expect(i, ':')) return false;
      i = space(i);
      int64_t id = 0;
      const size_t start = i;
      while (i < s_.size() && s_[i] >= '0' && s_[i] <= '9' && i - start < 12) id = id * 10 + (s_[i++] - '0');
      if (i == start || (i - start > 1 && s_[start] == '0')) return false;
      out.vocab.emplace_back(key, id);
      i = space(i);
      if (i < s_.size() && s_[i] == ',') {
        i = space(i + 1);
        continue;
      }
      return expect(i, '}');
    }
  }

  bool merges(size_t& i, TokenizerJson& out) {
    ++i;  // '['
    out.has_merges = true;
    i = space(i);
    if (i < s_.size() && s_[i] == ']') return ++i, true;
    std::string a, b;
    for (;;) {
      if (i < s_.size() && s_[i] == '"') {
        if (!string(i, &a)) return false;
        const size_t sp = a.find(' ');
        if (sp == std::string::npos || sp == 0 || sp + 1 >= a.size() || a.find(' ', sp + 1) != std::string::npos)
          return false;
        out.merges.emplace_back(a.substr(0, sp), a.substr(sp + 1));
      } else if (i < s_.size() && s_[i] == '[') {
        i = space(i + 1);
        if (!string(i, &a)) return false;
        i = space(i);
        if (!expect(i, ',')) return false;
        i = space(i);
        if (!string(i, &b)) return false;
        i = space(i);
        if (!expect(i, ']')) return false;
        out.merges.emplace_back(a, b);
      } else {
        return false;
      }
      i = space(i);
      if (i < s_.size() && s_[i] == ',') {
        i = space(i + 1);
        continue;
      }
      return expect(i, ']');
    }
  }

  std::string_view s_;
  std::pair<size_t, size_t> vocab_{0, 0}, merges_{0, 0};
};

}  // namespace

Result<TokenizerJson> read_tokenizer_json(std::string_view text, std::string_view label) {
  {
    TokenizerJson out;
    out.vocab.reserve(text.size() / 64);
    out.merges.reserve(text.size() / 64);
    if (FastScanner(text).read(out)) return out;
  }
  TokenizerJson out;
  Handler handler(out, label);
  const bool ok = json::sax_parse(text.begin(), text.end(), &handler, json::input_format_t::json, /*strict=*/true);
  if (!ok) {
    if (!handler.error().empty()) return make_error(handler.error());
    return make_error(std::string(label) + ": not valid JSON");
  }
  return out;
}

}  // namespace beluga
