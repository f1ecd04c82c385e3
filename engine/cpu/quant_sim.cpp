#include "engine/cpu/quant_sim.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/model/dtype.h"

#if defined(__x86_64__) && defined(__GNUC__)
// GCC 12's AVX-512 intrinsics pass _mm512_undefined_*() as the unused
// source of unmasked operations, which -W(maybe-)uninitialized reports once
// they are inlined here; the value is never read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#define BELUGA_QUANT_AVX512 __attribute__((target("avx512f,avx512dq")))
#endif

namespace beluga::cpu {
namespace {

// fp8_e4m3_to_f32(f32_to_fp8_e4m3(v)) (dtype.h, the oracle the tests compare
// with) by float arithmetic, branch-free so that it vectorises:
//   |v| clamped to 448 (NaN stays NaN);
//   below 2^-6 (e4m3 subnormals) rounded to a multiple of 2^-9 by adding and
//   subtracting 2^14, whose float spacing is 2^-9 (round half to even);
//   else the float's 23 mantissa bits rounded to 3, half to even, by adding
//   0x7FFFF plus the lowest kept bit and clearing the rest (a carry moves
//   into the exponent, as it should);
//   then the sign put back.
inline float round_to_e4m3(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  const uint32_t sign = bits & 0x80000000u;
  float magnitude = std::fabs(v);
  magnitude = 448.0f < magnitude ? 448.0f : magnitude;
  uint32_t m;
  std::memcpy(&m, &magnitude, 4);
  uint32_t rounded = (m + 0x7FFFFu + ((m >> 20) & 1u)) & 0xFFF00000u;
  if (magnitude < 0x1p-6f) {
    const float sub = (magnitude + 16384.0f) - 16384.0f;
    std::memcpy(&rounded, &sub, 4);
  }
  rounded |= sign;
  float out;
  std::memcpy(&out, &rounded, 4);
  return out;
}

float block_amax(const float* x, size_t n) {
  float amax = 0.0f;
  for (size_t i = 0; i < n; ++i) amax = std::max(amax, std::fabs(x[i]));  // NaNs are skipped
  return amax;
}

#ifdef BELUGA_QUANT_AVX512
bool quant_avx512_available() {
  static const bool available = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
  return available;
}

// The same operations, 16 values at a time (n a multiple of 16).
BELUGA_QUANT_AVX512 float block_amax_avx512(const float* x, size_t n) {
  __m512 amax = _mm512_setzero_ps();
  for (size_t i = 0; i < n; i += 16) amax = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + i)), amax);  // NaN -> amax
  return _mm512_reduce_max_ps(amax);
}

BELUGA_QUANT_AVX512 void round_block_avx512(float* x, size_t n, float inverse, float scale) {
  const __m512 limit = _mm512_set1_ps(448.0f), smallest_normal = _mm512_set1_ps(0x1p-6f);
  const __m512 shift = _mm512_set1_ps(16384.0f);
  const __m512i sign_bit = _mm512_set1_epi32(static_cast<int>(0x80000000u));
  const __m512i half = _mm512_set1_epi32(0x7FFFF), one = _mm512_set1_epi32(1);
  const __m512i keep = _mm512_set1_epi32(static_cast<int>(0xFFF00000u));
  for (size_t i = 0; i < n; i += 16) {
    const __m512 v = _mm512_mul_ps(_mm512_loadu_ps(x + i), _mm512_set1_ps(inverse));
    const __m512i sign = _mm512_and_si512(_mm512_castps_si512(v), sign_bit);
    const __m512 magnitude = _mm512_min_ps(limit, _mm512_abs_ps(v));  // 448 < m ? 448 : m
    const __m512i m = _mm512_castps_si512(magnitude);
    const __m512i lowest_kept = _mm512_and_si512(_mm512_srli_epi32(m, 20), one);
    __m512i rounded = _mm512_and_si512(_mm512_add_epi32(m, _mm512_add_epi32(half, lowest_kept)), keep);
    const __m512 sub = _mm512_sub_ps(_mm512_add_ps(magnitude, shift), shift);
    rounded = _mm512_mask_mov_epi32(rounded, _mm512_cmp_ps_mask(magnitude, smallest_normal, _CMP_LT_OQ),
                                    _mm512_castps_si512(sub));
    const __m512 out = _mm512_castsi512_ps(_mm512_or_si512(rounded, sign));
    _mm512_storeu_ps(x + i, _mm512_mul_ps(out, _mm512_set1_ps(scale)));
  }
}
#endif

}  // namespace

// The block's scale is a power of two of at least 2^-22 (amax is clamped to
// 1e-4), so x * (1 / scale) equals x / scale exactly.
void fp8_quant_dequant(std::span<float> x, int64_t block) {
  for (size_t b0 = 0; b0 < x.size(); b0 += static_cast<size_t>(block)) {
    const size_t n = std::min(x.size(), b0 + static_cast<size_t>(block)) - b0;
    float* values = x.data() + b0;
#ifdef BELUGA_QUANT_AVX512
    const bool simd = n % 16 == 0 && quant_avx512_available();
    const float amax = simd ? block_amax_avx512(values, n) : block_amax(values, n);
#else
    const float amax = block_amax(values, n);
#endif
    const float scale = e8m0_to_f32(ue8m0_ceil_pow2(std::max(amax, 1e-4f) * (1.0f / 448.0f)));
    const float inverse = 1.0f / scale;
#ifdef BELUGA_QUANT_AVX512
    if (simd) {
      round_block_avx512(values, n, inverse, scale);
      continue;
    }
#endif
    for (size_t i = 0; i < n; ++i) values[i] = round_to_e4m3(values[i] * inverse) * scale;
  }
}

void fp4_quant_dequant(std::span<float> x, int64_t block) {
  for (size_t b0 = 0; b0 < x.size(); b0 += static_cast<size_t>(block)) {
    const size_t b1 = std::min(x.size(), b0 + static_cast<size_t>(block));
    float amax = 0.0f;
    for (size_t i = b0; i < b1; ++i) amax = std::max(amax, std::fabs(x[i]));
    const float scale = e8m0_to_f32(ue8m0_ceil_pow2(std::max(amax, 6.0f * 0x1p-126f) * (1.0f / 6.0f)));
    for (size_t i = b0; i < b1; ++i) x[i] = fp4_e2m1_to_f32(f32_to_fp4_e2m1(x[i] / scale)) * scale;
  }
}

}  // namespace beluga::cpu
