// JSON as Python's json module reads and writes it; see py_json.h for the
// rules. The reader mirrors json.decoder's scanner (py_scanstring,
// JSONObject, JSONArray, NUMBER_RE = -?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?);
// the writer mirrors c_encode_basestring and float.__repr__.
#include "engine/model/py_json.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "engine/model/unicode_tables.h"

namespace beluga {

JsonValue JsonValue::from_bool(bool b) {
  JsonValue v;
  v.kind = Kind::kBool;
  v.boolean = b;
  return v;
}

JsonValue JsonValue::from_string(std::string s) {
  JsonValue v;
  v.kind = Kind::kString;
  v.text = std::move(s);
  return v;
}

JsonValue JsonValue::from_int(long long n) {
  JsonValue v;
  v.kind = Kind::kInt;
  v.text = std::to_string(n);
  return v;
}

JsonValue JsonValue::array() {
  JsonValue v;
  v.kind = Kind::kArray;
  return v;
}

JsonValue JsonValue::object() {
  JsonValue v;
  v.kind = Kind::kObject;
  return v;
}

const JsonValue* JsonValue::find(std::string_view key) const {
  if (kind != Kind::kObject) return nullptr;
  for (const auto& [k, v] : members)
    if (k == key) return &v;
  return nullptr;
}

void JsonValue::set(std::string key, JsonValue value) {
  for (auto& [k, v] : members) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  members.push_back(JsonMember{std::move(key), std::move(value)});
}

std::string_view python_type_name(const JsonValue& value) {
  switch (value.kind) {
    case JsonValue::Kind::kNull: return "NoneType";
    case JsonValue::Kind::kBool: return "bool";
    case JsonValue::Kind::kInt: return "int";
    case JsonValue::Kind::kFloat: return "float";
    case JsonValue::Kind::kString: return "str";
    case JsonValue::Kind::kArray: return "list";
    case JsonValue::Kind::kObject: return "dict";
  }
  return "?";
}

bool is_truthy(const JsonValue& value) {
  switch (value.kind) {
    case JsonValue::Kind::kNull: return false;
    case JsonValue::Kind::kBool: return value.boolean;
    case JsonValue::Kind::kInt: return value.text != "0";
    case JsonValue::Kind::kFloat: return value.number != 0.0;  // NaN is truthy in Python too
    case JsonValue::Kind::kString: return !value.text.empty();
    case JsonValue::Kind::kArray: return !value.items.empty();
    case JsonValue::Kind::kObject: return !value.members.empty();
  }
  return false;
}

namespace {

// Python 3.11's default sys.int_info.str_digits_check_threshold limit:
// json.loads raises ValueError for longer integer literals.
constexpr size_t kMaxIntDigits = 4300;

// Length of the UTF-8 sequence starting at s[i] if it is well formed
// (shortest form, no surrogates, at most U+10FFFF), else 0.
size_t utf8_sequence_length(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    cp = b0 & 0x0F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    unsigned char b = byte(i + k);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
  return n;
}


class Reader {
 public:
  Reader(std::string_view text, const JsonParseOptions& options) : s_(text), options_(options) {}

  Result<JsonValue> read_document() {
    skip_ws();
    JsonValue value;
    if (!read_value(value, 0)) return make_error(error_);
    skip_ws();
    if (i_ != s_.size()) return make_error(message("extra data after the JSON value"));
    return value;
  }

 private:
  std::string message(const std::string& what) const {
    return "invalid JSON at byte " + std::to_string(i_) + ": " + what;
  }
  bool fail(const std::string& what) {
    if (error_.empty()) error_ = message(what);
    return false;
  }

  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool starts_with(std::string_view word) const { return s_.substr(i_, word.size()) == word; }

  bool read_value(JsonValue& out, int depth) {
    if (i_ >= s_.size()) return fail("expecting a value, found the end of the text");
    char c = s_[i_];
    if (c == '"') {
      out.kind = JsonValue::Kind::kString;
      return read_string(out.text);
    }
    if (c == '{') return read_object(out, depth + 1);
    if (c == '[') return read_array(out, depth + 1);
    if (starts_with("null")) {
      i_ += 4;
      out.kind = JsonValue::Kind::kNull;
      return true;
    }
    if (starts_with("true") || starts_with("false")) {
      out = JsonValue::from_bool(c == 't');
      i_ += c == 't' ? 4 : 5;
      return true;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      if (read_number(out)) return true;
      if (!error_.empty()) return false;
    }
    if (options_.allow_non_finite) {
      for (auto [word, v] : {std::pair<std::string_view, double>{"NaN", NAN},
                             {"Infinity", INFINITY},
                             {"-Infinity", -INFINITY}}) {
        if (starts_with(word)) {
          i_ += word.size();
          out.kind = JsonValue::Kind::kFloat;
          out.number = v;
          return true;
        }
      }
    }
    return fail("expecting a value");
  }

