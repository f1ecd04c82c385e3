// One DeepSeek V4 block (model.py Block) over a batch of rows: mHC pre-mix,
// attention, mHC post-mix, then the same around the MoE feed-forward.
//
// A row is one token of one sequence: its residual streams [hc, dim], its
// position and token id, and the BlockState it reads and extends. Rows of the
// same sequence must come in position order; rows of different sequences are
// independent (batching). Linears run over all rows at once; attention and
// the compressors step row by row.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/model/weights.h"
#include "engine/runtime/rope.h"
#include "engine/runtime/state.h"

namespace beluga {

struct RowContext {
  BlockState* state = nullptr;
  int64_t position = 0;
  int32_t token = 0;
};

// What a block chose for one row, for tests that compare against the
// official reference (routing and indexer choices).
struct BlockChoices {
  std::vector<int32_t> experts;          // routed expert ids, in top-k order
  std::vector<float> expert_weights;     // matching routing weights
  std::vector<int64_t> indexer_entries;  // compressed entries chosen (CSA), best first
};

struct BlockContext {
  const ModelConfig& config;
  const BlockWeights& weights;
  const Rope& rope;
};

// streams: [rows, hc, dim], updated in place. If `choices` is not null it
// receives, for each row, what the block chose.
void block_forward(const BlockContext& block, std::span<float> streams, std::span<const RowContext> rows,
                   std::vector<BlockChoices>* choices);

// The attention sub-layer: x [rows, dim] (normed) -> out [rows, dim].
void attention_forward(const BlockContext& block, std::span<const float> x, std::span<const RowContext> rows,
                       std::span<float> out, std::vector<BlockChoices>* choices);

// The MoE sub-layer: x [rows, dim] (normed) -> out [rows, dim].
void moe_forward(const BlockContext& block, std::span<const float> x, std::span<const RowContext> rows,
                 std::span<float> out, std::vector<BlockChoices>* choices);

// mHC: mixes the hc streams of one row into the sub-layer input.
struct HyperMix {
  std::vector<float> pre;   // [hc]
  std::vector<float> post;  // [hc]
  std::vector<float> comb;  // [hc, hc], comb[j*hc + k]: from stream j to stream k
};
HyperMix hyper_mix(const ModelConfig& config, const HyperConnectionWeights& w, std::span<const float> streams);
// The same into `out`, reusing its vectors' capacity.
void hyper_mix_into(const ModelConfig& config, const HyperConnectionWeights& w, std::span<const float> streams,
                    HyperMix& out);
// The head's reduction of the hc streams into one vector [dim].
void hyper_head(const ModelConfig& config, const HyperConnectionWeights& w, std::span<const float> streams,
                std::span<float> out);

}  // namespace beluga
