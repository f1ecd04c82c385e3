#include "tools/text_edit.h"

#include <algorithm>
#include <cctype>
#include <functional>

#include "tools/file_io.h"

namespace beluga::tools {
namespace {

constexpr size_t kMaxListedLines = 10;       // line numbers listed for ambiguous matches
constexpr size_t kMaxScannedLines = 100000;  // lines scored when looking for near misses
constexpr size_t kMaxScoredBytes = 300;      // prefix of each line scored

// Byte offsets of every occurrence of `needle` (overlapping), at most `cap`
// stored; returns the total count.
size_t find_all(std::string_view hay, std::string_view needle, std::vector<size_t>* positions, size_t cap) {
  size_t count = 0;
  if (needle.empty() || needle.size() > hay.size()) return 0;
  std::boyer_moore_horspool_searcher searcher(needle.begin(), needle.end());
  auto it = hay.begin();
  while (true) {
    auto found = std::search(it, hay.end(), searcher);
    if (found == hay.end()) break;
    size_t pos = static_cast<size_t>(found - hay.begin());
    if (positions && positions->size() < cap) positions->push_back(pos);
    ++count;
    it = found + 1;
  }
  return count;
}

std::string_view trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// Collapses runs of whitespace to one space and trims the ends.
std::string squash_spaces(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : trim(s)) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::vector<std::string_view> split_lines(std::string_view text, size_t max_lines) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start <= text.size() && lines.size() < max_lines) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      if (start < text.size()) lines.push_back(text.substr(start));
      break;
    }
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

// Dice coefficient over character bigrams: 1 for equal strings, 0 for
// strings sharing no pair of adjacent characters.
double similarity(std::string_view a, std::string_view b) {
  a = a.substr(0, kMaxScoredBytes);
  b = b.substr(0, kMaxScoredBytes);
  if (a == b) return 1.0;
  if (a.size() < 2 || b.size() < 2) return 0.0;
  auto grams = [](std::string_view s) {
    std::vector<uint16_t> g;
    g.reserve(s.size());
    for (size_t i = 0; i + 1 < s.size(); ++i)
      g.push_back(static_cast<uint16_t>(static_cast<unsigned char>(s[i]) << 8 | static_cast<unsigned char>(s[i + 1])));
    std::sort(g.begin(), g.end());
    return g;
  };
  std::vector<uint16_t> ga = grams(a), gb = grams(b);
  size_t common = 0;
  for (size_t i = 0, j = 0; i < ga.size() && j < gb.size();) {
    if (ga[i] == gb[j]) ++common, ++i, ++j;
    else if (ga[i] < gb[j]) ++i;
    else ++j;
  }
  return 2.0 * static_cast<double>(common) / static_cast<double>(ga.size() + gb.size());
}

std::string excerpt(std::string_view text, size_t max_bytes = 80) {
  std::string_view first = text.substr(0, text.find('\n'));
  if (!first.empty() && first.back() == '\r') first.remove_suffix(1);
  bool cut = first.size() < text.size() && text.find('\n') != std::string_view::npos;
  if (first.size() > max_bytes) {
    first = first.substr(0, max_bytes);
    while (!first.empty() && (static_cast<unsigned char>(first.back()) & 0xC0) == 0x80) first.remove_suffix(1);
    if (!first.empty() && static_cast<unsigned char>(first.back()) >= 0xC0) first.remove_suffix(1);
    cut = true;
  }
  return to_valid_utf8(first) + (cut ? "..." : "");
}

std::string list_lines(const std::vector<int64_t>& lines, size_t total) {
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) out += (i ? ", " : "") + std::to_string(lines[i]);
  if (total > lines.size()) out += ", and " + std::to_string(total - lines.size()) + " more";
  return out;
}

