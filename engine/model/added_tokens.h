// AddedTokenMatcher: finds added-token literals (<｜User｜>, <think>, ...) in
// raw text, leftmost-longest, as Hugging Face `tokenizers` does before
// pre-tokenization.
//
// A byte trie: each node's children are a contiguous, byte-sorted slice of
// one edge array. find() skips bytes that start no token with a 256-entry
// table (in source code only '<' and the first byte of '｜' ever stop it),
// then walks the trie from that position and keeps the longest token seen.
// The walk is bounded by the longest token, so matching is O(text x depth)
// in the worst case and about one table load per byte in practice, however
// many tokens there are.
//
// Thread contract: const after build; share freely.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace beluga {

class AddedTokenMatcher {
 public:
  struct Match {
    size_t begin = 0;  // byte offset in the text
    size_t size = 0;   // bytes
    int32_t id = -1;
  };

  // Adds `content` (non-empty) for `id`; a later add of the same content
  // replaces the id. Must not be called after find().
  void add(std::string_view content, int32_t id);
  // Freezes the trie into its compact form; add() after this is not allowed.
  void build();

  bool empty() const { return tokens_ == 0; }

  // The leftmost, then longest, token occurrence at or after `from`.
  bool find(std::string_view text, size_t from, Match& match) const;

 private:
  struct BuildNode {
    int32_t id = -1;
    std::vector<std::pair<uint8_t, uint32_t>> children;  // byte -> node
  };
  struct Node {
    int32_t id = -1;         // token ending here, or -1
    uint32_t first_edge = 0;  // children: edges_[first_edge, first_edge + edge_count)
    uint32_t edge_count = 0;
  };

  std::vector<BuildNode> build_nodes_ = std::vector<BuildNode>(1);  // node 0: the root
  std::vector<Node> nodes_;
  std::vector<uint8_t> edge_bytes_;
  std::vector<uint32_t> edge_targets_;
  bool starts_token_[256] = {};
  size_t tokens_ = 0;
};

}  // namespace beluga
