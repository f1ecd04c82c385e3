// The fast linear (linear.h) with AVX2 + FMA + F16C intrinsics. Performs
// exactly the operations of linear_portable.cpp in the same order, so the
// two are bit-identical; only the decoding of stored weights and the 16
// lanes are vectorised.
//
// The functions are compiled for AVX2 through a target attribute (not
// -mavx2 on the file), so nothing else in the program can pick up AVX2
// code, and they run only after avx2_available() said yes. Nothing inside
// calls into the standard library, whose inline functions would otherwise
// be compiled for AVX2 here and could be shared with the rest of the
// program by the linker.
#include "engine/cpu/linear_kernels.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define BELUGA_AVX2 __attribute__((target("avx2,fma,f16c")))
#endif

namespace beluga::cpu::kernels {

#ifdef BELUGA_AVX2
namespace {

// 16 e4m3 bytes -> 16 e4m3 values / 256, as two registers of 8: the bits
// moved into an f16 (sign to bit 15, exponent and mantissa to bits 13..7;
// shifting b << 8 right arithmetically by one puts them there and copies
// the sign into bit 14, which the mask clears).
BELUGA_AVX2 inline void fp8_units_16(const uint8_t* src, __m256& first, __m256& second) {
  __m256i b = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src)));
  __m256i half = _mm256_and_si256(_mm256_srai_epi16(_mm256_slli_epi16(b, 8), 1), _mm256_set1_epi16(static_cast<short>(0xBFFF)));
  first = _mm256_cvtph_ps(_mm256_castsi256_si128(half));
  second = _mm256_cvtph_ps(_mm256_extracti128_si256(half, 1));
}

BELUGA_AVX2 inline void decode_fp8_16(const uint8_t* src, float* dst) {
  __m256 first, second;
  fp8_units_16(src, first, second);
  _mm256_storeu_ps(dst, first);
  _mm256_storeu_ps(dst + 8, second);
}

// e2m1 values are kept doubled (0, 1, 2, 3, 4, 6, 8, 12 and negatives: all
// integers), so a table lookup of bytes gives them; the block multiplier
// carries the 1/2 (see linear_portable.cpp). Doubling and halving by powers
// of two is exact, so the sums are those of the plain values.
BELUGA_AVX2 inline __m128i fp4_doubled_table() {
  return _mm_setr_epi8(0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12);
}

// 8 packed bytes = 16 e2m1 values (low nibble first) -> 16 doubled values as
// int8, in column order.
BELUGA_AVX2 inline __m128i fp4_doubled_16(const uint8_t* src) {
  __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src));
  __m128i lo = _mm_and_si128(b, _mm_set1_epi8(0x0F));
  __m128i hi = _mm_and_si128(_mm_srli_epi16(b, 4), _mm_set1_epi8(0x0F));
  return _mm_shuffle_epi8(fp4_doubled_table(), _mm_unpacklo_epi8(lo, hi));
}

// 16 packed bytes = 32 e2m1 values -> 32 floats (doubled).
BELUGA_AVX2 inline void decode_fp4_32(const uint8_t* src, float* dst) {
  for (int half = 0; half < 2; ++half) {
    __m128i v = fp4_doubled_16(src + 8 * half);
    _mm256_storeu_ps(dst + 16 * half, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v)));
    _mm256_storeu_ps(dst + 16 * half + 8, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(v, 8))));
  }
}

BELUGA_AVX2 inline void decode_bf16_8(const uint8_t* src, float* dst) {
  __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src)));
  _mm256_storeu_ps(dst, _mm256_castsi256_ps(_mm256_slli_epi32(h, 16)));
}

// Columns [c0, c0 + n) of output row o, n a multiple of 16 (of 32 for FP4).
BELUGA_AVX2 void decode_block(const LinearArgs& a, int64_t o, int64_t c0, int64_t n, float* dst) {
  switch (a.storage) {
    case WeightStorage::kFP8: {
      const uint8_t* src = a.weight + (a.row0 + o) * a.in + c0;
      for (int64_t c = 0; c < n; c += 16) decode_fp8_16(src + c, dst + c);
      break;
    }
    case WeightStorage::kFP4: {
      const uint8_t* src = a.weight + (a.row0 + o) * (a.in / 2) + c0 / 2;
      for (int64_t c = 0; c < n; c += 32) decode_fp4_32(src + c / 2, dst + c);
      break;
    }
    case WeightStorage::kBF16:
      if (a.f32) {
        const float* src = reinterpret_cast<const float*>(a.weight) + (a.row0 + o) * a.in + c0;
        for (int64_t c = 0; c < n; c += 8) _mm256_storeu_ps(dst + c, _mm256_loadu_ps(src + c));
      } else {
        const uint8_t* src = a.weight + ((a.row0 + o) * a.in + c0) * 2;
        for (int64_t c = 0; c < n; c += 8) decode_bf16_8(src + 2 * c, dst + c);
      }
      break;
  }
}

}  // namespace