// The message for text that does not occur: a whitespace-insensitive match
// if there is one, else the lines most like the first line of `old`.
std::string not_found_message(std::string_view content, std::string_view old_text, std::string_view name) {
  std::string head = "edit: '" + excerpt(old_text) + "' was not found in " + std::string(name);
  std::vector<std::string_view> file_lines = split_lines(content, kMaxScannedLines);
  std::vector<std::string_view> old_lines = split_lines(old_text, 1000);
  while (!old_lines.empty() && trim(old_lines.back()).empty()) old_lines.pop_back();
  size_t first = 0;
  while (first < old_lines.size() && trim(old_lines[first]).empty()) ++first;
  if (first == old_lines.size())
    return head + "; 'old' is only whitespace: include the surrounding code so it can be found";

  // Whitespace-insensitive match of the whole block.
  std::vector<std::string> want;
  for (size_t i = first; i < old_lines.size(); ++i) want.push_back(squash_spaces(old_lines[i]));
  for (size_t i = 0; i + want.size() <= file_lines.size(); ++i) {
    if (squash_spaces(file_lines[i]) != want[0]) continue;
    size_t k = 1;
    while (k < want.size() && squash_spaces(file_lines[i + k]) == want[k]) ++k;
    if (k == want.size()) {
      std::string range = want.size() == 1 ? "line " + std::to_string(i + 1)
                                           : "lines " + std::to_string(i + 1) + "-" + std::to_string(i + want.size());
      return head + ", but it matches " + range +
             " if whitespace is ignored; copy the exact indentation and spacing from the file (read it again), "
             "e.g. '" + excerpt(file_lines[i]) + "'";
    }
  }

  // The lines most like the first line of `old`.
  std::string probe(trim(old_lines[first]));
  std::vector<std::pair<double, size_t>> scored;
  for (size_t i = 0; i < file_lines.size(); ++i) {
    std::string_view line = trim(file_lines[i]);
    if (line.empty()) continue;
    double s = similarity(probe, line);
    if (s >= 0.4) scored.push_back({s, i});
  }
  std::partial_sort(scored.begin(), scored.begin() + std::min<size_t>(3, scored.size()), scored.end(),
                    [](const auto& x, const auto& y) { return x.first > y.first || (x.first == y.first && x.second < y.second); });
  if (scored.empty())
    return head + "; no similar line either: read the file again to see its current content, and copy 'old' exactly";
  std::string nearest;
  for (size_t i = 0; i < std::min<size_t>(3, scored.size()); ++i)
    nearest += (i ? "; " : "") + std::string("line ") + std::to_string(scored[i].second + 1) + ": '" +
               excerpt(file_lines[scored[i].second], 120) + "'";
  return head + ". Nearest candidate lines: " + nearest +
         ". Copy 'old' exactly from the file (read it again if unsure), including indentation";
}

}  // namespace

std::string lf_to_crlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 16);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out += '\r';
    out += text[i];
  }
  return out;
}

std::string crlf_to_lf(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i)
    if (!(text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) out += text[i];
  return out;
}

int64_t line_of_offset(std::string_view content, size_t offset) {
  offset = std::min(offset, content.size());
  return 1 + static_cast<int64_t>(std::count(content.begin(), content.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

Result<TextEdit> edit_text(std::string_view content, std::string_view old_text, std::string_view new_text,
                           bool replace_all, std::string_view name) {
  if (old_text.empty())
    return make_error("edit: 'old' is empty; give the exact text to replace (to write a whole file, use write)");
  if (old_text == new_text) return make_error("edit: 'old' and 'new' are identical; nothing would change");

  // Candidate forms of (old, new): the file's line-ending convention first.
  std::vector<std::pair<std::string, std::string>> forms;
  bool crlf_file = uses_crlf(content);
  if (crlf_file && old_text.find('\n') != std::string_view::npos) {
    std::string o = lf_to_crlf(old_text);
    if (o != old_text) forms.push_back({o, lf_to_crlf(new_text)});
  } else if (!crlf_file && old_text.find("\r\n") != std::string_view::npos) {
    forms.push_back({crlf_to_lf(old_text), crlf_to_lf(new_text)});
  } else if (crlf_file && new_text.find('\n') != std::string_view::npos) {
    forms.push_back({std::string(old_text), lf_to_crlf(new_text)});
  }
  forms.push_back({std::string(old_text), std::string(new_text)});

  for (const auto& [old_form, new_form] : forms) {
    std::vector<size_t> positions;
    size_t count = find_all(content, old_form, &positions, kMaxListedLines);
    if (count == 0) continue;
    if (old_form == new_form)
      return make_error("edit: in the file's line-ending convention 'old' and 'new' are identical; nothing would change");
    if (count > 1 && !replace_all) {
      std::vector<int64_t> lines;
      for (size_t p : positions) lines.push_back(line_of_offset(content, p));
      return make_error("edit: '" + excerpt(old_text) + "' occurs " + std::to_string(count) + " times in " +
                        std::string(name) + " (lines " + list_lines(lines, count) +
                        "); include more context to make it unique, or pass replace_all");
    }
    TextEdit edit;
    edit.old_text = old_form;
    edit.new_text = new_form;
    edit.content.reserve(content.size() + (new_form.size() > old_form.size() ? new_form.size() - old_form.size() : 0));
    size_t at = 0;
    int64_t line = 1;
    size_t line_counted_to = 0;
    while (true) {
      size_t found = content.find(old_form, at);
      if (found == std::string_view::npos) break;
      line += std::count(content.begin() + static_cast<std::ptrdiff_t>(line_counted_to),
                         content.begin() + static_cast<std::ptrdiff_t>(found), '\n');
      line_counted_to = found;
      edit.lines.push_back(line);
      edit.content.append(content.substr(at, found - at));
      edit.content.append(new_form);
      at = found + old_form.size();
      ++edit.replacements;
      if (!replace_all) break;
    }
    edit.content.append(content.substr(at));
    return edit;
  }
  return make_error(not_found_message(content, old_text, name));
}

}  // namespace beluga::tools
