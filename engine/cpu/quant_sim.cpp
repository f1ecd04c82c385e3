#include "engine/cpu/quant_sim.h"

#include <algorithm>
#include <cmath>

#include "engine/model/dtype.h"

namespace beluga::cpu {

void fp8_quant_dequant(std::span<float> x, int64_t block) {
  for (size_t b0 = 0; b0 < x.size(); b0 += static_cast<size_t>(block)) {
    const size_t b1 = std::min(x.size(), b0 + static_cast<size_t>(block));
    float amax = 0.0f;
    for (size_t i = b0; i < b1; ++i) amax = std::max(amax, std::fabs(x[i]));
    const float scale = e8m0_to_f32(ue8m0_ceil_pow2(std::max(amax, 1e-4f) * (1.0f / 448.0f)));
    for (size_t i = b0; i < b1; ++i) x[i] = fp8_e4m3_to_f32(f32_to_fp8_e4m3(x[i] / scale)) * scale;
  }
}

void fp4_quant_dequant(std::span<float> x, int64_t block) {
  for (size_t b0 = 0; b0 < x.size(); b0 += static_cast<size_t>(block)) {
    const size_t b1 = std::min(x.size(), b0 + static_cast<size_t>(block));
    float amax = 0.0f;
    for (size_t i = b0; i < b1; ++i) amax = std::max(amax, std::fabs(x[i]));
    const float scale = e8m0_to_f32(ue8m0_ceil_pow2(std::max(amax, 6.0f * 0x1p-126f) * (1.0f / 6.0f)));
    for (size_t i = b0; i < b1; ++i) x[i] = fp4_e2m1_to_f32(f32_to_fp4_e2m1(x[i] / scale)) * scale;
  }
}

}  // namespace beluga::cpu
