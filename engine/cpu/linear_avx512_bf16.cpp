// The fast linear's pairs order (linear_pairs.h) with AVX-512 BF16: FP8 and
// FP4 weights decoded to bfloat16 by byte table lookups, multiplied into
// float lanes by vdpbf16ps. Performs exactly the operations of
// linear_rows_pairs_portable (linear_portable.cpp) in the same order:
// bit-identical, whatever the number of input rows.
//
// Decoding, per 64 weight bytes:
//   FP8  a 128-entry table per output byte (vpermi2b looks up 64 bytes at
//        once; the index's top bit, the sign, is ignored), the sign put
//        back into the high byte, then the low and high bytes interleaved
//        into words (unpack low and high: two steps of 32 values);
//   FP4  the low and the high nibbles (128 values), each looked up in two
//        16-entry tables (vpshufb) and interleaved the same way.
// The inputs are arranged once per call in the order the interleaving
// leaves the weights in (arrange_pairs_inputs; several input rows:
// arrange_pairs_inputs_f32, see rows_tile).
//
// Compiled for AVX-512 BF16 + VBMI through target attributes, run only after
// avx512_bf16_available() said yes; nothing inside calls into the standard
// library.
#include "engine/cpu/linear_kernels.h"
#include "engine/cpu/linear_pairs.h"

#if defined(__x86_64__) && defined(__GNUC__)
// See linear_avx512.cpp: GCC 12's unmasked AVX-512 conversions and the
// -Wmaybe-uninitialized false positive they raise once inlined.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#define BELUGA_AVX512_BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,avx512vbmi,avx2,fma")))
#endif

