// Small float32 operations of the V4 forward pass, written plainly: they are
// the reference the fast kernels are tested against.
#pragma once

#include <cstdint>
#include <cmath>
#include <span>

namespace beluga::cpu {

// out = w * x / sqrt(mean(x^2) + eps)  (model.py RMSNorm). out may alias x.
void rms_norm(std::span<const float> x, std::span<const float> weight, float eps, std::span<float> out);

// x *= 1 / sqrt(mean(x^2) + eps), no weight (the per-head query norm).
void rms_scale(std::span<float> x, float eps);

// In-place Walsh-Hadamard transform (Sylvester order) scaled by n^-0.5;
// n must be a power of two.
void hadamard(std::span<float> x);

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
inline float silu(float x) { return x / (1.0f + std::exp(-x)); }
// log(1 + e^x), stable for large |x| (torch.nn.functional.softplus, beta 1).
inline float softplus(float x) { return x > 20.0f ? x : std::log1p(std::exp(x)); }

}  // namespace beluga::cpu