  // NUMBER_RE; returns false without an error when no number starts here
  // (so "-Infinity" can still match).
  bool read_number(JsonValue& out) {
    size_t start = i_;
    size_t k = i_;
    bool negative = false;
    if (k < s_.size() && s_[k] == '-') {
      negative = true;
      ++k;
    }
    size_t int_start = k;
    if (k < s_.size() && s_[k] == '0') {
      ++k;
    } else if (k < s_.size() && s_[k] >= '1' && s_[k] <= '9') {
      while (k < s_.size() && s_[k] >= '0' && s_[k] <= '9') ++k;
    } else {
      return false;
    }
    size_t int_end = k;
    bool is_float = false;
    if (k + 1 < s_.size() && s_[k] == '.' && s_[k + 1] >= '0' && s_[k + 1] <= '9') {
      k += 2;
      while (k < s_.size() && s_[k] >= '0' && s_[k] <= '9') ++k;
      is_float = true;
    }
    if (k < s_.size() && (s_[k] == 'e' || s_[k] == 'E')) {
      size_t e = k + 1;
      if (e < s_.size() && (s_[e] == '+' || s_[e] == '-')) ++e;
      if (e < s_.size() && s_[e] >= '0' && s_[e] <= '9') {
        while (e < s_.size() && s_[e] >= '0' && s_[e] <= '9') ++e;
        k = e;
        is_float = true;
      }
    }
    std::string_view literal = s_.substr(start, k - start);
    if (!is_float) {
      std::string_view digits = s_.substr(int_start, int_end - int_start);
      if (digits.size() > kMaxIntDigits)
        return fail("integer literal longer than Python's limit of 4300 digits");
      out.kind = JsonValue::Kind::kInt;
      out.text = (negative && digits != "0") ? "-" + std::string(digits) : std::string(digits);
      i_ = k;
      return true;
    }
    out.kind = JsonValue::Kind::kFloat;
    double value = 0.0;
    auto [ptr, ec] = std::from_chars(literal.data(), literal.data() + literal.size(), value);
    if (ec == std::errc::result_out_of_range || ptr != literal.data() + literal.size()) {
      // Overflow, underflow or a subnormal: strtod gives what Python's
      // float() gives (inf, 0.0 or the subnormal), correctly rounded.
      std::string copy(literal);
      value = std::strtod(copy.c_str(), nullptr);
    } else if (ec != std::errc()) {
      return fail("bad number");
    }
    out.number = value;
    i_ = k;
    return true;
  }

  bool read_hex4(uint32_t& out) {
    if (i_ + 4 > s_.size()) return fail("truncated \\u escape");
    out = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[i_ + k];
      uint32_t d;
      if (c >= '0' && c <= '9') d = c - '0';
      else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      else return fail("invalid \\u escape");
      out = out * 16 + d;
    }
    i_ += 4;
    return true;
  }

  bool read_string(std::string& out) {
    ++i_;  // opening quote
    out.clear();
    while (true) {
      if (i_ >= s_.size()) return fail("unterminated string");
      unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c < 0x20) return fail("invalid control character in a string");
      if (c == '\\') {
        if (i_ + 1 >= s_.size()) return fail("unterminated string");
        char e = s_[i_ + 1];
        i_ += 2;
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            uint32_t cp;
            if (!read_hex4(cp)) return false;
            if (cp >= 0xD800 && cp <= 0xDBFF && s_.substr(i_, 2) == "\\u") {
              size_t save = i_;
              i_ += 2;
              uint32_t low;
              if (!read_hex4(low)) return false;
              if (low >= 0xDC00 && low <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
              } else {
                i_ = save;  // not a pair: the next escape stands alone
              }
            }
            if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // lone surrogate
            unicode::append_utf8(cp, out);
            break;
          }
          default:
            i_ -= 1;
            return fail("invalid escape");
        }
        continue;
      }
      size_t n = utf8_sequence_length(s_, i_);
      if (n == 0) return fail("invalid UTF-8 in a string");
      out.append(s_.substr(i_, n));
      i_ += n;
    }
  }

  bool read_array(JsonValue& out, int depth) {
    if (depth > kMaxJsonDepth) return fail("nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    out.kind = JsonValue::Kind::kArray;
    ++i_;
    skip_ws();
    if (i_ < s_.size() && s_[i_] == ']') {
      ++i_;
      return true;
    }
    while (true) {
      JsonValue item;
      if (!read_value(item, depth)) return false;
      out.items.push_back(std::move(item));
      skip_ws();
      if (i_ < s_.size() && s_[i_] == ']') {
        ++i_;
        return true;
      }
      if (i_ >= s_.size() || s_[i_] != ',') return fail("expecting ',' delimiter");
      ++i_;
      skip_ws();
    }
  }

  bool read_object(JsonValue& out, int depth) {
    if (depth > kMaxJsonDepth) return fail("nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    out.kind = JsonValue::Kind::kObject;
    ++i_;
    skip_ws();
    if (i_ < s_.size() && s_[i_] == '}') {
      ++i_;
      return true;
    }
    while (true) {
      if (i_ >= s_.size() || s_[i_] != '"') return fail("expecting property name enclosed in double quotes");
      std::string key;
      if (!read_string(key)) return false;
      skip_ws();
      if (i_ >= s_.size() || s_[i_] != ':') return fail("expecting ':' delimiter");
      ++i_;
      skip_ws();
      JsonValue value;
      if (!read_value(value, depth)) return false;
      out.set(std::move(key), std::move(value));
      skip_ws();
      if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
        return true;
      }
      if (i_ >= s_.size() || s_[i_] != ',') return fail("expecting ',' delimiter");
      ++i_;
      skip_ws();
    }
  }

  std::string_view s_;
  JsonParseOptions options_;
  size_t i_ = 0;
  std::string error_;
};

}  // namespace

