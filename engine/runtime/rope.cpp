#include "engine/runtime/rope.h"

#include <algorithm>
#include <cmath>

namespace beluga {

Rope::Rope(const ModelConfig& config, int64_t compress_ratio) {
  const int64_t dim = config.qk_rope_head_dim;
  const bool yarn = compress_ratio > 0 && config.yarn.has_value();
  const double base = compress_ratio > 0 ? config.compress_rope_theta : config.rope_theta;
  freqs_.resize(static_cast<size_t>(dim / 2));
  for (int64_t i = 0; i < dim / 2; ++i) {
    // float32 as in model.py: 1 / base ** (arange(0, dim, 2) / dim)
    const float exponent = static_cast<float>(2 * i) / static_cast<float>(dim);
    freqs_[static_cast<size_t>(i)] = 1.0f / std::pow(static_cast<float>(base), exponent);
  }
  if (!yarn) return;
  const YarnScaling& y = *config.yarn;
  const double original = static_cast<double>(y.original_max_position_embeddings);
  auto correction_dim = [&](double rotations) {
    return static_cast<double>(dim) * std::log(original / (rotations * 2.0 * M_PI)) / (2.0 * std::log(base));
  };
  double low = std::max(std::floor(correction_dim(y.beta_fast)), 0.0);
  double high = std::min(std::ceil(correction_dim(y.beta_slow)), static_cast<double>(dim - 1));
  if (low == high) high += 0.001;
  for (int64_t i = 0; i < dim / 2; ++i) {
    const float ramp = std::clamp(static_cast<float>((static_cast<double>(i) - low) / (high - low)), 0.0f, 1.0f);
    const float smooth = 1.0f - ramp;
    float& f = freqs_[static_cast<size_t>(i)];
    f = f / static_cast<float>(y.factor) * (1.0f - smooth) + f * smooth;
  }
}

void Rope::apply(std::span<float> x, int64_t pos, bool inverse) const {
  for (size_t i = 0; i < freqs_.size(); ++i) {
    const float angle = static_cast<float>(pos) * freqs_[i];
    const float c = std::cos(angle), s = inverse ? -std::sin(angle) : std::sin(angle);
    const float re = x[2 * i], im = x[2 * i + 1];
    x[2 * i] = re * c - im * s;
    x[2 * i + 1] = re * s + im * c;
  }
}

}  // namespace beluga
