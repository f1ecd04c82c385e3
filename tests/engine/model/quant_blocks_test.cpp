// Tests of engine/model/quant_blocks.h: FP8 e4m3 with ue8m0 block scales and
// packed FP4 e2m1 with ue8m0 scales per 32 columns, both directions.
//
// Oracles: hand-computed matrices (including partial edge blocks, -0.0 and
// the nibble order), an element-wise formula with independently written
// decode tables, exact round trips of inputs that are representable by
// construction (code value * power of two per block), and for random normal
// data the derived bounds: e4m3 has 3 mantissa bits, so the rounding error is
// at most half a spacing, 2^-4 relative (2^-10 absolute in the subnormal
// range), hence at most 2^-4 * block amax; e2m1 has 1 mantissa bit, so half a
// spacing is 0.25 / 0.5 / 1 on [0,2] / (2,4] / (4,6], at most 2^-2 * block
// amax. The chosen scale s must be the smallest power of two with
// amax / s <= max_finite (448 or 6), i.e. amax / (s/2) > max_finite.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "engine/model/dtype.h"
#include "engine/model/quant_blocks.h"

namespace beluga {
namespace {

bool same_bits(float a, float b) { return f32_to_bits(a) == f32_to_bits(b); }

float pow2(int e) { return std::ldexp(1.0f, e); }

// ue8m0 byte -> value, written here rather than calling e8m0_to_f32.
float scale_value(uint8_t b) { return std::ldexp(1.0f, int{b} - 127); }

constexpr float kFp4Table[16] = {0.0f,  0.5f,  1.0f,  1.5f,  2.0f,  3.0f,  4.0f,  6.0f,
                                 -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

// Half the spacing of the e4m3 grid around a magnitude v in [0, 448].
double e4m3_half_spacing(double v) {
  if (v < 0x1p-6) return 0x1p-10;  // subnormal steps of 2^-9
  int exp2;
  std::frexp(v, &exp2);  // v = f * 2^exp2, f in [0.5, 1): v in [2^(exp2-1), 2^exp2)
  return std::ldexp(1.0, exp2 - 1 - 4);
}

// Half the spacing of the e2m1 grid around a magnitude v in [0, 6].
double e2m1_half_spacing(double v) {
  if (v <= 2.0) return 0.25;
  if (v <= 4.0) return 0.5;
  return 1.0;
}

// --- FP8 dequantisation -----------------------------------------------------------

TEST_CASE("fp8 dequantisation on a 3x5 matrix with 2x2 blocks uses each edge block's own scale") {
  // Scale tensor [ceil(3/2), ceil(5/2)] = [2, 3].
  const std::vector<uint8_t> scale = {127, 128, 130,   // 1, 2, 8
                                      126, 125, 131};  // 0.5, 0.25, 16
  const std::vector<uint8_t> weight = {
      0x38, 0x40, 0x3C, 0xB8, 0x01,  //  1    2    1.5  -1    2^-9
      0x80, 0x7E, 0x00, 0x44, 0xC8,  // -0    448  0     3    -4
      0x48, 0xBC, 0x30, 0x08, 0x7E,  //  4   -1.5  0.5   2^-6  448
  };
  const std::vector<float> want = {
      1.0f,  2.0f,   3.0f,   -2.0f,     0x1p-6f,  // 2^-9 * 8
      -0.0f, 448.0f, 0.0f,   6.0f,      -32.0f,
      2.0f,  -0.75f, 0.125f, 0x1p-8f,   7168.0f,  // 448 * 16
  };
  std::vector<float> out(15, 99.0f);
  Status s = dequantize_fp8_blocks(weight, scale, 3, 5, BlockShape{2, 2}, out);
  REQUIRE(s.ok());
  for (size_t i = 0; i < out.size(); ++i) {
    INFO("element " << i << " (row " << i / 5 << ", col " << i % 5 << ")");
    CHECK(out[i] == want[i]);
    CHECK(same_bits(out[i], want[i]));
  }
  CHECK(std::signbit(out[5]));  // code 0x80 is -0.0
  CHECK(out[5] == 0.0f);
}

TEST_CASE("fp8 dequantisation preserves negative zero") {
  const std::vector<uint8_t> weight = {0x80, 0x00, 0x80, 0x80};
  const std::vector<uint8_t> scale = {140};
  std::vector<float> out(4);
  REQUIRE(dequantize_fp8_blocks(weight, scale, 2, 2, BlockShape{2, 2}, out).ok());
  CHECK((out[0] == 0.0f && std::signbit(out[0])));
  CHECK((out[1] == 0.0f && !std::signbit(out[1])));
  CHECK((out[2] == 0.0f && std::signbit(out[2])));
  CHECK((out[3] == 0.0f && std::signbit(out[3])));
}

TEST_CASE("fp8 dequantisation with default 128x128 blocks on a 130x260 matrix") {
  const int64_t rows = 130, cols = 260;
  // Scale tensor [2, 3]; six distinct scales.
  const std::vector<uint8_t> scale = {120, 121, 122, 123, 124, 125};
  std::vector<uint8_t> weight(rows * cols);
  // A code pattern that varies along both axes (no NaN codes).
  const uint8_t codes[] = {0x38, 0x40, 0xB8, 0x7E, 0x01, 0x80, 0x3C, 0xC8};
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) weight[r * cols + c] = codes[(r * 3 + c) % 8];
  std::vector<float> out(rows * cols);
  REQUIRE(dequantize_fp8_blocks(weight, scale, rows, cols, BlockShape{}, out).ok());

  const float values[] = {1.0f, 2.0f, -1.0f, 448.0f, 0x1p-9f, -0.0f, 1.5f, -4.0f};
  int mismatches = 0;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const int block_index = static_cast<int>((r / 128) * 3 + c / 128);
      const float want = values[(r * 3 + c) % 8] * pow2(120 + block_index - 127);
      if (!same_bits(out[r * cols + c], want) && ++mismatches <= 10) {
        INFO("row " << r << " col " << c << " want " << want << " got " << out[r * cols + c]);
        CHECK(same_bits(out[r * cols + c], want));
      }
    }
  }
  CHECK(mismatches == 0);
  // Spot checks at the block seams, by hand: code at (r, c) is codes[(3r+c)%8].
  CHECK(out[127 * cols + 127] == 0x1p-9f * pow2(-7));   // (3*127+127)%8 = 4 -> 2^-9, scale 2^-7
  CHECK(out[128 * cols + 128] == 1.0f * pow2(-3));      // (384+128)%8 = 0 -> 1, scale 2^-3
  CHECK(out[129 * cols + 259] == 1.5f * pow2(-2));      // (387+259)%8 = 6 -> 1.5, scale 2^-2
  CHECK(out[0 * cols + 256] == 1.0f * pow2(-5));        // 256%8 = 0 -> 1, scale 2^-5
  CHECK(out[129 * cols + 0] == 448.0f * pow2(-4));      // 387%8 = 3 -> 448, scale 2^-4
}

