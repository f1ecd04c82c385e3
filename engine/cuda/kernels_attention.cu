// Attention-side kernels, one query row at a time (as the CPU twin in
// engine/runtime/attention.cpp): the compressors' step, the lightning
// indexer's scoring and top-k, and attention over window + entries with
// the sink.
#include "engine/cuda/device.cuh"
#include "engine/cuda/device_math.cuh"
#include "engine/cuda/kernels.cuh"

namespace beluga::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kSelectThreads = 1024;
constexpr int64_t kMaxKeep = 4096;

// Writes the token into its slot; when it completes a block of `ratio`
// tokens, softmax-pools every channel into the next entry, then norm, RoPE
// and the format simulation (see compressor_step in attention.cpp).
__global__ void compressor_step_kernel(CompressorLaunch a) {
  extern __shared__ float entry[];  // [d]
  __shared__ float scratch[32];
  const int64_t m = a.ratio, d = a.d, coff = a.overlap ? 2 : 1, width = coff * d;
  const int64_t slot = (a.overlap ? m : 0) + a.position % m;
  for (int64_t i = threadIdx.x; i < width; i += blockDim.x) {
    a.kv[slot * width + i] = a.token_kv[i];
    a.score[slot * width + i] = a.token_score[i] + a.ape[(a.position % m) * width + i];
  }
  if ((a.position + 1) % m != 0) return;  // uniform across the block
  __syncthreads();
  const int64_t rows = coff * m;
  for (int64_t ch = threadIdx.x; ch < d; ch += blockDim.x) {
    float peak = -INFINITY;
    for (int64_t r = 0; r < rows; ++r) peak = fmaxf(peak, a.score[r * width + (a.overlap && r >= m ? d : 0) + ch]);
    float total = 0.0f, pooled = 0.0f;
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t at = r * width + (a.overlap && r >= m ? d : 0) + ch;
      const float e = expf(a.score[at] - peak);
      total += e;
      pooled += e * a.kv[at];
    }
    entry[ch] = pooled / total;
  }
  __syncthreads();
  if (a.overlap)  // this block becomes the previous one
    for (int64_t i = threadIdx.x; i < m * width; i += blockDim.x) {
      a.kv[i] = a.kv[m * width + i];
      a.score[i] = a.score[m * width + i];
    }
  float squares = 0.0f;
  for (int64_t i = threadIdx.x; i < d; i += blockDim.x) squares += entry[i] * entry[i];
  const float inverse = 1.0f / sqrtf(block_sum(squares, scratch) / static_cast<float>(d) + a.eps);
  for (int64_t i = threadIdx.x; i < d; i += blockDim.x) entry[i] = a.norm[i] * (entry[i] * inverse);
  __syncthreads();
  rotate_pairs(entry + d - 2 * a.rope_pairs, a.rope_pairs, a.freqs, a.position + 1 - m, false, threadIdx.x, blockDim.x);
  __syncthreads();
  if (a.indexer) {
    block_hadamard(entry, d);
    block_quant_dequant(entry, d, 32, true);
  } else {
    block_quant_dequant(entry, d - 2 * a.rope_pairs, 64, false);
  }
  __syncthreads();
  float* out = a.entries + ((a.position + 1) / m - 1) * d;
  for (int64_t i = threadIdx.x; i < d; i += blockDim.x) out[i] = entry[i];
}

