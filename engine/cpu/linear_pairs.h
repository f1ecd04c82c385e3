// Internal to engine/cpu: the "pairs" summation order of the fast linear
// for FP8 and FP4 weights (linear.h), shared by its AVX-512 BF16 kernel
// (linear_avx512_bf16.cpp) and its portable twin (linear_portable.cpp).
//
// Why an order of its own: every e4m3 and e2m1 weight is exactly a
// bfloat16, so weights decode by byte-table lookups (bytes in, bf16 out)
// instead of float conversions; and an FP8/FP4 linear's input, rounded to
// e4m3 with power-of-two block scales, is exactly bf16 too. So for one
// input row the AVX-512 BF16 dot product (vdpbf16ps: per float lane, two
// bf16 products added in turn with round-to-nearest, the odd element
// first) computes the same exact products as float32 multiply-adds with
// half the instructions (up to four rows share each decoded weight). More
// input rows, and inputs that are not rounded (ActivationQuant::kPlain),
// use float32 FMAs in the same order
// (vdpbf16ps retires half as many multiply-adds per cycle as FMAs, which
// only pays while decoding the weights dominates). Only the summation
// order differs from the lanes order (about 1e-7 relative).
//
// The order, per output row and input row, over groups of 128 columns:
//   p[j] = 0 for the 16 lanes j;
//   for step s = 0..3 of the group, for each lane j:
//     p[j] = fma(w[c1], x[c1], p[j]) then p[j] = fma(w[c0], x[c0], p[j])
//     with c1 = group + pairs_column(kind, s, 2j + 1), c0 = ... (s, 2j);
//   acc[j] = fma(p[j], multiplier of lane j's scale block, acc[j]);
// then the lanes are added pairwise (reduce_lanes). The columns of a step
// are where the SIMD decoder's byte shuffles put them (see pairs_column);
// every lane's columns lie in one scale block (FP8: the group's single
// block of 128, FP4: block 4g + j / 4), so the multiplier applies per lane.
// Weights enter the sums as their true values (e4m3, e2m1), multipliers as
// the true e8m0 scales. With e4m3-rounded inputs no partial sum is ever
// subnormal (the smallest nonzero product is 2^-9 * 2^-9 * 2^-22, the
// quantiser's smallest block scale), so vdpbf16ps's flushing of subnormals
// never acts and it equals the FMAs.
//
// BF16 weights take the same order with multiplier 1 (their inputs are never
// rounded, so always through FMAs).
//
// Shapes: `in` a multiple of 128 and, for FP8, 128-column scale blocks.
#pragma once

#include <cstdint>

#include "engine/model/weights.h"

namespace beluga::cpu::kernels {

inline constexpr int64_t kPairsGroup = 128;  // columns per group
inline constexpr int kPairsSteps = 4;        // vdpbf16ps steps per group and lane
inline constexpr int kPairsWords = 32;       // bf16 values per step (16 lanes x 2)

// Column (within its group of 128) of word k (0..31) of step s (0..3).
//   FP8:  steps come in pairs per 64 columns (a 64-byte load); each takes 8
//         bytes of every 16-byte lane (unpack low, then high):
//         64 (s / 2) + 16 (k / 8) + 8 (s % 2) + k % 8.
//   FP4:  one 64-byte load holds the group (two columns per byte); steps 0-1
//         take the low nibbles (even columns), 2-3 the high ones, each of
//         bytes 16 (k / 8) + 8 (s % 2) + k % 8.
//   BF16: the stored words in order, 32 s + k (no decoding; multiplier 1).
inline int64_t pairs_column(WeightStorage storage, int s, int k) {
  switch (storage) {
    case WeightStorage::kFP8: return 64 * (s / 2) + 16 * (k / 8) + 8 * (s % 2) + k % 8;
    case WeightStorage::kFP4: return 2 * (16 * (k / 8) + 8 * (s % 2) + k % 8) + s / 2;
    case WeightStorage::kBF16: break;
  }
  return 32 * s + k;
}

// The scale block (index into the weight row's scales) of lane j of group g.
inline int64_t pairs_scale_block(WeightStorage storage, int64_t g, int j) {
  return storage == WeightStorage::kFP8 ? g : 4 * g + j / 4;
}

// True when the pairs order applies to this weight shape (`f32`: kBF16
// storage holding float32, which keeps the lanes order).
inline bool pairs_shape(WeightStorage storage, bool f32, int64_t in, int64_t block_cols) {
  if (in % kPairsGroup != 0) return false;
  switch (storage) {
    case WeightStorage::kFP8: return block_cols == kPairsGroup;
    case WeightStorage::kFP4: return true;
    case WeightStorage::kBF16: break;
  }
  return !f32;
}

// The input rows as the kernel reads them: per row and group, step s's 32
// bf16 words in order (bf16 bits of x[group + pairs_column(s, k)]). The
// inputs are e4m3 values times powers of two, so the bits are exact.
void arrange_pairs_inputs(WeightStorage storage, const float* x, int64_t rows, int64_t in, uint16_t* out);
// The same as float32, each step's 32 values as its 16 odd words (k = 2j + 1)
// then its 16 even ones (k = 2j), as the several-rows kernel reads them.
void arrange_pairs_inputs_f32(WeightStorage storage, const float* x, int64_t rows, int64_t in, float* out);

// The e8m0 scale byte as its true float value (no unit factor).
const float* e8m0_values();

// The portable twin of the order above (linear_portable.cpp).
struct LinearArgs;
void linear_rows_pairs_portable(const LinearArgs& a, int64_t begin, int64_t end);

// False when this build or this CPU lacks AVX-512 F/BW/VL, BF16 or VBMI.
bool avx512_bf16_available();
void linear_rows_avx512_bf16(const LinearArgs& a, int64_t begin, int64_t end);

}  // namespace beluga::cpu::kernels
