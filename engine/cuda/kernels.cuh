// The CUDA kernels of the V4 forward pass, as host launchers over device
// pointers (.cu files only). Each one has a CPU twin it is tested against
// (tests/engine/cuda/kernels_test.cpp through kernel_check.h):
//
//   launch_linear            cpu::linear / dequantize_rows   (engine/cpu/linear.h)
//   launch_quant_dequant     cpu::fp8_/fp4_quant_dequant     (engine/cpu/quant_sim.h)
//   launch_rms_norm          cpu::rms_norm / rms_scale       (engine/cpu/ops.h)
//   launch_hadamard          cpu::hadamard
//   launch_rope              Rope::apply                     (engine/runtime/rope.h)
//   launch_hc_pre/_post/_head hyper_mix / hyper_head + the mixes in block_forward
//   launch_route, launch_swiglu, launch_moe_combine   moe_forward (engine/runtime/moe.cpp)
//   launch_compressor_step, launch_indexer_select, launch_attention_row
//                                                    attention_forward (attention.cpp)
//
// All launches are asynchronous on `stream`; shapes are the caller's to check.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace beluga::cuda {

enum StorageCode : int32_t { kStoreBF16 = 0, kStoreFP8 = 1, kStoreFP4 = 2, kStoreF32 = 3 };

// A weight matrix W [out, in] in device memory, in its stored format.
struct DeviceLinear {
  int32_t storage = kStoreBF16;
  int32_t block_rows = 128, block_cols = 128;  // FP8 scale blocks
  int64_t out = 0, in = 0;
  const uint8_t* weight = nullptr;
  const uint8_t* scale = nullptr;  // ue8m0; FP8: [ceil(out/br), ceil(in/bc)], FP4: [out, in/32]
};

// y[r, o] = sum_c W[o, c] x[r, c] in float32, W dequantised on the fly.
//   dense:   rows input rows, weights read once per group of 8 rows
//   grouped: group_out > 0 makes output row o read x + (o / group_out) * in
//            (the grouped wo_a projection)
//   experts: weight_table/scale_table/chosen set: output row-set p uses
//            expert chosen[p]'s weights and input row p / x_divisor
struct LinearLaunch {
  DeviceLinear w;
  const float* x = nullptr;
  int64_t x_stride = 0;
  float* y = nullptr;
  int64_t y_stride = 0;
  int64_t rows = 0;
  int64_t group_out = 0;
  const uint8_t* const* weight_table = nullptr;
  const uint8_t* const* scale_table = nullptr;
  const int32_t* chosen = nullptr;
  int64_t x_divisor = 1;
};
void launch_linear(const LinearLaunch& launch, cudaStream_t stream);

// Quantise-dequantise the first `cols` values of each row in blocks of
// `block` (FP8 e4m3 or FP4 e2m1 with power-of-two scales), in place.
void launch_quant_dequant(float* x, int64_t rows, int64_t cols, int64_t stride, int64_t block, bool fp4,
                          cudaStream_t stream);
// The same out of place: out = quant-dequant(in) (the other columns untouched).
void launch_quant_dequant_into(const float* in, int64_t in_stride, float* out, int64_t out_stride, int64_t rows,
                               int64_t cols, int64_t block, bool fp4, cudaStream_t stream);

// out = weight * x / rms(x) per row of `cols`; weight may be null (scale only).
void launch_rms_norm(const float* x, int64_t x_stride, const float* weight, float eps, int64_t rows, int64_t cols,
                     float* out, int64_t out_stride, cudaStream_t stream);

// In-place Walsh-Hadamard transform of `n` values (a power of two) per row.
void launch_hadamard(float* x, int64_t rows, int64_t n, int64_t stride, cudaStream_t stream);

// Rotates `pairs` complex pairs starting at `offset` in each head of each
// row: row r, head h at x + r*row_stride + h*head_stride + offset, by
// angle positions[r] * freqs[i] (negated when inverse).
void launch_rope(float* x, int64_t rows, int64_t heads, int64_t row_stride, int64_t head_stride, int64_t offset,
                 const int64_t* positions, const float* freqs, int64_t pairs, bool inverse, cudaStream_t stream);

// mHC parameters of one sub-layer (or the head).
struct HyperWeights {
  const float* fn = nullptr;     // [mixes, hc*dim]
  const float* base = nullptr;   // [mixes]
  const float* scale = nullptr;  // [3] (or [1] for the head)
  int hc = 0;
  int64_t dim = 0;
  float rms_eps = 0, hc_eps = 0;
  int sinkhorn_iters = 0;
};
// Per row: the mixes (into raw_mix [rows, (2+hc)*hc]), the sub-layer input
// x = rms_norm(sum_j pre_j h_j) and mix_out [rows, hc + hc*hc] = (post, comb)
// for launch_hc_post.
void launch_hc_pre(const HyperWeights& w, const float* streams, int64_t rows, const float* norm, float* x,
                   float* mix_out, float* raw_mix, cudaStream_t stream);
