// dot and add_scaled (engine/cpu/ops.h): the SIMD forms give the portable
// forms' bits at every length, tails included, and stay close to a double
// precision sum.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <vector>

#include "engine/cpu/ops.h"
#include "tests/engine/test_weights.h"

using namespace beluga;

TEST_CASE("dot gives the portable order's bits at every length", "[cpu][ops]") {
  const auto a = beluga::testing::random_floats(600, 41), b = beluga::testing::random_floats(600, 43);
  for (int64_t n : {0, 1, 7, 15, 16, 17, 128, 129, 512, 600}) {
    INFO("n " << n);
    const float fast = cpu::dot(a.data(), b.data(), n), portable = cpu::dot_portable(a.data(), b.data(), n);
    CHECK(std::memcmp(&fast, &portable, sizeof fast) == 0);
    double exact = 0;
    for (int64_t i = 0; i < n; ++i) exact += static_cast<double>(a[i]) * b[i];
    CHECK(std::fabs(fast - exact) <= 1e-5 * (1.0 + std::fabs(exact)));
  }
}

TEST_CASE("add_scaled is a fused multiply-add per element", "[cpu][ops]") {
  const auto x = beluga::testing::random_floats(515, 47);
  auto y = beluga::testing::random_floats(515, 53);
  std::vector<float> want = y;
  for (size_t i = 0; i < want.size(); ++i) want[i] = std::fma(0.37f, x[i], want[i]);
  cpu::add_scaled(y.data(), 0.37f, x.data(), static_cast<int64_t>(y.size()));
  CHECK(std::memcmp(y.data(), want.data(), y.size() * sizeof(float)) == 0);
}
