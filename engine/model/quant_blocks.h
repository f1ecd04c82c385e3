// Block-scaled weight formats of DeepSeek V4, to and from float.
//
// FP8 weights (F8_E4M3 [rows, cols]) carry a ue8m0 scale tensor
// [ceil(rows/128), ceil(cols/128)]: W[r,c] = e4m3(Q[r,c]) * scale[r/128][c/128].
// Blocks start at 0 with stride 128; the last block in each direction may be
// partial and still has one scale (ceil-div, the official rule).
//
// FP4 routed experts (I8 [rows, cols/2]) pack two e2m1 values per byte, the
// even column in the low nibble, and carry a ue8m0 scale [rows, ceil(cols/32)]:
// W[r,c] = e2m1(nibble(r,c)) * scale[r][c/32].
//
// The quantisers choose power-of-two scales with the official rule
// s = 2^ceil(log2(max(amax, floor) / max_finite)) and round to nearest even;
// `beluga model synth` uses them to write checkpoints in the released format.
//
// These functions are the slow, obvious reference; fast kernels live in
// engine/cpu and are tested against them.
#pragma once

#include <cstdint>
#include <span>

#include "engine/base/result.h"

namespace beluga {

struct BlockShape {
  int64_t rows = 128;
  int64_t cols = 128;
};

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

inline constexpr int64_t kFp4BlockCols = 32;

// FP8 e4m3 + ue8m0 block scales -> float [rows*cols], row-major.
Status dequantize_fp8_blocks(std::span<const uint8_t> weight, std::span<const uint8_t> scale,
                             int64_t rows, int64_t cols, BlockShape block,
                             std::span<float> out);

// Packed FP4 e2m1 + ue8m0 row scales (one per 32 columns) -> float.
Status dequantize_fp4_rows(std::span<const uint8_t> packed, std::span<const uint8_t> scale,
                           int64_t rows, int64_t cols, std::span<float> out);

// float -> FP8 e4m3 + ue8m0 block scales.
Status quantize_fp8_blocks(std::span<const float> weight, int64_t rows, int64_t cols,
                           BlockShape block, std::span<uint8_t> out_weight,
                           std::span<uint8_t> out_scale);

// float -> packed FP4 e2m1 + ue8m0 row scales. `cols` must be even.
Status quantize_fp4_rows(std::span<const float> weight, int64_t rows, int64_t cols,
                         std::span<uint8_t> out_packed, std::span<uint8_t> out_scale);

}  // namespace beluga