namespace beluga::cpu::kernels {

#ifdef BELUGA_AVX512_BF16
namespace {

// The bf16 bits of the e4m3 value with magnitude bits m7 (sign clear):
// exact, since e4m3 has 3 mantissa bits and a range inside bf16's.
constexpr uint16_t e4m3_magnitude_bf16(int m7) {
  if (m7 == 0x7F) return 0x7FC0;  // NaN (e4m3fn has no infinities)
  const int exponent = m7 >> 3, mantissa = m7 & 7;
  if (exponent != 0) return static_cast<uint16_t>(((exponent + 120) << 7) | (mantissa << 4));
  if (mantissa == 0) return 0;
  // Subnormal: mantissa x 2^-9, renormalised.
  int top = 2;
  while (!(mantissa >> top)) --top;
  return static_cast<uint16_t>(((top - 9 + 127) << 7) | ((mantissa - (1 << top)) << (7 - top)));
}

struct Fp8ByteTables {
  alignas(64) uint8_t low[128];
  alignas(64) uint8_t high[128];
};
constexpr Fp8ByteTables make_fp8_tables() {
  Fp8ByteTables t{};
  for (int m7 = 0; m7 < 128; ++m7) {
    t.low[m7] = static_cast<uint8_t>(e4m3_magnitude_bf16(m7) & 0xFF);
    t.high[m7] = static_cast<uint8_t>(e4m3_magnitude_bf16(m7) >> 8);
  }
  return t;
}
constexpr Fp8ByteTables kFp8Tables = make_fp8_tables();

// bf16 bits of the 16 e2m1 nibbles (bit 3 is the sign), as low and high
// bytes, once per 16-byte lane (vpshufb looks up within each lane).
struct Fp4ByteTables {
  alignas(64) uint8_t low[64];
  alignas(64) uint8_t high[64];
};
constexpr Fp4ByteTables make_fp4_tables() {
  constexpr uint8_t low[16] = {0x00, 0x00, 0x80, 0xC0, 0x00, 0x40, 0x80, 0xC0,
                               0x00, 0x00, 0x80, 0xC0, 0x00, 0x40, 0x80, 0xC0};
  constexpr uint8_t high[16] = {0x00, 0x3F, 0x3F, 0x3F, 0x40, 0x40, 0x40, 0x40,
                                0x80, 0xBF, 0xBF, 0xBF, 0xC0, 0xC0, 0xC0, 0xC0};
  Fp4ByteTables t{};
  for (int i = 0; i < 64; ++i) {
    t.low[i] = low[i % 16];
    t.high[i] = high[i % 16];
  }
  return t;
}
constexpr Fp4ByteTables kFp4Tables = make_fp4_tables();

// The decoders' constant registers.
struct Tables {
  __m512i a, b, c, d;  // FP8: low[0..63], low[64..127], high[0..63], high[64..127]; FP4: low, high, nibble mask
};

template <int Kind>
BELUGA_AVX512_BF16 inline Tables load_tables() {
  Tables t;
  if (Kind == kKindBF16) {  // nothing to look up
    t.a = t.b = t.c = t.d = _mm512_setzero_si512();
  } else if (Kind == kKindFP8) {
    t.a = _mm512_load_si512(kFp8Tables.low);
    t.b = _mm512_load_si512(kFp8Tables.low + 64);
    t.c = _mm512_load_si512(kFp8Tables.high);
    t.d = _mm512_load_si512(kFp8Tables.high + 64);
  } else {
    t.a = _mm512_load_si512(kFp4Tables.low);
    t.b = _mm512_load_si512(kFp4Tables.high);
    t.c = _mm512_set1_epi8(0x0F);
    t.d = _mm512_setzero_si512();
  }
  return t;
}

inline constexpr int64_t group_bytes(int kind) { return kind == kKindFP8 ? 128 : kind == kKindFP4 ? 64 : 256; }

// One group (128 columns) of a weight row as the four steps' bf16 operands.
template <int Kind>
BELUGA_AVX512_BF16 inline void decode_group(const Tables& t, const uint8_t* src, __m512i w[4]) {
  if (Kind == kKindBF16) {
    for (int s = 0; s < kPairsSteps; ++s) w[s] = _mm512_loadu_si512(src + 64 * s);
  } else if (Kind == kKindFP8) {
    const __m512i sign = _mm512_set1_epi8(static_cast<char>(0x80));
    for (int half = 0; half < 2; ++half) {
      const __m512i bytes = _mm512_loadu_si512(src + 64 * half);
      const __m512i low = _mm512_permutex2var_epi8(t.a, bytes, t.b);
      __m512i high = _mm512_permutex2var_epi8(t.c, bytes, t.d);
      high = _mm512_ternarylogic_epi32(high, bytes, sign, 0xF8);  // high | (bytes & 0x80)
      w[2 * half] = _mm512_unpacklo_epi8(low, high);
      w[2 * half + 1] = _mm512_unpackhi_epi8(low, high);
    }
  } else {
    const __m512i bytes = _mm512_loadu_si512(src);
    const __m512i even = _mm512_and_si512(bytes, t.c);
    const __m512i odd = _mm512_and_si512(_mm512_srli_epi16(bytes, 4), t.c);
    const __m512i even_low = _mm512_shuffle_epi8(t.a, even), even_high = _mm512_shuffle_epi8(t.b, even);
    const __m512i odd_low = _mm512_shuffle_epi8(t.a, odd), odd_high = _mm512_shuffle_epi8(t.b, odd);
    w[0] = _mm512_unpacklo_epi8(even_low, even_high);
    w[1] = _mm512_unpackhi_epi8(even_low, even_high);
    w[2] = _mm512_unpacklo_epi8(odd_low, odd_high);
    w[3] = _mm512_unpackhi_epi8(odd_low, odd_high);
  }
}

// The lanes' multipliers for group g of a row with these scale bytes.
template <int Kind>
BELUGA_AVX512_BF16 inline __m512 group_multipliers(const uint8_t* scales, int64_t g, const float* e8m0) {
  if (Kind == kKindBF16) return _mm512_set1_ps(1.0f);
  if (Kind == kKindFP8) return _mm512_set1_ps(e8m0[scales[g]]);
  const uint8_t* s = scales + 4 * g;  // lanes 4L .. 4L + 3 take block 4g + L
  __m512 m = _mm512_set1_ps(e8m0[s[0]]);
  m = _mm512_mask_broadcastss_ps(m, 0x00F0, _mm_load_ss(e8m0 + s[1]));
  m = _mm512_mask_broadcastss_ps(m, 0x0F00, _mm_load_ss(e8m0 + s[2]));
  return _mm512_mask_broadcastss_ps(m, 0xF000, _mm_load_ss(e8m0 + s[3]));
}

BELUGA_AVX512_BF16 inline __m512 dot(__m512 acc, __m512i w, __m512i x) {
  return _mm512_dpbf16_ps(acc, reinterpret_cast<__m512bh&>(w), reinterpret_cast<__m512bh&>(x));
}

// reduce_lanes's pairwise order (l + l+8, then +4, +2, +1), in registers:
// GCC's _mm512_reduce_add_ps adds the 256-bit halves, the 128-bit halves,
// then the pairs, then the last two (addition commutes, so exactly).
BELUGA_AVX512_BF16 inline float reduce(__m512 acc) { return _mm512_reduce_add_ps(acc); }

// Prefetches `bytes` from `p` (whole cache lines).
BELUGA_AVX512_BF16 inline void prefetch(const uint8_t* p, int64_t bytes) {
  for (int64_t line = 0; line < bytes; line += 64) _mm_prefetch(reinterpret_cast<const char*>(p + line), _MM_HINT_T0);
}

// A few input rows (decode; R <= kDotRows sequences decoded together):
// Tile weight rows decoded straight into registers and applied to each row
// through vdpbf16ps. Weight rows are contiguous, so while it reads these
// Tile rows it prefetches the next Tile rows (`next`, null for none) at the
// same pace: four rows' streams of 2-4 KiB each are too short for the
// hardware prefetcher to get ahead of memory.
inline constexpr int64_t kDotRows = 4;

template <int Kind, int Tile, int R>
BELUGA_AVX512_BF16 void dot_rows_tile(const LinearArgs& a, int64_t o0, const uint8_t* next) {
  const Tables tables = load_tables<Kind>();
  const float* e8m0 = e8m0_values();
  const uint8_t* rows[Tile];
  const uint8_t* scales[Tile];
  __m512 acc[R][Tile];
#pragma GCC unroll 16
  for (int t = 0; t < Tile; ++t) {
    rows[t] = weight_row(a, o0 + t);
    scales[t] = scale_row(a, o0 + t);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) acc[r][t] = _mm512_setzero_ps();
  }
  const int64_t groups = a.in / kPairsGroup;
  for (int64_t g = 0; g < groups; ++g) {
    if (next) prefetch(next + g * Tile * group_bytes(Kind), Tile * group_bytes(Kind));
#pragma GCC unroll 16
    for (int t = 0; t < Tile; ++t) {
      __m512i w[kPairsSteps];
      decode_group<Kind>(tables, rows[t] + g * group_bytes(Kind), w);
      const __m512 m = group_multipliers<Kind>(scales[t], g, e8m0);
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
        const uint16_t* x = a.xb + r * a.in + g * kPairsGroup;
        __m512 p = dot(_mm512_setzero_ps(), w[0], _mm512_loadu_si512(x));
#pragma GCC unroll 16
        for (int s = 1; s < kPairsSteps; ++s) p = dot(p, w[s], _mm512_loadu_si512(x + s * kPairsWords));
        acc[r][t] = _mm512_fmadd_ps(p, m, acc[r][t]);
      }
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
    for (int t = 0; t < Tile; ++t) a.y[r * a.out + o0 + t] = reduce(acc[r][t]);
}

template <int Kind, int R>
BELUGA_AVX512_BF16 void dot_rows(const LinearArgs& a, int64_t begin, int64_t end) {
  int64_t o0 = begin;
  for (; o0 + 4 <= end; o0 += 4) dot_rows_tile<Kind, 4, R>(a, o0, o0 + 8 <= end ? weight_row(a, o0 + 4) : nullptr);
  for (; o0 < end; ++o0) dot_rows_tile<Kind, 1, R>(a, o0, nullptr);
}

// One input row of any float32 values (kPlain: not rounded to e4m3, so
// not bf16): the same order with float32 FMAs, the weights split into odd
// and even floats as in rows_tile, the inputs from a.xf.
template <int Kind, int Tile>
BELUGA_AVX512_BF16 void one_row_tile_fma(const LinearArgs& a, int64_t o0, const uint8_t* next) {
  const Tables tables = load_tables<Kind>();
  const float* e8m0 = e8m0_values();
  const __m512i high_words = _mm512_set1_epi32(static_cast<int>(0xFFFF0000u));
  const uint8_t* rows[Tile];
  const uint8_t* scales[Tile];
  __m512 acc[Tile];
#pragma GCC unroll 16
  for (int t = 0; t < Tile; ++t) {
    rows[t] = weight_row(a, o0 + t);
    scales[t] = scale_row(a, o0 + t);
    acc[t] = _mm512_setzero_ps();
  }
  const int64_t groups = a.in / kPairsGroup;
  for (int64_t g = 0; g < groups; ++g) {
    if (next) prefetch(next + g * Tile * group_bytes(Kind), Tile * group_bytes(Kind));
    const float* x = a.xf + g * kPairsGroup;
#pragma GCC unroll 16
    for (int t = 0; t < Tile; ++t) {
      __m512i w[kPairsSteps];
      decode_group<Kind>(tables, rows[t] + g * group_bytes(Kind), w);
      __m512 p = _mm512_setzero_ps();
#pragma GCC unroll 16
      for (int s = 0; s < kPairsSteps; ++s) {
        p = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(w[s], high_words)),
                            _mm512_loadu_ps(x + s * kPairsWords), p);
        p = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(w[s], 16)),
                            _mm512_loadu_ps(x + s * kPairsWords + kLanes), p);
      }
      acc[t] = _mm512_fmadd_ps(p, group_multipliers<Kind>(scales[t], g, e8m0), acc[t]);
    }
  }
