// Model: loaded weights plus what the forward pass precomputes (RoPE
// frequencies per block), and the forward pass over batches of token chunks.
//
// forward() takes one chunk of new tokens per sequence (any length, starting
// at the sequence's current position) and appends them to each sequence's
// state; rows of different sequences share every weight read. Results for a
// chunk do not depend on how a sequence's tokens were split into chunks, nor
// on which other sequences share the batch (the kernels' arithmetic is per
// row), so prefill, chunked prefill and decode agree exactly.
//
// Thread contract: const methods; states are owned by their callers, and one
// state must not be used by two calls at once.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "engine/model/weights.h"
#include "engine/runtime/block.h"
#include "engine/runtime/rope.h"
#include "engine/runtime/state.h"

namespace beluga {

struct SequenceChunk {
  StackState* state = nullptr;
  std::span<const int32_t> tokens;
  // This chunk alone asks for these on top of the call's ForwardOptions, so
  // one call can carry a decode token, a verify pair (logits of every row)
  // and a prefill chunk (last logits only) of different sequences.
  bool logits_for_every_token = false;
  bool keep_hidden = false;
};

// One sequence's rows for the MTP block: the main model's final streams of
// positions p..p+T-1 ([T, hc*dim]) paired with the tokens that follow them.
struct MtpChunk {
  StackState* state = nullptr;
  std::span<const float> hidden;
  std::span<const int32_t> next_tokens;
  bool logits = true;  // false: the rows only extend the MTP state (no head)
};

struct ForwardOptions {
  bool logits_for_every_token = false;  // else only the chunk's last token
  bool keep_hidden = false;             // final residual streams of every token (MTP input)
  bool trace = false;                   // per-block streams and choices of the last token
};

struct ChunkResult {
  std::vector<float> logits;  // [1 or tokens, vocab]
  std::vector<float> hidden;  // [tokens, hc*dim] when keep_hidden
  // With trace, for the chunk's last token: the streams entering block 0
  // (the embedding repeated) and leaving each block, and each block's choices.
  std::vector<std::vector<float>> block_streams;
  std::vector<BlockChoices> block_choices;
};

class Model {
 public:
  static Result<std::unique_ptr<Model>> load(const std::string& folder);

  const ModelConfig& config() const { return weights_->config(); }
  const ModelWeights& weights() const { return *weights_; }

  StackState new_state() const;
  StackState new_mtp_state(int64_t mtp_index = 0) const;

  // Main model. Token ids must be in [0, vocab) (checked: an error, not a crash).
  Result<std::vector<ChunkResult>> forward(std::span<const SequenceChunk> chunks, const ForwardOptions& options) const;

  // MTP block `mtp_index`: inputs are the main model's final streams of
  // positions p..p+T-1 ([T, hc*dim]) paired with the tokens that follow them.
  Result<ChunkResult> forward_mtp(StackState& state, std::span<const float> hidden, std::span<const int32_t> next_tokens,
                                  const ForwardOptions& options, int64_t mtp_index = 0) const;
  // The same for several sequences at once, sharing the weight reads; each
  // chunk's results are those it gets alone (per-row arithmetic). A chunk
  // without `logits` gets none (nor hidden streams).
  Result<std::vector<ChunkResult>> forward_mtp(std::span<const MtpChunk> chunks, const ForwardOptions& options,
                                               int64_t mtp_index = 0) const;

 private:
  Model() = default;
  void logits_of(const HyperConnectionWeights& hc_head, const std::vector<float>& norm, std::span<const float> streams,
                 size_t rows, std::vector<float>& out) const;
  Status check_tokens(std::span<const int32_t> tokens) const;

  std::unique_ptr<ModelWeights> weights_;
  std::vector<Rope> ropes_;  // per block (main then MTP)
};

}  // namespace beluga
