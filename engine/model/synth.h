// Synthetic checkpoints: a complete DeepSeek V4 checkpoint in the released
// format (config.json, safetensors shards, index when sharded) with seeded,
// well-conditioned random weights, for tests, benchmarks and demos.
//
// Values are drawn per tensor from a generator seeded by (seed, tensor name),
// so a tensor's bytes do not depend on the shard count or the order of
// writing. Scales are chosen so activations stay O(1) through the network:
// linears ~ U with std 1/sqrt(in), norms near 1, embeddings std 1. FP8
// storage quantises each linear with ue8m0 128x128 block scales; routed
// experts become packed FP4 with one ue8m0 scale per 32 inputs — the
// released recipe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "engine/base/result.h"
#include "engine/model/config.h"

namespace beluga {

enum class SynthStorage {
  kAsConfig,  // whatever config.json says (quantization_config / expert_dtype)
  kBF16,      // every linear BF16 (quantization keys removed from config.json)
  kFP8,       // FP8 linears + FP4 routed experts, as released
};

struct SynthOptions {
  uint64_t seed = 0;
  SynthStorage storage = SynthStorage::kAsConfig;
  int shards = 1;
  // Called after each tensor is written: (tensors done, tensors in all).
  std::function<void(uint64_t, uint64_t)> progress;
};

struct SynthResult {
  std::string out_dir;
  ModelConfig config;
  uint64_t tensors = 0;
  uint64_t bytes = 0;
  int shards = 0;
};

// Writes the checkpoint described by `config_json` into `out_dir` (created
// if needed). Files of an earlier checkpoint there (model.safetensors,
// its index and model-*-of-*.safetensors shards) are replaced.
Result<SynthResult> synthesize_checkpoint(std::string_view config_json, std::string_view config_label,
                                          const SynthOptions& options, const std::string& out_dir);

}  // namespace beluga