bool avx2_available() {
  static const bool available = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                                __builtin_cpu_supports("f16c");
  return available;
}

namespace {

// Input rows [r0, r0 + 3) against the Tile decoded weight rows of one scale
// block, one half of the lanes at a time (lanes 0-7, then 8-15): each lane's
// chain of fused multiply-adds is the one the single-row loop in tile_rows
// performs, so results do not change, but 3 x Tile partial sums share each
// weight and input load (prefill is bound by loads otherwise).
template <int Tile>
BELUGA_AVX2 inline void three_rows(const LinearArgs& a, int64_t c0, int64_t r0, const __m256* mult) {
  const int64_t n = a.block_cols;
  const float* x0 = a.x + r0 * a.in + c0;
  const float* x1 = x0 + a.in;
  const float* x2 = x1 + a.in;
  for (int half = 0; half < 16; half += 8) {
    __m256 p[Tile][3];
    for (int t = 0; t < Tile; ++t) p[t][0] = p[t][1] = p[t][2] = _mm256_setzero_ps();
    for (int64_t c = half; c < n; c += 16) {
      const __m256 v0 = _mm256_loadu_ps(x0 + c), v1 = _mm256_loadu_ps(x1 + c), v2 = _mm256_loadu_ps(x2 + c);
      for (int t = 0; t < Tile; ++t) {
        const __m256 w = _mm256_loadu_ps(a.wbuf + t * n + c);
        p[t][0] = _mm256_fmadd_ps(w, v0, p[t][0]);
        p[t][1] = _mm256_fmadd_ps(w, v1, p[t][1]);
        p[t][2] = _mm256_fmadd_ps(w, v2, p[t][2]);
      }
    }
    for (int t = 0; t < Tile; ++t)
      for (int r = 0; r < 3; ++r) {
        float* acc = a.acc + ((r0 + r) * kTileRows + t) * kLanes + half;
        _mm256_storeu_ps(acc, _mm256_fmadd_ps(p[t][r], mult[t], _mm256_loadu_ps(acc)));
      }
  }
}

// Output rows [o0, o0 + Tile) of every input row. Tile is a compile-time
// constant so the 2 x Tile partial sums live in registers.
template <int Tile>
BELUGA_AVX2 void tile_rows(const LinearArgs& a, int64_t o0) {
  for (int64_t i = 0; i < a.rows * kTileRows * kLanes; i += 8) _mm256_storeu_ps(a.acc + i, _mm256_setzero_ps());
  const int64_t n = a.block_cols;  // the caller checked: in is a multiple of block_cols
  for (int64_t c0 = 0, block = 0; c0 < a.in; c0 += n, ++block) {
    __m256 mult[Tile];
    for (int t = 0; t < Tile; ++t) {
      decode_block(a, o0 + t, c0, n, a.wbuf + t * n);
      mult[t] = _mm256_set1_ps(block_multiplier(a, o0 + t, block));
    }
    int64_t r = 0;
    for (; r + 3 <= a.rows; r += 3) three_rows<Tile>(a, c0, r, mult);
    for (; r < a.rows; ++r) {
      const float* x = a.x + r * a.in + c0;
      __m256 p0[Tile], p1[Tile];
      for (int t = 0; t < Tile; ++t) p0[t] = p1[t] = _mm256_setzero_ps();
      for (int64_t c = 0; c < n; c += 16) {
        const __m256 x0 = _mm256_loadu_ps(x + c), x1 = _mm256_loadu_ps(x + c + 8);
        for (int t = 0; t < Tile; ++t) {
          const float* w = a.wbuf + t * n + c;
          p0[t] = _mm256_fmadd_ps(_mm256_loadu_ps(w), x0, p0[t]);
          p1[t] = _mm256_fmadd_ps(_mm256_loadu_ps(w + 8), x1, p1[t]);
        }
      }
      for (int t = 0; t < Tile; ++t) {
        float* acc = a.acc + (r * kTileRows + t) * kLanes;
        _mm256_storeu_ps(acc, _mm256_fmadd_ps(p0[t], mult[t], _mm256_loadu_ps(acc)));
        _mm256_storeu_ps(acc + 8, _mm256_fmadd_ps(p1[t], mult[t], _mm256_loadu_ps(acc + 8)));
      }
    }
  }
  for (int64_t r = 0; r < a.rows; ++r)
    for (int t = 0; t < Tile; ++t) a.y[r * a.out + o0 + t] = reduce_lanes(a.acc + (r * kTileRows + t) * kLanes);
}

// One input row (decode): the weights go from memory straight into
// registers, with no trip through wbuf, since nothing would reuse them.
// Each lane's chain of fused multiply-adds and the per-block multiply are
// those of tile_rows' single-row loop, so the results are the same bits.
// Columns [c, c + 16) of a weight row as two registers of 8, in the units
// decode_block stores.
template <int Kind>
BELUGA_AVX2 inline void weights_16(const uint8_t* row, int64_t c, __m256& w0, __m256& w1) {
  switch (Kind) {
    case kKindFP8:
      fp8_units_16(row + c, w0, w1);
      break;
    case kKindFP4: {
      __m128i v = fp4_doubled_16(row + c / 2);
      w0 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v));
      w1 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(v, 8)));
      break;
    }
    case kKindBF16: {
      __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * c)));
      __m256i g = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * c + 16)));
      w0 = _mm256_castsi256_ps(_mm256_slli_epi32(h, 16));
      w1 = _mm256_castsi256_ps(_mm256_slli_epi32(g, 16));
      break;
    }
    default: {
      const float* f = reinterpret_cast<const float*>(row) + c;
      w0 = _mm256_loadu_ps(f);
      w1 = _mm256_loadu_ps(f + 8);
      break;
    }
  }
}

