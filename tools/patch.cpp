#include "tools/patch.h"

#include <algorithm>
#include <map>

#include "tools/file_io.h"

namespace beluga::tools {
namespace {

constexpr uint64_t kMaxDiagnosticWork = 20'000'000;  // line comparisons spent explaining a failed hunk

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

std::string line_ref(size_t index) { return "patch line " + std::to_string(index + 1); }

std::string shown(std::string_view text, size_t max_bytes = 100) {
  bool cut = text.size() > max_bytes;
  if (cut) {
    text = text.substr(0, max_bytes);
    while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0) == 0x80) text.remove_suffix(1);
    if (!text.empty() && static_cast<unsigned char>(text.back()) >= 0xC0) text.remove_suffix(1);
  }
  return "'" + to_valid_utf8(text) + (cut ? "...'" : "'");
}

// The patch split into lines, a trailing CR removed from each.
std::vector<std::string_view> split_patch(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

// Git's C-style quoted path ("a/with\ttab"); `s` starts at the opening quote.
// Returns the unquoted text and how many bytes were consumed.
std::optional<std::pair<std::string, size_t>> unquote(std::string_view s) {
  std::string out;
  for (size_t i = 1; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') return std::make_pair(out, i + 1);
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i >= s.size()) return std::nullopt;
    char e = s[i];
    switch (e) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'v': out += '\v'; break;
      case '"': case '\\': out += e; break;
      default:
        if (e >= '0' && e <= '3' && i + 2 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7' && s[i + 2] >= '0' &&
            s[i + 2] <= '7') {
          out += static_cast<char>((e - '0') * 64 + (s[i + 1] - '0') * 8 + (s[i + 2] - '0'));
          i += 2;
        } else {
          return std::nullopt;
        }
    }
  }
  return std::nullopt;
}

// The path of a "--- " / "+++ " line (after the marker): quoted or up to a
// tab (timestamps follow one), trailing spaces trimmed. "/dev/null" is "".
Result<std::string> header_path(std::string_view rest, size_t index) {
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  std::string path;
  if (!rest.empty() && rest.front() == '"') {
    auto q = unquote(rest);
    if (!q) return make_error(line_ref(index) + ": malformed quoted path");
    path = q->first;
  } else {
    rest = rest.substr(0, rest.find('\t'));
    while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t')) rest.remove_suffix(1);
    path = std::string(rest);
  }
  if (path == "/dev/null") return std::string();
  if (path.empty()) return make_error(line_ref(index) + ": the file header names no path");
  return path;
}

// Strips git's a/ and b/ prefixes when the pair uses them.
void strip_prefixes(std::string& old_path, std::string& new_path) {
  bool old_a = starts_with(old_path, "a/"), new_b = starts_with(new_path, "b/");
  if (old_a && (new_b || new_path.empty())) old_path.erase(0, 2);
  if (new_b && (old_a || old_path.empty())) new_path.erase(0, 2);
}

Result<bool> parse_hunk_header(std::string_view line, Hunk& hunk, size_t index) {
  std::string_view rest = line.substr(2);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (rest.empty() || rest.front() != '-') return false;  // a bare "@@": no position
  auto number = [&](int64_t& value) -> bool {
    size_t digits = 0;
    value = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9' && digits < 10)
      value = value * 10 + (rest[digits++] - '0');
    rest.remove_prefix(digits);
    return digits > 0;
  };
  auto range = [&](int64_t& start, int64_t& count) -> bool {
    if (!number(start)) return false;
    count = 1;
    if (!rest.empty() && rest.front() == ',') {
      rest.remove_prefix(1);
      if (!number(count)) return false;
    }
    return true;
  };
  rest.remove_prefix(1);
  bool ok = range(hunk.old_start, hunk.old_count);
  if (ok) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    ok = !rest.empty() && rest.front() == '+';
    if (ok) {
      rest.remove_prefix(1);
      ok = range(hunk.new_start, hunk.new_count);
    }
  }
  if (!ok)
    return make_error(line_ref(index) + ": malformed hunk header " + shown(line) +
                      "; expected '@@ -start,count +start,count @@' (or a bare '@@')");
  return true;
}

