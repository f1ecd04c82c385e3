// ModelWeights: a loaded DeepSeek V4 checkpoint, tensors bound by role.
//
// Big weights stay where they are: LinearWeight points into the memory map
// in its stored format (BF16, FP8 + block scales, packed FP4 + row scales)
// and is dequantised per use by the kernels. Small per-channel parameters
// (norms, mHC, sinks, APEs, gate biases) are converted to float32 once at
// load, since several are stored BF16 and all are read on every token.
//
// The binding walks the same manifest as `beluga model inspect`, so a
// checkpoint that loads here is one that inspect calls valid.
//
// Thread contract: const after load(); share freely between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "engine/model/checkpoint_files.h"
#include "engine/model/config.h"

namespace beluga {

// A linear layer y = W x with W [out, in] in its stored format.
struct LinearWeight {
  WeightStorage storage = WeightStorage::kBF16;
  DType dtype = DType::BF16;  // BF16 or F32 for kBF16 storage
  int64_t out = 0;
  int64_t in = 0;
  std::span<const uint8_t> weight;
  std::span<const uint8_t> scale;  // empty for BF16
  BlockShape fp8_block{128, 128};
};

struct CompressorWeights {
  int64_t ratio = 0;
  int64_t head_dim = 0;       // per compressed entry
  bool overlap = false;       // ratio 4: entries span two blocks
  std::vector<float> ape;     // [ratio, coff*head_dim]
  LinearWeight wkv, wgate;    // [coff*head_dim, dim]
  std::vector<float> norm;    // [head_dim]
};

struct IndexerWeights {
  LinearWeight wq_b;          // [index_heads*index_head_dim, q_lora]
  LinearWeight weights_proj;  // [index_heads, dim]
  CompressorWeights compressor;
};

struct AttentionWeights {
  std::vector<float> attn_sink;  // [heads]
  LinearWeight wq_a, wq_b, wkv, wo_a, wo_b;
  std::vector<float> q_norm, kv_norm;
  int64_t compress_ratio = 0;
  std::unique_ptr<CompressorWeights> compressor;  // ratio > 0
  std::unique_ptr<IndexerWeights> indexer;        // ratio 4
};

struct ExpertWeights {
  LinearWeight w1, w2, w3;  // gate [inter, dim], down [dim, inter], up [inter, dim]
};

struct MoEWeights {
  LinearWeight gate;             // [experts, dim]
  std::vector<float> gate_bias;  // [experts], score-routed blocks
  std::vector<int32_t> tid2eid;  // [vocab, experts_per_token], hash-routed blocks
  std::vector<ExpertWeights> experts;
  std::vector<ExpertWeights> shared;  // 0 or 1 (n_shared_experts folded into one)
};

struct HyperConnectionWeights {
  std::vector<float> fn;    // [(2+hc)*hc, hc*dim] (or [hc, hc*dim] for a head)
  std::vector<float> base;  // [(2+hc)*hc] (or [hc])
  std::vector<float> scale; // [3] (or [1])
};

struct BlockWeights {
  int64_t index = 0;  // 0..num_hidden_layers-1, then the MTP blocks
  std::vector<float> attn_norm, ffn_norm;
  HyperConnectionWeights hc_attn, hc_ffn;
  AttentionWeights attn;
  MoEWeights ffn;
};

struct MtpWeights {
  BlockWeights block;
  LinearWeight e_proj, h_proj;
  std::vector<float> enorm, hnorm, norm;
  HyperConnectionWeights hc_head;
};

class ModelWeights {
 public:
  // Opens `folder` (config.json + safetensors) and binds every tensor.
  static Result<std::unique_ptr<ModelWeights>> load(const std::string& folder);

  const ModelConfig& config() const { return config_; }
  const std::vector<BlockWeights>& blocks() const { return blocks_; }
  const std::vector<MtpWeights>& mtp() const { return mtp_; }
  const LinearWeight& head() const { return head_; }
  const std::vector<float>& norm() const { return norm_; }
  const HyperConnectionWeights& hc_head() const { return hc_head_; }
  // Row `token` of the embedding, as float.
  void embedding_row(int64_t token, std::span<float> out) const;
  // The whole embedding [vocab, dim], BF16 (or F32 when stored widened).
  const TensorView& embedding() const { return embed_; }

 private:
  friend class WeightBinder;
  ModelConfig config_;
  CheckpointFiles files_;
  TensorView embed_;
  LinearWeight head_;
  std::vector<float> norm_;
  HyperConnectionWeights hc_head_;
  std::vector<BlockWeights> blocks_;
  std::vector<MtpWeights> mtp_;
};

// Converts a BF16/F16/F32 tensor's bytes to float.
std::vector<float> tensor_to_floats(const TensorView& view);

}  // namespace beluga