// Output rows [o0, o0 + Tile) of the single input row.
template <int Kind, int Tile>
BELUGA_AVX2 void one_row_tile(const LinearArgs& a, int64_t o0) {
  const uint8_t* rows[Tile];
  const uint8_t* scales[Tile];
  const float* multipliers = multiplier_table(a.storage);
  __m256 acc0[Tile], acc1[Tile];
  for (int t = 0; t < Tile; ++t) {
    rows[t] = weight_row(a, o0 + t);
    scales[t] = scale_row(a, o0 + t);
    acc0[t] = acc1[t] = _mm256_setzero_ps();
  }
  const int64_t n = a.block_cols;
  for (int64_t c0 = 0, block = 0; c0 < a.in; c0 += n, ++block) {
    __m256 p0[Tile], p1[Tile];
    for (int t = 0; t < Tile; ++t) p0[t] = p1[t] = _mm256_setzero_ps();
    for (int64_t c = c0; c < c0 + n; c += 16) {
      const __m256 x0 = _mm256_loadu_ps(a.x + c), x1 = _mm256_loadu_ps(a.x + c + 8);
      for (int t = 0; t < Tile; ++t) {
        __m256 w0, w1;
        weights_16<Kind>(rows[t], c, w0, w1);
        p0[t] = _mm256_fmadd_ps(w0, x0, p0[t]);
        p1[t] = _mm256_fmadd_ps(w1, x1, p1[t]);
      }
    }
    for (int t = 0; t < Tile; ++t) {
      const __m256 mult = _mm256_set1_ps(multipliers ? multipliers[scales[t][block]] : 1.0f);
      acc0[t] = _mm256_fmadd_ps(p0[t], mult, acc0[t]);
      acc1[t] = _mm256_fmadd_ps(p1[t], mult, acc1[t]);
    }
  }
  for (int t = 0; t < Tile; ++t) {
    float lanes[kLanes];
    _mm256_storeu_ps(lanes, acc0[t]);
    _mm256_storeu_ps(lanes + 8, acc1[t]);
    a.y[o0 + t] = reduce_lanes(lanes);
  }
}

template <int Kind>
BELUGA_AVX2 void one_row(const LinearArgs& a, int64_t begin, int64_t end) {
  int64_t o0 = begin;
  for (; o0 + 2 <= end; o0 += 2) one_row_tile<Kind, 2>(a, o0);
  if (o0 < end) one_row_tile<Kind, 1>(a, o0);
}

}  // namespace

BELUGA_AVX2 void linear_rows_avx2(const LinearArgs& a, int64_t begin, int64_t end) {
  static_assert(kTileRows == 4);
  if (a.rows == 1) {
    switch (a.storage) {
      case WeightStorage::kFP8: return one_row<kKindFP8>(a, begin, end);
      case WeightStorage::kFP4: return one_row<kKindFP4>(a, begin, end);
      case WeightStorage::kBF16: return a.f32 ? one_row<kKindF32>(a, begin, end) : one_row<kKindBF16>(a, begin, end);
    }
  }
  int64_t o0 = begin;
  for (; o0 + 4 <= end; o0 += 4) tile_rows<4>(a, o0);
  switch (end - o0) {
    case 3: tile_rows<3>(a, o0); break;
    case 2: tile_rows<2>(a, o0); break;
    case 1: tile_rows<1>(a, o0); break;
    default: break;
  }
}

#else  // not x86-64 with GCC/Clang: the portable kernel only

bool avx2_available() { return false; }
void linear_rows_avx2(const LinearArgs& a, int64_t begin, int64_t end) { linear_rows_portable(a, begin, end); }

#endif

}  // namespace beluga::cpu::kernels
