// The fast linear (linear.h) with AVX-512: one register holds a row's 16
// lanes of partial sums, so each group of 16 columns is one decode and one
// fused multiply-add per input row. Performs exactly the operations of
// linear_portable.cpp in the same order: bit-identical.
//
// Compiled for AVX-512 through a target attribute, run only after
// avx512_available() said yes; like linear_avx2.cpp, nothing inside calls
// into the standard library.
#include "engine/cpu/linear_kernels.h"

#if defined(__x86_64__) && defined(__GNUC__)
// GCC 12's AVX-512 intrinsics pass _mm512_undefined_*() as the unused
// source of unmasked conversions, which -Wmaybe-uninitialized reports
// once they are inlined here; the value is never read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#define BELUGA_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))
#endif

namespace beluga::cpu::kernels {

#ifdef BELUGA_AVX512
namespace {

// Columns [c, c + 16) of a weight row as one register, in the units of
// linear_portable.cpp: FP8 as e4m3 / 256 (the bits moved into an f16, see
// linear_avx2.cpp), FP4 doubled (a byte table lookup), BF16/F32 as is.
template <int Kind>
BELUGA_AVX512 inline __m512 weights_16(const uint8_t* row, int64_t c) {
  switch (Kind) {
    case kKindFP8: {
      __m256i b = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + c)));
      __m256i half = _mm256_and_si256(_mm256_srai_epi16(_mm256_slli_epi16(b, 8), 1),
                                      _mm256_set1_epi16(static_cast<short>(0xBFFF)));
      return _mm512_cvtph_ps(half);
    }
    case kKindFP4: {
      const __m128i table = _mm_setr_epi8(0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12);
      __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(row + c / 2));
      __m128i lo = _mm_and_si128(b, _mm_set1_epi8(0x0F));
      __m128i hi = _mm_and_si128(_mm_srli_epi16(b, 4), _mm_set1_epi8(0x0F));
      __m128i doubled = _mm_shuffle_epi8(table, _mm_unpacklo_epi8(lo, hi));
      return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(doubled));
    }
    case kKindBF16: {
      __m512i h = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * c)));
      return _mm512_castsi512_ps(_mm512_slli_epi32(h, 16));
    }
    default:
      return _mm512_loadu_ps(reinterpret_cast<const float*>(row) + c);
  }
}

// Bytes of one weight row's columns [c, c + n).
template <int Kind>
inline int64_t row_bytes(int64_t n) {
  switch (Kind) {
    case kKindFP8: return n;
    case kKindFP4: return n / 2;
    case kKindBF16: return 2 * n;
    default: return 4 * n;
  }
}

// Output rows [o0, o0 + Tile) of the single input row; Tile independent
// chains of fused multiply-adds keep the FMA units busy. The next Tile
// rows (`next`, contiguous with these; null for none) are prefetched at
// the pace these are read, as in linear_avx512_bf16.cpp.
template <int Kind, int Tile>
BELUGA_AVX512 void one_row_tile(const LinearArgs& a, int64_t o0, const uint8_t* next) {
  const uint8_t* rows[Tile];
  const uint8_t* scales[Tile];
  const float* multipliers = multiplier_table(a.storage);
  __m512 acc[Tile];
  for (int t = 0; t < Tile; ++t) {
    rows[t] = weight_row(a, o0 + t);
    scales[t] = scale_row(a, o0 + t);
    acc[t] = _mm512_setzero_ps();
  }
  const int64_t n = a.block_cols;
  const int64_t block_bytes = Tile * row_bytes<Kind>(n);
  for (int64_t c0 = 0, block = 0; c0 < a.in; c0 += n, ++block) {
    if (next)
      for (int64_t line = 0; line < block_bytes; line += 64)
        _mm_prefetch(reinterpret_cast<const char*>(next + block * block_bytes + line), _MM_HINT_T0);
    __m512 p[Tile];
    for (int t = 0; t < Tile; ++t) p[t] = _mm512_setzero_ps();
    for (int64_t c = c0; c < c0 + n; c += 16) {
      const __m512 x = _mm512_loadu_ps(a.x + c);
      for (int t = 0; t < Tile; ++t) p[t] = _mm512_fmadd_ps(weights_16<Kind>(rows[t], c), x, p[t]);
    }
    for (int t = 0; t < Tile; ++t)
      acc[t] = _mm512_fmadd_ps(p[t], _mm512_set1_ps(multipliers ? multipliers[scales[t][block]] : 1.0f), acc[t]);
  }
  for (int t = 0; t < Tile; ++t) {
    float lanes[kLanes];
    _mm512_storeu_ps(lanes, acc[t]);
    a.y[o0 + t] = reduce_lanes(lanes);
  }
}

template <int Kind>
BELUGA_AVX512 void one_row(const LinearArgs& a, int64_t begin, int64_t end) {
  int64_t o0 = begin;
  for (; o0 + 4 <= end; o0 += 4) one_row_tile<Kind, 4>(a, o0, o0 + 8 <= end ? weight_row(a, o0 + 4) : nullptr);
  for (; o0 < end; ++o0) one_row_tile<Kind, 1>(a, o0, nullptr);
}

