// .gitignore rules, as git reads them (gitignore(5)), for glob, list and
// grep; and the wildcard matcher they and glob share.
//
// A rule file is read line by line: blank lines and '#' comments are
// skipped ("\#" and "\!" escape them), trailing spaces are trimmed unless
// escaped, '!' negates (re-includes), a trailing '/' matches folders only.
// A pattern with no '/' other than a trailing one matches a name at any
// depth below the rule file's folder; any other pattern is anchored to that
// folder (a leading '/' only anchors). '*' and '?' do not cross '/', '**'
// does ("**/x", "x/**", "a/**/b"), '[...]' is a class ('!' or '^' negates,
// ranges, [:alpha:] and friends).
//
// Precedence: within a file the last matching rule wins; a deeper folder's
// file overrides its parents'. As in git, nothing below an ignored folder
// can be re-included: walkers simply never enter it. ".git" is always
// ignored.
//
// Thread contract: IgnoreFile is immutable after parse; an IgnoreMatcher is
// used by one walker.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace beluga::tools {

// git's wildmatch: `pathname` makes '*' and '?' stop at '/'; '**' always
// crosses it. Patterns longer than 4096 bytes never match.
bool wildmatch(std::string_view pattern, std::string_view text, bool pathname = true);

class IgnoreFile {
 public:
  enum class Verdict { kNone, kIgnore, kKeep };

  // `base`: the folder holding the rule file, relative to the walk root
  // ("" for the root itself), '/'-separated, no trailing '/'.
  static IgnoreFile parse(std::string_view text, std::string base);

  // `path` is relative to the walk root ('/'-separated).
  Verdict match(std::string_view path, bool is_dir) const;
  size_t rule_count() const { return rules_.size(); }

 private:
  struct Rule {
    std::string pattern;  // without '!', leading '/', trailing '/'
    bool negated = false;
    bool dir_only = false;
    bool anchored = false;  // matched against the whole path below `base`, not the name
  };
  std::string base_;
  std::vector<Rule> rules_;
};

class IgnoreMatcher {
 public:
  void push(IgnoreFile file) { files_.push_back(std::move(file)); }
  void pop() { files_.pop_back(); }
  size_t depth() const { return files_.size(); }
  bool ignored(std::string_view path, bool is_dir) const;

 private:
  std::vector<IgnoreFile> files_;
};

}  // namespace beluga::tools
