// The regular expressions grep runs: ECMAScript syntax (the JavaScript
// flavour std::regex defaults to), matched by a Pike VM in time linear in
// the line length times the pattern size -- no backtracking, so no pattern
// can hang a search (std::regex can take exponential time on "(a+)+b" and
// overflow the stack on long lines).
//
// Supported: literals (UTF-8), '.', classes [a-z] [^...], \d \D \w \W \s \S,
// escapes (\t \n \r \f \v \0 \xHH \uHHHH \u{H..} and escaped punctuation),
// anchors ^ $ \b \B, groups ( ) (?: ) (?<name> ), alternation |, quantifiers
// * + ? {n} {n,} {n,m} and their lazy forms (same result for "does the line
// match"). Refused with a clear error: backreferences and lookaround.
// Case-insensitive matching folds ASCII letters.
//
// Thread contract: a compiled LineRegex is immutable; search() may be called
// from many threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/result.h"

namespace beluga::tools {

class LineRegex {
 public:
  static Result<LineRegex> compile(std::string_view pattern, bool ignore_case = false);

  // True when the pattern matches somewhere in `line` (one line, no '\n').
  bool search(std::string_view line) const;

  struct Program;  // defined in line_regex.cpp

 private:
  std::shared_ptr<const Program> program_;
};

}  // namespace beluga::tools
