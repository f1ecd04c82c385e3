// Linear layers y = W x on the CPU, for a batch of rows, with W in its
// stored format (BF16/F32, FP8 + 128x128 block scales, packed FP4 + 32-column
// scales), dequantised as it is used (never a dequantised copy of W).
//
// Two implementations with one contract: each output's arithmetic does not
// depend on how many rows are in the batch or how the rows are split across
// threads, so results are bit-identical whether a prompt is fed at once, in
// chunks or token by token.
//   kReference  one float32 dot product per output, column by column: the
//               slow, obvious version, kept as the test oracle.
//   kFast       (the default) for each scale block, 16 partial sums (column
//               c of the block goes to lane c mod 16, fused multiply-add of
//               the unscaled weight), then lane-wise acc = fma(partial,
//               scale, acc); at the end the lanes are added pairwise
//               (l + l+8, then + 4, + 2, + 1). Run with AVX2/FMA/F16C
//               intrinsics when the CPU has them and every scale block is a
//               multiple of 16 columns (with AVX-512 when the CPU has
//               that), else by portable code that performs
//               the same operations in the same order (bit-identical).
//               Because block scales are powers of two, this equals the
//               dot product of the dequantised row summed in that order.
//               On CPUs with AVX-512 BF16 and VBMI, FP8/FP4 weights (with
//               128-column groups) take a second order, the pairs order of
//               linear_pairs.h: weights decoded by byte-table lookups to
//               bf16, then up to four e4m3-rounded input rows through
//               bf16 dot products, anything else through float32 FMAs in
//               the same order. Which order a weight gets depends on the CPU, never
//               on the batch or the threads.
// They differ only in summation order (~1e-7 relative).
//
// As in the official `linear()`, an FP8 or FP4 weight first quantises each
// input row to FP8 e4m3 in blocks of 128 (quant_sim.h); kPlain skips that
// (the grouped wo_a einsum, which uses the dequantised weight directly).
#pragma once

#include <cstdint>
#include <span>

#include "engine/model/weights.h"

namespace beluga::cpu {

enum class ActivationQuant { kAsWeight, kPlain };
enum class LinearKernel {
  kFast,
  kReference,
  kPortable,       // kFast's summation order without SIMD, for tests
  kAvx2,           // the lanes order with AVX2 (no AVX-512), for tests
  kPortableLanes,  // the lanes order without SIMD, for tests
};

// x: [rows, w.in], y: [rows, w.out] (overwritten).
void linear(const LinearWeight& w, std::span<const float> x, int64_t rows, std::span<float> y,
            ActivationQuant mode = ActivationQuant::kAsWeight, LinearKernel kernel = LinearKernel::kFast);

// y = W[row_begin, row_begin + row_count) x: the same, with rows
// [row_begin, row_begin + row_count) of W (y: [rows, row_count]).
void linear_row_range(const LinearWeight& w, int64_t row_begin, int64_t row_count, std::span<const float> x,
                      int64_t rows, std::span<float> y, ActivationQuant mode = ActivationQuant::kAsWeight,
                      LinearKernel kernel = LinearKernel::kFast);

// Whether kFast uses SIMD on this machine for this weight, and whether it
// takes the pairs order (AVX-512 BF16) for it.
bool linear_uses_simd(const LinearWeight& w);
bool linear_uses_pairs(const LinearWeight& w);

// Dequantises rows [row_begin, row_end) of W into out ([n, w.in]).
void dequantize_rows(const LinearWeight& w, int64_t row_begin, int64_t row_end, std::span<float> out);

}  // namespace beluga::cpu
