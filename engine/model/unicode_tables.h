// Unicode character classes for the tokenizer's pre-tokenizer.
//
// The DeepSeek pre-tokenizer regexes (engine/model/pretokenizer.h) ask five
// General_Category questions (\p{L} \p{M} \p{N} \p{P} \p{S}) and one binary
// property (\s = White_Space, as Oniguruma defines it: U+0085 yes, U+FEFF
// no). char_class() answers all six with one lookup.
//
// The data is generated (scripts/gen_unicode_tables.py ->
// unicode_tables_data.cpp) from Unicode 16.0, the version the reference
// implementation (Hugging Face `tokenizers`, Oniguruma) classifies by:
// characters assigned in 17.0 are unassigned to it, so they are "other" here.
// Python 3.11's own unicodedata is 14.0: tables built from it alone fail
// golden line 211 ("🫨 🩷", two Unicode 15.0 emoji it does not know), which is
// why the generator reads the 16.0 data (see scripts/gen_unicode_tables.py).
// Checked exhaustively: every code point U+0000..U+10FFFF in eight contexts
// encodes as the reference does.
//
// Thread contract: pure functions over constant tables (the BMP lookup table
// is built once, on first use, under the C++ static-initialisation lock).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace beluga::unicode {

// Class bits returned by char_class(). A code point has at most one of the
// five General_Category bits (none for Z*, C* and unassigned), plus
// kWhiteSpace when it has the White_Space property.
inline constexpr uint8_t kLetter = 1;       // Lu Ll Lt Lm Lo
inline constexpr uint8_t kMark = 2;         // Mn Mc Me
inline constexpr uint8_t kNumber = 4;       // Nd Nl No
inline constexpr uint8_t kPunctuation = 8;  // Pc Pd Ps Pe Pi Pf Po
inline constexpr uint8_t kSymbol = 16;      // Sm Sc Sk So
inline constexpr uint8_t kWhiteSpace = 32;  // White_Space (PropList.txt)

// The class bits of `cp`; 0 for code points above U+10FFFF.
uint8_t char_class(char32_t cp);

// The same lookup by binary search over the generated runs, without the BMP
// table: the oracle for char_class() in tests.
uint8_t char_class_by_search(char32_t cp);

// Generated data (unicode_tables_data.cpp): entries (first << 8) | class,
// sorted by first code point; a run lasts until the next entry.
extern const char kUnicodeVersion[];
extern const uint32_t kClassRuns[];
extern const size_t kClassRunCount;

// Appends code point `cp` (<= U+10FFFF) to `out` as UTF-8.
inline void append_utf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace beluga::unicode
