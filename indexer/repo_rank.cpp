#include "indexer/repo_rank.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string_view>
#include <unordered_map>

namespace beluga::indexer {
namespace {

constexpr double kDamping = 0.85;
constexpr double kTolerance = 1e-9;
constexpr int kMaxRounds = 100;
constexpr size_t kGenericDefinerCount = 5;

struct Edge {
  size_t from = 0, to = 0;
  std::string_view name;
  double weight = 0;
};

double name_multiplier(std::string_view name, size_t definers, const std::set<std::string_view>& focused) {
  double m = 1.0;
  if (focused.count(name)) m *= 10.0;
  if (!name.empty() && name.front() == '_') m *= 0.1;
  if (definers > kGenericDefinerCount) m *= 0.1;
  return m;
}

std::vector<double> personalisation(const std::vector<IndexedFile>& files, const RankFocus& focus,
                                    const std::unordered_map<std::string_view, std::vector<size_t>>& definers) {
  std::vector<double> p(files.size(), 0.0);
  std::set<std::string_view> focus_paths(focus.files.begin(), focus.files.end());
  for (size_t i = 0; i < files.size(); ++i)
    if (focus_paths.count(files[i].path)) p[i] = 1.0;
  for (const std::string& name : focus.identifiers)
    if (auto it = definers.find(name); it != definers.end())
      for (size_t d : it->second) p[d] = 1.0;
  double sum = 0;
  for (double v : p) sum += v;
  if (sum == 0) {  // nothing focused (or nothing matched): every file alike
    std::fill(p.begin(), p.end(), 1.0);
    sum = static_cast<double>(files.size());
  }
  for (double& v : p) v /= sum;
  return p;
}

}  // namespace

RepoRank rank_repository(const std::vector<IndexedFile>& files, const RankFocus& focus) {
  RepoRank result;
  const size_t n = files.size();
  result.file_rank.assign(n, 0.0);
  result.definition_rank.resize(n);
  for (size_t i = 0; i < n; ++i) result.definition_rank[i].assign(files[i].definitions.size(), 0.0);
  if (n == 0) return result;

  // Which files define each name (each file once, in file order).
  std::unordered_map<std::string_view, std::vector<size_t>> definers;
  for (size_t i = 0; i < n; ++i)
    for (const Definition& d : files[i].definitions) {
      auto& list = definers[d.name];
      if (list.empty() || list.back() != i) list.push_back(i);
    }
  std::set<std::string_view> focused(focus.identifiers.begin(), focus.identifiers.end());

  std::vector<Edge> edges;
  std::vector<double> out_weight(n, 0.0);
  for (size_t r = 0; r < n; ++r)
    for (const auto& [name, count] : files[r].references) {
      auto it = definers.find(name);
      if (it == definers.end()) continue;
      double w = std::sqrt(static_cast<double>(count)) * name_multiplier(name, it->second.size(), focused);
      for (size_t d : it->second) {
        if (d == r) continue;
        edges.push_back({r, d, name, w});
        out_weight[r] += w;
      }
    }

  const std::vector<double> p = personalisation(files, focus, definers);
  std::vector<double> rank = p, next(n);
  for (int round = 0; round < kMaxRounds; ++round) {
    double dangling = 0;
    for (size_t i = 0; i < n; ++i)
      if (out_weight[i] == 0) dangling += rank[i];
    for (size_t i = 0; i < n; ++i) next[i] = (1.0 - kDamping + kDamping * dangling) * p[i];
    for (const Edge& e : edges) next[e.to] += kDamping * rank[e.from] * e.weight / out_weight[e.from];
    double change = 0;
    for (size_t i = 0; i < n; ++i) change += std::abs(next[i] - rank[i]);
    rank.swap(next);
    if (change < kTolerance) break;
  }
  result.file_rank = rank;

  // Rank flowing along each edge goes to the definitions of its name in the
  // target file (shared equally when the file defines the name twice).
  for (const Edge& e : edges) {
    double flow = rank[e.from] * e.weight / out_weight[e.from];
    const auto& defs = files[e.to].definitions;
    size_t same = 0;
    for (const Definition& d : defs) same += d.name == e.name;
    for (size_t k = 0; k < defs.size(); ++k)
      if (defs[k].name == e.name) result.definition_rank[e.to][k] += flow / static_cast<double>(same);
  }
  return result;
}

std::vector<size_t> files_by_importance(const std::vector<IndexedFile>& files, const RepoRank& rank,
                                        const RankFocus& focus) {
  std::vector<size_t> order;
  std::vector<bool> placed(files.size(), false);
  std::map<std::string_view, size_t> index_of;
  for (size_t i = 0; i < files.size(); ++i) index_of[files[i].path] = i;
  for (const std::string& path : focus.files)
    if (auto it = index_of.find(path); it != index_of.end() && !placed[it->second]) {
      order.push_back(it->second);
      placed[it->second] = true;
    }
  std::vector<size_t> rest;
  for (size_t i = 0; i < files.size(); ++i)
    if (!placed[i]) rest.push_back(i);
  std::stable_sort(rest.begin(), rest.end(), [&](size_t a, size_t b) {
    if (rank.file_rank[a] != rank.file_rank[b]) return rank.file_rank[a] > rank.file_rank[b];
    return files[a].path < files[b].path;
  });
  order.insert(order.end(), rest.begin(), rest.end());
  return order;
}

}  // namespace beluga::indexer