TEST_CASE("fp8 dequantisation rejects mismatched sizes with a message") {
  const int64_t rows = 3, cols = 5;
  std::vector<uint8_t> weight(15, 0x38), scale(6, 127);
  std::vector<float> out(15);
  const BlockShape block{2, 2};
  auto expect_error = [](const Status& s) {
    REQUIRE_FALSE(s.ok());
    CHECK_FALSE(s.message().empty());
  };
  SECTION("weight too short") {
    std::vector<uint8_t> w(14, 0x38);
    expect_error(dequantize_fp8_blocks(w, scale, rows, cols, block, out));
  }
  SECTION("weight too long") {
    std::vector<uint8_t> w(16, 0x38);
    expect_error(dequantize_fp8_blocks(w, scale, rows, cols, block, out));
  }
  SECTION("scale too short") {
    std::vector<uint8_t> sc(5, 127);
    expect_error(dequantize_fp8_blocks(weight, sc, rows, cols, block, out));
  }
  SECTION("scale sized with floor division") {
    std::vector<uint8_t> sc(2, 127);  // floor(3/2) * floor(5/2) = 2: the ceil rule wants 6
    expect_error(dequantize_fp8_blocks(weight, sc, rows, cols, block, out));
  }
  SECTION("scale too long") {
    std::vector<uint8_t> sc(7, 127);
    expect_error(dequantize_fp8_blocks(weight, sc, rows, cols, block, out));
  }
  SECTION("output too short") {
    std::vector<float> o(14);
    expect_error(dequantize_fp8_blocks(weight, scale, rows, cols, block, o));
  }
  SECTION("output too long") {
    std::vector<float> o(16);
    expect_error(dequantize_fp8_blocks(weight, scale, rows, cols, block, o));
  }
  SECTION("empty spans for a non-empty matrix") {
    expect_error(dequantize_fp8_blocks({}, {}, rows, cols, block, {}));
  }
  SECTION("negative shape") {
    expect_error(dequantize_fp8_blocks(weight, scale, -3, cols, block, out));
    expect_error(dequantize_fp8_blocks(weight, scale, rows, -5, block, out));
  }
  SECTION("non-positive block shape") {
    expect_error(dequantize_fp8_blocks(weight, scale, rows, cols, BlockShape{0, 2}, out));
    expect_error(dequantize_fp8_blocks(weight, scale, rows, cols, BlockShape{2, -1}, out));
  }
}

