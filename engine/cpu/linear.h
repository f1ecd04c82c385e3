// Linear layers y = W x on the CPU, for a batch of rows, with W in its
// stored format (BF16/F32, FP8 + 128x128 block scales, packed FP4 + 32-column
// scales), dequantised per use. This is the reference implementation: each
// output is one float32 dot product whose order does not depend on how many
// rows are in the batch, so results are bit-identical whether a prompt is
// fed at once, in chunks or token by token.
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

// x: [rows, w.in], y: [rows, w.out] (overwritten).
void linear(const LinearWeight& w, std::span<const float> x, int64_t rows, std::span<float> y,
            ActivationQuant mode = ActivationQuant::kAsWeight);

// Dequantises rows [row_begin, row_end) of W into out ([n, w.in]).
void dequantize_rows(const LinearWeight& w, int64_t row_begin, int64_t row_end, std::span<float> out);

}  // namespace beluga::cpu
