// The small kernels of the forward pass: quantisation simulation, norms,
// Hadamard, RoPE, mHC, embedding and the MoE routing and combination. Each
// mirrors its CPU twin's arithmetic (see kernels.cuh); only the order of
// float sums differs where a reduction is split across threads.
#include "engine/cuda/device.cuh"
#include "engine/cuda/device_math.cuh"
#include "engine/cuda/kernels.cuh"

namespace beluga::cuda {
namespace {

constexpr int kThreads = 256;
// Row kernels over a whole hidden vector (4096+ values) use a full block,
// so each thread's loop of dependent loads stays a few iterations long.
constexpr int kWideThreads = 1024;
constexpr int kMaxHc = 8;       // streams per row (V4 uses 4)
constexpr int kMaxTopK = 16;    // experts per token (V4 uses 6)

unsigned blocks_for(int64_t count, int threads = kThreads) {
  return static_cast<unsigned>((count + threads - 1) / threads);
}

// One warp per quantisation block; blockIdx.x is the row.
__global__ void quant_dequant_kernel(const float* in, float* out, int64_t cols, int64_t in_stride, int64_t out_stride,
                                     int64_t block, bool fp4) {
  const int lane = threadIdx.x % 32;
  const int64_t b0 = (static_cast<int64_t>(blockIdx.y) * (blockDim.x / 32) + threadIdx.x / 32) * block;
  if (b0 >= cols) return;
  const int64_t b1 = b0 + block < cols ? b0 + block : cols;
  const float* x = in + static_cast<int64_t>(blockIdx.x) * in_stride;
  float* y = out + static_cast<int64_t>(blockIdx.x) * out_stride;
  float amax = 0.0f;
  for (int64_t i = b0 + lane; i < b1; i += 32) amax = fmaxf(amax, fabsf(x[i]));
  amax = warp_max(amax);
  const float scale = fp4 ? e8m0_to_float(ue8m0_ceil_pow2(fmaxf(amax, 6.0f * 0x1p-126f) * (1.0f / 6.0f)))
                          : e8m0_to_float(ue8m0_ceil_pow2(fmaxf(amax, 1e-4f) * (1.0f / 448.0f)));
  for (int64_t i = b0 + lane; i < b1; i += 32) y[i] = (fp4 ? fp4_round_trip(x[i] / scale) : fp8_round_trip(x[i] / scale)) * scale;
}

__global__ void rms_norm_kernel(const float* x, int64_t x_stride, const float* weight, float eps, int64_t cols,
                                float* out, int64_t out_stride) {
  __shared__ float scratch[32];
  const float* row = x + static_cast<int64_t>(blockIdx.x) * x_stride;
  float* dst = out + static_cast<int64_t>(blockIdx.x) * out_stride;
  float squares = 0.0f;
  for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) squares += row[i] * row[i];
  const float inverse = 1.0f / sqrtf(block_sum(squares, scratch) / static_cast<float>(cols) + eps);
  for (int64_t i = threadIdx.x; i < cols; i += blockDim.x)
    dst[i] = weight ? weight[i] * (row[i] * inverse) : row[i] * inverse;
}

__global__ void hadamard_kernel(float* x, int64_t n, int64_t stride) {
  extern __shared__ float values[];
  float* row = x + static_cast<int64_t>(blockIdx.x) * stride;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) values[i] = row[i];
  block_hadamard(values, n);
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) row[i] = values[i];
}

__global__ void rope_kernel(float* x, int64_t items, int64_t heads, int64_t row_stride, int64_t head_stride,
                            int64_t offset, const int64_t* positions, const float* freqs, int64_t pairs, bool inverse) {
  const int64_t item = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;  // (row, head, pair)
  if (item >= items) return;
  const int64_t row = item / (heads * pairs), head = item / pairs % heads, pair = item % pairs;
  rotate_pairs(x + row * row_stride + head * head_stride + offset, pair + 1, freqs, positions[row], inverse, pair, pairs);
}

