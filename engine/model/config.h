// ModelConfig: a DeepSeek V4 config.json (Hugging Face keys, model_type
// "deepseek_v4") parsed into typed fields and checked for consistency.
//
// Every key the released Flash and Pro configs use is read here. Keys that
// shape tensors or the math are required; a missing or ill-typed key, or one
// inconsistent with another (compress_ratios length vs layers + MTP layers,
// heads not divisible into o_groups, ...), is an error naming the key and the
// reason. Keys we do not know are kept as warnings, with a "did you mean" when
// one looks like a typo of a missing key.
//
// Thread contract: plain value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/result.h"
#include "engine/model/quant_blocks.h"

namespace beluga {

// How a linear layer's weight is stored in the checkpoint.
enum class WeightStorage {
  kBF16,  // BF16, plain matmul
  kFP8,   // F8_E4M3 with a ue8m0 scale per weight block (default 128x128)
  kFP4,   // I8 holding packed FP4 e2m1, ue8m0 scale per 32 inputs of a row
};
std::string_view weight_storage_name(WeightStorage s);

// Attention of one block, from its compress_ratios entry.
enum class AttentionKind {
  kSlidingWindow,  // ratio 0: the last sliding_window positions only
  kCSA,            // ratio 4: window + overlapping compressed KV picked by the lightning indexer
  kHCA,            // other ratios: window + every visible (non-overlapping) compressed entry
};
std::string_view attention_kind_name(AttentionKind k);

struct YarnScaling {
  double factor = 1.0;
  int64_t original_max_position_embeddings = 0;
  double beta_fast = 32.0;
  double beta_slow = 1.0;
};

struct ModelConfig {
  // Vocabulary and embedding.
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  std::optional<int64_t> bos_token_id;
  std::optional<int64_t> eos_token_id;
  bool tie_word_embeddings = false;

  // Blocks: num_hidden_layers main blocks, then num_nextn_predict_layers MTP
  // blocks. compress_ratios has one entry per block, MTP blocks last.
  int64_t num_hidden_layers = 0;
  int64_t num_nextn_predict_layers = 0;
  std::vector<int64_t> compress_ratios;

  // Attention.
  int64_t num_attention_heads = 0;
  int64_t head_dim = 0;            // of the one shared KV head and of each query head
  int64_t qk_rope_head_dim = 0;    // RoPE on the last qk_rope_head_dim dims
  int64_t q_lora_rank = 0;
  int64_t o_groups = 0;
  int64_t o_lora_rank = 0;
  int64_t sliding_window = 0;
  int64_t max_position_embeddings = 0;
  double rope_theta = 0.0;             // window-only blocks
  double compress_rope_theta = 0.0;    // compressed blocks (with YaRN)
  std::optional<YarnScaling> yarn;     // rope_scaling of type "yarn"

  // Lightning indexer (blocks with ratio 4).
  int64_t index_n_heads = 0;
  int64_t index_head_dim = 0;
  int64_t index_topk = 0;

  // Mixture of experts.
  int64_t n_routed_experts = 0;
  int64_t n_shared_experts = 0;
  int64_t num_experts_per_tok = 0;
  int64_t moe_intermediate_size = 0;
  int64_t num_hash_layers = 0;  // the first num_hash_layers blocks route by tid2eid
  double routed_scaling_factor = 1.0;
  double swiglu_limit = 0.0;
  std::string scoring_func;  // "sqrtsoftplus"
  bool norm_topk_prob = true;

  // Manifold-constrained hyper-connections (mHC).
  int64_t hc_mult = 0;
  int64_t hc_sinkhorn_iters = 0;
  double hc_eps = 0.0;
  double rms_norm_eps = 0.0;

  // Storage. `quantized` follows quantization_config (FP8 e4m3, ue8m0
  // scales); expert storage follows expert_dtype, defaulting to the rest.
  bool quantized = false;
  BlockShape fp8_weight_block{128, 128};
  WeightStorage linear_storage = WeightStorage::kBF16;
  WeightStorage expert_storage = WeightStorage::kBF16;

  // Keys present in the file that beluga does not know (possible typos).
  std::vector<std::string> warnings;

  // --- derived ---
  int64_t num_blocks() const { return num_hidden_layers + num_nextn_predict_layers; }
  AttentionKind attention_kind(int64_t block) const;
  bool is_hash_layer(int64_t block) const { return block < num_hash_layers; }
};

// Parses config.json text. `label` names the file in messages.
Result<ModelConfig> parse_model_config(std::string_view json_text, std::string_view label);

// Reads and parses a config.json file (at most 16 MiB).
Result<ModelConfig> load_model_config(const std::string& path);

}  // namespace beluga