// One warp per entry: sum over heads of relu(q_h . k_j) * w_h.
__global__ void indexer_score_kernel(const float* q, const float* head_weights, int64_t heads, int64_t head_dim,
                                     const float* entries, int64_t available, float* scores) {
  const int lane = threadIdx.x % 32;
  const int64_t j = static_cast<int64_t>(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
  if (j >= available) return;
  const float* k = entries + j * head_dim;
  float total = 0.0f;
  for (int64_t h = 0; h < heads; ++h) {
    float dot = 0.0f;
    for (int64_t i = lane; i < head_dim; i += 32) dot += q[h * head_dim + i] * k[i];
    dot = warp_sum(dot);
    // Rounded as the CPU twin rounds (no fused multiply-add): equal scores
    // must stay equal for the top-k's tie order to match.
    total = __fadd_rn(total, __fmul_rn(fmaxf(dot, 0.0f), head_weights[h]));
  }
  if (lane == 0) scores[j] = total;
}

// Orders (score desc, id asc) as one unsigned comparison: larger is better.
__device__ __forceinline__ uint64_t select_key(float score, int64_t j) {
  uint32_t u = __float_as_uint(score == 0.0f ? 0.0f : score);
  u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
  return (static_cast<uint64_t>(u) << 32) | static_cast<uint32_t>(~static_cast<uint32_t>(j));
}

// One block: an 8-bit radix select finds the keep-th largest key, the keys
// at or above it are gathered and bitonic-sorted, best first.
__global__ void top_k_kernel(const float* scores, int64_t available, int64_t keep, int32_t* chosen) {
  __shared__ unsigned histogram[256];
  __shared__ uint64_t prefix, mask;
  __shared__ int64_t remaining;
  __shared__ unsigned count;
  extern __shared__ uint64_t selected[];  // [padded]
  if (threadIdx.x == 0) prefix = 0, mask = 0, remaining = keep, count = 0;
  for (int shift = 56; shift >= 0; shift -= 8) {
    for (int b = threadIdx.x; b < 256; b += blockDim.x) histogram[b] = 0;
    __syncthreads();
    for (int64_t j = threadIdx.x; j < available; j += blockDim.x) {
      const uint64_t key = select_key(scores[j], j);
      if ((key & mask) == prefix) atomicAdd(&histogram[(key >> shift) & 0xFF], 1u);
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      int64_t above = 0;
      int b = 255;
      for (; b > 0; --b) {
        if (above + histogram[b] >= remaining) break;
        above += histogram[b];
      }
      remaining -= above;
      prefix |= static_cast<uint64_t>(b) << shift;
      mask |= uint64_t{0xFF} << shift;
    }
    __syncthreads();
  }
  const uint64_t threshold = prefix;
  int64_t padded = 1;
  while (padded < keep) padded *= 2;
  for (int64_t i = threadIdx.x; i < padded; i += blockDim.x) selected[i] = 0;
  __syncthreads();
  for (int64_t j = threadIdx.x; j < available; j += blockDim.x) {
    const uint64_t key = select_key(scores[j], j);
    if (key >= threshold) selected[atomicAdd(&count, 1u)] = key;
  }
  __syncthreads();
  for (int64_t size = 2; size <= padded; size *= 2)
    for (int64_t stride = size / 2; stride > 0; stride /= 2) {
      for (int64_t i = threadIdx.x; i < padded; i += blockDim.x) {
        const int64_t partner = i ^ stride;
        if (partner > i) {
          const bool descending = (i & size) == 0;
          const uint64_t a = selected[i], b = selected[partner];
          if (descending ? a < b : a > b) selected[i] = b, selected[partner] = a;
        }
      }
      __syncthreads();
    }
  for (int64_t i = threadIdx.x; i < keep; i += blockDim.x)
    chosen[i] = static_cast<int32_t>(~static_cast<uint32_t>(selected[i] & 0xFFFFFFFFu));
}

__device__ __forceinline__ const float* key_row(const AttentionLaunch& a, int64_t k) {
  if (k < a.window_count) return a.window + ((a.window_first + k) % a.window_size) * a.d;
  const int64_t e = k - a.window_count;
  return a.entries + (a.chosen ? a.chosen[e] : e) * a.d;
}

// One block per head. Key addresses are resolved once into shared memory,
// so the weighted sum's loads do not wait on index lookups.
__global__ void attention_row_kernel(AttentionLaunch a) {
  extern __shared__ float shared[];  // q[d], o[d], weights[keys], then key pointers[keys]
  __shared__ float scratch[32];
  const int64_t h = blockIdx.x, d = a.d, keys = a.window_count + a.entry_count;
  float* q = shared;
  float* o = shared + d;
  float* scores = shared + 2 * d;
  const float** rows = reinterpret_cast<const float**>(shared + ((2 * d + keys + 1) / 2) * 2);
  for (int64_t i = threadIdx.x; i < d; i += blockDim.x) q[i] = a.q[h * d + i];
  for (int64_t k = threadIdx.x; k < keys; k += blockDim.x) rows[k] = key_row(a, k);
  __syncthreads();
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  for (int64_t k = warp; k < keys; k += warps) {
    const float* key = rows[k];
    float dot = 0.0f;
    for (int64_t i = lane; i < d; i += 32) dot += q[i] * key[i];
    dot = warp_sum(dot);
    if (lane == 0) scores[k] = dot * a.softmax_scale;
  }
  __syncthreads();
  float peak = a.sink[h];
  for (int64_t k = threadIdx.x; k < keys; k += blockDim.x) peak = fmaxf(peak, scores[k]);
  peak = block_max(peak, scratch);
  float part = 0.0f;
  for (int64_t k = threadIdx.x; k < keys; k += blockDim.x) part += scores[k] = expf(scores[k] - peak);
  const float total = expf(a.sink[h] - peak) + block_sum(part, scratch);
  for (int64_t k = threadIdx.x; k < keys; k += blockDim.x) scores[k] = scores[k] / total;
  __syncthreads();
  for (int64_t i = threadIdx.x; i < d; i += blockDim.x) {
    float v = 0.0f;
#pragma unroll 8
    for (int64_t k = 0; k < keys; ++k) v += scores[k] * rows[k][i];
    o[i] = v;
  }
  __syncthreads();
  rotate_pairs(o + d - 2 * a.rope_pairs, a.rope_pairs, a.freqs, a.position, true, threadIdx.x, blockDim.x);
  __syncthreads();
  for (int64_t i = threadIdx.x; i < d; i += blockDim.x) a.out[h * d + i] = o[i];
}

// Dynamic shared memory above the 48 KiB default needs an opt-in per kernel.
template <typename Kernel>
void allow_shared(Kernel kernel, size_t bytes) {
  if (bytes > 48 * 1024)
    check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)),
          "shared memory opt-in");
}

}  // namespace

