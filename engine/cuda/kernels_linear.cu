// Linear layers on the GPU: y = W x with W dequantised on the fly from its
// stored format. One warp computes one output row; each lane reads 16
// contiguous weight bytes at a time (8 BF16, 4 F32, 16 FP8 or 32 FP4
// values), so a warp streams 512 bytes per step and the weight matrix is
// read once per group of up to kRowsPerPass input rows. Decode (a few rows)
// is bound by weight bandwidth; this is the kernel the decode benchmark
// measures. Odd shapes (tiny test models) fall back to one value per lane.
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include "engine/cuda/device.cuh"
#include "engine/cuda/device_math.cuh"
#include "engine/cuda/kernels.cuh"

namespace beluga::cuda {
namespace {

constexpr int kWarpsPerBlock = 8;
constexpr int kRowsPerPass = 8;

// Values per 16-byte load for each storage.
template <int kStorage>
constexpr int kValuesPerLoad = kStorage == kStoreBF16 ? 8 : kStorage == kStoreF32 ? 4 : kStorage == kStoreFP8 ? 16 : 32;

// Loads per lane issued before any is decoded, so that each warp keeps
// several 16-byte reads in flight (decode is bound by memory latency x
// bytes in flight; FP4's 32 decoded values per load limit its depth).
template <int kStorage>
constexpr int kLoadsInFlight = kStorage == kStoreFP4 ? 2 : 4;

// The 16 weight bytes holding columns [c, c + kValuesPerLoad) of row o.
template <int kStorage>
__device__ __forceinline__ uint4 load_vector(const DeviceLinear& w, const uint8_t* weight, int64_t o, int64_t c) {
  if constexpr (kStorage == kStoreBF16) return *reinterpret_cast<const uint4*>(weight + (o * w.in + c) * 2);
  else if constexpr (kStorage == kStoreF32) return *reinterpret_cast<const uint4*>(weight + (o * w.in + c) * 4);
  else if constexpr (kStorage == kStoreFP8) return *reinterpret_cast<const uint4*>(weight + o * w.in + c);
  else return *reinterpret_cast<const uint4*>(weight + o * (w.in / 2) + c / 2);
}

// Decodes the values of one load (see load_vector) into out, without their
// block scale, which is returned: scales are powers of two, so applying one
// to a partial dot product instead of to each weight gives the same float.
// FP8 uses the hardware e4m3x2 -> f16x2 conversion (sm_89+; exact). FP4
// places each nibble's three magnitude bits at f16 bits 11..9: that f16 is
// the e2m1 value times 2^-14, subnormal case included, so the scale returned
// carries the 2^14 back (exact while scale < 2^113, i.e. for any real weight).
template <int kStorage>
__device__ __forceinline__ float decode_vector(const DeviceLinear& w, uint4 raw, const uint8_t* scale, int64_t o,
                                               int64_t c, float* out) {
  const uint32_t words[4] = {raw.x, raw.y, raw.z, raw.w};
  if constexpr (kStorage == kStoreBF16) {
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      out[2 * i] = __uint_as_float(words[i] << 16);
      out[2 * i + 1] = __uint_as_float(words[i] & 0xFFFF0000u);
    }
    return 1.0f;
  } else if constexpr (kStorage == kStoreF32) {
#pragma unroll
    for (int i = 0; i < 4; ++i) out[i] = __uint_as_float(words[i]);
    return 1.0f;
  } else if constexpr (kStorage == kStoreFP8) {
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const __nv_fp8x2_storage_t pair = static_cast<__nv_fp8x2_storage_t>(words[i / 2] >> (16 * (i % 2)));
      const __half2_raw h = __nv_cvt_fp8x2_to_halfraw2(pair, __NV_E4M3);
      const float2 f = __half22float2(*reinterpret_cast<const __half2*>(&h));
      out[2 * i] = f.x;
      out[2 * i + 1] = f.y;
    }
    const int64_t scale_cols = (w.in + w.block_cols - 1) / w.block_cols;
    return e8m0_to_float(scale[(o / w.block_rows) * scale_cols + c / w.block_cols]);
  } else {
#pragma unroll
    for (int i = 0; i < 16; ++i) {  // byte i: nibbles 2i (low) and 2i+1 (high)
      const uint32_t b = (words[i / 4] >> (8 * (i % 4))) & 0xFF;
      const uint32_t bits = ((b & 0x8u) << 12) | ((b & 0x7u) << 9) | ((b & 0x80u) << 24) | ((b & 0x70u) << 21);
      const float2 f = __half22float2(*reinterpret_cast<const __half2*>(&bits));
      out[2 * i] = f.x;
      out[2 * i + 1] = f.y;
    }
    return e8m0_to_float(scale[o * ((w.in + 31) / 32) + c / 32]) * 16384.0f;
  }
}

