// The fast CPU linear (engine/cpu/linear.h) against the reference, in every
// storage: close to it, bit-identical between its SIMD and portable forms,
// and bit-identical whatever the batch size.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <vector>

#include "engine/cpu/linear.h"
#include "engine/model/dtype.h"
#include "tests/engine/test_weights.h"

using namespace beluga;
using beluga::testing::random_floats;
using beluga::testing::TestWeight;

namespace {

struct Shape {
  const char* name;
  WeightStorage storage;
  DType dtype;
  int64_t out, in;
};

// SIMD-eligible shapes and ones that fall back (columns not a multiple of
// the scale block or of 16). The "bf16", "fp8" and "fp4 whole groups" shapes
// take the pairs order where the CPU has AVX-512 BF16 (columns a multiple
// of 128).
const Shape kShapes[] = {
    {"bf16", WeightStorage::kBF16, DType::BF16, 37, 256},
    {"bf16 ragged", WeightStorage::kBF16, DType::BF16, 9, 20},
    {"f32", WeightStorage::kBF16, DType::F32, 21, 384},
    {"fp8", WeightStorage::kFP8, DType::F8_E4M3, 150, 512},
    {"fp8 partial blocks", WeightStorage::kFP8, DType::F8_E4M3, 17, 200},
    {"fp4", WeightStorage::kFP4, DType::I8, 33, 320},
    {"fp4 whole groups", WeightStorage::kFP4, DType::I8, 19, 384},
    {"fp4 ragged", WeightStorage::kFP4, DType::I8, 12, 48},
};

std::vector<float> run(const LinearWeight& w, const std::vector<float>& x, int64_t rows, cpu::LinearKernel kernel) {
  std::vector<float> y(static_cast<size_t>(rows * w.out));
  cpu::linear(w, x, rows, y, cpu::ActivationQuant::kAsWeight, kernel);
  return y;
}

// Summation orders differ by ~1e-7 relative; 2e-5 of the largest output is
// far outside that and far inside any real error.
void check_close_to_reference(const std::vector<float>& fast, const std::vector<float>& reference) {
  float worst = 0, scale = 1;
  for (size_t i = 0; i < reference.size(); ++i) {
    worst = std::max(worst, std::fabs(fast[i] - reference[i]));
    scale = std::max(scale, std::fabs(reference[i]));
  }
  INFO("max |fast - reference| " << worst << " at scale " << scale);
  CHECK(worst <= 2e-5f * scale);
}

}  // namespace