TEST_CASE("fp8 dequantisation of an empty matrix succeeds") {
  CHECK(dequantize_fp8_blocks({}, {}, 0, 0, BlockShape{}, {}).ok());
  CHECK(dequantize_fp8_blocks({}, {}, 0, 7, BlockShape{}, {}).ok());
}

// --- FP4 dequantisation -----------------------------------------------------------

TEST_CASE("fp4 dequantisation puts the even column in the low nibble and scales per 32 columns") {
  const int64_t rows = 2, cols = 40;  // 20 bytes and ceil(40/32) = 2 scales per row
  std::vector<uint8_t> packed(rows * cols / 2, 0x00);
  const std::vector<uint8_t> scale = {127, 129,   // row 0: 1, 4 (cols 32..39 partial)
                                      126, 133};  // row 1: 0.5, 64
  packed[0] = 0x21;        // row 0, cols 0/1: nibbles 1 (0.5), 2 (1.0)
  packed[15] = 0x9B;       // row 0, cols 30/31: nibbles B (-1.5), 9 (-0.5)
  packed[16] = 0xF7;       // row 0, cols 32/33: nibbles 7 (6), F (-6); scale 4
  packed[19] = 0x85;       // row 0, cols 38/39: nibbles 5 (3), 8 (-0); scale 4
  packed[20 + 0] = 0x64;   // row 1, cols 0/1: nibbles 4 (2), 6 (4); scale 0.5
  packed[20 + 19] = 0x3E;  // row 1, cols 38/39: nibbles E (-4), 3 (1.5); scale 64
  std::vector<float> out(rows * cols, 99.0f);
  REQUIRE(dequantize_fp4_rows(packed, scale, rows, cols, out).ok());

  std::vector<float> want(rows * cols, 0.0f);
  want[0] = 0.5f;
  want[1] = 1.0f;
  want[30] = -1.5f;
  want[31] = -0.5f;
  want[32] = 24.0f;
  want[33] = -24.0f;
  want[38] = 12.0f;
  want[39] = -0.0f;
  want[40 + 0] = 1.0f;
  want[40 + 1] = 2.0f;
  want[40 + 38] = -256.0f;
  want[40 + 39] = 96.0f;
  for (size_t i = 0; i < out.size(); ++i) {
    INFO("row " << i / cols << " col " << i % cols);
    CHECK(same_bits(out[i], want[i]));
  }
  CHECK((out[39] == 0.0f && std::signbit(out[39])));
}

TEST_CASE("fp4 dequantisation matches the element formula on a matrix with a partial block") {
  const int64_t rows = 5, cols = 70;  // scale [5, 3]; the last block holds 6 columns
  const int64_t scale_cols = 3;
  std::vector<uint8_t> packed(rows * cols / 2);
  std::vector<uint8_t> scale(rows * scale_cols);
  for (size_t i = 0; i < packed.size(); ++i) packed[i] = static_cast<uint8_t>((i * 37 + 11) & 0xFF);
  for (size_t i = 0; i < scale.size(); ++i) scale[i] = static_cast<uint8_t>(110 + 3 * i);
  std::vector<float> out(rows * cols);
  REQUIRE(dequantize_fp4_rows(packed, scale, rows, cols, out).ok());
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const uint8_t byte = packed[r * (cols / 2) + c / 2];
      const uint8_t nibble = (c % 2 == 0) ? (byte & 0xF) : (byte >> 4);
      const float want = kFp4Table[nibble] * scale_value(scale[r * scale_cols + c / 32]);
      INFO("row " << r << " col " << c);
      REQUIRE(same_bits(out[r * cols + c], want));
    }
  }
}

