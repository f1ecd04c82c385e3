#include "engine/cpu/linear.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "engine/cpu/quant_sim.h"
#include "engine/cpu/thread_pool.h"
#include "engine/model/dtype.h"

namespace beluga::cpu {
namespace {

// Decoding tables: every e4m3 byte and every e2m1 nibble, as float. Exact
// (built from the scalar conversions in dtype.h, which tests pin).
struct DecodeTables {
  float fp8[256];
  float fp4[16];
  DecodeTables() {
    for (int i = 0; i < 256; ++i) fp8[i] = fp8_e4m3_to_f32(static_cast<uint8_t>(i));
    for (int i = 0; i < 16; ++i) fp4[i] = fp4_e2m1_to_f32(static_cast<uint8_t>(i));
  }
};
const DecodeTables& tables() {
  static const DecodeTables t;
  return t;
}

}  // namespace

void dequantize_rows(const LinearWeight& w, int64_t row_begin, int64_t row_end, std::span<float> out) {
  const int64_t in = w.in;
  for (int64_t r = row_begin; r < row_end; ++r) {
    float* dst = out.data() + (r - row_begin) * in;
    switch (w.storage) {
      case WeightStorage::kBF16:
        if (w.dtype == DType::F32) {
          std::memcpy(dst, w.weight.data() + r * in * 4, static_cast<size_t>(in) * 4);
        } else {
          const uint8_t* src = w.weight.data() + r * in * 2;
          for (int64_t c = 0; c < in; ++c) dst[c] = bf16_to_f32(static_cast<uint16_t>(src[2 * c] | (src[2 * c + 1] << 8)));
        }
        break;
      case WeightStorage::kFP8: {
        const int64_t scale_cols = (in + w.fp8_block.cols - 1) / w.fp8_block.cols;
        const uint8_t* scales = w.scale.data() + (r / w.fp8_block.rows) * scale_cols;
        const uint8_t* src = w.weight.data() + r * in;
        const float* decode = tables().fp8;
        for (int64_t c0 = 0; c0 < in; c0 += w.fp8_block.cols) {
          const float scale = e8m0_to_f32(scales[c0 / w.fp8_block.cols]);
          const int64_t c1 = std::min(in, c0 + w.fp8_block.cols);
          for (int64_t c = c0; c < c1; ++c) dst[c] = decode[src[c]] * scale;
        }
        break;
      }
      case WeightStorage::kFP4: {
        const int64_t scale_cols = (in + 31) / 32;
        const uint8_t* scales = w.scale.data() + r * scale_cols;
        const uint8_t* src = w.weight.data() + r * (in / 2);
        const float* decode = tables().fp4;
        for (int64_t c0 = 0; c0 < in; c0 += 32) {
          const float scale = e8m0_to_f32(scales[c0 / 32]);
          const int64_t c1 = std::min(in, c0 + 32);
          for (int64_t c = c0; c < c1; c += 2) {  // in is even: pairs never straddle a block
            const uint8_t byte = src[c / 2];
            dst[c] = decode[byte & 0xF] * scale;
            dst[c + 1] = decode[byte >> 4] * scale;
          }
        }
        break;
      }
    }
  }
}

void linear(const LinearWeight& w, std::span<const float> x, int64_t rows, std::span<float> y, ActivationQuant mode) {
  const int64_t in = w.in, out = w.out;
  std::span<const float> input = x;
  std::vector<float> quantised;
  if (mode == ActivationQuant::kAsWeight && w.storage != WeightStorage::kBF16) {
    quantised.assign(x.begin(), x.begin() + rows * in);
    for (int64_t r = 0; r < rows; ++r) fp8_quant_dequant(std::span<float>(quantised).subspan(r * in, in), 128);
    input = quantised;
  }
  // Parallel over output rows: each task dequantises a few weight rows once
  // and applies them to every input row.
  constexpr int64_t kRowsPerStep = 16;
  parallel_for(out, 64, [&](int64_t begin, int64_t end) {
    std::vector<float> weights(static_cast<size_t>(kRowsPerStep * in));
    for (int64_t o0 = begin; o0 < end; o0 += kRowsPerStep) {
      const int64_t o1 = std::min(end, o0 + kRowsPerStep);
      dequantize_rows(w, o0, o1, weights);
      for (int64_t r = 0; r < rows; ++r) {
        const float* xr = input.data() + r * in;
        for (int64_t o = o0; o < o1; ++o) {
          const float* wr = weights.data() + (o - o0) * in;
          float sum = 0.0f;
          for (int64_t c = 0; c < in; ++c) sum += wr[c] * xr[c];
          y[static_cast<size_t>(r * out + o)] = sum;
        }
      }
    }
  });
}

}  // namespace beluga::cpu