// Several input rows (prefill): each scale block of Tile weight rows is
// decoded once into wbuf, then applied to R input rows at a time, R x Tile
// registers of partial sums sharing each weight and input load. Each
// (input row, output row) pair's lanes see the single-row chain of
// operations, so the results are those of one_row_tile.
template <int Tile, int R>
BELUGA_AVX512 inline void rows_block(const LinearArgs& a, int64_t c0, int64_t r0, const __m512* mult) {
  const int64_t n = a.block_cols;
  __m512 p[R][Tile];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < Tile; ++t) p[r][t] = _mm512_setzero_ps();
  const float* x = a.x + r0 * a.in + c0;
  for (int64_t c = 0; c < n; c += 16) {
    __m512 v[R];
    for (int r = 0; r < R; ++r) v[r] = _mm512_loadu_ps(x + r * a.in + c);
    for (int t = 0; t < Tile; ++t) {
      const __m512 w = _mm512_loadu_ps(a.wbuf + t * n + c);
      for (int r = 0; r < R; ++r) p[r][t] = _mm512_fmadd_ps(w, v[r], p[r][t]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < Tile; ++t) {
      float* acc = a.acc + ((r0 + r) * kTileRows + t) * kLanes;
      _mm512_storeu_ps(acc, _mm512_fmadd_ps(p[r][t], mult[t], _mm512_loadu_ps(acc)));
    }
}

template <int Kind, int Tile>
BELUGA_AVX512 void rows_tile(const LinearArgs& a, int64_t o0) {
  for (int64_t i = 0; i < a.rows * kTileRows * kLanes; i += 16) _mm512_storeu_ps(a.acc + i, _mm512_setzero_ps());
  const uint8_t* rows[Tile];
  const uint8_t* scales[Tile];
  const float* multipliers = multiplier_table(a.storage);
  for (int t = 0; t < Tile; ++t) {
    rows[t] = weight_row(a, o0 + t);
    scales[t] = scale_row(a, o0 + t);
  }
  const int64_t n = a.block_cols;
  for (int64_t c0 = 0, block = 0; c0 < a.in; c0 += n, ++block) {
    __m512 mult[Tile];
    for (int t = 0; t < Tile; ++t) {
      for (int64_t c = 0; c < n; c += 16) _mm512_storeu_ps(a.wbuf + t * n + c, weights_16<Kind>(rows[t], c0 + c));
      mult[t] = _mm512_set1_ps(multipliers ? multipliers[scales[t][block]] : 1.0f);
    }
    int64_t r = 0;
    for (; r + 6 <= a.rows; r += 6) rows_block<Tile, 6>(a, c0, r, mult);
    switch (a.rows - r) {
      case 5: rows_block<Tile, 5>(a, c0, r, mult); break;
      case 4: rows_block<Tile, 4>(a, c0, r, mult); break;
      case 3: rows_block<Tile, 3>(a, c0, r, mult); break;
      case 2: rows_block<Tile, 2>(a, c0, r, mult); break;
      case 1: rows_block<Tile, 1>(a, c0, r, mult); break;
      default: break;
    }
  }
  for (int64_t r = 0; r < a.rows; ++r)
    for (int t = 0; t < Tile; ++t) a.y[r * a.out + o0 + t] = reduce_lanes(a.acc + (r * kTileRows + t) * kLanes);
}

template <int Kind>
BELUGA_AVX512 void many_rows(const LinearArgs& a, int64_t begin, int64_t end) {
  static_assert(kTileRows == 4);
  int64_t o0 = begin;
  for (; o0 + 4 <= end; o0 += 4) rows_tile<Kind, 4>(a, o0);
  for (; o0 < end; ++o0) rows_tile<Kind, 1>(a, o0);
}

}  // namespace

bool avx512_available() {
  static const bool available = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                                __builtin_cpu_supports("avx512vl") && avx2_available();
  return available;
}

BELUGA_AVX512 void linear_rows_avx512(const LinearArgs& a, int64_t begin, int64_t end) {
  const bool one = a.rows == 1;
  switch (a.storage) {
    case WeightStorage::kFP8: return one ? one_row<kKindFP8>(a, begin, end) : many_rows<kKindFP8>(a, begin, end);
    case WeightStorage::kFP4: return one ? one_row<kKindFP4>(a, begin, end) : many_rows<kKindFP4>(a, begin, end);
    case WeightStorage::kBF16:
      if (a.f32) return one ? one_row<kKindF32>(a, begin, end) : many_rows<kKindF32>(a, begin, end);
      return one ? one_row<kKindBF16>(a, begin, end) : many_rows<kKindBF16>(a, begin, end);
  }
}

#else  // not x86-64 with GCC/Clang

bool avx512_available() { return false; }
void linear_rows_avx512(const LinearArgs& a, int64_t begin, int64_t end) { linear_rows_portable(a, begin, end); }

#endif

}  // namespace beluga::cpu::kernels