TEST_CASE("fp4 dequantisation rejects mismatched sizes and odd columns with a message") {
  const int64_t rows = 2, cols = 40;
  std::vector<uint8_t> packed(40), scale(4, 127);
  std::vector<float> out(80);
  auto expect_error = [](const Status& s) {
    REQUIRE_FALSE(s.ok());
    CHECK_FALSE(s.message().empty());
  };
  SECTION("odd column count") {
    std::vector<uint8_t> p(3 * 2);  // whatever size: odd cols is an error
    std::vector<float> o(3 * 3);
    std::vector<uint8_t> sc(3, 127);
    expect_error(dequantize_fp4_rows(p, sc, 3, 3, o));
    expect_error(dequantize_fp4_rows(packed, scale, rows, 41, out));
  }
  SECTION("negative shape") {
    expect_error(dequantize_fp4_rows(packed, scale, -2, cols, out));
    expect_error(dequantize_fp4_rows(packed, scale, rows, -40, out));
  }
  SECTION("packed too short") {
    std::vector<uint8_t> p(39);
    expect_error(dequantize_fp4_rows(p, scale, rows, cols, out));
  }
  SECTION("packed sized one byte per element") {
    std::vector<uint8_t> p(80);
    expect_error(dequantize_fp4_rows(p, scale, rows, cols, out));
  }
  SECTION("scale sized with floor division") {
    std::vector<uint8_t> sc(2, 127);  // floor(40/32) = 1 per row
    expect_error(dequantize_fp4_rows(packed, sc, rows, cols, out));
  }
  SECTION("scale too long") {
    std::vector<uint8_t> sc(5, 127);
    expect_error(dequantize_fp4_rows(packed, sc, rows, cols, out));
  }
  SECTION("output wrong size") {
    std::vector<float> o(79);
    expect_error(dequantize_fp4_rows(packed, scale, rows, cols, o));
    std::vector<float> o2(40);
    expect_error(dequantize_fp4_rows(packed, scale, rows, cols, o2));
  }
  SECTION("empty spans for a non-empty matrix") {
    expect_error(dequantize_fp4_rows({}, {}, rows, cols, {}));
  }
}

TEST_CASE("fp4 dequantisation of an empty matrix succeeds") {
  CHECK(dequantize_fp4_rows({}, {}, 0, 0, {}).ok());
  CHECK(dequantize_fp4_rows({}, {}, 0, 64, {}).ok());
}

// --- FP8 quantisation ---------------------------------------------------------------

// Checks the scale rule for one block: the smallest power of two s with
// amax / s <= 448, for amax above the quantiser's floor of 1e-4.
void check_fp8_scale_rule(float amax, uint8_t scale_byte) {
  REQUIRE(scale_byte != 0xFF);
  const double s = std::ldexp(1.0, int{scale_byte} - 127);
  INFO("amax " << amax << " scale byte " << int{scale_byte});
  CHECK(amax / s <= 448.0);
  if (amax > 1e-4f) CHECK(amax / (s / 2.0) > 448.0);
}

