// The tensor manifest: every tensor a released DeepSeek V4 checkpoint holds,
// derived from its config alone — name, dtype and shape, exactly as released.
//
// One function, for_each_tensor(), names every tensor once; checking a
// checkpoint (inspect), writing one (synth) and counting one (manifest) all
// walk that list, so they cannot disagree. Naming follows the official
// inference code's module names (no "model." prefix):
//
//   embed.weight, head.weight, norm.weight, hc_head_{fn,base,scale}
//   layers.N.{attn_norm,ffn_norm}.weight, layers.N.hc_{attn,ffn}_{fn,base,scale}
//   layers.N.attn.{attn_sink, wq_a, q_norm, wq_b, wkv, kv_norm, wo_a, wo_b}
//   layers.N.attn.compressor.{ape, wkv, wgate, norm}            (ratio > 0)
//   layers.N.attn.indexer.{wq_b, weights_proj}                  (ratio 4)
//   layers.N.attn.indexer.compressor.{ape, wkv, wgate, norm}    (ratio 4)
//   layers.N.ffn.gate.{weight, bias | tid2eid}                  (tid2eid on hash layers)
//   layers.N.ffn.experts.E.{w1,w2,w3}, layers.N.ffn.shared_experts.{w1,w2,w3}
//   mtp.M.* : a block as above plus e_proj, h_proj, enorm, hnorm, norm, hc_head_*
//
// Linear weights are "<prefix>.weight"; quantised ones carry "<prefix>.scale"
// (F8_E8M0): [ceil(out/128), ceil(in/128)] for FP8, [out, ceil(in/32)] for FP4
// (stored I8 [out, in/2]). Norms are BF16 in the release; F32 storage of a
// BF16 tensor is accepted by the checker (lossless widening, as in the tiny
// golden BF16 checkpoint).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/model/config.h"
#include "engine/model/dtype.h"

namespace beluga {

// What a tensor is for; synth picks initial values by kind.
enum class TensorKind {
  kEmbedding,     // embed.weight [vocab, dim]
  kHead,          // head.weight [vocab, dim]
  kNorm,          // RMSNorm weight
  kLinear,        // a linear weight [out, in] (any storage)
  kWeightScale,   // the ue8m0 scale of the preceding quantised linear
  kHcFn,          // mHC mixing projection
  kHcBase,        // mHC bias
  kHcScale,       // mHC per-part scales
  kAttnSink,      // per-head attention sink logit
  kCompressorApe, // compressor absolute position embedding [ratio, coff*head]
  kGateBias,      // routing bias (selection only)
  kTid2Eid,       // hash routing table [vocab, experts_per_token]
};

struct TensorSpec {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  TensorKind kind = TensorKind::kLinear;
  WeightStorage storage = WeightStorage::kBF16;  // for kLinear and kWeightScale
  // For a kLinear: its logical [out, in] (for FP4 the stored shape is [out, in/2]).
  int64_t out_features = 0;
  int64_t in_features = 0;
  int64_t block = -1;   // layer (or num_hidden_layers + m for mtp.m); -1 = global
  int64_t expert = -1;  // routed expert index, -1 otherwise

  int64_t element_count() const;
  uint64_t byte_count() const { return static_cast<uint64_t>(element_count()) * dtype_size_bytes(dtype); }
};

// Calls `visit` for every tensor of the checkpoint `config` describes, in a
// stable order (globals, then blocks in order). A quantised linear's scale
// immediately follows its weight.
void for_each_tensor(const ModelConfig& config, const std::function<void(const TensorSpec&)>& visit);

std::vector<TensorSpec> tensor_manifest(const ModelConfig& config);

struct ManifestTotals {
  uint64_t tensors = 0;
  uint64_t bytes = 0;
  std::map<DType, uint64_t> tensors_by_dtype;
  std::map<DType, uint64_t> bytes_by_dtype;
};
ManifestTotals manifest_totals(const ModelConfig& config);

// Parameter counts: logical weights (an FP4 byte holds two), not scales.
// "active" counts the experts_per_token routed experts of each block, the
// way model cards count active parameters.
struct ParameterCounts {
  uint64_t total = 0;
  uint64_t active = 0;
  uint64_t mtp_total = 0;   // of the MTP blocks (included in neither above)
  uint64_t mtp_active = 0;
};
ParameterCounts count_parameters(const ModelConfig& config);

}  // namespace beluga
