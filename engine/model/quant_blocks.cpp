#include "engine/model/quant_blocks.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "engine/model/dtype.h"

namespace beluga {
namespace {

constexpr float kFp8Max = 448.0f;
constexpr float kFp4Max = 6.0f;
constexpr float kFp8AmaxFloor = 1e-4f;             // as the official act_quant
constexpr float kFp4AmaxFloor = 6.0f * 0x1p-126f;  // as the official fp4 quant

Status check_size(const char* what, size_t got, int64_t want) {
  if (want < 0 || got != static_cast<size_t>(want))
    return make_error(std::string(what) + " holds " + std::to_string(got) +
                      " elements, expected " + std::to_string(want));
  return {};
}

Status check_shape(int64_t rows, int64_t cols, BlockShape block) {
  if (rows < 0 || cols < 0) return make_error("negative matrix shape");
  if (block.rows <= 0 || block.cols <= 0) return make_error("block shape must be positive");
  return {};
}

uint8_t scale_byte_for(float amax, float floor, float max_finite) {
  // fp32(1/max) multiplied, as the official fast_round_scale does.
  return ue8m0_ceil_pow2(std::max(amax, floor) * (1.0f / max_finite));
}

}  // namespace

Status dequantize_fp8_blocks(std::span<const uint8_t> weight, std::span<const uint8_t> scale,
                             int64_t rows, int64_t cols, BlockShape block,
                             std::span<float> out) {
  if (Status s = check_shape(rows, cols, block); !s) return s;
  const int64_t scale_cols = ceil_div(cols, block.cols);
  if (Status s = check_size("fp8 weight", weight.size(), rows * cols); !s) return s;
  if (Status s = check_size("fp8 scale", scale.size(), ceil_div(rows, block.rows) * scale_cols); !s)
    return s;
  if (Status s = check_size("output", out.size(), rows * cols); !s) return s;
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* scale_row = scale.data() + (r / block.rows) * scale_cols;
    for (int64_t c = 0; c < cols; ++c) {
      out[r * cols + c] = fp8_e4m3_to_f32(weight[r * cols + c]) * e8m0_to_f32(scale_row[c / block.cols]);
    }
  }
  return {};
}

Status dequantize_fp4_rows(std::span<const uint8_t> packed, std::span<const uint8_t> scale,
                           int64_t rows, int64_t cols, std::span<float> out) {
  if (rows < 0 || cols < 0 || cols % 2 != 0)
    return make_error("fp4 matrix needs non-negative rows and an even column count");
  const int64_t scale_cols = ceil_div(cols, kFp4BlockCols);
  if (Status s = check_size("fp4 weight", packed.size(), rows * cols / 2); !s) return s;
  if (Status s = check_size("fp4 scale", scale.size(), rows * scale_cols); !s) return s;
  if (Status s = check_size("output", out.size(), rows * cols); !s) return s;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      uint8_t byte = packed[(r * cols + c) / 2];
      uint8_t nibble = (c % 2 == 0) ? (byte & 0xF) : (byte >> 4);
      out[r * cols + c] = fp4_e2m1_to_f32(nibble) * e8m0_to_f32(scale[r * scale_cols + c / kFp4BlockCols]);
    }
  }
  return {};
}

Status quantize_fp8_blocks(std::span<const float> weight, int64_t rows, int64_t cols,
                           BlockShape block, std::span<uint8_t> out_weight,
                           std::span<uint8_t> out_scale) {
  if (Status s = check_shape(rows, cols, block); !s) return s;
  const int64_t scale_rows = ceil_div(rows, block.rows);
  const int64_t scale_cols = ceil_div(cols, block.cols);
  if (Status s = check_size("fp8 input", weight.size(), rows * cols); !s) return s;
  if (Status s = check_size("fp8 weight", out_weight.size(), rows * cols); !s) return s;
  if (Status s = check_size("fp8 scale", out_scale.size(), scale_rows * scale_cols); !s) return s;
  for (int64_t br = 0; br < scale_rows; ++br) {
    const int64_t r0 = br * block.rows, r1 = std::min(rows, r0 + block.rows);
    for (int64_t bc = 0; bc < scale_cols; ++bc) {
      const int64_t c0 = bc * block.cols, c1 = std::min(cols, c0 + block.cols);
      float amax = 0.0f;
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t c = c0; c < c1; ++c) amax = std::max(amax, std::fabs(weight[r * cols + c]));
      uint8_t scale_byte = scale_byte_for(amax, kFp8AmaxFloor, kFp8Max);
      out_scale[br * scale_cols + bc] = scale_byte;
      const float inverse = 1.0f / e8m0_to_f32(scale_byte);  // exact: a power of two
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t c = c0; c < c1; ++c)
          out_weight[r * cols + c] = f32_to_fp8_e4m3(weight[r * cols + c] * inverse);
    }
  }
  return {};
}

Status quantize_fp4_rows(std::span<const float> weight, int64_t rows, int64_t cols,
                         std::span<uint8_t> out_packed, std::span<uint8_t> out_scale) {
  if (rows < 0 || cols < 0 || cols % 2 != 0)
    return make_error("fp4 matrix needs non-negative rows and an even column count");
  const int64_t scale_cols = ceil_div(cols, kFp4BlockCols);
  if (Status s = check_size("fp4 input", weight.size(), rows * cols); !s) return s;
  if (Status s = check_size("fp4 weight", out_packed.size(), rows * cols / 2); !s) return s;
  if (Status s = check_size("fp4 scale", out_scale.size(), rows * scale_cols); !s) return s;
  std::fill(out_packed.begin(), out_packed.end(), uint8_t{0});
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = weight.data() + r * cols;
    for (int64_t b = 0; b < scale_cols; ++b) {
      const int64_t c0 = b * kFp4BlockCols, c1 = std::min(cols, c0 + kFp4BlockCols);
      float amax = 0.0f;
      for (int64_t c = c0; c < c1; ++c) amax = std::max(amax, std::fabs(row[c]));
      uint8_t scale_byte = scale_byte_for(amax, kFp4AmaxFloor, kFp4Max);
      out_scale[r * scale_cols + b] = scale_byte;
      const float inverse = 1.0f / e8m0_to_f32(scale_byte);
      for (int64_t c = c0; c < c1; ++c) {
        uint8_t nibble = f32_to_fp4_e2m1(row[c] * inverse);
        out_packed[(r * cols + c) / 2] |= (c % 2 == 0) ? nibble : static_cast<uint8_t>(nibble << 4);
      }
    }
  }
  return {};
}

}  // namespace beluga