// The quantiser on a random matrix whose blocks hold code values times a
// power of two: dequantisation gives the input back bit for bit.
void check_fp8_exact_round_trip(int64_t rows, int64_t cols, BlockShape block, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> any_code(0, 255);
  std::uniform_int_distribution<int> large_code(0x70, 0x7E);  // >= 128: keeps amax above the floor
  std::uniform_int_distribution<int> exponent(-16, 16);
  const int64_t scale_rows = ceil_div(rows, block.rows), scale_cols = ceil_div(cols, block.cols);
  std::vector<float> input(rows * cols);
  for (int64_t br = 0; br < scale_rows; ++br) {
    for (int64_t bc = 0; bc < scale_cols; ++bc) {
      const float block_scale = pow2(exponent(rng));
      const int64_t r0 = br * block.rows, r1 = std::min(rows, r0 + block.rows);
      const int64_t c0 = bc * block.cols, c1 = std::min(cols, c0 + block.cols);
      for (int64_t r = r0; r < r1; ++r) {
        for (int64_t c = c0; c < c1; ++c) {
          int code;
          do code = any_code(rng);
          while ((code & 0x7F) == 0x7F);
          input[r * cols + c] = fp8_e4m3_to_f32(static_cast<uint8_t>(code)) * block_scale;
        }
      }
      // One large element per block (sign random).
      const int64_t r = r0 + (r1 - r0 - 1) / 2, c = c0 + (c1 - c0) / 3;
      const uint8_t big = static_cast<uint8_t>(large_code(rng) | ((any_code(rng) & 1) << 7));
      input[r * cols + c] = fp8_e4m3_to_f32(big) * block_scale;
    }
  }
  std::vector<uint8_t> q(rows * cols), scale(scale_rows * scale_cols);
  REQUIRE(quantize_fp8_blocks(input, rows, cols, block, q, scale).ok());
  std::vector<float> out(rows * cols);
  REQUIRE(dequantize_fp8_blocks(q, scale, rows, cols, block, out).ok());
  int mismatches = 0;
  for (int64_t i = 0; i < rows * cols; ++i) {
    if ((q[i] & 0x7F) == 0x7F) FAIL_CHECK("NaN code at element " << i);
    if (!same_bits(out[i], input[i]) && ++mismatches <= 10) {
      INFO("element " << i << " input " << input[i] << " got " << out[i]);
      CHECK(same_bits(out[i], input[i]));
    }
  }
  CHECK(mismatches == 0);
  for (int64_t br = 0; br < scale_rows; ++br) {
    for (int64_t bc = 0; bc < scale_cols; ++bc) {
      float amax = 0.0f;
      for (int64_t r = br * block.rows; r < std::min(rows, (br + 1) * block.rows); ++r)
        for (int64_t c = bc * block.cols; c < std::min(cols, (bc + 1) * block.cols); ++c)
          amax = std::max(amax, std::fabs(input[r * cols + c]));
      check_fp8_scale_rule(amax, scale[br * scale_cols + bc]);
    }
  }
}

TEST_CASE("fp8 quantisation round-trips exactly representable inputs exactly") {
  SECTION("small blocks, shape not a multiple of the block") {
    check_fp8_exact_round_trip(37, 45, BlockShape{8, 16}, 1);
  }
  SECTION("non-square blocks") { check_fp8_exact_round_trip(20, 33, BlockShape{3, 7}, 2); }
  SECTION("default blocks on 130x260") { check_fp8_exact_round_trip(130, 260, BlockShape{}, 3); }
}

TEST_CASE("fp8 quantisation picks the scale of a block whose amax is 448 times a power of two") {
  // amax = 448 * 2^k: the scale is exactly 2^k and the element is code 0x7E.
  for (int k = -10; k <= 20; ++k) {
    const std::vector<float> input = {448.0f * pow2(k), -1.0f * pow2(k), 0.0f, 3.0f * pow2(k)};
    std::vector<uint8_t> q(4), scale(1);
    REQUIRE(quantize_fp8_blocks(input, 2, 2, BlockShape{2, 2}, q, scale).ok());
    INFO("k = " << k);
    CHECK(int{scale[0]} == 127 + k);
    CHECK(q[0] == 0x7E);
    CHECK(q[1] == 0xB8);
    CHECK(q[2] == 0x00);
    CHECK(q[3] == 0x44);
  }
  // Just above 448 * 2^k needs the next power of two.
  const std::vector<float> above = {std::nextafter(448.0f, 1000.0f)};
  std::vector<uint8_t> q(1), scale(1);
  REQUIRE(quantize_fp8_blocks(above, 1, 1, BlockShape{1, 1}, q, scale).ok());
  CHECK(scale[0] == 128);
  CHECK(q[0] == 0x76);  // 448.00003 / 2 = 224.00002 -> 224 = 1.75 * 2^7
}

