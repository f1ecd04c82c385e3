// The DeepSeek pre-tokenizer as a single forward pass over UTF-8 (the
// header explains the patterns and how each alternative was worked out).
//
// Nothing is buffered: a segment's end is found by looking at the next
// character's class as the matcher reaches it (peek() returns an empty unit
// at the segment's end), so the text is decoded once or twice per character
// and the matcher never allocates.
#include "engine/model/pretokenizer.h"

#include <array>

#include "engine/model/unicode_tables.h"

namespace beluga {
namespace {

// Unit flags: the six Unicode class bits, plus what the patterns spell out.
constexpr uint16_t kL = unicode::kLetter;
constexpr uint16_t kM = unicode::kMark;
constexpr uint16_t kN = unicode::kNumber;
constexpr uint16_t kP = unicode::kPunctuation;
constexpr uint16_t kS = unicode::kSymbol;
constexpr uint16_t kWS = unicode::kWhiteSpace;
constexpr uint16_t kCrLf = 64;          // [\r\n]
constexpr uint16_t kSpace = 128;        // the literal " " of " ?[\p{P}\p{S}]+"
constexpr uint16_t kAsciiPunct = 256;   // [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]
constexpr uint16_t kAsciiAlpha = 512;   // [A-Za-z]
constexpr uint16_t kCjk = 1024;         // [一-龥぀-ゟ゠-ヿ]

// ASCII flags at compile time (no table lookup through char_class, no
// static-initialisation guard in the hot loop). The test
// "the pre-tokenizer splits ..." and the exhaustive comparison keep this in
// line with the generated Unicode table.
constexpr std::array<uint16_t, 128> make_ascii_flags() {
  std::array<uint16_t, 128> t{};
  for (int c = 0; c < 128; ++c) {
    uint16_t f = 0;
    if ((c >= 9 && c <= 13) || c == ' ') f |= kWS;
    if (c == '\r' || c == '\n') f |= kCrLf;
    if (c == ' ') f |= kSpace;
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) f |= kL | kAsciiAlpha;
    if (c >= '0' && c <= '9') f |= kN;
    if (c > ' ' && c < 127 && !(f & (kL | kN))) {
      // Sm/Sc/Sk: $ + < = > ^ ` | ~ ; the other 23 are P*.
      const bool symbol = c == '$' || c == '+' || c == '<' || c == '=' || c == '>' || c == '^' || c == '`' || c == '|' || c == '~';
      f |= (symbol ? kS : kP) | kAsciiPunct;
    }
    t[static_cast<size_t>(c)] = f;
  }
  return t;
}
constexpr std::array<uint16_t, 128> kAsciiFlags = make_ascii_flags();

bool is_cjk_split(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FA5) || (cp >= 0x3040 && cp <= 0x30FF);
}

bool is_continuation(uint8_t b) { return (b & 0xC0) == 0x80; }

}  // namespace

PreTokenizer::Unit PreTokenizer::decode(size_t at) const {
  const auto* s = reinterpret_cast<const uint8_t*>(text_.data());
  const size_t left = text_.size() - at;
  const uint8_t b0 = s[at];
  if (b0 < 0x80) return {kAsciiFlags[b0], 1};
  char32_t cp = 0;
  uint8_t size = 0;
  // Well-formed UTF-8 only (Unicode Table 3-7): anything else is one
  // invalid byte of class "other".
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (left >= 2 && is_continuation(s[at + 1])) {
      cp = (char32_t{b0} & 0x1F) << 6 | (s[at + 1] & 0x3F);
      size = 2;
    }
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (left >= 3) {
      const uint8_t b1 = s[at + 1];
      const uint8_t lo = b0 == 0xE0 ? 0xA0 : 0x80;
      const uint8_t hi = b0 == 0xED ? 0x9F : 0xBF;
      if (b1 >= lo && b1 <= hi && is_continuation(s[at + 2])) {
        cp = (char32_t{b0} & 0x0F) << 12 | char32_t{b1 & 0x3Fu} << 6 | (s[at + 2] & 0x3F);
        size = 3;
      }
    }
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (left >= 4) {
      const uint8_t b1 = s[at + 1];
      const uint8_t lo = b0 == 0xF0 ? 0x90 : 0x80;
      const uint8_t hi = b0 == 0xF4 ? 0x8F : 0xBF;
      if (b1 >= lo && b1 <= hi && is_continuation(s[at + 2]) && is_continuation(s[at + 3])) {
        cp = (char32_t{b0} & 0x07) << 18 | char32_t{b1 & 0x3Fu} << 12 | char32_t{s[at + 2] & 0x3Fu} << 6 |
             (s[at + 3] & 0x3F);
        size = 4;
      }
    }
  }
  if (size == 0) return {0, 1};
  uint16_t flags = unicode::char_class(cp);
  if (is_cjk_split(cp)) flags |= kCjk;
  return {flags, size};
}

