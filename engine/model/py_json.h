// JSON exactly as Python's `json` module reads and writes it.
//
// DeepSeek's reference encoder (encoding_dsv4.py) re-serialises tool
// schemas, response formats and tool-call arguments with
// `json.dumps(value, ensure_ascii=False)` after `json.loads`, and the prompt
// the model was trained on carries those bytes. Matching them needs a JSON
// value that remembers what Python's would:
//
//   - object members in input order; a repeated key keeps its first
//     position and takes the last value (Python's dict(pairs));
//   - integers of any size, exactly (Python ints), "-0" reads as 0;
//   - numbers with a fraction or exponent are doubles, printed by Python's
//     float repr: shortest round-trip digits, exponent form when the decimal
//     exponent is < -4 or >= 16 ("1e-07", "1e+16", "3.0", "100.0");
//   - NaN, Infinity and -Infinity are read and written as those words
//     (Python's defaults), overflowing literals ("1e400") read as infinity;
//   - strings: raw control characters are an error (strict mode), escapes
//     include surrogate pairs; written with `", "` / `": "` separators,
//     non-ASCII kept raw, `"` `\` and control characters escaped
//     (\n \r \t \b \f, others \u00XX in lowercase hex).
//
// Deviations, all on input Python itself could not round-trip to UTF-8: a
// lone surrogate escape ("\ud800") decodes to U+FFFD, and input that is not
// valid UTF-8 is an error. Nesting deeper than kMaxJsonDepth is an error (Python
// stops at its recursion limit, about 1000).
//
// Thread contract: plain values and pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/result.h"

namespace beluga {

inline constexpr int kMaxJsonDepth = 512;

struct JsonMember;

struct JsonValue {
  enum class Kind { kNull, kBool, kInt, kFloat, kString, kArray, kObject };

  Kind kind = Kind::kNull;
  bool boolean = false;  // kBool
  double number = 0.0;   // kFloat
  std::string text;      // kString: the decoded UTF-8; kInt: canonical decimal digits, '-' if negative
  std::vector<JsonValue> items;                             // kArray
  std::vector<JsonMember> members;  // kObject, input order, unique keys

  static JsonValue null();
  static JsonValue from_bool(bool b);
  static JsonValue from_string(std::string s);
  static JsonValue from_int(long long n);
  static JsonValue array();
  static JsonValue object();

  bool is_null() const { return kind == Kind::kNull; }
  bool is_string() const { return kind == Kind::kString; }
  bool is_array() const { return kind == Kind::kArray; }
  bool is_object() const { return kind == Kind::kObject; }

  // The member named `key` of an object, or nullptr (also for non-objects).
  const JsonValue* find(std::string_view key) const;
  // Adds or replaces (in place) member `key`.
  void set(std::string key, JsonValue value);
};

struct JsonMember {
  std::string key;
  JsonValue value;
};

inline JsonValue JsonValue::null() { return {}; }

// The type name Python would print for this value ("dict", "list", "str",
// "int", "float", "bool", "NoneType"), for error messages.
std::string_view python_type_name(const JsonValue& value);

// Python truthiness: null, false, 0, 0.0, "", [] and {} are false.
bool is_truthy(const JsonValue& value);

struct JsonParseOptions {
  // Python accepts NaN / Infinity / -Infinity; strict RFC 8259 does not.
  bool allow_non_finite = true;
};

// json.loads(text). Errors give the byte offset and what was expected.
Result<JsonValue> parse_json(std::string_view text, const JsonParseOptions& options = {});

// json.dumps(value, ensure_ascii=False).
std::string to_python_json(const JsonValue& value);
void append_python_json(const JsonValue& value, std::string& out);

// json.dumps of one str: the quoted, escaped string.
std::string python_json_quote(std::string_view utf8);
void append_python_json_quote(std::string_view utf8, std::string& out);
// The escaped text without the surrounding quotes (for streaming a string
// in pieces: the escaping of each byte does not depend on its neighbours).
void append_python_json_escaped(std::string_view utf8, std::string& out);

// Whether `text` is well-formed UTF-8 (shortest forms, no surrogates); if
// not, the offset of the first bad byte goes to `bad_offset`.
bool is_valid_utf8(std::string_view text, size_t* bad_offset = nullptr);

// repr(float) as Python prints it ("0.1", "1e-07", "1e+16", "3.0", "-0.0");
// json.dumps writes NaN / Infinity / -Infinity for the non-finite ones.
std::string python_float_repr(double value);

}  // namespace beluga
