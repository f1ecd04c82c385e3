// Uploads a ModelWeights to the GPU once: big weights byte for byte in
// their stored formats, small per-channel parameters as the float32 the
// CPU binding already made of them, RoPE frequencies per block.
#include "engine/cuda/cuda_internal.cuh"
#include "engine/runtime/rope.h"

namespace beluga::cuda {

DeviceLinear upload_linear(const LinearWeight& w, DeviceStore& store) {
  DeviceLinear d;
  d.storage = w.storage == WeightStorage::kFP8   ? kStoreFP8
              : w.storage == WeightStorage::kFP4 ? kStoreFP4
              : w.dtype == DType::F32            ? kStoreF32
                                                 : kStoreBF16;
  d.block_rows = static_cast<int32_t>(w.fp8_block.rows);
  d.block_cols = static_cast<int32_t>(w.fp8_block.cols);
  d.out = w.out;
  d.in = w.in;
  d.weight = store.add(w.weight);
  if (!w.scale.empty()) d.scale = store.add(w.scale);
  return d;
}

namespace {

class Uploader {
 public:
  Uploader(const ModelConfig& c, DeviceStore& store) : c_(c), store_(store) {}

  DeviceLinear linear(const LinearWeight& w) { return upload_linear(w, store_); }

  DeviceFloats floats(const std::vector<float>& host) {
    DeviceFloats d;
    d.buffer = to_device(std::span<const float>(host));
    store_.bytes += static_cast<int64_t>(host.size() * sizeof(float));
    return d;
  }

  DeviceHyper hyper(const HyperConnectionWeights& w) {
    DeviceHyper d;
    d.fn = floats(w.fn);
    d.base = floats(w.base);
    d.scale = floats(w.scale);
    return d;
  }

  DeviceCompressorWeights compressor(const CompressorWeights& w) {
    DeviceCompressorWeights d;
    d.ratio = w.ratio;
    d.head_dim = w.head_dim;
    d.overlap = w.overlap;
    d.ape = floats(w.ape);
    d.norm = floats(w.norm);
    d.wkv = linear(w.wkv);
    d.wgate = linear(w.wgate);
    return d;
  }

  DeviceExpertLinear experts(const std::vector<ExpertWeights>& experts, LinearWeight ExpertWeights::*which) {
    DeviceExpertLinear d;
    std::vector<const uint8_t*> weights, scales;
    for (const ExpertWeights& e : experts) {
      d.shape = linear(e.*which);
      weights.push_back(d.shape.weight);
      scales.push_back(d.shape.scale);
    }
    d.weights = to_device(std::span<const uint8_t* const>(weights));
    d.scales = to_device(std::span<const uint8_t* const>(scales));
    return d;
  }

  DeviceBlockWeights block(const BlockWeights& w) {
    DeviceBlockWeights d;
    d.attn_norm = floats(w.attn_norm);
    d.ffn_norm = floats(w.ffn_norm);
    d.hc_attn = hyper(w.hc_attn);
    d.hc_ffn = hyper(w.hc_ffn);
    const AttentionWeights& a = w.attn;
    d.attn.sink = floats(a.attn_sink);
    d.attn.q_norm = floats(a.q_norm);
    d.attn.kv_norm = floats(a.kv_norm);
    d.attn.wq_a = linear(a.wq_a);
    d.attn.wq_b = linear(a.wq_b);
    d.attn.wkv = linear(a.wkv);
    d.attn.wo_a = linear(a.wo_a);
    d.attn.wo_b = linear(a.wo_b);
    if (a.compressor) d.attn.compressor = std::make_unique<DeviceCompressorWeights>(compressor(*a.compressor));
    if (a.indexer) {
      d.attn.indexer = std::make_unique<DeviceIndexerWeights>();
      d.attn.indexer->wq_b = linear(a.indexer->wq_b);
      d.attn.indexer->weights_proj = linear(a.indexer->weights_proj);
      d.attn.indexer->compressor = compressor(a.indexer->compressor);
    }
    const MoEWeights& m = w.ffn;
    d.ffn.gate = linear(m.gate);
    if (!m.gate_bias.empty()) d.ffn.bias = floats(m.gate_bias);
    if (!m.tid2eid.empty()) d.ffn.tid2eid = to_device(std::span<const int32_t>(m.tid2eid));
    d.ffn.w1 = experts(m.experts, &ExpertWeights::w1);
    d.ffn.w2 = experts(m.experts, &ExpertWeights::w2);
    d.ffn.w3 = experts(m.experts, &ExpertWeights::w3);
    if (!m.shared.empty()) {
      d.ffn.has_shared = true;
      d.ffn.shared_w1 = linear(m.shared[0].w1);
      d.ffn.shared_w2 = linear(m.shared[0].w2);
      d.ffn.shared_w3 = linear(m.shared[0].w3);
    }
    const Rope rope(c_, c_.compress_ratios[static_cast<size_t>(w.index)]);
    d.freqs = floats(rope.frequencies());
    d.rope_pairs = static_cast<int64_t>(rope.frequencies().size());
    return d;
  }

 private:
  const ModelConfig& c_;
  DeviceStore& store_;
};

}  // namespace

std::unique_ptr<DeviceWeights> upload_weights(const ModelWeights& weights) {
  auto d = std::make_unique<DeviceWeights>();
  Uploader up(weights.config(), d->store);
  const TensorView& embedding = weights.embedding();
  d->embedding = d->store.add(embedding.bytes);
  d->embedding_f32 = embedding.entry->dtype == DType::F32;
  d->head = up.linear(weights.head());
  d->norm = up.floats(weights.norm());
  d->hc_head = up.hyper(weights.hc_head());
  for (const BlockWeights& b : weights.blocks()) d->blocks.push_back(up.block(b));
  for (const MtpWeights& m : weights.mtp()) {
    DeviceMtpWeights mtp;
    mtp.block = up.block(m.block);
    mtp.e_proj = up.linear(m.e_proj);
    mtp.h_proj = up.linear(m.h_proj);
    mtp.enorm = up.floats(m.enorm);
    mtp.hnorm = up.floats(m.hnorm);
    mtp.norm = up.floats(m.norm);
    mtp.hc_head = up.hyper(m.hc_head);
    d->mtp.push_back(std::move(mtp));
  }
  check(cudaDeviceSynchronize(), "weight upload");
  return d;
}

}  // namespace beluga::cuda