PreTokenizer::Unit PreTokenizer::peek(size_t at) const {
  if (at >= text_.size()) return {};
  const auto b0 = static_cast<uint8_t>(text_[at]);
  if (b0 < 0x80) {  // ASCII is never CJK; a digit ends the segment
    const uint16_t f = kAsciiFlags[b0];
    if ((f & kN) || segment_ == Segment::kCjk) return {};
    return {f, 1};
  }
  const Unit u = decode(at);
  if (u.flags & kN) return {};
  if (((u.flags & kCjk) != 0) != (segment_ == Segment::kCjk)) return {};
  return u;
}

size_t PreTokenizer::match_at(size_t p) const {
  const Unit c0 = peek(p);

  // [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+
  if (c0.flags & kAsciiPunct) {
    if (peek(p + 1).flags & kAsciiAlpha) {
      size_t q = p + 2;
      while (peek(q).flags & kAsciiAlpha) ++q;  // ASCII: one byte each
      return q - p;
    }
  }

  // [^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+ : with the optional character if
  // that lets a letter/mark run follow, else a run starting here.
  auto letter_run_end = [&](size_t q) {
    for (Unit u = peek(q); u.flags & (kL | kM); u = peek(q)) q += u.size;
    return q;
  };
  if (!(c0.flags & (kCrLf | kL | kP | kS))) {
    const Unit c1 = peek(p + c0.size);
    if (c1.flags & (kL | kM)) return letter_run_end(p + c0.size + c1.size) - p;
  }
  if (c0.flags & (kL | kM)) return letter_run_end(p + c0.size) - p;

  //  ?[\p{P}\p{S}]+[\r\n]*
  {
    size_t q = p;
    Unit c = c0;
    if (c0.flags & kSpace) {
      q += c0.size;
      c = peek(q);
    }
    if (c.flags & (kP | kS)) {
      for (; c.flags & (kP | kS); c = peek(q)) q += c.size;
      for (; c.flags & kCrLf; c = peek(q)) q += c.size;
      return q - p;
    }
  }

  // \s*[\r\n]+ | \s+(?!\S) | \s+ over the whitespace run W starting here.
  if (!(c0.flags & kWS)) return 0;
  size_t q = p;
  size_t last_start = p;  // where W's last character starts
  size_t crlf_end = 0;    // just past W's last CR or LF; 0: none
  Unit c = c0;
  for (; c.flags & kWS; c = peek(q)) {
    last_start = q;
    if (c.flags & kCrLf) crlf_end = q + c.size;
    q += c.size;
  }
  if (crlf_end != 0) return crlf_end - p;  // \s*[\r\n]+
  if (c.size == 0) return q - p;           // \s+(?!\S) at the segment's end
  if (last_start > p) return last_start - p;  // \s+(?!\S): W minus its last character
  return q - p;                               // \s+: one character before non-space
}

bool PreTokenizer::next(std::string_view& piece) {
  if (pending_end_ > pending_begin_) {
    piece = text_.substr(pending_begin_, pending_end_ - pending_begin_);
    pending_begin_ = pending_end_ = 0;
    return true;
  }
  for (;;) {
    if (segment_ != Segment::kNone) {
      const Unit u = peek(pos_);
      if (u.size == 0) {  // the segment ends here
        segment_ = Segment::kNone;
        if (gap_open_) {
          gap_open_ = false;
          piece = text_.substr(gap_start_, pos_ - gap_start_);
          return true;
        }
        continue;
      }
      const size_t n = match_at(pos_);
      if (n == 0) {
        if (!gap_open_) {
          gap_open_ = true;
          gap_start_ = pos_;
        }
        pos_ += u.size;
        continue;
      }
      const size_t begin = pos_;
      pos_ += n;
      if (gap_open_) {
        gap_open_ = false;
        pending_begin_ = begin;
        pending_end_ = pos_;
        piece = text_.substr(gap_start_, begin - gap_start_);
        return true;
      }
      piece = text_.substr(begin, n);
      return true;
    }
    if (pos_ >= text_.size()) return false;
    const Unit u = decode(pos_);
    if (u.flags & kN) {  // \p{N}{1,3}: one piece, never split further
      const size_t begin = pos_;
      pos_ += u.size;
      for (int k = 1; k < 3 && pos_ < text_.size(); ++k) {
        const Unit v = decode(pos_);
        if (!(v.flags & kN)) break;
        pos_ += v.size;
      }
      piece = text_.substr(begin, pos_ - begin);
      return true;
    }
    segment_ = (u.flags & kCjk) ? Segment::kCjk : Segment::kPlain;
  }
}

std::vector<std::string> pretokenize(std::string_view text) {
  std::vector<std::string> pieces;
  PreTokenizer cursor(text);
  std::string_view piece;
  while (cursor.next(piece)) pieces.emplace_back(piece);
  return pieces;
}

}  // namespace beluga
