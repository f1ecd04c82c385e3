// dot and add_scaled (ops.h): the attention's inner loops, with AVX-512 and
// a portable twin that performs the same operations in the same order.
#include <cmath>

#include "engine/cpu/linear_kernels.h"
#include "engine/cpu/ops.h"

#if defined(__x86_64__) && defined(__GNUC__)
// See quant_sim.cpp: GCC 12's AVX-512 intrinsics and -W(maybe-)uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#define BELUGA_VECTOR_AVX512 __attribute__((target("avx512f")))
#endif

namespace beluga::cpu {
namespace {

constexpr int kLanes = kernels::kLanes;
using kernels::reduce_lanes;  // the pairwise order (linear_portable.cpp)

#ifdef BELUGA_VECTOR_AVX512
bool avx512() {
  static const bool available = __builtin_cpu_supports("avx512f");
  return available;
}

BELUGA_VECTOR_AVX512 float dot_avx512(const float* a, const float* b, int64_t n) {
  __m512 sum = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) sum = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), sum);
  if (i < n) {
    const __mmask16 tail = static_cast<__mmask16>((1u << (n - i)) - 1);
    // Lanes past the end keep their sums, as in the portable form.
    sum = _mm512_mask3_fmadd_ps(_mm512_maskz_loadu_ps(tail, a + i), _mm512_maskz_loadu_ps(tail, b + i), sum, tail);
  }
  // GCC's reduction adds the halves, then the quarters, then pairs, then
  // the last two: the pairwise order, exactly (addition commutes).
  return _mm512_reduce_add_ps(sum);
}

BELUGA_VECTOR_AVX512 void add_scaled_avx512(float* y, float alpha, const float* x, int64_t n) {
  const __m512 a = _mm512_set1_ps(alpha);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    _mm512_storeu_ps(y + i, _mm512_fmadd_ps(a, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] = std::fma(alpha, x[i], y[i]);
}
#endif

}  // namespace

float dot_portable(const float* a, const float* b, int64_t n) {
  float lanes[kLanes] = {};
  for (int64_t i = 0; i < n; ++i) lanes[i % kLanes] = std::fma(a[i], b[i], lanes[i % kLanes]);
  return reduce_lanes(lanes);
}

float dot(const float* a, const float* b, int64_t n) {
#ifdef BELUGA_VECTOR_AVX512
  if (avx512()) return dot_avx512(a, b, n);
#endif
  return dot_portable(a, b, n);
}

void add_scaled(float* y, float alpha, const float* x, int64_t n) {
#ifdef BELUGA_VECTOR_AVX512
  if (avx512()) return add_scaled_avx512(y, alpha, x, n);
#endif
  for (int64_t i = 0; i < n; ++i) y[i] = std::fma(alpha, x[i], y[i]);
}

}  // namespace beluga::cpu
