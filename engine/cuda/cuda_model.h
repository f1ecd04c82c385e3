// The CUDA backend: the DeepSeek V4 forward pass on an NVIDIA GPU, with the
// same contract as the CPU Model (engine/runtime/model.h) it is tested
// against. Weights are uploaded once, in their stored formats (FP8 and
// packed FP4 stay packed; dequantised per use); each sequence's state (the
// window KV, compressor and indexer state, compressed entries) lives on the
// GPU and crosses to host memory only for snapshots (download / upload use
// the CPU's StackState layout, so state files are shared by both backends).
//
// This header has no CUDA types: it compiles in every build. Without the
// backend (no nvcc at build time) every entry point returns a clear error.
//
// Thread contract: one call at a time per CudaModel (it owns a stream and
// scratch memory); states belong to the model that made them.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "engine/runtime/model.h"

namespace beluga::cuda {

// Ok when a CUDA device can run the backend; else why not (no backend in
// this build, no driver, no device).
Status device_available();
// "NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)" or the reason there is none.
std::string device_description();

class CudaState;
class CudaModel;

struct CudaChunk {
  CudaState* state = nullptr;
  std::span<const int32_t> tokens;
};

class CudaState {
 public:
  struct Impl;  // defined by the backend (device buffers)
  ~CudaState();
  int64_t position() const;

 private:
  friend class CudaModel;
  explicit CudaState(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class CudaModel {
 public:
  // Uploads every weight of `weights` (which need not outlive the model).
  static Result<std::unique_ptr<CudaModel>> load(const ModelWeights& weights);
  ~CudaModel();

  const ModelConfig& config() const;

  Result<std::unique_ptr<CudaState>> new_state();
  Result<std::unique_ptr<CudaState>> new_mtp_state(int64_t mtp_index = 0);

  // As Model::forward / forward_mtp.
  Result<std::vector<ChunkResult>> forward(std::span<const CudaChunk> chunks, const ForwardOptions& options);
  Result<ChunkResult> forward_mtp(CudaState& state, std::span<const float> hidden,
                                  std::span<const int32_t> next_tokens, const ForwardOptions& options,
                                  int64_t mtp_index = 0);

  // Snapshots through host memory, in the CPU backend's layout.
  Result<StackState> download(const CudaState& state);
  Status upload(const StackState& host, CudaState& state);

  // Bytes of weights on the device.
  int64_t weight_bytes() const;

  // Benchmarks: when on, forward() records a GPU timestamp around each main
  // block, and block_milliseconds() returns the last call's per-block times.
  void set_block_timing(bool on);
  std::vector<float> block_milliseconds() const;

 private:
  struct Impl;
  explicit CudaModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace beluga::cuda