// raw[row, m] = (fn[m] . h_row) / rms(h_row): one block per (mix, row), so
// the (2+hc)*hc dot products of length hc*dim run on as many SMs.
__global__ void hc_mix_kernel(HyperWeights w, const float* streams, int mixes, float* raw) {
  __shared__ float scratch[32];
  const int m = blockIdx.y;
  const int64_t row = blockIdx.x, n = w.hc * w.dim;
  const float* h = streams + row * n;
  const float* f = w.fn + static_cast<int64_t>(m) * n;
  float dot = 0.0f, squares = 0.0f;
  if (n % 4 == 0 && reinterpret_cast<uintptr_t>(h) % 16 == 0 && reinterpret_cast<uintptr_t>(f) % 16 == 0) {
    const float4* h4 = reinterpret_cast<const float4*>(h);
    const float4* f4 = reinterpret_cast<const float4*>(f);
#pragma unroll 4
    for (int64_t i = threadIdx.x; i < n / 4; i += blockDim.x) {
      const float4 a = h4[i], b = f4[i];
      dot += a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w;
      squares += a.x * a.x + a.y * a.y + a.z * a.z + a.w * a.w;
    }
  } else {
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
      dot += h[i] * f[i];
      squares += h[i] * h[i];
    }
  }
  dot = block_sum(dot, scratch);
  squares = block_sum(squares, scratch);
  if (threadIdx.x == 0) raw[row * mixes + m] = dot * (1.0f / sqrtf(squares / static_cast<float>(n) + w.rms_eps));
}

__device__ __forceinline__ float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

__global__ void hc_pre_kernel(HyperWeights w, const float* streams, const float* raw, const float* norm, float* x,
                              float* mix_out) {
  __shared__ float scratch[32];
  __shared__ float pre[kMaxHc];
  const int hc = w.hc;
  const int64_t dim = w.dim, row = blockIdx.x;
  const float* h = streams + row * hc * dim;
  const float* mix = raw + row * (2 + hc) * hc;
  // pre, post and the Sinkhorn-normalised comb, as hyper_mix. Everything
  // lives in shared memory; thread t < hc owns row t of comb for the row
  // steps and column t for the column steps (sums in the CPU's order).
  __shared__ float s_mix[(2 + kMaxHc) * kMaxHc], s_base[(2 + kMaxHc) * kMaxHc], s_scale[3];
  __shared__ float comb[kMaxHc * kMaxHc];
  const int t = threadIdx.x, mixes = (2 + hc) * hc;
  if (t < mixes) s_mix[t] = mix[t], s_base[t] = w.base[t];
  if (t < 3) s_scale[t] = w.scale[t];
  __syncthreads();
  float* out = mix_out + row * (hc + hc * hc);
  if (t < hc) {
    pre[t] = sigmoid(s_mix[t] * s_scale[0] + s_base[t]) + w.hc_eps;
    out[t] = 2.0f * sigmoid(s_mix[hc + t] * s_scale[1] + s_base[hc + t]);
    float* r = comb + t * hc;
    float peak = -INFINITY;
    for (int k = 0; k < hc; ++k) {
      r[k] = s_mix[2 * hc + t * hc + k] * s_scale[2] + s_base[2 * hc + t * hc + k];
      peak = fmaxf(peak, r[k]);
    }
    float sum = 0.0f;
    for (int k = 0; k < hc; ++k) sum += r[k] = expf(r[k] - peak);
    for (int k = 0; k < hc; ++k) r[k] = r[k] / sum + w.hc_eps;
  }
  __syncthreads();
  for (int iter = 0; iter < (w.sinkhorn_iters > 1 ? w.sinkhorn_iters : 1); ++iter) {
    if (iter > 0) {
      if (t < hc) {
        float sum = 0.0f;
        for (int k = 0; k < hc; ++k) sum += comb[t * hc + k];
        for (int k = 0; k < hc; ++k) comb[t * hc + k] /= sum + w.hc_eps;
      }
      __syncthreads();
    }
    if (t < hc) {
      float sum = 0.0f;
      for (int j = 0; j < hc; ++j) sum += comb[j * hc + t];
      for (int j = 0; j < hc; ++j) comb[j * hc + t] /= sum + w.hc_eps;
    }
    __syncthreads();
  }
  if (t < hc * hc) out[hc + t] = comb[t];
  __syncthreads();
  float* xr = x + row * dim;
  float squares = 0.0f;
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) {
    float v = 0.0f;
    for (int j = 0; j < hc; ++j) v += pre[j] * h[j * dim + i];
    xr[i] = v;
    squares += v * v;
  }
  const float inverse = 1.0f / sqrtf(block_sum(squares, scratch) / static_cast<float>(dim) + w.rms_eps);
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) xr[i] = norm[i] * (xr[i] * inverse);
}

