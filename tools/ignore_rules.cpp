#include "tools/ignore_rules.h"

#include <cctype>
#include <cstring>

namespace beluga::tools {
namespace {

// A port of git's wildmatch.c (dowild): the abort codes cut the search
// short, so a pattern with many stars stays polynomial.
enum { kMatch = 0, kNoMatch = 1, kAbortAll = -1, kAbortToStarStar = -2 };

using uchar = unsigned char;

bool is_glob_special(uchar c) { return c == '*' || c == '?' || c == '[' || c == '\\'; }

bool class_matches(const char* name, size_t length, uchar c) {
  std::string_view n(name, length);
  if (n == "alnum") return std::isalnum(c);
  if (n == "alpha") return std::isalpha(c);
  if (n == "blank") return c == ' ' || c == '\t';
  if (n == "cntrl") return std::iscntrl(c);
  if (n == "digit") return std::isdigit(c);
  if (n == "graph") return std::isgraph(c);
  if (n == "lower") return std::islower(c);
  if (n == "print") return std::isprint(c);
  if (n == "punct") return std::ispunct(c);
  if (n == "space") return std::isspace(c);
  if (n == "upper") return std::isupper(c);
  if (n == "xdigit") return std::isxdigit(c);
  return false;
}

int dowild(const uchar* p, const uchar* text, bool pathname, const uchar* pattern) {
  uchar p_ch;
  for (; (p_ch = *p) != '\0'; text++, p++) {
    int matched, match_slash, negated;
    uchar t_ch, prev_ch;
    if ((t_ch = *text) == '\0' && p_ch != '*') return kAbortAll;
    switch (p_ch) {
      case '\\':
        p_ch = *++p;
        [[fallthrough]];
      default:
        if (t_ch != p_ch) return kNoMatch;
        continue;
      case '?':
        if (pathname && t_ch == '/') return kNoMatch;
        continue;
      case '*':
        if (*++p == '*') {
          const uchar* prev_p = p - 2;
          while (*++p == '*') {
          }
          if ((prev_p < pattern || *prev_p == '/') && (*p == '\0' || *p == '/' || (p[0] == '\\' && p[1] == '/'))) {
            // "**/" may match nothing: try the rest of the pattern here.
            if (p[0] == '/' && dowild(p + 1, text, pathname, pattern) == kMatch) return kMatch;
            match_slash = 1;
          } else {
            match_slash = pathname ? 0 : 1;
          }
        } else {
          match_slash = pathname ? 0 : 1;
        }
        if (*p == '\0') {
          if (!match_slash && std::strchr(reinterpret_cast<const char*>(text), '/')) return kNoMatch;
          return kMatch;
        } else if (!match_slash && *p == '/') {
          const char* slash = std::strchr(reinterpret_cast<const char*>(text), '/');
          if (!slash) return kNoMatch;
          text = reinterpret_cast<const uchar*>(slash);
          break;  // the slash is matched by the loop
        }
        while (true) {
          if (t_ch == '\0') break;
          // A literal after the star: skip ahead to its next occurrence.
          if (!is_glob_special(*p)) {
            p_ch = *p;
            while ((t_ch = *text) != '\0' && (match_slash || t_ch != '/')) {
              if (t_ch == p_ch) break;
              text++;
            }
            if (t_ch != p_ch) return match_slash ? kAbortAll : kAbortToStarStar;
          }
          if ((matched = dowild(p, text, pathname, pattern)) != kNoMatch) {
            if (!match_slash || matched != kAbortToStarStar) return matched;
          } else if (!match_slash && t_ch == '/') {
            return kAbortToStarStar;
          }
          t_ch = *++text;
        }
        return kAbortAll;
      case '[':
        p_ch = *++p;
        if (p_ch == '^') p_ch = '!';
        negated = p_ch == '!' ? 1 : 0;
        if (negated) p_ch = *++p;
        prev_ch = 0;
        matched = 0;
        do {
          if (!p_ch) return kAbortAll;
          if (p_ch == '\\') {
            p_ch = *++p;
            if (!p_ch) return kAbortAll;
            if (t_ch == p_ch) matched = 1;
          } else if (p_ch == '-' && prev_ch && p[1] && p[1] != ']') {
            p_ch = *++p;
            if (p_ch == '\\') {
              p_ch = *++p;
              if (!p_ch) return kAbortAll;
            }
            if (t_ch <= p_ch && t_ch >= prev_ch) matched = 1;
            p_ch = 0;  // so that prev_ch becomes 0
          } else if (p_ch == '[' && p[1] == ':') {
            const uchar* s = p += 2;
            while ((p_ch = *p) && p_ch != ']') p++;
            if (!p_ch) return kAbortAll;
            size_t length = static_cast<size_t>(p - s - 1);
            if (p - s == 0 || p[-1] != ':') {
              // Not a [:class:]: treat the '[' as a literal.
              p = s - 2;
              p_ch = '[';
              if (t_ch == p_ch) matched = 1;
              continue;
            }
            if (class_matches(reinterpret_cast<const char*>(s), length, t_ch)) matched = 1;
            p_ch = 0;
          } else if (t_ch == p_ch) {
            matched = 1;
          }
        } while (prev_ch = p_ch, (p_ch = *++p) != ']');
        if (matched == negated || (pathname && t_ch == '/')) return kNoMatch;
        continue;
    }
  }
  return *text ? kNoMatch : kMatch;
}

std::string_view basename_of(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace

bool wildmatch(std::string_view pattern, std::string_view text, bool pathname) {
  if (pattern.size() > 4096 || pattern.find('\0') != std::string_view::npos ||
      text.find('\0') != std::string_view::npos)
    return false;
  std::string p(pattern), t(text);
  const uchar* pp = reinterpret_cast<const uchar*>(p.c_str());
  return dowild(pp, reinterpret_cast<const uchar*>(t.c_str()), pathname, pp) == kMatch;
}

IgnoreFile IgnoreFile::parse(std::string_view text, std::string base) {
  IgnoreFile file;
  file.base_ = std::move(base);
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // Trailing spaces are trimmed unless escaped with a backslash.
    while (!line.empty() && line.back() == ' ' && !(line.size() >= 2 && line[line.size() - 2] == '\\'))
      line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    Rule rule;
    if (line.front() == '!') {
      rule.negated = true;
      line.remove_prefix(1);
    } else if (line.size() >= 2 && line[0] == '\\' && (line[1] == '#' || line[1] == '!')) {
      line.remove_prefix(1);
    }
    if (!line.empty() && line.back() == '/') {
      rule.dir_only = true;
      while (!line.empty() && line.back() == '/') line.remove_suffix(1);
    }
    if (line.empty()) continue;
    rule.anchored = line.find('/') != std::string_view::npos;
    if (line.front() == '/') line.remove_prefix(1);
    if (line.empty()) continue;
    rule.pattern = std::string(line);
    file.rules_.push_back(std::move(rule));
  }
  return file;
}

IgnoreFile::Verdict IgnoreFile::match(std::string_view path, bool is_dir) const {
  std::string_view below = path;
  if (!base_.empty()) {
    if (path.size() <= base_.size() || path.substr(0, base_.size()) != base_ || path[base_.size()] != '/')
      return Verdict::kNone;
    below = path.substr(base_.size() + 1);
  }
  std::string_view name = basename_of(below);
  for (auto it = rules_.rbegin(); it != rules_.rend(); ++it) {
    if (it->dir_only && !is_dir) continue;
    bool hit = it->anchored ? wildmatch(it->pattern, below, true) : wildmatch(it->pattern, name, true);
    if (hit) return it->negated ? Verdict::kKeep : Verdict::kIgnore;
  }
  return Verdict::kNone;
}

bool IgnoreMatcher::ignored(std::string_view path, bool is_dir) const {
  if (basename_of(path) == ".git") return true;
  for (auto it = files_.rbegin(); it != files_.rend(); ++it) {
    IgnoreFile::Verdict v = it->match(path, is_dir);
    if (v != IgnoreFile::Verdict::kNone) return v == IgnoreFile::Verdict::kIgnore;
  }
  return false;
}

}  // namespace beluga::tools