#pragma GCC unroll 16
  for (int t = 0; t < Tile; ++t) a.y[o0 + t] = reduce(acc[t]);
}

// Several input rows (prefill) run the same order with float32 fused
// multiply-adds: vdpbf16ps retires half as many multiply-adds per cycle as
// vfmadd231ps here, and once a weight is decoded for many input rows the
// multiply-adds are the cost. Each lane's step is two FMAs, its odd column
// then its even one, which is exactly what vdpbf16ps does (the products are
// exact, each addition rounds once). The weights are decoded to bf16 as
// for one row, then split into float vectors of the odd and the even words
// (a mask and a shift), in chunks of kChunkGroups groups (1024 columns) of
// the Tile rows, on the stack; the inputs come arranged the same way
// (arrange_pairs_inputs_f32).
inline constexpr int64_t kChunkGroups = 8;

struct DecodedChunk {
  alignas(64) float weights[kTileRows][kChunkGroups * kPairsGroup];  // per step: 16 odd, then 16 even
  alignas(64) float multipliers[kTileRows][kChunkGroups][kLanes];
};

// R input rows from r0 against weight rows [t0, t0 + Tile) of the chunk,
// over its groups [g0, g0 + groups). The R x Tile step sums stay in
// registers (each load feeds R or Tile FMAs; 4 x 2 leaves GCC room not to
// spill); the lanes' running sums live in a.acc, updated once per group.
template <int Tile, int R>
BELUGA_AVX512_BF16 void rows_block(const LinearArgs& a, const DecodedChunk& chunk, int64_t o0, int t0, int64_t r0,
                                   int64_t g0, int64_t groups) {
  // Locals, so that stores to the sums do not make GCC reload a's members.
  const int64_t in = a.in, total = in / kPairsGroup;
  const float* __restrict xf = a.xf + r0 * in + g0 * kPairsGroup;
  float* __restrict sums = a.acc + r0 * kTileRows * kLanes + t0 * kLanes;
  const float* __restrict weights[Tile];
#pragma GCC unroll 16
  for (int t = 0; t < Tile; ++t) weights[t] = chunk.weights[t0 + t];
  for (int64_t g = 0; g < groups; ++g) {
    __m512 p[R][Tile];
#pragma GCC unroll 16
    for (int s = 0; s < kPairsSteps; ++s) {
      const int64_t offset = g * kPairsGroup + s * kPairsWords;
      __m512 odd[R], even[R];
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
        odd[r] = _mm512_loadu_ps(xf + r * in + offset);
        even[r] = _mm512_loadu_ps(xf + r * in + offset + kLanes);
      }
#pragma GCC unroll 16
      for (int t = 0; t < Tile; ++t) {
        const __m512 w_odd = _mm512_load_ps(weights[t] + offset);
        const __m512 w_even = _mm512_load_ps(weights[t] + offset + kLanes);
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) {
          p[r][t] = _mm512_fmadd_ps(w_odd, odd[r], s == 0 ? _mm512_setzero_ps() : p[r][t]);
          p[r][t] = _mm512_fmadd_ps(w_even, even[r], p[r][t]);
        }
      }
    }
    const bool first = g0 + g == 0;