// One weight value (the scalar fallback).
__device__ __forceinline__ float decode_one(const DeviceLinear& w, const uint8_t* weight, const uint8_t* scale,
                                            int64_t o, int64_t c) {
  switch (w.storage) {
    case kStoreBF16: {
      const uint8_t* p = weight + (o * w.in + c) * 2;
      return bf16_to_float(static_cast<uint16_t>(p[0] | (p[1] << 8)));
    }
    case kStoreF32:
      return reinterpret_cast<const float*>(weight)[o * w.in + c];
    case kStoreFP8: {
      const int64_t scale_cols = (w.in + w.block_cols - 1) / w.block_cols;
      return fp8_e4m3_to_float(weight[o * w.in + c]) *
             e8m0_to_float(scale[(o / w.block_rows) * scale_cols + c / w.block_cols]);
    }
    default: {
      const uint8_t byte = weight[o * (w.in / 2) + c / 2];
      return fp4_e2m1_to_float(c % 2 ? byte >> 4 : byte & 0xF) * e8m0_to_float(scale[o * ((w.in + 31) / 32) + c / 32]);
    }
  }
}

// kVector: the 16-byte path (shapes allow it) or the scalar fallback.
// kOut: output rows per warp on the vector path (their loads are in flight
// together, and the warp's fixed costs are shared); kRows: input rows per
// pass (1 for decode and experts, kRowsPerPass otherwise).
template <int kStorage, bool kVector, int kOut, int kRows>
__global__ void linear_kernel(LinearLaunch a) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t o0 = (static_cast<int64_t>(blockIdx.y) * kWarpsPerBlock + warp) * kOut;
  const DeviceLinear& w = a.w;
  if (o0 >= w.out) return;
  const uint8_t* weight = w.weight;
  const uint8_t* scale = w.scale;
  int64_t rows;
  const float* x;
  float* y;
  if (a.chosen) {  // experts: one row-set per blockIdx.x
    const int32_t expert = a.chosen[blockIdx.x];
    weight = a.weight_table[expert];
    scale = a.scale_table ? a.scale_table[expert] : nullptr;
    rows = 1;
    x = a.x + (static_cast<int64_t>(blockIdx.x) / a.x_divisor) * a.x_stride;
    y = a.y + static_cast<int64_t>(blockIdx.x) * a.y_stride;
  } else {
    const int64_t first_row = static_cast<int64_t>(blockIdx.x) * kRows;
    rows = a.rows - first_row < kRows ? a.rows - first_row : kRows;
    x = a.x + first_row * a.x_stride;
    y = a.y + first_row * a.y_stride;
  }
  if (a.group_out > 0) x += (o0 / a.group_out) * w.in;  // kOut divides group_out

  float acc[kOut][kRows];
#pragma unroll
  for (int j = 0; j < kOut; ++j)
#pragma unroll
    for (int r = 0; r < kRows; ++r) acc[j][r] = 0.0f;

  if constexpr (kVector) {
    constexpr int V = kValuesPerLoad<kStorage>;
    constexpr int U = kOut > 1 ? 1 : kLoadsInFlight<kStorage>;
    float values[V];
    for (int64_t c0 = static_cast<int64_t>(lane) * V; c0 < w.in; c0 += 32 * V * U) {
      uint4 raw[U][kOut];
#pragma unroll
      for (int u = 0; u < U; ++u)
#pragma unroll
        for (int j = 0; j < kOut; ++j) {
          const int64_t c = c0 + static_cast<int64_t>(u) * 32 * V;
          if (c < w.in && o0 + j < w.out) raw[u][j] = load_vector<kStorage>(w, weight, o0 + j, c);
        }
#pragma unroll
      for (int u = 0; u < U; ++u) {
        const int64_t c = c0 + static_cast<int64_t>(u) * 32 * V;
        if (c >= w.in) break;
        // One input row (decode, experts): its values are loaded once and
        // serve every output row of the warp; L1 traffic for the input is
        // otherwise the limit (8 bytes of input per FP4 weight byte).
        if constexpr (kRows == 1) {
          float4 xv[V / 4];
          const float4* xr = reinterpret_cast<const float4*>(x + c);
#pragma unroll
          for (int i = 0; i < V / 4; ++i) xv[i] = xr[i];
#pragma unroll
          for (int j = 0; j < kOut; ++j) {
            if (o0 + j >= w.out) break;
            const float block_scale = decode_vector<kStorage>(w, raw[u][j], scale, o0 + j, c, values);
            float sum = 0.0f;
#pragma unroll
            for (int i = 0; i < V / 4; ++i)
              sum += values[4 * i] * xv[i].x + values[4 * i + 1] * xv[i].y + values[4 * i + 2] * xv[i].z +
                     values[4 * i + 3] * xv[i].w;
            acc[j][0] += sum * block_scale;
          }
        } else {
#pragma unroll
          for (int j = 0; j < kOut; ++j) {
            if (o0 + j >= w.out) break;
            const float block_scale = decode_vector<kStorage>(w, raw[u][j], scale, o0 + j, c, values);
#pragma unroll
            for (int r = 0; r < kRows; ++r) {
              if (r >= rows) break;
              const float4* xr = reinterpret_cast<const float4*>(x + r * a.x_stride + c);
              float sum = 0.0f;
#pragma unroll
              for (int i = 0; i < V / 4; ++i) {
                const float4 v = xr[i];
                sum += values[4 * i] * v.x + values[4 * i + 1] * v.y + values[4 * i + 2] * v.z + values[4 * i + 3] * v.w;
              }
              acc[j][r] += sum * block_scale;
            }
          }
        }
      }
    }
  } else {
    for (int64_t c = lane; c < w.in; c += 32) {
      const float value = decode_one(w, weight, scale, o0, c);
      for (int r = 0; r < rows; ++r) acc[0][r] += value * x[r * a.x_stride + c];
    }
  }