void launch_compressor_step(const CompressorLaunch& a, cudaStream_t stream) {
  compressor_step_kernel<<<1, kThreads, static_cast<size_t>(a.d) * sizeof(float), stream>>>(a);
  check_launch("compressor_step");
}

void launch_indexer_select(const float* q, const float* head_weights, int64_t heads, int64_t head_dim,
                           const float* entries, int64_t available, int64_t keep, float* scores, int32_t* chosen,
                           cudaStream_t stream) {
  if (available == 0 || keep == 0) return;
  if (keep > kMaxKeep) throw CudaError("CUDA backend: index_topk above 4096 is not supported");
  const int warps = kThreads / 32;
  indexer_score_kernel<<<static_cast<unsigned>((available + warps - 1) / warps), kThreads, 0, stream>>>(
      q, head_weights, heads, head_dim, entries, available, scores);
  check_launch("indexer_score");
  int64_t padded = 1;
  while (padded < keep) padded *= 2;
  top_k_kernel<<<1, kSelectThreads, static_cast<size_t>(padded) * sizeof(uint64_t), stream>>>(scores, available, keep,
                                                                                              chosen);
  check_launch("top_k");
}

void launch_attention_row(const AttentionLaunch& a, cudaStream_t stream) {
  const int64_t keys = a.window_count + a.entry_count;
  const size_t bytes = static_cast<size_t>((2 * a.d + keys + 1) / 2 * 2) * sizeof(float) + static_cast<size_t>(keys) * sizeof(float*);
  allow_shared(attention_row_kernel, bytes);
  attention_row_kernel<<<static_cast<unsigned>(a.heads), kThreads, bytes, stream>>>(a);
  check_launch("attention_row");
}

}  // namespace beluga::cuda
