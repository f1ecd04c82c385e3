// Fuzzes the unified-diff parser and its application on in-memory files.
// Input: the patch text, then up to eight files, the parts separated by
// '\x01': "patch \x01 path \x01 content \x01 path \x01 content ...".
// Neither parsing nor applying may crash; applying a parsed patch is
// deterministic (two plans agree exactly); a plan only changes files the
// patch names, and only files whose content really changes.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tools/patch.h"

using beluga::tools::FileChange;
using beluga::tools::FilePatch;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> parts;
  while (parts.size() < 17) {
    size_t cut = input.find('\x01');
    parts.push_back(input.substr(0, cut));
    if (cut == std::string_view::npos) break;
    input.remove_prefix(cut + 1);
  }
  std::map<std::string, std::string> files;
  for (size_t i = 1; i + 1 < parts.size(); i += 2) files[std::string(parts[i])] = std::string(parts[i + 1]);

  auto parsed = beluga::tools::parse_patch(parts[0]);
  auto again = beluga::tools::parse_patch(parts[0]);
  if (parsed.ok() != again.ok()) std::abort();
  if (!parsed) return 0;
  if (parsed->size() != again->size()) std::abort();

  std::set<std::string> named;
  for (const FilePatch& p : *parsed) {
    if (p.old_path.empty() && p.new_path.empty()) std::abort();
    named.insert(p.old_path);
    named.insert(p.new_path);
    auto it = files.find(p.path());
    if (it == files.end()) continue;
    auto a = beluga::tools::apply_hunks(it->second, p, "f");
    auto b = beluga::tools::apply_hunks(it->second, p, "f");
    if (a.ok() != b.ok() || (a.ok() && *a != *b) || (!a.ok() && a.message() != b.message())) std::abort();
  }

  beluga::tools::ReadFileFn read = [&](const std::string& path) -> beluga::Result<std::optional<std::string>> {
    auto it = files.find(path);
    if (it == files.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  };
  auto plan = beluga::tools::plan_patch(*parsed, read);
  auto replan = beluga::tools::plan_patch(*parsed, read);
  if (plan.ok() != replan.ok()) std::abort();
  if (!plan) {
    if (plan.message() != replan.message()) std::abort();
    return 0;
  }
  if (plan->size() != replan->size()) std::abort();
  for (size_t i = 0; i < plan->size(); ++i) {
    const FileChange& x = (*plan)[i];
    const FileChange& y = (*replan)[i];
    if (x.path != y.path || x.content != y.content || x.renamed_from != y.renamed_from) std::abort();
    if (!named.count(x.path)) std::abort();
    auto it = files.find(x.path);
    std::optional<std::string> before = it == files.end() ? std::nullopt : std::optional<std::string>(it->second);
    if (before == x.content) std::abort();
  }
  return 0;
}