TEST_CASE("fast linear matches the reference in every storage", "[cpu][linear]") {
  for (const Shape& s : kShapes) {
    INFO(s.name);
    TestWeight tw(s.storage, s.dtype, s.out, s.in, 7);
    const int64_t rows = 8;  // a full block of six input rows and a remainder
    auto x = random_floats(static_cast<size_t>(rows * s.in), 11);
    auto reference = run(tw.w, x, rows, cpu::LinearKernel::kReference);
    auto fast = run(tw.w, x, rows, cpu::LinearKernel::kFast);
    auto portable = run(tw.w, x, rows, cpu::LinearKernel::kPortable);
    auto avx2 = run(tw.w, x, rows, cpu::LinearKernel::kAvx2);
    auto lanes = run(tw.w, x, rows, cpu::LinearKernel::kPortableLanes);
    check_close_to_reference(fast, reference);
    // The SIMD kernels (AVX-512 BF16, AVX-512 and AVX2, where this CPU has
    // them) perform the portable operations of their order exactly.
    CHECK(std::memcmp(fast.data(), portable.data(), fast.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(avx2.data(), lanes.data(), avx2.size() * sizeof(float)) == 0);
  }
}

TEST_CASE("fast linear gives each row the same bits at any batch size", "[cpu][linear]") {
  for (const Shape& s : kShapes) {
    // 2-4 rows: the pairs order's few-rows kernel (vdpbf16ps); 13: blocks
    // of four, three and six rows with remainders.
    for (int64_t rows : {2, 3, 4, 13}) {
      INFO(s.name << ", " << rows << " rows");
      TestWeight tw(s.storage, s.dtype, s.out, s.in, 3);
      auto x = random_floats(static_cast<size_t>(rows * s.in), 5);
      auto batch = run(tw.w, x, rows, cpu::LinearKernel::kFast);
      auto portable = run(tw.w, x, rows, cpu::LinearKernel::kPortable);
      CHECK(std::memcmp(portable.data(), batch.data(), batch.size() * sizeof(float)) == 0);
      for (int64_t r = 0; r < rows; ++r) {
        std::vector<float> one(x.begin() + r * s.in, x.begin() + (r + 1) * s.in);
        auto single = run(tw.w, one, 1, cpu::LinearKernel::kFast);
        CHECK(std::memcmp(single.data(), batch.data() + r * s.out, single.size() * sizeof(float)) == 0);
      }
    }
  }
}

// One input row (decode) takes its own SIMD paths (AVX-512 where the CPU
// has it, else AVX2), weights straight into registers: the same bits as
// the portable kernel and as a batch.
TEST_CASE("a single input row gives the portable kernel's bits in every storage", "[cpu][linear]") {
  for (const Shape& s : kShapes) {
    INFO(s.name);
    TestWeight tw(s.storage, s.dtype, s.out, s.in, 17);
    auto x = random_floats(static_cast<size_t>(s.in), 19);
    auto fast = run(tw.w, x, 1, cpu::LinearKernel::kFast);
    auto avx2 = run(tw.w, x, 1, cpu::LinearKernel::kAvx2);
    auto portable = run(tw.w, x, 1, cpu::LinearKernel::kPortable);
    auto lanes = run(tw.w, x, 1, cpu::LinearKernel::kPortableLanes);
    CHECK(std::memcmp(fast.data(), portable.data(), fast.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(avx2.data(), lanes.data(), avx2.size() * sizeof(float)) == 0);
  }
}

TEST_CASE("the SIMD path is taken where the shape allows", "[cpu][linear]") {
  TestWeight fp8(WeightStorage::kFP8, DType::F8_E4M3, 8, 256, 1);
  TestWeight ragged(WeightStorage::kFP8, DType::F8_E4M3, 8, 200, 1);
  CHECK_FALSE(cpu::linear_uses_simd(ragged.w));
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
    CHECK(cpu::linear_uses_simd(fp8.w));
  else
    WARN("this CPU has no AVX2/FMA/F16C: only the portable kernel was tested");
  // The pairs order needs 128-column groups, FP8/FP4/BF16 storage, and
  // AVX-512 BF16 + VBMI.
  TestWeight fp4(WeightStorage::kFP4, DType::I8, 8, 256, 1);
  TestWeight bf16(WeightStorage::kBF16, DType::BF16, 8, 256, 1);
  TestWeight f32(WeightStorage::kBF16, DType::F32, 8, 256, 1);
  CHECK_FALSE(cpu::linear_uses_pairs(ragged.w));
  CHECK_FALSE(cpu::linear_uses_pairs(f32.w));
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16") &&
      __builtin_cpu_supports("avx512vbmi")) {
    CHECK(cpu::linear_uses_pairs(fp8.w));
    CHECK(cpu::linear_uses_pairs(fp4.w));
    CHECK(cpu::linear_uses_pairs(bf16.w));
  } else {
    WARN("this CPU has no AVX-512 BF16 + VBMI: the pairs order was tested in its portable form only");
  }
}

TEST_CASE("a row range of a weight gives the same bits as those rows of the whole", "[cpu][linear]") {
  for (const Shape& s : kShapes) {
    INFO(s.name);
    TestWeight tw(s.storage, s.dtype, s.out, s.in, 9);
    const int64_t rows = 2, begin = s.out / 3, count = s.out - s.out / 3 - 1;  // crosses FP8 scale rows unaligned
    auto x = random_floats(static_cast<size_t>(rows * s.in), 13);
    for (auto kernel : {cpu::LinearKernel::kFast, cpu::LinearKernel::kReference}) {
      auto whole = run(tw.w, x, rows, kernel);
      std::vector<float> part(static_cast<size_t>(rows * count));
      cpu::linear_row_range(tw.w, begin, count, x, rows, part, cpu::ActivationQuant::kAsWeight, kernel);
      for (int64_t r = 0; r < rows; ++r)
        CHECK(std::memcmp(part.data() + r * count, whole.data() + r * s.out + begin, count * sizeof(float)) == 0);
    }
  }
}

// Inputs not rounded to e4m3 (ActivationQuant::kPlain, the grouped wo_a
// einsum): the same guarantees, through the FMA form of the pairs order
// where the CPU takes it.
TEST_CASE("fast linear with plain inputs matches the reference and keeps its bits across batch sizes", "[cpu][linear]") {
  for (const Shape& s : kShapes) {
    if (s.storage == WeightStorage::kBF16) continue;
    INFO(s.name);
    TestWeight tw(s.storage, s.dtype, s.out, s.in, 31);
    const int64_t rows = 6;
    auto x = random_floats(static_cast<size_t>(rows * s.in), 37);
    auto plain = [&](const std::vector<float>& input, int64_t n, cpu::LinearKernel kernel) {
      std::vector<float> y(static_cast<size_t>(n * s.out));
      cpu::linear(tw.w, input, n, y, cpu::ActivationQuant::kPlain, kernel);
      return y;
    };
    auto reference = plain(x, rows, cpu::LinearKernel::kReference);
    auto fast = plain(x, rows, cpu::LinearKernel::kFast);
    auto portable = plain(x, rows, cpu::LinearKernel::kPortable);
    check_close_to_reference(fast, reference);
    CHECK(std::memcmp(fast.data(), portable.data(), fast.size() * sizeof(float)) == 0);
    for (int64_t r = 0; r < rows; ++r) {
      std::vector<float> one(x.begin() + r * s.in, x.begin() + (r + 1) * s.in);
      auto single = plain(one, 1, cpu::LinearKernel::kFast);
      CHECK(std::memcmp(single.data(), fast.data() + r * s.out, single.size() * sizeof(float)) == 0);
    }
  }
}

TEST_CASE("a linear of zero input rows computes nothing", "[cpu][linear]") {
  for (const Shape& s : kShapes) {
    INFO(s.name);
    TestWeight tw(s.storage, s.dtype, s.out, s.in, 59);
    std::vector<float> x, y;
    for (auto kernel : {cpu::LinearKernel::kFast, cpu::LinearKernel::kReference, cpu::LinearKernel::kPortable})
      cpu::linear(tw.w, x, 0, y, cpu::ActivationQuant::kAsWeight, kernel);
    CHECK(y.empty());
  }
}
