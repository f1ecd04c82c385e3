#include "engine/model/added_tokens.h"

#include <algorithm>
#include <cassert>

namespace beluga {

void AddedTokenMatcher::add(std::string_view content, int32_t id) {
  assert(!content.empty() && nodes_.empty());
  uint32_t node = 0;
  for (char ch : content) {
    const auto byte = static_cast<uint8_t>(ch);
    auto& children = build_nodes_[node].children;
    auto it = std::find_if(children.begin(), children.end(), [&](const auto& e) { return e.first == byte; });
    if (it != children.end()) {
      node = it->second;
      continue;
    }
    const auto child = static_cast<uint32_t>(build_nodes_.size());
    children.emplace_back(byte, child);
    build_nodes_.emplace_back();  // invalidates `children`; not used after
    node = child;
  }
  if (build_nodes_[node].id < 0) ++tokens_;
  build_nodes_[node].id = id;
  starts_token_[static_cast<uint8_t>(content[0])] = true;
}

void AddedTokenMatcher::build() {
  nodes_.resize(build_nodes_.size());
  for (size_t i = 0; i < build_nodes_.size(); ++i) {
    auto& children = build_nodes_[i].children;
    std::sort(children.begin(), children.end());
    nodes_[i].id = build_nodes_[i].id;
    nodes_[i].first_edge = static_cast<uint32_t>(edge_bytes_.size());
    nodes_[i].edge_count = static_cast<uint32_t>(children.size());
    for (const auto& [byte, target] : children) {
      edge_bytes_.push_back(byte);
      edge_targets_.push_back(target);
    }
  }
  build_nodes_.clear();
  build_nodes_.shrink_to_fit();
}

bool AddedTokenMatcher::find(std::string_view text, size_t from, Match& match) const {
  if (nodes_.empty()) return false;
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  for (size_t start = from; start < n; ++start) {
    if (!starts_token_[s[start]]) continue;
    uint32_t node = 0;
    int32_t best_id = -1;
    size_t best_end = 0;
    for (size_t i = start; i < n; ++i) {
      const Node& current = nodes_[node];
      const uint8_t* first = edge_bytes_.data() + current.first_edge;
      const uint8_t* last = first + current.edge_count;
      const uint8_t* it = std::lower_bound(first, last, s[i]);
      if (it == last || *it != s[i]) break;
      node = edge_targets_[static_cast<size_t>(it - edge_bytes_.data())];
      if (nodes_[node].id >= 0) {
        best_id = nodes_[node].id;
        best_end = i + 1;
      }
    }
    if (best_id >= 0) {
      match = {start, best_end - start, best_id};
      return true;
    }
  }
  return false;
}

}  // namespace beluga