#pragma GCC unroll 16
    for (int t = 0; t < Tile; ++t) {
      const __m512 m = _mm512_load_ps(chunk.multipliers[t0 + t][g]);
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
        float* acc = sums + (r * kTileRows + t) * kLanes;
        _mm512_storeu_ps(acc, _mm512_fmadd_ps(p[r][t], m, first ? _mm512_setzero_ps() : _mm512_loadu_ps(acc)));
      }
    }
  }
  if (g0 + groups == total)
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < Tile; ++t) a.y[(r0 + r) * a.out + o0 + t0 + t] = reduce(_mm512_loadu_ps(sums + (r * kTileRows + t) * kLanes));
}

// `next`: the next tile's first weight row (null for none), whose first
// chunk is prefetched while the last chunk of this tile is applied, as each
// chunk's successor is: four short row streams do not wake the hardware
// prefetcher in time.
template <int Kind, int Tile>
BELUGA_AVX512_BF16 void rows_tile(const LinearArgs& a, int64_t o0, const uint8_t* next) {
  const Tables tables = load_tables<Kind>();
  const float* e8m0 = e8m0_values();
  const __m512i high_words = _mm512_set1_epi32(static_cast<int>(0xFFFF0000u));
  const uint8_t* rows[Tile];
  const uint8_t* scales[Tile];
  for (int t = 0; t < Tile; ++t) {
    rows[t] = weight_row(a, o0 + t);
    scales[t] = scale_row(a, o0 + t);
  }
  DecodedChunk chunk;
  const int64_t total = a.in / kPairsGroup;
  for (int64_t g0 = 0; g0 < total; g0 += kChunkGroups) {
    const int64_t groups = total - g0 < kChunkGroups ? total - g0 : kChunkGroups;
    const int64_t g1 = g0 + groups, next_groups = total - g1 < kChunkGroups ? total - g1 : kChunkGroups;
    for (int t = 0; t < Tile; ++t) {
      if (g1 < total)
        prefetch(rows[t] + g1 * group_bytes(Kind), next_groups * group_bytes(Kind));
      else if (next)
        prefetch(next + t * (a.in / kPairsGroup) * group_bytes(Kind), groups * group_bytes(Kind));
    }
    for (int t = 0; t < Tile; ++t)
      for (int64_t g = 0; g < groups; ++g) {
        __m512i w[kPairsSteps];
        decode_group<Kind>(tables, rows[t] + (g0 + g) * group_bytes(Kind), w);
        for (int s = 0; s < kPairsSteps; ++s) {
          float* dst = chunk.weights[t] + g * kPairsGroup + s * kPairsWords;
          _mm512_store_si512(dst, _mm512_and_si512(w[s], high_words));  // odd words: already a float's top half
          _mm512_store_si512(dst + kLanes, _mm512_slli_epi32(w[s], 16));
        }
        _mm512_store_ps(chunk.multipliers[t][g], group_multipliers<Kind>(scales[t], g0 + g, e8m0));
      }
    constexpr int kPart = Tile;  // weight rows per rows_block
    for (int t0 = 0; t0 < Tile; t0 += kPart) {
      int64_t r = 0;
      for (; r + 4 <= a.rows; r += 4) rows_block<kPart, 4>(a, chunk, o0, t0, r, g0, groups);
      switch (a.rows - r) {
        case 3: rows_block<kPart, 3>(a, chunk, o0, t0, r, g0, groups); break;
        case 2: rows_block<kPart, 2>(a, chunk, o0, t0, r, g0, groups); break;
        case 1: rows_block<kPart, 1>(a, chunk, o0, t0, r, g0, groups); break;
        default: break;
      }
    }
  }
}