TEST_CASE("fp8 quantisation of random normal data stays within half an e4m3 spacing") {
  const int64_t rows = 70, cols = 300;
  const BlockShape block{32, 64};  // scale [3, 5], partial blocks on both edges
  const int64_t scale_rows = 3, scale_cols = 5;
  std::mt19937 rng(99);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> exponent(-10, 12);
  std::vector<float> block_factor(scale_rows * scale_cols);
  for (float& f : block_factor) f = pow2(exponent(rng));
  block_factor[4] = 1e-7f;  // one block entirely below the amax floor
  std::vector<float> input(rows * cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      input[r * cols + c] = normal(rng) * block_factor[(r / 32) * scale_cols + c / 64];

  std::vector<uint8_t> q(rows * cols), scale(scale_rows * scale_cols);
  REQUIRE(quantize_fp8_blocks(input, rows, cols, block, q, scale).ok());
  std::vector<float> out(rows * cols);
  REQUIRE(dequantize_fp8_blocks(q, scale, rows, cols, block, out).ok());

  std::vector<float> amax(scale_rows * scale_cols, 0.0f);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      float& m = amax[(r / 32) * scale_cols + c / 64];
      m = std::max(m, std::fabs(input[r * cols + c]));
    }
  for (int64_t b = 0; b < scale_rows * scale_cols; ++b) check_fp8_scale_rule(amax[b], scale[b]);
  CHECK(amax[4] < 1e-4f);
  CHECK(int{scale[4]} == 127 - 22);  // floor 1e-4 / 448 = 2.2e-7 -> 2^-22

  int failures = 0;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t b = (r / 32) * scale_cols + c / 64;
      const double s = std::ldexp(1.0, int{scale[b]} - 127);
      const double x = input[r * cols + c];
      const double y = out[r * cols + c];
      const double err = std::fabs(y - x);
      bool ok = (q[r * cols + c] & 0x7F) != 0x7F;
      ok = ok && err <= e4m3_half_spacing(std::fabs(x) / s) * s;          // per element
      if (amax[b] > 1e-4f) ok = ok && err <= 0x1p-4 * amax[b];              // per block
      ok = ok && (y == 0.0 || std::signbit(y) == std::signbit(x));
      if (!ok && ++failures <= 10) {
        INFO("row " << r << " col " << c << " x " << x << " y " << y << " scale " << s
                    << " amax " << amax[b]);
        CHECK(ok);
      }
    }
  }
  CHECK(failures == 0);
}

TEST_CASE("fp8 quantisation of all-zero blocks gives zero outputs") {
  const int64_t rows = 4, cols = 6;
  std::vector<float> input(rows * cols, 0.0f);
  input[1] = -0.0f;
  // the second block column (cols 3..5) is non-zero in row 0 only.
  input[3] = 5.0f;
  std::vector<uint8_t> q(rows * cols, 0xAA), scale(4, 0xAA);
  REQUIRE(quantize_fp8_blocks(input, rows, cols, BlockShape{2, 3}, q, scale).ok());
  std::vector<float> out(rows * cols, 99.0f);
  REQUIRE(dequantize_fp8_blocks(q, scale, rows, cols, BlockShape{2, 3}, out).ok());
  for (int64_t i = 0; i < rows * cols; ++i) {
    INFO("element " << i);
    CHECK(same_bits(out[i], input[i]));  // zeros stay zeros, -0 stays -0, 5 is exact
  }
  CHECK(q[1] == 0x80);
  CHECK(scale[0] != 0xFF);
  CHECK(scale[2] != 0xFF);
  CHECK(scale[3] != 0xFF);
}