#pragma unroll
  for (int j = 0; j < kOut; ++j) {
    if (o0 + j >= w.out) break;
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
      if (r >= rows) break;
      const float total = warp_sum(acc[j][r]);
      if (lane == 0) y[r * a.y_stride + o0 + j] = total;
    }
  }
}

template <int kStorage>
void launch_for_storage(const LinearLaunch& a, bool vector, int out_per_warp, int rows_per_pass, int64_t sets,
                        cudaStream_t stream) {
  const int64_t outs = out_per_warp * kWarpsPerBlock;
  // Row-sets on x (unbounded), output blocks on y (out / 8 stays below 65536).
  const dim3 grid(static_cast<unsigned>(sets), static_cast<unsigned>((a.w.out + outs - 1) / outs));
  const unsigned threads = kWarpsPerBlock * 32;
  if (!vector) linear_kernel<kStorage, false, 1, kRowsPerPass><<<grid, threads, 0, stream>>>(a);
  else if (out_per_warp == 4 && rows_per_pass == 1) linear_kernel<kStorage, true, 4, 1><<<grid, threads, 0, stream>>>(a);
  else if (out_per_warp == 4) linear_kernel<kStorage, true, 4, kRowsPerPass><<<grid, threads, 0, stream>>>(a);
  else if (rows_per_pass == 1) linear_kernel<kStorage, true, 1, 1><<<grid, threads, 0, stream>>>(a);
  else linear_kernel<kStorage, true, 1, kRowsPerPass><<<grid, threads, 0, stream>>>(a);
}

}  // namespace

void launch_linear(const LinearLaunch& a, cudaStream_t stream) {
  const DeviceLinear& w = a.w;
  // Decode (one input row) and experts take one row per pass.
  const int rows_per_pass = (a.chosen || a.rows == 1) ? 1 : kRowsPerPass;
  const int64_t sets = a.chosen ? a.rows : (a.rows + rows_per_pass - 1) / rows_per_pass;
  if (w.out == 0 || sets == 0) return;
  // The 16-byte path needs whole loads per row, loads inside one scale block,
  // and float4-aligned inputs.
  const int per_load = w.storage == kStoreBF16 ? 8 : w.storage == kStoreF32 ? 4 : w.storage == kStoreFP8 ? 16 : 32;
  bool vector = w.in % per_load == 0 && a.x_stride % 4 == 0 && reinterpret_cast<uintptr_t>(a.x) % 16 == 0;
  if (w.storage == kStoreFP8) vector = vector && w.block_cols % 16 == 0;
  // Four output rows per warp where that still leaves a few blocks per SM
  // of a large GPU (and the four stay in one group).
  const int64_t blocks_of_four = (w.out + 4 * kWarpsPerBlock - 1) / (4 * kWarpsPerBlock) * sets;
  const bool many = blocks_of_four >= 2 * 132 && (a.group_out == 0 || a.group_out % 4 == 0);
  const int out_per_warp = vector && many ? 4 : 1;
  switch (w.storage) {
    case kStoreBF16: launch_for_storage<kStoreBF16>(a, vector, out_per_warp, rows_per_pass, sets, stream); break;
    case kStoreF32: launch_for_storage<kStoreF32>(a, vector, out_per_warp, rows_per_pass, sets, stream); break;
    case kStoreFP8: launch_for_storage<kStoreFP8>(a, vector, out_per_warp, rows_per_pass, sets, stream); break;
    default: launch_for_storage<kStoreFP4>(a, vector, out_per_warp, rows_per_pass, sets, stream); break;
  }
  check_launch("linear");
}

}  // namespace beluga::cuda
