// The DeepSeek V3/V4 pre-tokenizer: splits text into the pieces that BPE
// then encodes one by one, exactly as the tokenizer.json pipeline does.
//
// tokenizer.json says, in order (each step splits every piece of the one
// before; "Isolated": matches and the text between them both become pieces):
//
//   1. Split \p{N}{1,3}
//   2. Split [一-龥぀-ゟ゠-ヿ]+        (U+4E00-U+9FA5, U+3040-U+309F, U+30A0-U+30FF)
//   3. Split  [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+
//           | [^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+
//           |  ?[\p{P}\p{S}]+[\r\n]*
//           | \s*[\r\n]+
//           | \s+(?!\S)
//           | \s+
//   4. ByteLevel (no regex, no prefix space): bytes map 1:1, no split.
//
// Steps 1 and 2 together cut the text into segments: runs of up to three
// \p{N} characters (a longer run is cut every three from its start), maximal
// runs of the CJK range, and maximal runs of everything else. No \p{N} or CJK
// character can be in an "everything else" run, so step 3 only ever sees one
// segment at a time, and its end is the end of the regex's haystack: a
// lookahead never sees past a digit or a CJK character.
//
// Step 3 is implemented as a hand-written matcher over code points, not a
// regex engine. It follows Oniguruma's backtracking semantics: at each
// position the alternatives are tried in order and the first that matches
// wins; the leftmost position with any match is taken. Worked out per
// alternative (W = the whitespace run starting at the position):
//   - \s*[\r\n]+ matches up to and including the LAST CR/LF in W;
//   - \s+(?!\S) matches all of W if W reaches the segment's end, else W minus
//     its last character (which then joins the next piece, e.g. " word"),
//     and fails when that leaves nothing;
//   - \s+ then takes a lone whitespace character before non-space.
// Characters no alternative matches at their position (controls, format
// characters like U+200D or U+FEFF, unassigned code points, lone marks
// that start nothing) collect into one "gap" piece until the next match.
//
// Character classes: \p{..} are Unicode 16.0 General_Category major classes
// and \s is White_Space (engine/model/unicode_tables.h).
//
// Invalid UTF-8: each byte that does not start a well-formed sequence (bad
// lead byte, truncated or overlong sequence, surrogate, > U+10FFFF) is one
// unit of class "other" (like an unassigned code point): it never merges
// into letters, whitespace or punctuation, pieces still cover every input
// byte exactly once, and byte-level BPE encodes it as its own byte token.
// The reference cannot take such input at all (Rust strings are UTF-8).
//
// Thread contract: a PreTokenizer is a cursor over one text; use one per
// thread. It allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace beluga {

class PreTokenizer {
 public:
  explicit PreTokenizer(std::string_view text) : text_(text) {}

  // The next piece (a view into the text); false when the text is used up.
  // Pieces are non-empty and cover the text in order.
  bool next(std::string_view& piece);

 private:
  enum class Segment : uint8_t { kNone, kPlain, kCjk };
  struct Unit {
    uint16_t flags = 0;  // kFlag* bits below; 0 with size 0 at a segment end
    uint8_t size = 0;    // bytes
  };

  Unit decode(size_t at) const;   // the unit at byte `at` (at < size)
  Unit peek(size_t at) const;     // same, or a zero unit past the segment
  size_t match_at(size_t at) const;  // bytes matched by step 3 at `at`, 0: none

  std::string_view text_;
  size_t pos_ = 0;
  Segment segment_ = Segment::kNone;
  size_t gap_start_ = 0;
  bool gap_open_ = false;
  size_t pending_begin_ = 0, pending_end_ = 0;  // a match waiting behind a gap
};

// All pieces of `text` as strings (tests, debugging).
std::vector<std::string> pretokenize(std::string_view text);

}  // namespace beluga
