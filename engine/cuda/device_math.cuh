// Device-side number formats and reductions shared by the kernels.
//
// The format conversions follow engine/model/dtype.cpp step for step
// (round half to even, saturation, ue8m0 power-of-two scales), so a value
// quantised here is bit-identical to one quantised by the CPU reference.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace beluga::cuda {

__device__ __forceinline__ float bf16_to_float(uint16_t v) { return __uint_as_float(uint32_t{v} << 16); }

__device__ __forceinline__ float e8m0_to_float(uint8_t v) {
  if (v == 0xFF) return __uint_as_float(0x7FC00000u);
  if (v == 0) return __uint_as_float(0x00400000u);
  return __uint_as_float(uint32_t{v} << 23);
}

__device__ __forceinline__ float fp8_e4m3_to_float(uint32_t byte) {
  const uint32_t sign = byte & 0x80, exponent = (byte >> 3) & 0xF, mantissa = byte & 0x7;
  float magnitude;
  if (exponent == 0xF && mantissa == 0x7) magnitude = __uint_as_float(0x7FC00000u);
  else if (exponent == 0) magnitude = static_cast<float>(mantissa) * 0.001953125f;  // 2^-9 steps
  else magnitude = __uint_as_float(((exponent + 120) << 23) | (mantissa << 20));
  return sign ? -magnitude : magnitude;
}

__device__ __forceinline__ float fp4_e2m1_to_float(uint32_t nibble) {
  const uint32_t e = (nibble >> 1) & 3, m = nibble & 1;
  const float magnitude = e ? __uint_as_float(((e + 126) << 23) | (m << 22)) : 0.5f * static_cast<float>(m);
  return (nibble & 8) ? -magnitude : magnitude;
}

__device__ __forceinline__ uint32_t ue8m0_ceil_pow2(float x) {
  const uint32_t bits = __float_as_uint(x) & 0x7FFFFFFFu;
  uint32_t exponent = bits >> 23;
  const uint32_t mantissa = bits & 0x7FFFFFu;
  if (exponent == 0) return mantissa == 0 ? 0 : 1;
  if (exponent >= 255) return 254;
  if (mantissa != 0) ++exponent;
  return exponent > 254 ? 254 : exponent;
}

// e4m3(x) decoded back to float (RNE, saturating at 448).
__device__ __forceinline__ float fp8_round_trip(float f) {
  if (isnan(f)) return f;
  const float magnitude = fabsf(f);
  float result;
  if (magnitude >= 448.0f) {
    result = 448.0f;
  } else if (magnitude < 0.015625f) {  // subnormal: steps of 2^-9
    result = rintf(magnitude * 512.0f) * 0.001953125f;
  } else {
    const uint32_t bits = __float_as_uint(magnitude);
    int exponent = static_cast<int>(bits >> 23) - 127;
    const float fraction = __uint_as_float((bits & 0x7FFFFFu) | 0x3F800000u);
    int mantissa = static_cast<int>(rintf((fraction - 1.0f) * 8.0f));
    if (mantissa == 8) {
      mantissa = 0;
      ++exponent;
    }
    int code = ((exponent + 7) << 3) | mantissa;
    if (code > 0x7E) code = 0x7E;
    result = fp8_e4m3_to_float(static_cast<uint32_t>(code));
  }
  return signbit(f) ? -result : result;
}

// e2m1(x) decoded back to float (nearest of 0, .5, 1, 1.5, 2, 3, 4, 6; ties to even code).
__device__ __forceinline__ float fp4_round_trip(float f) {
  if (isnan(f)) return 0.0f;
  const float table[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
  const float magnitude = fminf(fabsf(f), 6.0f);
  int hi = 0;
  while (hi < 8 && table[hi] < magnitude) ++hi;
  int code;
  if (hi == 0) code = 0;
  else if (hi == 8) code = 7;
  else {
    const float down = magnitude - table[hi - 1], up = table[hi] - magnitude;
    code = down < up ? hi - 1 : up < down ? hi : (hi % 2 == 0 ? hi : hi - 1);
  }
  const float result = table[code];
  return signbit(f) ? -result : result;
}

__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(0xFFFFFFFFu, v, offset);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int offset = 16; offset > 0; offset /= 2) v = fmaxf(v, __shfl_xor_sync(0xFFFFFFFFu, v, offset));
  return v;
}

// Block-wide reductions; every thread of the block must call them and gets
// the result. `scratch` holds at least 32 floats of shared memory.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = (blockDim.x + 31) / 32;
  v = warp_sum(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  float total = 0.0f;
  for (int w = 0; w < warps; ++w) total += scratch[w];
  return total;
}
__device__ __forceinline__ float block_max(float v, float* scratch) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = (blockDim.x + 31) / 32;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  float peak = -INFINITY;
  for (int w = 0; w < warps; ++w) peak = fmaxf(peak, scratch[w]);
  return peak;
}

// Quantise-dequantise x[0, n) in blocks of `block` (one warp per block),
// as cpu::fp8_quant_dequant / fp4_quant_dequant. Called by a whole block.
__device__ __forceinline__ void block_quant_dequant(float* x, int64_t n, int64_t block, bool fp4) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  for (int64_t b0 = static_cast<int64_t>(warp) * block; b0 < n; b0 += static_cast<int64_t>(warps) * block) {
    const int64_t b1 = b0 + block < n ? b0 + block : n;
    float amax = 0.0f;
    for (int64_t i = b0 + lane; i < b1; i += 32) amax = fmaxf(amax, fabsf(x[i]));
    amax = warp_max(amax);
    const float scale = fp4 ? e8m0_to_float(ue8m0_ceil_pow2(fmaxf(amax, 6.0f * 0x1p-126f) * (1.0f / 6.0f)))
                            : e8m0_to_float(ue8m0_ceil_pow2(fmaxf(amax, 1e-4f) * (1.0f / 448.0f)));
    for (int64_t i = b0 + lane; i < b1; i += 32)
      x[i] = (fp4 ? fp4_round_trip(x[i] / scale) : fp8_round_trip(x[i] / scale)) * scale;
  }
}

// In-place Walsh-Hadamard transform of x[0, n) (shared memory), scaled by
// n^-0.5, butterflies in the CPU twin's order. Called by a whole block.
__device__ __forceinline__ void block_hadamard(float* x, int64_t n) {
  for (int64_t half = 1; half < n; half *= 2) {
    __syncthreads();
    for (int64_t pair = threadIdx.x; pair < n / 2; pair += blockDim.x) {
      const int64_t i = (pair / half) * 2 * half + pair % half, j = i + half;
      const float a = x[i], b = x[j];
      x[i] = a + b;
      x[j] = a - b;
    }
  }
  __syncthreads();
  const float scale = 1.0f / sqrtf(static_cast<float>(n));
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) x[i] *= scale;
  __syncthreads();
}

// Rotates pairs (2i, 2i+1) of x by pos * freqs[i] (negated when inverse).
__device__ __forceinline__ void rotate_pairs(float* x, int64_t pairs, const float* freqs, int64_t pos, bool inverse,
                                             int64_t first, int64_t stride) {
  for (int64_t i = first; i < pairs; i += stride) {
    const float angle = static_cast<float>(pos) * freqs[i];
    const float c = cosf(angle), s = inverse ? -sinf(angle) : sinf(angle);
    const float re = x[2 * i], im = x[2 * i + 1];
    x[2 * i] = re * c - im * s;
    x[2 * i + 1] = re * s + im * c;
  }
}

}  // namespace beluga::cuda
