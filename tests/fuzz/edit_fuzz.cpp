// Fuzzes the edit tool's pure core (tools/text_edit.h). Input: content,
// old, new and a flags byte, separated by '\x01' (flags & 1: replace_all).
// It may not crash; a success must be exactly the described replacement:
// the effective old/new are the given ones or their line-ending
// conversions, the result equals a naive left-to-right replacement, the
// count and line numbers agree, and without replace_all the old text occurs
// exactly once (overlaps included).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "tools/text_edit.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> parts;
  while (parts.size() < 4) {
    size_t cut = input.find('\x01');
    parts.push_back(input.substr(0, cut));
    if (cut == std::string_view::npos) break;
    input.remove_prefix(cut + 1);
  }
  if (parts.size() < 3) return 0;
  std::string_view content = parts[0], old_text = parts[1], new_text = parts[2];
  bool replace_all = parts.size() > 3 && !parts[3].empty() && (parts[3][0] & 1);

  auto edit = beluga::tools::edit_text(content, old_text, new_text, replace_all, "fuzz.txt");
  if (!edit) {
    if (edit.message().empty()) std::abort();
    return 0;
  }
  using beluga::tools::crlf_to_lf;
  using beluga::tools::lf_to_crlf;
  const std::string& o = edit->old_text;
  const std::string& n = edit->new_text;
  if (o.empty()) std::abort();
  if (o != old_text && o != lf_to_crlf(old_text) && o != crlf_to_lf(old_text)) std::abort();
  if (n != new_text && n != lf_to_crlf(new_text) && n != crlf_to_lf(new_text)) std::abort();

  std::string expected;
  std::vector<int64_t> lines;
  size_t at = 0;
  while (true) {
    size_t found = content.find(o, at);
    if (found == std::string_view::npos) break;
    expected.append(content.substr(at, found - at));
    expected.append(n);
    lines.push_back(beluga::tools::line_of_offset(content, found));
    at = found + o.size();
    if (!replace_all) break;
  }
  expected.append(content.substr(at));
  if (lines.empty()) std::abort();
  if (expected != edit->content) std::abort();
  if (static_cast<int64_t>(lines.size()) != edit->replacements || lines != edit->lines) std::abort();
  if (!replace_all) {
    size_t occurrences = 0;
    for (size_t p = content.find(o); p != std::string_view::npos; p = content.find(o, p + 1)) ++occurrences;
    if (occurrences != 1) std::abort();
  }
  return 0;
}
