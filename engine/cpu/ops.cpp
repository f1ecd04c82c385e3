#include "engine/cpu/ops.h"

#include <cmath>

namespace beluga::cpu {

void rms_norm(std::span<const float> x, std::span<const float> weight, float eps, std::span<float> out) {
  float sum = 0.0f;
  for (float v : x) sum += v * v;
  const float inverse = 1.0f / std::sqrt(sum / static_cast<float>(x.size()) + eps);
  for (size_t i = 0; i < x.size(); ++i) out[i] = weight[i] * (x[i] * inverse);
}

void rms_scale(std::span<float> x, float eps) {
  float sum = 0.0f;
  for (float v : x) sum += v * v;
  const float inverse = 1.0f / std::sqrt(sum / static_cast<float>(x.size()) + eps);
  for (float& v : x) v *= inverse;
}

void hadamard(std::span<float> x) {
  const size_t n = x.size();
  for (size_t half = 1; half < n; half *= 2) {
    for (size_t i = 0; i < n; i += 2 * half) {
      for (size_t j = i; j < i + half; ++j) {
        const float a = x[j], b = x[j + half];
        x[j] = a + b;
        x[j + half] = a - b;
      }
    }
  }
  const float scale = 1.0f / std::sqrt(static_cast<float>(n));
  for (float& v : x) v *= scale;
}

}  // namespace beluga::cpu
