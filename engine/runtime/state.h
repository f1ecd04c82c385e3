// The state a sequence carries between forward calls (the "KV cache" of
// DeepSeek V4). Per block:
//
//   window       [sliding_window, head_dim]  KV rows of the last positions,
//                                            slot = position mod window
//   compressor   running softmax-pooling state of the current block of
//                `ratio` tokens (and, for the overlapping ratio-4
//                compressor, the previous block), plus every finished
//                compressed entry [n, head_dim]
//   indexer      the lightning indexer's own compressor (ratio 4 blocks)
//
// Entry j of a compressor pools tokens [j*ratio, (j+1)*ratio) (plus the
// previous block for ratio 4) and exists once token (j+1)*ratio - 1 has been
// processed. A fresh state is all zeros with -inf pooling scores.
//
// Thread contract: owned by one sequence; not shared.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "engine/model/config.h"

namespace beluga {

struct CompressorState {
  int64_t ratio = 0;
  int64_t head_dim = 0;
  bool overlap = false;
  std::vector<float> kv;       // [coff*ratio, coff*head_dim]
  std::vector<float> score;    // same shape; -inf = empty slot
  std::vector<float> entries;  // [entry_count, head_dim]

  void reset(int64_t ratio_, int64_t head_dim_) {
    ratio = ratio_;
    head_dim = head_dim_;
    overlap = ratio == 4;
    const int64_t coff = overlap ? 2 : 1;
    kv.assign(static_cast<size_t>(coff * ratio * coff * head_dim), 0.0f);
    score.assign(kv.size(), -std::numeric_limits<float>::infinity());
    entries.clear();
  }
  int64_t entry_count() const { return head_dim == 0 ? 0 : static_cast<int64_t>(entries.size()) / head_dim; }
};

struct BlockState {
  std::vector<float> window;  // [sliding_window, head_dim]
  CompressorState compressor;
  CompressorState indexer;
};

// One transformer stack's state: the main model's blocks, or an MTP block.
struct StackState {
  int64_t position = 0;  // tokens consumed so far
  std::vector<BlockState> blocks;
};

// A fresh state for blocks [first, first + count) of `config`.
inline StackState make_stack_state(const ModelConfig& config, int64_t first, int64_t count) {
  StackState s;
  for (int64_t b = first; b < first + count; ++b) {
    BlockState block;
    block.window.assign(static_cast<size_t>(config.sliding_window * config.head_dim), 0.0f);
    const int64_t ratio = config.compress_ratios[static_cast<size_t>(b)];
    if (ratio > 0) block.compressor.reset(ratio, config.head_dim);
    if (ratio == 4) block.indexer.reset(4, config.index_head_dim);
    s.blocks.push_back(std::move(block));
  }
  return s;
}

}  // namespace beluga
