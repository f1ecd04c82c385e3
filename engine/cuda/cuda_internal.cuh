// The CUDA backend's device-side data (.cu files only): the weights as
// uploaded, mirroring engine/model/weights.h role for role, and a
// sequence's state, mirroring engine/runtime/state.h.
#pragma once

#include <memory>
#include <vector>

#include "engine/cuda/cuda_model.h"
#include "engine/cuda/device.cuh"
#include "engine/cuda/kernels.cuh"
#include "engine/model/weights.h"

namespace beluga::cuda {

// Owns every uploaded tensor; DeviceLinear views point into it.
struct DeviceStore {
  std::vector<DeviceBuffer<uint8_t>> tensors;
  int64_t bytes = 0;

  const uint8_t* add(std::span<const uint8_t> host) {
    tensors.push_back(to_device(host));
    bytes += static_cast<int64_t>(host.size());
    return tensors.back().data();
  }
};

struct DeviceFloats {
  DeviceBuffer<float> buffer;
  const float* data() const { return buffer.size() ? buffer.data() : nullptr; }
};

// The kernels' view of one mHC parameter set in device memory.
inline HyperWeights hyper_weights(const ModelConfig& c, const float* fn, const float* base, const float* scale) {
  HyperWeights w;
  w.fn = fn;
  w.base = base;
  w.scale = scale;
  w.hc = static_cast<int>(c.hc_mult);
  w.dim = c.hidden_size;
  w.rms_eps = static_cast<float>(c.rms_norm_eps);
  w.hc_eps = static_cast<float>(c.hc_eps);
  w.sinkhorn_iters = static_cast<int>(c.hc_sinkhorn_iters);
  return w;
}

struct DeviceHyper {
  DeviceFloats fn, base, scale;
  HyperWeights view(const ModelConfig& c) const { return hyper_weights(c, fn.data(), base.data(), scale.data()); }
};

struct DeviceCompressorWeights {
  int64_t ratio = 0, head_dim = 0;
  bool overlap = false;
  DeviceFloats ape, norm;
  DeviceLinear wkv, wgate;
};

struct DeviceIndexerWeights {
  DeviceLinear wq_b, weights_proj;
  DeviceCompressorWeights compressor;
};

struct DeviceAttentionWeights {
  DeviceFloats sink, q_norm, kv_norm;
  DeviceLinear wq_a, wq_b, wkv, wo_a, wo_b;
  std::unique_ptr<DeviceCompressorWeights> compressor;
  std::unique_ptr<DeviceIndexerWeights> indexer;
};

// One linear of every routed expert: shapes from `shape`, per-expert
// pointers in device tables (for the grouped expert kernel).
struct DeviceExpertLinear {
  DeviceLinear shape;
  DeviceBuffer<const uint8_t*> weights, scales;
};

struct DeviceMoEWeights {
  DeviceLinear gate;
  DeviceFloats bias;
  DeviceBuffer<int32_t> tid2eid;
  DeviceExpertLinear w1, w2, w3;
  bool has_shared = false;
  DeviceLinear shared_w1, shared_w2, shared_w3;
};

struct DeviceBlockWeights {
  DeviceFloats attn_norm, ffn_norm;
  DeviceHyper hc_attn, hc_ffn;
  DeviceAttentionWeights attn;
  DeviceMoEWeights ffn;
  DeviceFloats freqs;  // RoPE frequencies of this block
  int64_t rope_pairs = 0;
};

struct DeviceMtpWeights {
  DeviceBlockWeights block;
  DeviceLinear e_proj, h_proj;
  DeviceFloats enorm, hnorm, norm;
  DeviceHyper hc_head;
};

struct DeviceWeights {
  DeviceStore store;
  const uint8_t* embedding = nullptr;
  bool embedding_f32 = false;
  DeviceLinear head;
  DeviceFloats norm;
  DeviceHyper hc_head;
  std::vector<DeviceBlockWeights> blocks;
  std::vector<DeviceMtpWeights> mtp;
};

// Uploads one weight matrix into `store`.
DeviceLinear upload_linear(const LinearWeight& w, DeviceStore& store);
// Uploads every tensor of `weights` (throws CudaError on failure).
std::unique_ptr<DeviceWeights> upload_weights(const ModelWeights& weights);

struct DeviceCompressorState {
  int64_t ratio = 0, head_dim = 0;
  bool overlap = false;
  DeviceBuffer<float> kv, score;  // [coff*ratio, coff*head_dim]
  DeviceBuffer<float> entries;    // capacity for at least position/ratio entries
};

struct DeviceBlockState {
  DeviceBuffer<float> window;  // [sliding_window, head_dim]
  DeviceCompressorState compressor, indexer;
};

struct CudaState::Impl {
  const void* owner = nullptr;  // the CudaModel::Impl that made it
  int64_t first_block = 0;
  int64_t position = 0;
  std::vector<DeviceBlockState> blocks;
};

// A fresh state for blocks [first, first + count): zeros, -inf scores.
std::unique_ptr<CudaState::Impl> make_device_state(const ModelConfig& config, int64_t first, int64_t count,
                                                   const void* owner, cudaStream_t stream);
// Grows each compressor's entry buffer to hold the entries of `positions` tokens.
void reserve_entries(CudaState::Impl& state, int64_t positions, cudaStream_t stream);
StackState download_state(const CudaState::Impl& state, cudaStream_t stream);
// Fails (without touching `state`) when `host` has another shape.
Status upload_state(const StackState& host, CudaState::Impl& state, cudaStream_t stream);

}  // namespace beluga::cuda