class Parser {
 public:
  Parser(std::string_view text, const PatchLimits& limits) : lines_(split_patch(text)), limits_(limits) {
    next_nonblank_.resize(lines_.size() + 1, lines_.size());
    for (size_t i = lines_.size(); i-- > 0;) next_nonblank_[i] = lines_[i].empty() ? next_nonblank_[i + 1] : i;
  }

  Result<std::vector<FilePatch>> run() {
    std::vector<FilePatch> out;
    size_t i = 0;
    while (i < lines_.size()) {
      std::string_view line = lines_[i];
      Result<std::optional<FilePatch>> section = Error{};
      if (starts_with(line, "diff --git ")) section = git_section(i);
      else if (header_pair_at(i)) section = plain_section(i);
      else if (starts_with(line, "@@"))
        return make_error(line_ref(i) + ": a hunk (@@) without a file header before it; start each file with "
                          "'--- a/path' and '+++ b/path' lines");
      else if (starts_with(line, "GIT binary patch") || starts_with(line, "Binary files "))
        return make_error(line_ref(i) + ": binary patches are not supported; write the file instead");
      else {
        ++i;
        continue;
      }
      if (!section) return section.error();
      if (*section) {
        if (out.size() >= limits_.max_files)
          return make_error("the patch changes more than " + std::to_string(limits_.max_files) + " files");
        out.push_back(std::move(**section));
      }
    }
    if (out.empty())
      return make_error("the patch contains no file changes; expected unified diff sections: '--- a/path' and "
                        "'+++ b/path' header lines followed by '@@ -l,s +l,s @@' hunks");
    return out;
  }

 private:
  bool header_pair_at(size_t i) const {
    return i + 1 < lines_.size() && starts_with(lines_[i], "--- ") && starts_with(lines_[i + 1], "+++ ");
  }

  bool is_body_line(size_t i) const {
    if (i >= lines_.size() || lines_[i].empty()) return false;
    char c = lines_[i][0];
    return (c == ' ' || c == '-' || c == '+') && !header_pair_at(i);
  }

  Result<std::optional<FilePatch>> git_section(size_t& i) {
    size_t start = i;
    FilePatch patch;
    patch.patch_line = static_cast<int64_t>(i + 1);
    // "diff --git a/x b/y": a fallback for sections without ---/+++ lines.
    std::string git_old, git_new;
    std::string_view names = lines_[i].substr(11);
    if (!names.empty() && names.front() == '"') {
      if (auto q = unquote(names)) {
        git_old = q->first;
        std::string_view rest = names.substr(q->second);
        while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
        if (!rest.empty() && rest.front() == '"') {
          if (auto q2 = unquote(rest)) git_new = q2->first;
        } else {
          git_new = std::string(rest);
        }
      }
    } else if (size_t split = names.find(" b/"); split != std::string_view::npos) {
      git_old = std::string(names.substr(0, split));
      git_new = std::string(names.substr(split + 1));
    }
    strip_prefixes(git_old, git_new);
    ++i;
    bool is_new = false, is_deleted = false;
    std::optional<std::string> rename_from, rename_to;
    for (; i < lines_.size(); ++i) {
      std::string_view l = lines_[i];
      auto path_after = [&](size_t n) -> std::string {
        std::string_view rest = l.substr(n);
        if (!rest.empty() && rest.front() == '"')
          if (auto q = unquote(rest)) return q->first;
        return std::string(rest);
      };
      if (starts_with(l, "rename from ")) rename_from = path_after(12);
      else if (starts_with(l, "rename to ")) rename_to = path_after(10);
      else if (starts_with(l, "new file mode")) is_new = true;
      else if (starts_with(l, "deleted file mode")) is_deleted = true;
      else if (starts_with(l, "old mode") || starts_with(l, "new mode") || starts_with(l, "index ") ||
               starts_with(l, "similarity index") || starts_with(l, "dissimilarity index"))
        continue;
      else if (starts_with(l, "copy from") || starts_with(l, "copy to"))
        return make_error(line_ref(i) + ": git copies are not supported; add the new file with '--- /dev/null'");
      else if (starts_with(l, "GIT binary patch") || starts_with(l, "Binary files "))
        return make_error(line_ref(i) + ": binary patches are not supported; write the file instead");
      else
        break;
    }
    if (header_pair_at(i)) {
      Result<std::string> o = header_path(lines_[i].substr(4), i), n = header_path(lines_[i + 1].substr(4), i + 1);
      if (!o) return o.error();
      if (!n) return n.error();
      patch.old_path = *o;
      patch.new_path = *n;
      strip_prefixes(patch.old_path, patch.new_path);
      i += 2;
    } else {
      patch.old_path = git_old;
      patch.new_path = git_new;
    }
    if (rename_from) patch.old_path = *rename_from;
    if (rename_to) patch.new_path = *rename_to;
    if (is_new) patch.old_path.clear();
    if (is_deleted) patch.new_path.clear();
    if (Status s = hunks(i, patch); !s) return s.error();
    bool mode_only = !is_new && !is_deleted && patch.hunks.empty() && patch.old_path == patch.new_path;
    if (mode_only) return std::optional<FilePatch>();  // mode changes are ignored
    if (patch.old_path.empty() && patch.new_path.empty())
      return make_error(line_ref(start) + ": the 'diff --git' line names no paths");
    return finish(std::move(patch), start);
  }

