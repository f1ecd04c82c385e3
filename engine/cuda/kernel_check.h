// Host-memory entry points to the CUDA kernels, one per kernel, for the
// tests that compare each kernel with its CPU twin
// (tests/engine/cuda/kernels_test.cpp). Each call uploads its inputs, runs
// the kernel, waits and copies the result back; none of this is fast, and
// the forward pass does not use it. No CUDA types: this header compiles in
// every build, and without the backend every call returns an error.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/base/result.h"
#include "engine/model/weights.h"

namespace beluga::cuda::kernel_check {

// y [rows, w.out] = W x; plain skips the FP8 activation quantisation;
// group_out > 0 is the grouped wo_a form (output row o reads group o / group_out).
Result<std::vector<float>> linear(const LinearWeight& w, std::span<const float> x, int64_t rows, bool plain,
                                  int64_t group_out = 0);
// The same rows through the grouped expert kernel: pair p uses expert
// chosen[p] of `experts` and input row p / x_divisor.
Result<std::vector<float>> expert_linear(std::span<const LinearWeight> experts, std::span<const int32_t> chosen,
                                         std::span<const float> x, int64_t x_divisor);

Result<std::vector<float>> quant_dequant(std::span<const float> x, int64_t rows, int64_t cols, int64_t block, bool fp4);
// weight empty: rms_scale.
Result<std::vector<float>> rms_norm(std::span<const float> x, std::span<const float> weight, float eps, int64_t rows);
Result<std::vector<float>> hadamard(std::span<const float> x, int64_t rows);
// x [rows, heads, head_dim]; rotates the last 2*freqs.size() dims of each head.
Result<std::vector<float>> rope(std::span<const float> x, int64_t rows, int64_t heads, std::span<const int64_t> positions,
                                std::span<const float> freqs, bool inverse);

struct HyperPre {
  std::vector<float> x;    // [rows, dim]
  std::vector<float> mix;  // [rows, hc + hc*hc]: post, comb
};
Result<HyperPre> hc_pre(const ModelConfig& c, const HyperConnectionWeights& w, std::span<const float> streams,
                        std::span<const float> norm, int64_t rows);
Result<std::vector<float>> hc_post(const ModelConfig& c, std::span<const float> streams, std::span<const float> y,
                                   std::span<const float> mix, int64_t rows);
Result<std::vector<float>> hc_head(const ModelConfig& c, const HyperConnectionWeights& w, std::span<const float> streams,
                                   std::span<const float> norm, int64_t rows);

struct Routing {
  std::vector<int32_t> chosen;  // [rows, k]
  std::vector<float> weights;   // [rows, k]
};
Result<Routing> route(std::span<const float> logits, int64_t rows, int64_t experts, int k, std::span<const float> bias,
                      std::span<const int32_t> tid2eid, std::span<const int32_t> tokens, float scaling);
Result<std::vector<float>> swiglu(std::span<const float> gate, std::span<const float> up, std::span<const float> weights,
                                  int64_t rows, float limit);
// The indexer's scoring and top-`keep` of `available` entries [available, head_dim].
Result<std::vector<int32_t>> indexer_select(std::span<const float> q, std::span<const float> head_weights, int64_t heads,
                                            std::span<const float> entries, int64_t available, int64_t keep);

}  // namespace beluga::cuda::kernel_check
