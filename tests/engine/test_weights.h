// Random weights in every stored format, for kernel tests (the CPU linear
// kernels against their reference, the CUDA kernels against the CPU).
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "engine/model/weights.h"

namespace beluga::testing {

inline std::vector<float> random_floats(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// A weight matrix with random contents in one storage format; the bytes
// live in the struct, the LinearWeight points at them.
struct TestWeight {
  std::vector<uint8_t> weight, scale;
  LinearWeight w;

  TestWeight(WeightStorage storage, DType dtype, int64_t out, int64_t in, uint32_t seed) {
    std::mt19937 rng(seed);
    w.storage = storage;
    w.dtype = dtype;
    w.out = out;
    w.in = in;
    auto byte = [&] { return static_cast<uint8_t>(rng() & 0xFF); };
    switch (storage) {
      case WeightStorage::kBF16:
        if (dtype == DType::F32) {
          const auto values = random_floats(static_cast<size_t>(out * in), seed, 0.05f);
          weight.resize(values.size() * 4);
          std::memcpy(weight.data(), values.data(), weight.size());
        } else {
          weight.resize(static_cast<size_t>(out * in * 2));
          for (size_t i = 0; i < weight.size(); i += 2) {
            weight[i] = byte();
            weight[i + 1] = static_cast<uint8_t>((rng() % 2 ? 0x80 : 0x00) | (0x3A + rng() % 6));  // |w| ~ 1e-3..1
          }
        }
        break;
      case WeightStorage::kFP8: {
        weight.resize(static_cast<size_t>(out * in));
        for (auto& b : weight) b = static_cast<uint8_t>(byte() & 0xF7 ? byte() & 0xF7 : 0x10);  // no NaN codes
        const int64_t blocks = ((out + 127) / 128) * ((in + 127) / 128);
        scale.resize(static_cast<size_t>(blocks));
        for (auto& s : scale) s = static_cast<uint8_t>(118 + rng() % 6);
        break;
      }
      case WeightStorage::kFP4: {
        weight.resize(static_cast<size_t>(out * in / 2));
        for (auto& b : weight) b = byte();
        scale.resize(static_cast<size_t>(out * ((in + 31) / 32)));
        for (auto& s : scale) s = static_cast<uint8_t>(120 + rng() % 6);
        break;
      }
    }
    w.weight = weight;
    w.scale = scale;
  }
};

}  // namespace beluga::testing