  Result<std::optional<FilePatch>> plain_section(size_t& i) {
    size_t start = i;
    FilePatch patch;
    patch.patch_line = static_cast<int64_t>(i + 1);
    Result<std::string> o = header_path(lines_[i].substr(4), i), n = header_path(lines_[i + 1].substr(4), i + 1);
    if (!o) return o.error();
    if (!n) return n.error();
    patch.old_path = *o;
    patch.new_path = *n;
    strip_prefixes(patch.old_path, patch.new_path);
    i += 2;
    if (Status s = hunks(i, patch); !s) return s.error();
    if (patch.hunks.empty() && !patch.old_path.empty() && !patch.new_path.empty())
      return make_error(line_ref(start) + ": the section for " + shown(patch.old_path) +
                        " has no hunks; each change needs '@@ -l,s +l,s @@' and its lines");
    return finish(std::move(patch), start);
  }

  Result<std::optional<FilePatch>> finish(FilePatch patch, size_t start) {
    if (patch.old_path.empty() && patch.new_path.empty())
      return make_error(line_ref(start) + ": both sides of the file header are /dev/null");
    for (const std::string* p : {&patch.old_path, &patch.new_path}) {
      if (p->size() > limits_.max_path_bytes) return make_error(line_ref(start) + ": a path is too long");
      if (p->find('\0') != std::string::npos) return make_error(line_ref(start) + ": a path contains a NUL byte");
    }
    if (patch.old_path.empty()) patch.kind = FilePatch::Kind::kAdd;
    else if (patch.new_path.empty()) patch.kind = FilePatch::Kind::kDelete;
    else if (patch.old_path != patch.new_path) patch.kind = FilePatch::Kind::kRename;
    for (const Hunk& h : patch.hunks) {
      bool has_old = std::any_of(h.lines.begin(), h.lines.end(), [](const PatchLine& l) { return l.kind != '+'; });
      bool has_new = std::any_of(h.lines.begin(), h.lines.end(), [](const PatchLine& l) { return l.kind != '-'; });
      if (patch.kind == FilePatch::Kind::kAdd && has_old)
        return make_error(line_ref(static_cast<size_t>(h.patch_line - 1)) + ": a new file's hunk may only add lines ('+')");
      if (patch.kind == FilePatch::Kind::kDelete && has_new)
        return make_error(line_ref(static_cast<size_t>(h.patch_line - 1)) + ": a deleted file's hunk may only remove lines ('-')");
    }
    return std::optional<FilePatch>(std::move(patch));
  }

