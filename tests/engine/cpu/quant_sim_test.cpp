// The activation quantiser (engine/cpu/quant_sim.h) against its definition
// through the scalar e4m3 conversions of engine/model/dtype.h, on blocks
// the AVX-512 path takes (multiples of 16) and blocks it leaves to the
// scalar code, with the values where rounding is delicate.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "engine/cpu/quant_sim.h"
#include "engine/model/dtype.h"

using namespace beluga;

namespace {

// The definition, block by block (quant_sim.h).
std::vector<float> oracle(std::vector<float> x, int64_t block) {
  for (size_t b0 = 0; b0 < x.size(); b0 += static_cast<size_t>(block)) {
    const size_t b1 = std::min(x.size(), b0 + static_cast<size_t>(block));
    float amax = 0.0f;
    for (size_t i = b0; i < b1; ++i) amax = std::max(amax, std::fabs(x[i]));
    const float scale = e8m0_to_f32(ue8m0_ceil_pow2(std::max(amax, 1e-4f) * (1.0f / 448.0f)));
    for (size_t i = b0; i < b1; ++i) x[i] = fp8_e4m3_to_f32(f32_to_fp8_e4m3(x[i] / scale)) * scale;
  }
  return x;
}

bool same_bits(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::memcmp(&a, &b, sizeof a) == 0;
}

}  // namespace

TEST_CASE("fp8 quantise-dequantise gives the definition's bits", "[cpu][quant]") {
  std::mt19937 rng(5);
  std::vector<float> x;
  // Every magnitude scale from subnormal e4m3 steps to beyond 448 relative
  // to the block maximum, ties between e4m3 neighbours, zeros of both signs.
  for (int i = 0; i < 4096; ++i) {
    const float magnitude = std::ldexp(std::uniform_real_distribution<float>(1.0f, 2.0f)(rng),
                                       std::uniform_int_distribution<int>(-30, 12)(rng));
    x.push_back(rng() & 1 ? -magnitude : magnitude);
  }
  for (int m = 0; m < 64; ++m) x.push_back(std::ldexp(static_cast<float>(2 * m + 1), -10));  // subnormal ties
  for (int m = 0; m < 64; ++m) x.push_back(std::ldexp(17.0f + 2.0f * m, -4));                // normal ties
  for (float v : {0.0f, -0.0f, 448.0f, 464.0f, 480.0f, 1e6f, -1e6f, 0x1p-6f, 0x1p-9f, 0x1.8p-10f})
    x.push_back(v);
  while (x.size() % 128) x.push_back(static_cast<float>(x.size() % 7) - 3.0f);

  for (int64_t block : {128, 64, 100, 7}) {
    INFO("block " << block);
    std::vector<float> got = x;
    cpu::fp8_quant_dequant(got, block);
    const std::vector<float> want = oracle(x, block);
    size_t differing = 0;
    for (size_t i = 0; i < x.size(); ++i) differing += !same_bits(got[i], want[i]);
    CHECK(differing == 0);
  }
}

TEST_CASE("fp8 quantise-dequantise keeps NaN and clamps infinities", "[cpu][quant]") {
  std::vector<float> x(32, 1.0f);
  x[3] = std::numeric_limits<float>::quiet_NaN();
  x[5] = std::numeric_limits<float>::infinity();
  x[9] = -std::numeric_limits<float>::infinity();
  std::vector<float> got = x;
  cpu::fp8_quant_dequant(got, 32);
  const std::vector<float> want = oracle(x, 32);
  for (size_t i = 0; i < x.size(); ++i) CHECK(same_bits(got[i], want[i]));
  CHECK(std::isnan(got[3]));
}