// streams[k] = post[k] * y + sum_j comb[j][k] streams[j], in place.
void launch_hc_post(const HyperWeights& w, float* streams, const float* y, const float* mix, int64_t rows,
                    cudaStream_t stream);
// The head's reduction then rms_norm(., norm): out [rows, dim]; raw_mix [rows, hc].
void launch_hc_head(const HyperWeights& w, const float* streams, int64_t rows, const float* norm, float* out,
                    float* raw_mix, cudaStream_t stream);

// streams[r, j] = embedding row tokens[r] for each of the hc streams.
void launch_embed(const uint8_t* table, bool f32, const int32_t* tokens, int64_t rows, int64_t dim, int hc,
                  float* streams, cudaStream_t stream);
// y[r, j*dim + i] += add[r, i]   (the MTP block's input streams)
void launch_add_to_streams(float* streams, const float* add, int64_t rows, int hc, int64_t dim, cudaStream_t stream);
void launch_scale(float* x, int64_t count, float factor, cudaStream_t stream);

// MoE routing per row: chosen [rows, k] and weights [rows, k].
struct RouteLaunch {
  const float* logits = nullptr;  // [rows, experts]
  int64_t rows = 0, experts = 0;
  int k = 0;
  const float* bias = nullptr;       // [experts] or null
  const int32_t* tid2eid = nullptr;  // [vocab, k] or null (score routing)
  const int32_t* tokens = nullptr;   // [rows]
  float scaling = 1;
  int32_t* chosen = nullptr;
  float* weights = nullptr;
};
void launch_route(const RouteLaunch& launch, cudaStream_t stream);
// out[r, i] = weight[r] * silu(min(gate, L)) * clamp(up, -L, L) (no clamp when L <= 0).
void launch_swiglu(const float* gate, const float* up, const float* weights, int64_t rows, int64_t inter, float limit,
                   float* out, cudaStream_t stream);
// out[r] = sum of down[r*k + s] over the row's k slots in expert-id order, plus shared[r].
void launch_moe_combine(const float* down, const int32_t* chosen, const float* shared, int64_t rows, int k,
                        int64_t dim, float* out, cudaStream_t stream);

// One compressor (main or indexer) of one sequence, stepped by one token.
struct CompressorLaunch {
  float* kv = nullptr;     // state [coff*ratio, coff*d]
  float* score = nullptr;  // same shape
  float* entries = nullptr;  // [capacity, d]; entry position/ratio written when a block completes
  const float* token_kv = nullptr;     // [coff*d]
  const float* token_score = nullptr;  // [coff*d]
  const float* ape = nullptr;          // [ratio, coff*d]
  const float* norm = nullptr;         // [d]
  const float* freqs = nullptr;        // [rope_pairs]
  int64_t ratio = 0, d = 0, rope_pairs = 0;
  bool overlap = false;
  bool indexer = false;  // entries get Hadamard + FP4 (else FP8 on the non-RoPE dims in blocks of 64)
  int64_t position = 0;
  float eps = 0;
};
void launch_compressor_step(const CompressorLaunch& launch, cudaStream_t stream);

// The lightning indexer of one row: scores every entry
// (sum_h relu(q_h . k_j) * w_h) into `scores`, then writes the `keep`
// best entry ids to `chosen`, best first, ties to the lower id.
void launch_indexer_select(const float* q, const float* head_weights, int64_t heads, int64_t head_dim,
                           const float* entries, int64_t available, int64_t keep, float* scores, int32_t* chosen,
                           cudaStream_t stream);

// Attention of one query row over its window and compressed entries.
struct AttentionLaunch {
  const float* q = nullptr;  // [heads, d]
  float* out = nullptr;      // [heads, d]
  const float* window = nullptr;  // [window_size, d], slot = position mod window_size
  int64_t window_size = 0, window_first = 0, window_count = 0;  // positions first .. first+count-1
  const float* entries = nullptr;  // [*, d]
  const int32_t* chosen = nullptr; // entry ids, or null for entries 0..entry_count-1
  int64_t entry_count = 0;
  const float* sink = nullptr;     // [heads]
  const float* freqs = nullptr;    // de-rotation of the output's rope dims
  int64_t heads = 0, d = 0, rope_pairs = 0;
  int64_t position = 0;
  float softmax_scale = 0;
};
void launch_attention_row(const AttentionLaunch& launch, cudaStream_t stream);

}  // namespace beluga::cuda