  Status hunks(size_t& i, FilePatch& patch) {
    while (i < lines_.size() && starts_with(lines_[i], "@@")) {
      if (++hunk_count_ > limits_.max_hunks)
        return make_error("the patch has more than " + std::to_string(limits_.max_hunks) + " hunks");
      Hunk hunk;
      hunk.patch_line = static_cast<int64_t>(i + 1);
      hunk.header = std::string(lines_[i].substr(0, 200));
      Result<bool> positioned = parse_hunk_header(lines_[i], hunk, i);
      if (!positioned) return positioned.error();
      hunk.has_position = *positioned;
      ++i;
      int64_t old_seen = 0, new_seen = 0;
      while (i < lines_.size()) {
        std::string_view l = lines_[i];
        bool satisfied = !hunk.has_position || (old_seen >= hunk.old_count && new_seen >= hunk.new_count);
        if (starts_with(l, "@@") || starts_with(l, "diff --git ")) break;
        if (header_pair_at(i) && satisfied) break;
        if (!l.empty() && l[0] == '\\') {
          if (!hunk.lines.empty()) {
            char k = hunk.lines.back().kind;
            if (k != '+') hunk.old_ends_without_newline = true;
            if (k != '-') hunk.new_ends_without_newline = true;
          }
          ++i;
          continue;
        }
        char kind;
        if (l.empty()) {
          // An empty context line, unless it is trailing space between sections.
          if (satisfied && !is_body_line(next_nonblank_[i])) break;
          kind = ' ';
        } else if (l[0] == ' ' || l[0] == '-' || l[0] == '+') {
          kind = l[0];
        } else {
          break;
        }
        hunk.lines.push_back({kind, std::string(l.empty() ? l : l.substr(1))});
        if (kind != '+') ++old_seen;
        if (kind != '-') ++new_seen;
        ++i;
      }
      if (hunk.lines.empty())
        return make_error(line_ref(static_cast<size_t>(hunk.patch_line - 1)) + ": the hunk has no lines");
      patch.hunks.push_back(std::move(hunk));
    }
    return {};
  }

  std::vector<std::string_view> lines_;
  std::vector<size_t> next_nonblank_;
  PatchLimits limits_;
  size_t hunk_count_ = 0;
};

struct FileLine {
  std::string_view body;  // without the line ending
  std::string_view eol;   // "\n", "\r\n" or "" (last line without newline)
};

std::vector<FileLine> split_file(std::string_view content) {
  std::vector<FileLine> lines;
  size_t start = 0;
  while (start < content.size()) {
    size_t end = content.find('\n', start);
    if (end == std::string_view::npos) {
      lines.push_back({content.substr(start), {}});
      break;
    }
    size_t body_end = end > start && content[end - 1] == '\r' ? end - 1 : end;
    lines.push_back({content.substr(start, body_end - start), content.substr(body_end, end + 1 - body_end)});
    start = end + 1;
  }
  return lines;
}

std::string_view rstrip(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool same(std::string_view file, std::string_view patch, bool lenient) {
  return lenient ? rstrip(file) == rstrip(patch) : file == patch;
}

bool matches_at(const std::vector<FileLine>& file, size_t k, const std::vector<std::string_view>& old_side, bool lenient) {
  if (k + old_side.size() > file.size()) return false;
  for (size_t j = 0; j < old_side.size(); ++j)
    if (!same(file[k + j].body, old_side[j], lenient)) return false;
  return true;
}

// Why a hunk's old side was not found: the longest partial match, if any.
std::string explain_mismatch(const std::vector<FileLine>& file, size_t cursor, size_t preferred,
                             const std::vector<std::string_view>& old_side, std::string_view name) {
  if (static_cast<uint64_t>(file.size() - std::min(cursor, file.size())) * old_side.size() > kMaxDiagnosticWork)
    return "its context and removed lines do not occur in " + std::string(name);
  size_t best_k = 0, best_len = 0, best_dist = 0;
  for (size_t k = cursor; k < file.size(); ++k) {
    size_t m = 0;
    while (m < old_side.size() && k + m < file.size() && same(file[k + m].body, old_side[m], true)) ++m;
    size_t dist = k > preferred ? k - preferred : preferred - k;
    if (m > best_len || (m == best_len && m > 0 && dist < best_dist)) best_k = k, best_len = m, best_dist = dist;
  }
  if (best_len == 0)
    return "its first line " + shown(old_side[0]) + " does not occur in " + std::string(name) +
           (cursor > 0 ? " after line " + std::to_string(cursor) : std::string());
  size_t bad = best_k + best_len;
  std::string found = bad < file.size() ? shown(file[bad].body) : std::string("the end of the file");
  return "the closest place is line " + std::to_string(best_k + 1) + ", where the first " + std::to_string(best_len) +
         " of its " + std::to_string(old_side.size()) + " context/removed lines match, but line " +
         std::to_string(bad + 1) + " is " + found + " where the hunk expects " + shown(old_side[best_len]);
}

}  // namespace

