// Bytes of weights one decoded token must read, counted from the manifest
// (engine/model/manifest.h) in stored bytes (FP8/FP4 payload plus their ue8m0
// scales, BF16 as stored), for the main model's forward of a single token:
//
//   non-expert   every tensor of blocks 0..num_hidden_layers-1 and the globals
//                except those below (attention, compressors, indexer, gate,
//                shared expert, norms, mHC)
//   routed       per block, num_experts_per_tok of its n_routed_experts routed
//                experts (w1, w2, w3 with scales; all experts are one size)
//   head         head.weight (the whole vocabulary is scored every token)
//   lookup rows  one row of embed.weight, and one row of gate.tid2eid on
//                hash-routed blocks: a token reads its own row only
//
// MTP blocks are not counted: plain decoding never runs them. This is the
// lower bound a bandwidth-bound decoder must stream per token; the ratio of
// (bytes/token x tokens/s) to measured bandwidth says how close to that
// roofline the engine runs.
#pragma once

#include <cstdint>

#include "engine/model/config.h"

namespace beluga::bench {

struct WeightTraffic {
  uint64_t non_expert_bytes = 0;
  uint64_t routed_expert_bytes = 0;  // the active experts of every block
  uint64_t head_bytes = 0;
  uint64_t lookup_row_bytes = 0;
  uint64_t per_token_bytes() const { return non_expert_bytes + routed_expert_bytes + head_bytes + lookup_row_bytes; }
};

WeightTraffic weight_bytes_per_decoded_token(const ModelConfig& config);

}  // namespace beluga::bench