__global__ void hc_post_kernel(HyperWeights w, float* streams, const float* y, const float* mix, int64_t rows) {
  const int64_t item = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (item >= rows * w.dim) return;
  const int hc = w.hc;
  const int64_t row = item / w.dim, i = item % w.dim;
  const float* post = mix + row * (hc + hc * hc);
  const float* comb = post + hc;
  float* h = streams + row * hc * w.dim;
  float old[kMaxHc];
  for (int j = 0; j < hc; ++j) old[j] = h[j * w.dim + i];
  const float yi = y[row * w.dim + i];
  for (int k = 0; k < hc; ++k) {
    float v = post[k] * yi;
    for (int j = 0; j < hc; ++j) v += comb[j * hc + k] * old[j];
    h[k * w.dim + i] = v;
  }
}

__global__ void hc_head_kernel(HyperWeights w, const float* streams, const float* raw, const float* norm, float* out) {
  __shared__ float scratch[32];
  const int hc = w.hc;
  const int64_t dim = w.dim, row = blockIdx.x;
  const float* h = streams + row * hc * dim;
  const float* mix = raw + row * hc;
  float* o = out + row * dim;
  float squares = 0.0f;
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) {
    float v = 0.0f;
    for (int j = 0; j < hc; ++j) v += (sigmoid(mix[j] * w.scale[0] + w.base[j]) + w.hc_eps) * h[j * dim + i];
    o[i] = v;
    squares += v * v;
  }
  const float inverse = 1.0f / sqrtf(block_sum(squares, scratch) / static_cast<float>(dim) + w.rms_eps);
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) o[i] = norm[i] * (o[i] * inverse);
}

__global__ void embed_kernel(const uint8_t* table, bool f32, const int32_t* tokens, int64_t rows, int64_t dim, int hc,
                             float* streams) {
  const int64_t item = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (item >= rows * dim) return;
  const int64_t row = item / dim, i = item % dim, token = tokens[row];
  const float v = f32 ? reinterpret_cast<const float*>(table)[token * dim + i]
                      : bf16_to_float(reinterpret_cast<const uint16_t*>(table)[token * dim + i]);
  for (int j = 0; j < hc; ++j) streams[(row * hc + j) * dim + i] = v;
}

__global__ void add_to_streams_kernel(float* streams, const float* add, int64_t rows, int hc, int64_t dim) {
  const int64_t item = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (item >= rows * hc * dim) return;
  const int64_t row = item / (hc * dim), i = item % dim;
  streams[item] += add[row * dim + i];
}

__global__ void scale_kernel(float* x, int64_t count, float factor) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < count) x[i] *= factor;
}

__device__ __forceinline__ float softplus(float x) { return x > 20.0f ? x : log1pf(expf(x)); }

// One warp per row: scores, then k rounds of a warp argmax (ties to the
// lower expert id) over the biased scores.
__global__ void route_kernel(RouteLaunch a) {
  extern __shared__ float shared[];  // score[experts], biased[experts]
  const int64_t row = blockIdx.x;
  const int lane = threadIdx.x;
  float* score = shared;
  float* biased = shared + a.experts;
  for (int64_t e = lane; e < a.experts; e += 32) {
    score[e] = sqrtf(softplus(a.logits[row * a.experts + e]));
    biased[e] = score[e] + (a.bias ? a.bias[e] : 0.0f);
  }
  __syncwarp();
  int32_t chosen[kMaxTopK];
  for (int i = 0; i < a.k; ++i) {
    if (a.tid2eid) {
      chosen[i] = a.tid2eid[static_cast<int64_t>(a.tokens[row]) * a.k + i];
      continue;
    }
    float best = -INFINITY;
    int64_t best_id = a.experts;
    for (int64_t e = lane; e < a.experts; e += 32)
      if (biased[e] > best || (biased[e] == best && e < best_id)) best = biased[e], best_id = e;
    for (int offset = 16; offset > 0; offset /= 2) {
      const float other = __shfl_xor_sync(0xFFFFFFFFu, best, offset);
      const int64_t other_id = __shfl_xor_sync(0xFFFFFFFFu, best_id, offset);
      if (other > best || (other == best && other_id < best_id)) best = other, best_id = other_id;
    }
    chosen[i] = static_cast<int32_t>(best_id);
    __syncwarp();
    if (lane == 0) biased[best_id] = -INFINITY;
    __syncwarp();
  }
  if (lane != 0) return;
  float total = 0.0f;
  for (int i = 0; i < a.k; ++i) total += score[chosen[i]];
  for (int i = 0; i < a.k; ++i) {
    a.chosen[row * a.k + i] = chosen[i];
    a.weights[row * a.k + i] = score[chosen[i]] / total * a.scaling;
  }
}

