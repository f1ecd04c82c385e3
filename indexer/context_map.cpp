#include "indexer/context_map.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

#include "indexer/context_format.h"

namespace beluga::indexer {
namespace {

constexpr size_t kKeyDefinitions = 5;

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t slash; (slash = path.find('/', start)) != std::string::npos; start = slash + 1)
    parts.push_back(path.substr(start, slash - start));
  parts.push_back(path.substr(start));
  return parts;
}

// Up to kKeyDefinitions names: highest rank first, then source order.
std::string key_definitions(const IndexedFile& f, const std::vector<double>& ranks) {
  std::vector<size_t> idx(f.definitions.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return ranks[a] > ranks[b]; });
  std::string out;
  std::set<std::string_view> seen;
  for (size_t i : idx) {
    const std::string& name = f.definitions[i].name;
    if (!seen.insert(name).second) continue;
    out += out.empty() ? ": " : ", ";
    out += name;
    if (seen.size() == kKeyDefinitions) break;
  }
  return out;
}

// Levels 1 and 2: the file tree. Paths sorted, so a folder's files are
// contiguous and each folder line is written once.
std::string file_tree(const std::vector<IndexedFile>& files, const RepoRank& rank, bool with_definitions) {
  std::string out;
  std::vector<std::string> open;  // folders of the previous file
  for (size_t i = 0; i < files.size(); ++i) {
    std::vector<std::string> parts = split_path(files[i].path);
    std::string name = parts.back();
    parts.pop_back();
    size_t common = 0;
    while (common < open.size() && common < parts.size() && open[common] == parts[common]) ++common;
    for (size_t d = common; d < parts.size(); ++d)
      out += std::string(2 * d, ' ') + context_path_text(parts[d]) + "/\n";
    out += std::string(2 * parts.size(), ' ') + context_path_text(name);
    if (with_definitions) out += key_definitions(files[i], rank.definition_rank[i]);
    out += '\n';
    open = std::move(parts);
  }
  return out;
}

// Levels 3 and 4: folders with the number of files below them.
std::string folder_tree(const std::vector<IndexedFile>& files, size_t max_depth) {
  std::map<std::string, int64_t> below;  // "a/b/" -> files under it
  int64_t top_files = 0;
  for (const IndexedFile& f : files) {
    std::vector<std::string> parts = split_path(f.path);
    parts.pop_back();
    if (parts.empty()) ++top_files;
    std::string prefix;
    for (size_t d = 0; d < parts.size() && d < max_depth; ++d) below[prefix += context_path_text(parts[d]) + "/"]++;
  }
  std::string out;
  if (top_files) out += "(" + std::to_string(top_files) + " files at the top level)\n";
  for (const auto& [folder, n] : below) {
    size_t depth = static_cast<size_t>(std::count(folder.begin(), folder.end(), '/')) - 1;
    size_t cut = folder.rfind('/', folder.size() - 2);
    std::string name = cut == std::string::npos ? folder : folder.substr(cut + 1);
    out += std::string(2 * depth, ' ') + name + " (" + std::to_string(n) + " files)\n";
  }
  return out;
}

}  // namespace

std::string render_context_map(const std::vector<IndexedFile>& files, const RepoRank& rank, int64_t max_tokens,
                               const std::function<int64_t(std::string_view)>& count) {
  auto wrap = [](const std::string& body) { return "=== MAP ===\n" + body + "=== END MAP ===\n"; };
  std::string map;
  for (int level = 1; level <= 3; ++level) {
    map = wrap(level == 3 ? folder_tree(files, SIZE_MAX) : file_tree(files, rank, level == 1));
    if (count(map) <= max_tokens) return map;
  }
  return wrap(folder_tree(files, 1));
}

}  // namespace beluga::indexer