Result<std::vector<FilePatch>> parse_patch(std::string_view text, const PatchLimits& limits) {
  return Parser(text, limits).run();
}

Result<std::string> apply_hunks(std::string_view content, const FilePatch& patch, std::string_view name) {
  std::vector<FileLine> file = split_file(content);
  std::string_view convention = uses_crlf(content) ? "\r\n" : "\n";
  struct OutLine {
    std::string_view body, eol;
  };
  std::vector<OutLine> out;
  out.reserve(file.size() + 16);
  size_t cursor = 0;    // next unconsumed line of the original file
  int64_t delta = 0;    // where hunks were found relative to their stated lines
  bool last_hunk_at_end = false;
  const Hunk* end_hunk = nullptr;
  for (size_t h = 0; h < patch.hunks.size(); ++h) {
    const Hunk& hunk = patch.hunks[h];
    std::string label = "hunk " + std::to_string(h + 1) + " (" + hunk.header + ")";
    std::vector<std::string_view> old_side;
    for (const PatchLine& l : hunk.lines)
      if (l.kind != '+') old_side.push_back(l.text);
    size_t pos = 0;
    if (old_side.empty()) {
      int64_t at = hunk.has_position ? hunk.old_start + delta : (file.empty() ? 0 : -1);
      if (at < 0)
        return make_error(label + " adds lines but has neither a position nor context lines; give it context "
                          "lines or an '@@ -l,0 +l,n @@' header");
      if (at < static_cast<int64_t>(cursor) || at > static_cast<int64_t>(file.size()))
        return make_error(label + " inserts after line " + std::to_string(at) + ", but " + std::string(name) +
                          " has " + std::to_string(file.size()) + " lines");
      pos = static_cast<size_t>(at);
    } else {
      size_t len = old_side.size();
      size_t last = file.size() >= len ? file.size() - len : 0;
      bool found = false;
      if (file.size() >= len && cursor <= last) {
        if (hunk.has_position) {
          int64_t want = std::max<int64_t>(0, hunk.old_start - 1 + delta);
          size_t preferred = static_cast<size_t>(std::clamp<int64_t>(want, static_cast<int64_t>(cursor), static_cast<int64_t>(last)));
          for (bool lenient : {false, true}) {
            for (size_t d = 0; !found; ++d) {
              bool any = false;
              if (preferred + d <= last) {
                any = true;
                if (matches_at(file, preferred + d, old_side, lenient)) pos = preferred + d, found = true;
              }
              if (!found && d > 0 && preferred >= cursor + d) {
                any = true;
                if (matches_at(file, preferred - d, old_side, lenient)) pos = preferred - d, found = true;
              }
              if (!any) break;
            }
            if (found) break;
          }
        } else {
          for (bool lenient : {false, true}) {
            std::vector<size_t> hits;
            for (size_t k = cursor; k <= last && hits.size() < 5; ++k)
              if (matches_at(file, k, old_side, lenient)) hits.push_back(k);
            if (hits.size() > 1) {
              std::string where;
              for (size_t k : hits) where += (where.empty() ? "" : ", ") + std::to_string(k + 1);
              return make_error(label + " has no line numbers and its context matches " + std::string(name) +
                                " at several places (lines " + where + "); add more context lines or an "
                                "'@@ -l,s +l,s @@' header");
            }
            if (hits.size() == 1) {
              pos = hits[0];
              found = true;
              break;
            }
          }
        }
      }
      if (!found) {
        size_t preferred = hunk.has_position ? static_cast<size_t>(std::max<int64_t>(0, hunk.old_start - 1 + delta)) : cursor;
        return make_error(label + " does not apply to " + std::string(name) + ": " +
                          explain_mismatch(file, cursor, preferred, old_side, name) +
                          ". Read the file again and regenerate the hunk from its current content");
      }
    }
    if (hunk.has_position)
      delta = static_cast<int64_t>(pos) - (old_side.empty() ? hunk.old_start : hunk.old_start - 1);
    for (size_t k = cursor; k < pos; ++k) out.push_back({file[k].body, file[k].eol});
    size_t k = pos;
    for (const PatchLine& l : hunk.lines) {
      if (l.kind == ' ') {
        out.push_back({file[k].body, file[k].eol});
        ++k;
      } else if (l.kind == '-') {
        ++k;
      } else {
        out.push_back({l.text, convention});
      }
    }
    cursor = k;
    last_hunk_at_end = cursor == file.size();
    end_hunk = &hunk;
  }
  for (size_t k = cursor; k < file.size(); ++k) out.push_back({file[k].body, file[k].eol});
  if (cursor < file.size()) last_hunk_at_end = false;

  // Line endings: only the last line may lack one; a hunk that reaches the
  // end decides whether the new last line ends with a newline.
  for (size_t k = 0; k + 1 < out.size(); ++k)
    if (out[k].eol.empty()) out[k].eol = convention;
  if (!out.empty() && last_hunk_at_end && end_hunk) {
    if (end_hunk->new_ends_without_newline) out.back().eol = {};
    else if (out.back().eol.empty() && end_hunk->old_ends_without_newline) out.back().eol = convention;
  }
  std::string result;
  size_t total = 0;
  for (const OutLine& l : out) total += l.body.size() + l.eol.size();
  result.reserve(total);
  for (const OutLine& l : out) {
    result.append(l.body);
    result.append(l.eol);
  }
  return result;
}