template <int Kind>
BELUGA_AVX512_BF16 void rows_range(const LinearArgs& a, int64_t begin, int64_t end) {
  static_assert(kTileRows == 4);
  int64_t o0 = begin;
  if (a.xb && Kind != kKindBF16) {  // a few e4m3-rounded rows (bf16 values), see linear.cpp
    switch (a.rows) {
      case 1: return dot_rows<Kind, 1>(a, begin, end);
      case 2: return dot_rows<Kind, 2>(a, begin, end);
      case 3: return dot_rows<Kind, 3>(a, begin, end);
      default: return dot_rows<Kind, 4>(a, begin, end);
    }
  } else if (a.rows == 1) {
    for (; o0 + 4 <= end; o0 += 4) one_row_tile_fma<Kind, 4>(a, o0, o0 + 8 <= end ? weight_row(a, o0 + 4) : nullptr);
    for (; o0 < end; ++o0) one_row_tile_fma<Kind, 1>(a, o0, nullptr);
  } else {
    for (; o0 + 4 <= end; o0 += 4) rows_tile<Kind, 4>(a, o0, o0 + 8 <= end ? weight_row(a, o0 + 4) : nullptr);
    for (; o0 < end; ++o0) rows_tile<Kind, 1>(a, o0, nullptr);
  }
}

}  // namespace

bool avx512_bf16_available() {
  static const bool available = __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512vbmi") &&
                                avx512_available();
  return available;
}

BELUGA_AVX512_BF16 void linear_rows_avx512_bf16(const LinearArgs& a, int64_t begin, int64_t end) {
  switch (a.storage) {
    case WeightStorage::kFP8: return rows_range<kKindFP8>(a, begin, end);
    case WeightStorage::kFP4: return rows_range<kKindFP4>(a, begin, end);
    case WeightStorage::kBF16: return rows_range<kKindBF16>(a, begin, end);
  }
}

#else  // not x86-64 with GCC/Clang

bool avx512_bf16_available() { return false; }
void linear_rows_avx512_bf16(const LinearArgs& a, int64_t begin, int64_t end) {
  linear_rows_pairs_portable(a, begin, end);
}

#endif

}  // namespace beluga::cpu::kernels