__global__ void swiglu_kernel(const float* gate, const float* up, const float* weights, int64_t rows, int64_t inter,
                              float limit, float* out) {
  const int64_t item = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (item >= rows * inter) return;
  float g = gate[item], u = up[item];
  if (limit > 0.0f) {
    u = fminf(fmaxf(u, -limit), limit);
    g = fminf(g, limit);
  }
  const float weight = weights ? weights[item / inter] : 1.0f;
  out[item] = weight * ((g / (1.0f + expf(-g))) * u);
}

__global__ void moe_combine_kernel(const float* down, const int32_t* chosen, const float* shared, int64_t rows, int k,
                                   int64_t dim, float* out) {
  const int64_t item = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (item >= rows * dim) return;
  const int64_t row = item / dim, i = item % dim;
  // Slots in expert-id order, as the CPU twin adds experts.
  int order[kMaxTopK];
  for (int s = 0; s < k; ++s) order[s] = s;
  for (int s = 1; s < k; ++s)
    for (int t = s; t > 0 && chosen[row * k + order[t]] < chosen[row * k + order[t - 1]]; --t) {
      const int tmp = order[t];
      order[t] = order[t - 1];
      order[t - 1] = tmp;
    }
  float v = 0.0f;
  for (int s = 0; s < k; ++s) v += down[(row * k + order[s]) * dim + i];
  if (shared) v += shared[item];
  out[item] = v;
}

}  // namespace

void launch_quant_dequant(float* x, int64_t rows, int64_t cols, int64_t stride, int64_t block, bool fp4,
                          cudaStream_t stream) {
  launch_quant_dequant_into(x, stride, x, stride, rows, cols, block, fp4, stream);
}

void launch_quant_dequant_into(const float* in, int64_t in_stride, float* out, int64_t out_stride, int64_t rows,
                               int64_t cols, int64_t block, bool fp4, cudaStream_t stream) {
  if (rows == 0 || cols == 0) return;
  const int64_t blocks = (cols + block - 1) / block, warps = kThreads / 32;
  quant_dequant_kernel<<<dim3(static_cast<unsigned>(rows), static_cast<unsigned>((blocks + warps - 1) / warps)), kThreads, 0,
                         stream>>>(in, out, cols, in_stride, out_stride, block, fp4);
  check_launch("quant_dequant");
}

void launch_rms_norm(const float* x, int64_t x_stride, const float* weight, float eps, int64_t rows, int64_t cols,
                     float* out, int64_t out_stride, cudaStream_t stream) {
  if (rows == 0) return;
  rms_norm_kernel<<<static_cast<unsigned>(rows), cols >= 2048 ? kWideThreads : kThreads, 0, stream>>>(x, x_stride, weight,
                                                                                                 eps, cols, out, out_stride);
  check_launch("rms_norm");
}

void launch_hadamard(float* x, int64_t rows, int64_t n, int64_t stride, cudaStream_t stream) {
  if (rows == 0) return;
  hadamard_kernel<<<static_cast<unsigned>(rows), kThreads, static_cast<size_t>(n) * sizeof(float), stream>>>(x, n, stride);
  check_launch("hadamard");
}