TEST_CASE("fp8 quantisation rejects mismatched sizes with a message") {
  const int64_t rows = 3, cols = 5;
  const BlockShape block{2, 2};
  std::vector<float> input(15, 1.0f);
  std::vector<uint8_t> q(15), scale(6);
  auto expect_error = [](const Status& s) {
    REQUIRE_FALSE(s.ok());
    CHECK_FALSE(s.message().empty());
  };
  CHECK(quantize_fp8_blocks(input, rows, cols, block, q, scale).ok());
  std::vector<float> short_input(14, 1.0f);
  expect_error(quantize_fp8_blocks(short_input, rows, cols, block, q, scale));
  std::vector<uint8_t> short_q(14), long_scale(7), floor_scale(2);
  expect_error(quantize_fp8_blocks(input, rows, cols, block, short_q, scale));
  expect_error(quantize_fp8_blocks(input, rows, cols, block, q, long_scale));
  expect_error(quantize_fp8_blocks(input, rows, cols, block, q, floor_scale));
  expect_error(quantize_fp8_blocks(input, -1, cols, block, q, scale));
  expect_error(quantize_fp8_blocks(input, rows, cols, BlockShape{0, 2}, q, scale));
  CHECK(quantize_fp8_blocks({}, 0, 0, BlockShape{}, {}, {}).ok());
}

// --- FP4 quantisation ---------------------------------------------------------------

void check_fp4_scale_rule(float amax, uint8_t scale_byte) {
  REQUIRE(scale_byte != 0xFF);
  const double s = std::ldexp(1.0, int{scale_byte} - 127);
  INFO("amax " << amax << " scale byte " << int{scale_byte});
  CHECK(amax / s <= 6.0);
  if (amax > 6.0 * 0x1p-126) CHECK(amax / (s / 2.0) > 6.0);
}

TEST_CASE("fp4 quantisation packs the even column into the low nibble") {
  // amax 6 -> scale 1 (byte 127); nibbles 2 (1.0), F (-6), 1 (0.5), 5 (3.0).
  const std::vector<float> input = {1.0f, -6.0f, 0.5f, 3.0f};
  std::vector<uint8_t> packed(2, 0xAA), scale(1);
  REQUIRE(quantize_fp4_rows(input, 1, 4, packed, scale).ok());
  CHECK(scale[0] == 127);
  CHECK(packed[0] == 0xF2);
  CHECK(packed[1] == 0x51);

  // amax 3 -> scale 0.5 (3 / 0.5 = 6); values halve onto the grid: 2, -4, 1, 6.
  const std::vector<float> input2 = {1.0f, -2.0f, 0.5f, 3.0f};
  REQUIRE(quantize_fp4_rows(input2, 1, 4, packed, scale).ok());
  CHECK(scale[0] == 126);
  CHECK(packed[0] == 0xE4);
  CHECK(packed[1] == 0x72);
}

TEST_CASE("fp4 quantisation round-trips exactly representable inputs exactly") {
  const int64_t rows = 9, cols = 70;  // scale [9, 3]; the last block holds 6 columns
  const int64_t scale_cols = 3;
  std::mt19937 rng(4);
  std::uniform_int_distribution<int> nibble(0, 15);
  std::uniform_int_distribution<int> exponent(-20, 20);
  std::vector<float> input(rows * cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b = 0; b < scale_cols; ++b) {
      const float block_scale = pow2(exponent(rng));
      for (int64_t c = b * 32; c < std::min(cols, (b + 1) * 32); ++c)
        input[r * cols + c] = kFp4Table[nibble(rng)] * block_scale;
    }
  std::vector<uint8_t> packed(rows * cols / 2), scale(rows * scale_cols);
  REQUIRE(quantize_fp4_rows(input, rows, cols, packed, scale).ok());
  std::vector<float> out(rows * cols);
  REQUIRE(dequantize_fp4_rows(packed, scale, rows, cols, out).ok());
  for (int64_t i = 0; i < rows * cols; ++i) {
    INFO("element " << i << " input " << input[i] << " got " << out[i]);
    REQUIRE(same_bits(out[i], input[i]));
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b = 0; b < scale_cols; ++b) {
      float amax = 0.0f;
      for (int64_t c = b * 32; c < std::min(cols, (b + 1) * 32); ++c)
        amax = std::max(amax, std::fabs(input[r * cols + c]));
      check_fp4_scale_rule(amax, scale[r * scale_cols + b]);
    }
}