bool is_valid_utf8(std::string_view text, size_t* bad_offset) {
  for (size_t i = 0; i < text.size();) {
    size_t n = utf8_sequence_length(text, i);
    if (n == 0) {
      if (bad_offset) *bad_offset = i;
      return false;
    }
    i += n;
  }
  return true;
}

Result<JsonValue> parse_json(std::string_view text, const JsonParseOptions& options) {
  return Reader(text, options).read_document();
}

std::string python_float_repr(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  if (value == 0.0) return std::signbit(value) ? "-0.0" : "0.0";
  // Shortest round-trip digits, then Python's layout (float_repr_style
  // 'short', format code 'r'): with value = 0.DIGITS x 10^decpt, exponent
  // form iff decpt <= -4 or decpt > 16.
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::scientific);
  (void)ec;  // 64 bytes always suffice for a double
  std::string_view sci(buffer, static_cast<size_t>(end - buffer));
  std::string out;
  if (sci.front() == '-') {
    out += '-';
    sci.remove_prefix(1);
  }
  size_t e_pos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e_pos))
    if (c != '.') digits += c;
  int exponent = 0;
  std::string_view exp_text = sci.substr(e_pos + 1);
  if (!exp_text.empty() && exp_text.front() == '+') exp_text.remove_prefix(1);
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exponent);
  int decpt = exponent + 1;
  int n = static_cast<int>(digits.size());
  if (decpt <= -4 || decpt > 16) {
    out += digits[0];
    if (n > 1) {
      out += '.';
      out.append(digits, 1, std::string::npos);
    }
    int e = decpt - 1;
    out += e < 0 ? "e-" : "e+";
    int magnitude = e < 0 ? -e : e;
    if (magnitude < 10) out += '0';
    out += std::to_string(magnitude);
  } else if (decpt <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-decpt), '0');
    out += digits;
  } else if (decpt >= n) {
    out += digits;
    out.append(static_cast<size_t>(decpt - n), '0');
    out += ".0";
  } else {
    out.append(digits, 0, static_cast<size_t>(decpt));
    out += '.';
    out.append(digits, static_cast<size_t>(decpt), std::string::npos);
  }
  return out;
}

void append_python_json_escaped(std::string_view utf8, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char ch : utf8) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += ch;
        }
    }
  }
}

void append_python_json_quote(std::string_view utf8, std::string& out) {
  out += '"';
  append_python_json_escaped(utf8, out);
  out += '"';
}

std::string python_json_quote(std::string_view utf8) {
  std::string out;
  append_python_json_quote(utf8, out);
  return out;
}

void append_python_json(const JsonValue& value, std::string& out) {
  switch (value.kind) {
    case JsonValue::Kind::kNull: out += "null"; return;
    case JsonValue::Kind::kBool: out += value.boolean ? "true" : "false"; return;
    case JsonValue::Kind::kInt: out += value.text; return;
    case JsonValue::Kind::kFloat: out += python_float_repr(value.number); return;
    case JsonValue::Kind::kString: append_python_json_quote(value.text, out); return;
    case JsonValue::Kind::kArray: {
      out += '[';
      for (size_t k = 0; k < value.items.size(); ++k) {
        if (k) out += ", ";
        append_python_json(value.items[k], out);
      }
      out += ']';
      return;
    }
    case JsonValue::Kind::kObject: {
      out += '{';
      for (size_t k = 0; k < value.members.size(); ++k) {
        if (k) out += ", ";
        append_python_json_quote(value.members[k].key, out);
        out += ": ";
        append_python_json(value.members[k].value, out);
      }
      out += '}';
      return;
    }
  }
}

std::string to_python_json(const JsonValue& value) {
  std::string out;
  append_python_json(value, out);
  return out;
}

}  // namespace beluga
