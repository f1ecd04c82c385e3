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

// Dot product in a fixed order: 16 partial sums (element i into sum i mod
// 16, fused multiply-adds), then added pairwise (sum l + sum l+8, then +4,
// +2, +1). With AVX-512 when the CPU has it; dot_portable is the same
// arithmetic in plain C++ (bit-identical; the test oracle).
float dot(const float* a, const float* b, int64_t n);
float dot_portable(const float* a, const float* b, int64_t n);

// y[i] = fma(alpha, x[i], y[i]) for i < n (AVX-512 where present; each
// element's arithmetic is the same either way).
void add_scaled(float* y, float alpha, const float* x, int64_t n);

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
inline float silu(float x) { return x / (1.0f + std::exp(-x)); }
// log(1 + e^x), stable for large |x| (torch.nn.functional.softplus, beta 1).
inline float softplus(float x) { return x > 20.0f ? x : std::log1p(std::exp(x)); }

}  // namespace beluga::cpu