TEST_CASE("fp4 quantisation of random normal data stays within half an e2m1 spacing") {
  const int64_t rows = 16, cols = 200;  // scale [16, 7]; the last block holds 8 columns
  const int64_t scale_cols = 7;
  std::mt19937 rng(123);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> exponent(-30, 30);
  std::vector<float> input(rows * cols);
  for (int64_t r = 0; r < rows; ++r) {
    const float row_factor = pow2(exponent(rng));
    for (int64_t c = 0; c < cols; ++c) input[r * cols + c] = normal(rng) * row_factor;
  }
  std::vector<uint8_t> packed(rows * cols / 2), scale(rows * scale_cols);
  REQUIRE(quantize_fp4_rows(input, rows, cols, packed, scale).ok());
  std::vector<float> out(rows * cols);
  REQUIRE(dequantize_fp4_rows(packed, scale, rows, cols, out).ok());

  int failures = 0;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t b = 0; b < scale_cols; ++b) {
      const int64_t c0 = b * 32, c1 = std::min(cols, c0 + 32);
      float amax = 0.0f;
      for (int64_t c = c0; c < c1; ++c) amax = std::max(amax, std::fabs(input[r * cols + c]));
      const uint8_t scale_byte = scale[r * scale_cols + b];
      check_fp4_scale_rule(amax, scale_byte);
      const double s = std::ldexp(1.0, int{scale_byte} - 127);
      for (int64_t c = c0; c < c1; ++c) {
        const double x = input[r * cols + c];
        const double y = out[r * cols + c];
        const double err = std::fabs(y - x);
        bool ok = err <= e2m1_half_spacing(std::fabs(x) / s) * s;  // per element
        ok = ok && err <= 0x1p-2 * amax;                             // per block
        ok = ok && (y == 0.0 || std::signbit(y) == std::signbit(x));
        if (!ok && ++failures <= 10) {
          INFO("row " << r << " col " << c << " x " << x << " y " << y << " scale " << s
                      << " amax " << amax);
          CHECK(ok);
        }
      }
    }
  }
  CHECK(failures == 0);
}

TEST_CASE("fp4 quantisation of all-zero blocks gives zero outputs") {
  const int64_t rows = 2, cols = 66;  // 3 blocks per row
  std::vector<float> input(rows * cols, 0.0f);
  input[5] = -0.0f;
  input[cols + 40] = 1.5f;  // row 1, block 1 non-zero
  std::vector<uint8_t> packed(rows * cols / 2, 0xAA), scale(6, 0xAA);
  REQUIRE(quantize_fp4_rows(input, rows, cols, packed, scale).ok());
  std::vector<float> out(rows * cols, 99.0f);
  REQUIRE(dequantize_fp4_rows(packed, scale, rows, cols, out).ok());
  for (int64_t i = 0; i < rows * cols; ++i) {
    INFO("element " << i);
    CHECK(same_bits(out[i], input[i]));
  }
  CHECK(packed[2] == 0x80);  // col 5 (odd, high nibble) is -0; col 4 is +0
  for (uint8_t b : scale) CHECK(b != 0xFF);
}

TEST_CASE("fp4 quantisation rejects mismatched sizes and odd columns with a message") {
  const int64_t rows = 2, cols = 40;
  std::vector<float> input(80, 1.0f);
  std::vector<uint8_t> packed(40), scale(4);
  auto expect_error = [](const Status& s) {
    REQUIRE_FALSE(s.ok());
    CHECK_FALSE(s.message().empty());
  };
  CHECK(quantize_fp4_rows(input, rows, cols, packed, scale).ok());
  std::vector<float> odd_input(2 * 39, 1.0f);
  std::vector<uint8_t> odd_packed(39);
  expect_error(quantize_fp4_rows(odd_input, rows, 39, odd_packed, scale));
  expect_error(quantize_fp4_rows(input, -2, cols, packed, scale));
  std::vector<float> short_input(79, 1.0f);
  expect_error(quantize_fp4_rows(short_input, rows, cols, packed, scale));
  std::vector<uint8_t> short_packed(39), floor_scale(2), long_scale(5);
  expect_error(quantize_fp4_rows(input, rows, cols, short_packed, scale));
  expect_error(quantize_fp4_rows(input, rows, cols, packed, floor_scale));
  expect_error(quantize_fp4_rows(input, rows, cols, packed, long_scale));
  CHECK(quantize_fp4_rows({}, 0, 0, {}, {}).ok());
}

}  // namespace
}  // namespace beluga
