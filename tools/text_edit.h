// The edit tool's core, as a pure function over file contents (fuzzed by
// tests/fuzz/edit_fuzz.cpp): replace an exact, unique occurrence of `old`
// by `new` (or every occurrence with replace_all).
//
// Line endings: when the file uses CRLF and `old` has bare LF line breaks,
// `old` and `new` are converted to CRLF before matching (and the reverse for
// an LF file given CRLF text), so the model's LF text edits a CRLF file in
// the file's own convention. The text as given is tried when the converted
// form does not occur. Bytes are compared and copied as bytes: non-UTF-8
// content outside the replaced range is never touched.
//
// Errors are written for the model: zero matches name the nearest lines (or
// say that only whitespace differs), several matches list their lines.
//
// Thread contract: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/result.h"

namespace beluga::tools {

struct TextEdit {
  std::string content;          // the whole new content
  std::string old_text;         // `old` as matched (after any line-ending conversion)
  std::string new_text;         // `new` as written (same conversion)
  int64_t replacements = 0;     // non-overlapping occurrences replaced, left to right
  std::vector<int64_t> lines;   // 1-based line where each replacement starts (in the old content)
};

// `name` is the file's display path, used only in messages.
Result<TextEdit> edit_text(std::string_view content, std::string_view old_text, std::string_view new_text,
                           bool replace_all, std::string_view name);

// Converts bare LF line breaks to CRLF, and CRLF to LF.
std::string lf_to_crlf(std::string_view text);
std::string crlf_to_lf(std::string_view text);

// 1-based line number of byte `offset`.
int64_t line_of_offset(std::string_view content, size_t offset);

}  // namespace beluga::tools