void launch_rope(float* x, int64_t rows, int64_t heads, int64_t row_stride, int64_t head_stride, int64_t offset,
                 const int64_t* positions, const float* freqs, int64_t pairs, bool inverse, cudaStream_t stream) {
  const int64_t items = rows * heads * pairs;
  if (items == 0) return;
  rope_kernel<<<blocks_for(items), kThreads, 0, stream>>>(x, items, heads, row_stride, head_stride, offset, positions,
                                                          freqs, pairs, inverse);
  check_launch("rope");
}

void launch_hc_pre(const HyperWeights& w, const float* streams, int64_t rows, const float* norm, float* x,
                   float* mix_out, float* raw_mix, cudaStream_t stream) {
  if (rows == 0) return;
  const int mixes = (2 + w.hc) * w.hc;
  hc_mix_kernel<<<dim3(static_cast<unsigned>(rows), static_cast<unsigned>(mixes)), kThreads, 0, stream>>>(w, streams, mixes,
                                                                                                       raw_mix);
  check_launch("hc_mix");
  hc_pre_kernel<<<static_cast<unsigned>(rows), kWideThreads, 0, stream>>>(w, streams, raw_mix, norm, x, mix_out);
  check_launch("hc_pre");
}

void launch_hc_post(const HyperWeights& w, float* streams, const float* y, const float* mix, int64_t rows,
                    cudaStream_t stream) {
  if (rows == 0) return;
  hc_post_kernel<<<blocks_for(rows * w.dim), kThreads, 0, stream>>>(w, streams, y, mix, rows);
  check_launch("hc_post");
}

void launch_hc_head(const HyperWeights& w, const float* streams, int64_t rows, const float* norm, float* out,
                    float* raw_mix, cudaStream_t stream) {
  if (rows == 0) return;
  hc_mix_kernel<<<dim3(static_cast<unsigned>(rows), static_cast<unsigned>(w.hc)), kThreads, 0, stream>>>(w, streams, w.hc,
                                                                                                      raw_mix);
  check_launch("hc_mix");
  hc_head_kernel<<<static_cast<unsigned>(rows), kWideThreads, 0, stream>>>(w, streams, raw_mix, norm, out);
  check_launch("hc_head");
}

void launch_embed(const uint8_t* table, bool f32, const int32_t* tokens, int64_t rows, int64_t dim, int hc,
                  float* streams, cudaStream_t stream) {
  if (rows == 0) return;
  embed_kernel<<<blocks_for(rows * dim), kThreads, 0, stream>>>(table, f32, tokens, rows, dim, hc, streams);
  check_launch("embed");
}

void launch_add_to_streams(float* streams, const float* add, int64_t rows, int hc, int64_t dim, cudaStream_t stream) {
  if (rows == 0) return;
  add_to_streams_kernel<<<blocks_for(rows * hc * dim), kThreads, 0, stream>>>(streams, add, rows, hc, dim);
  check_launch("add_to_streams");
}

void launch_scale(float* x, int64_t count, float factor, cudaStream_t stream) {
  if (count == 0) return;
  scale_kernel<<<blocks_for(count), kThreads, 0, stream>>>(x, count, factor);
  check_launch("scale");
}

void launch_route(const RouteLaunch& a, cudaStream_t stream) {
  if (a.rows == 0) return;
  if (a.k > kMaxTopK) throw CudaError("CUDA backend: more than 16 experts per token is not supported");
  route_kernel<<<static_cast<unsigned>(a.rows), 32, static_cast<size_t>(2 * a.experts) * sizeof(float), stream>>>(a);
  check_launch("route");
}

void launch_swiglu(const float* gate, const float* up, const float* weights, int64_t rows, int64_t inter, float limit,
                   float* out, cudaStream_t stream) {
  if (rows == 0) return;
  swiglu_kernel<<<blocks_for(rows * inter), kThreads, 0, stream>>>(gate, up, weights, rows, inter, limit, out);
  check_launch("swiglu");
}

void launch_moe_combine(const float* down, const int32_t* chosen, const float* shared, int64_t rows, int k,
                        int64_t dim, float* out, cudaStream_t stream) {
  if (rows == 0) return;
  moe_combine_kernel<<<blocks_for(rows * dim), kThreads, 0, stream>>>(down, chosen, shared, rows, k, dim, out);
  check_launch("moe_combine");
}

}  // namespace beluga::cuda