Result<std::vector<FileChange>> plan_patch(const std::vector<FilePatch>& patches, const ReadFileFn& read) {
  std::map<std::string, std::optional<std::string>> state, original;
  std::map<std::string, std::string> renamed_from;
  std::vector<std::string> order;
  auto load = [&](const std::string& path) -> Status {
    if (state.count(path)) return {};
    Result<std::optional<std::string>> content = read(path);
    if (!content) return content.error();
    state[path] = *content;
    original[path] = *content;
    order.push_back(path);
    return {};
  };
  for (const FilePatch& patch : patches) {
    const std::string& path = patch.path();
    std::string where = " (" + line_ref(static_cast<size_t>(patch.patch_line - 1)) + ")";
    switch (patch.kind) {
      case FilePatch::Kind::kAdd: {
        if (Status s = load(path); !s) return s.error();
        if (state[path])
          return make_error("cannot add " + path + where + ": it already exists; change it with a diff against its "
                            "current content instead of '--- /dev/null'");
        Result<std::string> content = apply_hunks("", patch, path);
        if (!content) return content.error();
        state[path] = std::move(*content);
        break;
      }
      case FilePatch::Kind::kDelete: {
        if (Status s = load(path); !s) return s.error();
        if (!state[path]) return make_error("cannot delete " + path + where + ": it does not exist");
        if (!patch.hunks.empty()) {
          Result<std::string> rest = apply_hunks(*state[path], patch, path);
          if (!rest) return rest.error();
          if (!rest->empty())
            return make_error("cannot delete " + path + where + ": its hunks do not remove all of its content "
                              "(the file has changed); read it again");
        }
        state[path] = std::nullopt;
        break;
      }
      case FilePatch::Kind::kModify: {
        if (Status s = load(path); !s) return s.error();
        if (!state[path])
          return make_error("cannot modify " + path + where + ": it does not exist (to create it, use '--- /dev/null')");
        Result<std::string> content = apply_hunks(*state[path], patch, path);
        if (!content) return content.error();
        state[path] = std::move(*content);
        break;
      }
      case FilePatch::Kind::kRename: {
        const std::string& to = patch.new_path;
        if (Status s = load(path); !s) return s.error();
        if (Status s = load(to); !s) return s.error();
        if (!state[path]) return make_error("cannot rename " + path + where + ": it does not exist");
        if (state[to]) return make_error("cannot rename " + path + " to " + to + where + ": " + to + " already exists");
        std::string content = *state[path];
        if (!patch.hunks.empty()) {
          Result<std::string> changed = apply_hunks(content, patch, path);
          if (!changed) return changed.error();
          content = std::move(*changed);
        }
        state[to] = std::move(content);
        state[path] = std::nullopt;
        renamed_from[to] = path;
        break;
      }
    }
  }
  std::vector<FileChange> changes;
  for (const std::string& path : order) {
    if (state[path] == original[path]) continue;
    FileChange change{path, state[path], std::nullopt};
    if (auto it = renamed_from.find(path); it != renamed_from.end() && state[path]) change.renamed_from = it->second;
    changes.push_back(std::move(change));
  }
  return changes;
}

}  // namespace beluga::tools
