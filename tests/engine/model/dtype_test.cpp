// Tests of engine/model/dtype.h: dtype names and sizes, and the scalar
// conversions (bf16, f16, fp8 e4m3, e8m0, fp4 e2m1, ue8m0_ceil_pow2).
//
// Oracles: hand-computed values and bit patterns; for f16 and fp8 e4m3, an
// independent decoder written here from the sign/exponent/mantissa formula
// (in double arithmetic); for f32 -> e4m3 and f32 -> e2m1 encoding, a
// brute-force nearest-value search over all positive codes with ties going
// to the even code. Almost every check is exact (==, or bit equality where
// the sign of zero matters).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "engine/model/dtype.h"

namespace beluga {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

bool is_negative_zero(float f) { return f == 0.0f && std::signbit(f); }
bool is_positive_zero(float f) { return f == 0.0f && !std::signbit(f); }

// --- independent decoders ---------------------------------------------------

// OCP e4m3fn: 1 sign bit, 4 exponent bits (bias 7), 3 mantissa bits; no
// infinities; exponent 15 with mantissa 7 is NaN.
double ref_e4m3(uint8_t code) {
  const int sign = code >> 7;
  const int exponent = (code >> 3) & 0xF;
  const int mantissa = code & 0x7;
  if (exponent == 15 && mantissa == 7) return std::numeric_limits<double>::quiet_NaN();
  double magnitude = exponent == 0 ? (mantissa / 8.0) * std::pow(2.0, -6)
                                   : (1.0 + mantissa / 8.0) * std::pow(2.0, exponent - 7);
  return sign ? -magnitude : magnitude;
}

// IEEE binary16: bias 15, 10 mantissa bits.
double ref_f16(uint16_t v) {
  const int sign = v >> 15;
  const int exponent = (v >> 10) & 0x1F;
  const int mantissa = v & 0x3FF;
  double magnitude;
  if (exponent == 31) {
    magnitude = mantissa == 0 ? std::numeric_limits<double>::infinity()
                              : std::numeric_limits<double>::quiet_NaN();
  } else if (exponent == 0) {
    magnitude = (mantissa / 1024.0) * std::pow(2.0, -14);
  } else {
    magnitude = (1.0 + mantissa / 1024.0) * std::pow(2.0, exponent - 15);
  }
  return sign ? -magnitude : magnitude;
}

// Brute force: the positive e4m3 code (0x00..0x7E) nearest to a finite
// magnitude, a tie going to the even code. The magnitude is first clamped to
// 448 (the documented saturation; it also keeps huge inputs from making all
// distances round to the same double). Distances are computed in double,
// which is exact whenever a tie is possible (both operands are floats a few
// binades apart at most).
uint8_t brute_force_e4m3(float magnitude) {
  const double clamped = std::min(static_cast<double>(magnitude), 448.0);
  int best = 0;
  double best_distance = std::numeric_limits<double>::infinity();
  for (int code = 0; code <= 0x7E; ++code) {
    double distance = std::fabs(clamped - ref_e4m3(static_cast<uint8_t>(code)));
    if (distance < best_distance || (distance == best_distance && code % 2 == 0)) {
      best = code;
      best_distance = distance;
    }
  }
  return static_cast<uint8_t>(best);
}

uint8_t brute_force_e4m3_signed(float f) {
  return static_cast<uint8_t>((std::signbit(f) ? 0x80 : 0x00) | brute_force_e4m3(std::fabs(f)));
}

constexpr double kFp4Magnitudes[8] = {0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0};

// Brute force over the 8 magnitudes, ties to the even code, after clamping
// to 6 as for e4m3 above.
uint8_t brute_force_e2m1(float f) {
  const double magnitude = std::min(std::fabs(static_cast<double>(f)), 6.0);
  int best = 0;
  double best_distance = std::numeric_limits<double>::infinity();
  for (int code = 0; code < 8; ++code) {
    double distance = std::fabs(magnitude - kFp4Magnitudes[code]);
    if (distance < best_distance || (distance == best_distance && code % 2 == 0)) {
      best = code;
      best_distance = distance;
    }
  }
  return static_cast<uint8_t>((std::signbit(f) ? 0x8 : 0x0) | best);
}

// --- names and sizes ---------------------------------------------------------

TEST_CASE("dtype names round-trip for every dtype") {
  for (DType t : kAllDTypes) {
    INFO("dtype index " << static_cast<int>(t));
    auto parsed = dtype_from_name(dtype_name(t));
    REQUIRE(parsed.has_value());
    CHECK(*parsed == t);
  }
}

TEST_CASE("dtype names use the safetensors spelling") {
  CHECK(dtype_name(DType::BF16) == "BF16");
  CHECK(dtype_name(DType::F16) == "F16");
  CHECK(dtype_name(DType::F32) == "F32");
  CHECK(dtype_name(DType::F8_E4M3) == "F8_E4M3");
  CHECK(dtype_name(DType::F8_E8M0) == "F8_E8M0");
  CHECK(dtype_name(DType::I8) == "I8");
  CHECK(dtype_name(DType::U8) == "U8");
  CHECK(dtype_name(DType::I32) == "I32");
  CHECK(dtype_name(DType::I64) == "I64");
}

TEST_CASE("dtype names are distinct") {
  for (DType a : kAllDTypes)
    for (DType b : kAllDTypes)
      if (a != b) CHECK(dtype_name(a) != dtype_name(b));
}

TEST_CASE("unknown dtype names give nullopt") {
  CHECK_FALSE(dtype_from_name("F8_E5M2").has_value());
  CHECK_FALSE(dtype_from_name("bf16").has_value());
  CHECK_FALSE(dtype_from_name("").has_value());
  CHECK_FALSE(dtype_from_name("BF16 ").has_value());
  CHECK_FALSE(dtype_from_name("F64").has_value());
  CHECK_FALSE(dtype_from_name("BOOL").has_value());
  CHECK_FALSE(dtype_from_name("?").has_value());
}

TEST_CASE("dtype sizes match the safetensors element sizes") {
  CHECK(dtype_size_bytes(DType::BF16) == 2);
  CHECK(dtype_size_bytes(DType::F16) == 2);
  CHECK(dtype_size_bytes(DType::F32) == 4);
  CHECK(dtype_size_bytes(DType::F8_E4M3) == 1);
  CHECK(dtype_size_bytes(DType::F8_E8M0) == 1);
  CHECK(dtype_size_bytes(DType::I8) == 1);
  CHECK(dtype_size_bytes(DType::U8) == 1);
  CHECK(dtype_size_bytes(DType::I32) == 4);
  CHECK(dtype_size_bytes(DType::I64) == 8);
}

TEST_CASE("f32 bit helpers are inverse bit casts") {
  CHECK(f32_to_bits(1.0f) == 0x3F800000u);
  CHECK(f32_to_bits(-2.0f) == 0xC0000000u);
  CHECK(bits_to_f32(0x3F800000u) == 1.0f);
  CHECK(is_negative_zero(bits_to_f32(0x80000000u)));
  for (uint32_t bits : {0u, 1u, 0x00800000u, 0x7F7FFFFFu, 0x7F800000u, 0xFFC00001u, 0x12345678u})
    CHECK(f32_to_bits(bits_to_f32(bits)) == bits);
}

// --- bf16 ------------------------------------------------------------------------

TEST_CASE("bf16 to f32 is the upper half of the f32 bits") {
  CHECK(bf16_to_f32(0x3F80) == 1.0f);
  CHECK(bf16_to_f32(0xC000) == -2.0f);
  CHECK(bf16_to_f32(0x3FC0) == 1.5f);
  CHECK(bf16_to_f32(0x3F81) == 1.0f + 0x1p-7f);
  CHECK(bf16_to_f32(0x0001) == 0x1p-133f);  // smallest bf16 subnormal
  CHECK(bf16_to_f32(0x7F80) == kInf);
  CHECK(bf16_to_f32(0xFF80) == -kInf);
  CHECK(std::isnan(bf16_to_f32(0x7FC0)));
  CHECK(is_negative_zero(bf16_to_f32(0x8000)));
  CHECK(is_positive_zero(bf16_to_f32(0x0000)));
}

TEST_CASE("bf16 round-trips every non-NaN bf16 value exactly") {
  for (uint32_t b = 0; b <= 0xFFFF; ++b) {
    const uint16_t v = static_cast<uint16_t>(b);
    const float f = bf16_to_f32(v);
    if (std::isnan(f)) continue;
    CHECK(f32_to_bits(f) == uint32_t{v} << 16);
    if (f32_to_bf16(f) != v) {
      INFO("bf16 0x" << std::hex << b);
      CHECK(f32_to_bf16(f) == v);
    }
  }
}

TEST_CASE("bf16 conversion rounds half to even") {
  // 1 + 2^-8 lies halfway between 1.0 (0x3F80, even) and 1 + 2^-7 (0x3F81).
  CHECK(f32_to_bf16(bits_to_f32(0x3F808000u)) == 0x3F80);
  // halfway between 0x3F81 (odd) and 0x3F82 (even): up to the even one.
  CHECK(f32_to_bf16(bits_to_f32(0x3F818000u)) == 0x3F82);
  // negative ties behave the same on the magnitude.
  CHECK(f32_to_bf16(bits_to_f32(0xBF808000u)) == 0xBF80);
  CHECK(f32_to_bf16(bits_to_f32(0xBF818000u)) == 0xBF82);
  // a tie that carries into the exponent: 0x3FFF is odd, 0x4000 = 2.0.
  CHECK(f32_to_bf16(bits_to_f32(0x3FFF8000u)) == 0x4000);
  // subnormal ties.
  CHECK(f32_to_bf16(bits_to_f32(0x00008000u)) == 0x0000);
  CHECK(f32_to_bf16(bits_to_f32(0x00018000u)) == 0x0002);
  // just below / above a tie go to the nearest.
  CHECK(f32_to_bf16(bits_to_f32(0x3F807FFFu)) == 0x3F80);
  CHECK(f32_to_bf16(bits_to_f32(0x3F808001u)) == 0x3F81);
  CHECK(f32_to_bf16(bits_to_f32(0x3F817FFFu)) == 0x3F81);
  CHECK(f32_to_bf16(bits_to_f32(0x3F818001u)) == 0x3F82);
}

TEST_CASE("bf16 conversion rounds to nearest for every low half") {
  // For a sweep of upper halves, every class of low half: below the tie,
  // the tie, above the tie.
  std::mt19937 rng(1234);
  std::uniform_int_distribution<uint32_t> upper(0x0000, 0x7F7E);  // finite, with a finite successor
  for (int i = 0; i < 2000; ++i) {
    const uint32_t hi = upper(rng);
    const uint32_t sign = (i % 2) ? 0x8000u : 0u;
    const uint16_t down = static_cast<uint16_t>(sign | hi);
    const uint16_t up = static_cast<uint16_t>(sign | (hi + 1));
    const uint16_t even = (hi % 2 == 0) ? down : up;
    INFO("upper half 0x" << std::hex << (sign | hi));
    CHECK(f32_to_bf16(bits_to_f32((uint32_t{down} << 16) | 0x0001u)) == down);
    CHECK(f32_to_bf16(bits_to_f32((uint32_t{down} << 16) | 0x7FFFu)) == down);
    CHECK(f32_to_bf16(bits_to_f32((uint32_t{down} << 16) | 0x8000u)) == even);
    CHECK(f32_to_bf16(bits_to_f32((uint32_t{down} << 16) | 0x8001u)) == up);
    CHECK(f32_to_bf16(bits_to_f32((uint32_t{down} << 16) | 0xFFFFu)) == up);
  }
}

TEST_CASE("bf16 conversion keeps NaN a NaN") {
  CHECK(std::isnan(bf16_to_f32(f32_to_bf16(kNaN))));
  CHECK(std::isnan(bf16_to_f32(f32_to_bf16(-kNaN))));
  // NaN payloads only in the low half must not truncate to infinity.
  CHECK(std::isnan(bf16_to_f32(f32_to_bf16(bits_to_f32(0x7F800001u)))));
  CHECK(std::isnan(bf16_to_f32(f32_to_bf16(bits_to_f32(0xFF800001u)))));
  // a NaN whose low half would round up must not carry into something else.
  CHECK(std::isnan(bf16_to_f32(f32_to_bf16(bits_to_f32(0x7FFFFFFFu)))));
  CHECK(std::isnan(bf16_to_f32(f32_to_bf16(bits_to_f32(0xFFFFFFFFu)))));
}

TEST_CASE("bf16 conversion keeps the sign of zero") {
  CHECK(f32_to_bf16(-0.0f) == 0x8000);
  CHECK(f32_to_bf16(0.0f) == 0x0000);
  CHECK(is_negative_zero(bf16_to_f32(f32_to_bf16(-0.0f))));
  // a tiny negative value rounds to -0.
  CHECK(f32_to_bf16(bits_to_f32(0x80000001u)) == 0x8000);
}

// --- f16 -------------------------------------------------------------------------

TEST_CASE("f16 to f32 on hand-computed values") {
  CHECK(f16_to_f32(0x3C00) == 1.0f);
  CHECK(f16_to_f32(0xC000) == -2.0f);
  CHECK(f16_to_f32(0x3800) == 0.5f);
  CHECK(f16_to_f32(0x3E00) == 1.5f);
  CHECK(f16_to_f32(0x3C01) == 1.0f + 0x1p-10f);
  CHECK(f16_to_f32(0x3555) == 0.333251953125f);  // 1365/4096
  CHECK(f16_to_f32(0x7BFF) == 65504.0f);          // largest finite
  CHECK(f16_to_f32(0xFBFF) == -65504.0f);
  CHECK(f16_to_f32(0x0400) == 0x1p-14f);          // smallest normal
  CHECK(f16_to_f32(0x03FF) == 1023.0f * 0x1p-24f);  // largest subnormal
  CHECK(f16_to_f32(0x0200) == 0x1p-15f);
  CHECK(f16_to_f32(0x0001) == 0x1p-24f);          // smallest subnormal
  CHECK(f16_to_f32(0x8001) == -0x1p-24f);
  CHECK(f16_to_f32(0x7C00) == kInf);
  CHECK(f16_to_f32(0xFC00) == -kInf);
  CHECK(std::isnan(f16_to_f32(0x7E00)));
  CHECK(std::isnan(f16_to_f32(0x7C01)));
  CHECK(std::isnan(f16_to_f32(0xFFFF)));
  CHECK(is_positive_zero(f16_to_f32(0x0000)));
  CHECK(is_negative_zero(f16_to_f32(0x8000)));
}

TEST_CASE("f16 to f32 matches an independent decoder on every code") {
  for (uint32_t b = 0; b <= 0xFFFF; ++b) {
    const uint16_t v = static_cast<uint16_t>(b);
    const float got = f16_to_f32(v);
    const double want = ref_f16(v);
    INFO("f16 0x" << std::hex << b);
    if (std::isnan(want)) {
      CHECK(std::isnan(got));
    } else {
      if (static_cast<double>(got) != want) CHECK(static_cast<double>(got) == want);
      CHECK(std::signbit(got) == std::signbit(want));
    }
  }
}

// --- fp8 e4m3 -------------------------------------------------------------------

TEST_CASE("fp8 e4m3 decoding matches an independent decoder on all 256 codes") {
  for (int code = 0; code < 256; ++code) {
    const uint8_t c = static_cast<uint8_t>(code);
    const float got = fp8_e4m3_to_f32(c);
    const double want = ref_e4m3(c);
    INFO("e4m3 code 0x" << std::hex << code);
    if ((code & 0x7F) == 0x7F) {
      CHECK(std::isnan(got));
    } else {
      CHECK_FALSE(std::isnan(got));
      CHECK(static_cast<double>(got) == want);
      CHECK(std::signbit(got) == ((code & 0x80) != 0));
    }
  }
}

TEST_CASE("fp8 e4m3 decoding on hand-checked values") {
  CHECK(fp8_e4m3_to_f32(0x7E) == 448.0f);
  CHECK(fp8_e4m3_to_f32(0xFE) == -448.0f);
  CHECK(fp8_e4m3_to_f32(0x38) == 1.0f);       // exponent 7 = bias
  CHECK(fp8_e4m3_to_f32(0x3C) == 1.5f);
  CHECK(fp8_e4m3_to_f32(0x40) == 2.0f);
  CHECK(fp8_e4m3_to_f32(0xC0) == -2.0f);
  CHECK(fp8_e4m3_to_f32(0x7D) == 416.0f);
  CHECK(fp8_e4m3_to_f32(0x78) == 256.0f);
  CHECK(fp8_e4m3_to_f32(0x08) == 0x1p-6f);    // smallest normal
  CHECK(fp8_e4m3_to_f32(0x07) == 7.0f * 0x1p-9f);  // largest subnormal
  CHECK(fp8_e4m3_to_f32(0x01) == 0x1p-9f);    // smallest subnormal
  CHECK(fp8_e4m3_to_f32(0x81) == -0x1p-9f);
  CHECK(std::isnan(fp8_e4m3_to_f32(0x7F)));
  CHECK(std::isnan(fp8_e4m3_to_f32(0xFF)));
  CHECK(is_positive_zero(fp8_e4m3_to_f32(0x00)));
  CHECK(is_negative_zero(fp8_e4m3_to_f32(0x80)));
}

TEST_CASE("fp8 e4m3 positive codes increase strictly with value") {
  // The brute-force oracle and the ties-to-even-code rule rely on this.
  for (int code = 0; code < 0x7E; ++code)
    CHECK(fp8_e4m3_to_f32(static_cast<uint8_t>(code)) <
          fp8_e4m3_to_f32(static_cast<uint8_t>(code + 1)));
}

TEST_CASE("fp8 e4m3 encoding returns the code of every finite value") {
  for (int code = 0; code < 256; ++code) {
    if ((code & 0x7F) == 0x7F) continue;  // NaN
    const uint8_t c = static_cast<uint8_t>(code);
    INFO("e4m3 code 0x" << std::hex << code);
    CHECK(f32_to_fp8_e4m3(fp8_e4m3_to_f32(c)) == c);
  }
  // zeros keep their sign.
  CHECK(f32_to_fp8_e4m3(0.0f) == 0x00);
  CHECK(f32_to_fp8_e4m3(-0.0f) == 0x80);
}

TEST_CASE("fp8 e4m3 encoding saturates at 448") {
  CHECK(f32_to_fp8_e4m3(448.0f) == 0x7E);
  CHECK(f32_to_fp8_e4m3(449.0f) == 0x7E);
  CHECK(f32_to_fp8_e4m3(464.0f) == 0x7E);  // would be halfway to 480 without the clamp
  CHECK(f32_to_fp8_e4m3(480.0f) == 0x7E);
  CHECK(f32_to_fp8_e4m3(1000.0f) == 0x7E);
  CHECK(f32_to_fp8_e4m3(std::numeric_limits<float>::max()) == 0x7E);
  CHECK(f32_to_fp8_e4m3(kInf) == 0x7E);
  CHECK(f32_to_fp8_e4m3(-449.0f) == 0xFE);
  CHECK(f32_to_fp8_e4m3(-1e30f) == 0xFE);
  CHECK(f32_to_fp8_e4m3(-kInf) == 0xFE);
}

TEST_CASE("fp8 e4m3 encoding maps NaN to 0x7F") {
  CHECK(f32_to_fp8_e4m3(kNaN) == 0x7F);
  CHECK(f32_to_fp8_e4m3(-kNaN) == 0x7F);
  CHECK(f32_to_fp8_e4m3(bits_to_f32(0x7F800001u)) == 0x7F);
}

TEST_CASE("fp8 e4m3 conversion rounds half to even") {
  // Hand-picked ties.
  CHECK(f32_to_fp8_e4m3(0x1p-10f) == 0x00);           // 0 | 2^-9: to 0 (even)
  CHECK(f32_to_fp8_e4m3(3.0f * 0x1p-10f) == 0x02);    // 1 | 2 subnormal steps: to 2
  CHECK(f32_to_fp8_e4m3(5.0f * 0x1p-10f) == 0x02);    // 2 | 3: to 2
  CHECK(f32_to_fp8_e4m3(15.0f * 0x1p-10f) == 0x08);   // 0x07 | 0x08 (2^-6): to 0x08
  CHECK(f32_to_fp8_e4m3(1.0625f) == 0x38);            // 1.0 | 1.125: to 1.0
  CHECK(f32_to_fp8_e4m3(1.1875f) == 0x3A);            // 1.125 | 1.25: to 1.25
  CHECK(f32_to_fp8_e4m3(1.9375f) == 0x40);            // 1.875 | 2.0: carries to 2.0
  CHECK(f32_to_fp8_e4m3(-1.0625f) == 0xB8);
  CHECK(f32_to_fp8_e4m3(-1.9375f) == 0xC0);
  CHECK(f32_to_fp8_e4m3(432.0f) == 0x7E);             // 416 | 448: to 448 (0x7E even)
  CHECK(f32_to_fp8_e4m3(400.0f) == 0x7C);             // 384 | 416: to 384 (0x7C)
  CHECK(f32_to_fp8_e4m3(-432.0f) == 0xFE);
}

TEST_CASE("fp8 e4m3 encoding matches a brute-force nearest search") {
  std::vector<float> values;
  // Midpoints between consecutive representable values and their float
  // neighbours; also every representable value and its neighbours.
  for (int code = 0; code < 0x7E; ++code) {
    const float lo = fp8_e4m3_to_f32(static_cast<uint8_t>(code));
    const float hi = fp8_e4m3_to_f32(static_cast<uint8_t>(code + 1));
    const float mid = (lo + hi) / 2.0f;  // exact: few significant bits
    REQUIRE(static_cast<double>(mid) == (static_cast<double>(lo) + hi) / 2.0);
    for (float v : {lo, mid, std::nextafter(mid, 0.0f), std::nextafter(mid, kInf),
                    std::nextafter(lo, 0.0f), std::nextafter(lo, kInf)})
      values.push_back(v);
  }
  // Around and above the top: the oracle saturates to 0x7E by itself.
  for (float v : {std::nextafter(448.0f, 0.0f), 448.0f, std::nextafter(448.0f, kInf), 463.99f,
                  464.0f, 464.01f, 479.0f, 480.0f, 500.0f, 1e6f, 1e30f,
                  std::numeric_limits<float>::max()})
    values.push_back(v);
  // Tiny values, including float subnormals.
  for (float v : {std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::min(),
                  1e-30f, 1e-10f, 0x1p-11f, std::nextafter(0x1p-10f, 0.0f),
                  std::nextafter(0x1p-10f, 1.0f)})
    values.push_back(v);
  // Random values over the whole range: uniform exponent, uniform mantissa.
  std::mt19937 rng(20240607);
  std::uniform_int_distribution<int> exponent(-16, 10);
  std::uniform_real_distribution<float> fraction(1.0f, 2.0f);
  std::uniform_int_distribution<uint32_t> any_bits(0, 0x7F7FFFFFu);  // all positive finite floats
  for (int i = 0; i < 20000; ++i) values.push_back(std::ldexp(fraction(rng), exponent(rng)));
  for (int i = 0; i < 5000; ++i) values.push_back(bits_to_f32(any_bits(rng)));
  std::uniform_real_distribution<float> subnormal_range(0.0f, 0x1p-6f);
  for (int i = 0; i < 5000; ++i) values.push_back(subnormal_range(rng));

  int mismatches = 0;
  for (float v : values) {
    for (float signed_v : {v, -v}) {
      const uint8_t want = brute_force_e4m3_signed(signed_v);
      const uint8_t got = f32_to_fp8_e4m3(signed_v);
      if (got != want && ++mismatches <= 20) {
        INFO("input " << signed_v << " (bits 0x" << std::hex << f32_to_bits(signed_v)
                      << ") expected 0x" << int{want} << " got 0x" << int{got});
        CHECK(got == want);
      }
    }
  }
  CHECK(mismatches == 0);
}

// --- e8m0 --------------------------------------------------------------------------

TEST_CASE("e8m0 decodes to a power of two") {
  CHECK(e8m0_to_f32(127) == 1.0f);
  CHECK(e8m0_to_f32(128) == 2.0f);
  CHECK(e8m0_to_f32(126) == 0.5f);
  CHECK(e8m0_to_f32(1) == 0x1p-126f);
  CHECK(e8m0_to_f32(0) == std::ldexp(1.0f, -127));
  CHECK(e8m0_to_f32(0) > 0.0f);
  CHECK(e8m0_to_f32(254) == 0x1p127f);
  CHECK(std::isnan(e8m0_to_f32(255)));
  for (int b = 0; b < 255; ++b) {
    INFO("e8m0 byte " << b);
    CHECK(e8m0_to_f32(static_cast<uint8_t>(b)) == std::ldexp(1.0f, b - 127));
  }
}

// --- fp4 e2m1 ----------------------------------------------------------------------

TEST_CASE("fp4 e2m1 decodes all 16 nibbles") {
  const float magnitudes[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
  for (int nibble = 0; nibble < 16; ++nibble) {
    INFO("nibble " << nibble);
    const float got = fp4_e2m1_to_f32(static_cast<uint8_t>(nibble));
    const float want = (nibble & 8) ? -magnitudes[nibble & 7] : magnitudes[nibble & 7];
    CHECK(got == want);
    CHECK(std::signbit(got) == ((nibble & 8) != 0));
  }
  CHECK(is_negative_zero(fp4_e2m1_to_f32(8)));
  CHECK(is_positive_zero(fp4_e2m1_to_f32(0)));
  CHECK(fp4_e2m1_to_f32(7) == 6.0f);
  CHECK(fp4_e2m1_to_f32(15) == -6.0f);
  // only the low four bits are used.
  CHECK(fp4_e2m1_to_f32(0xF3) == 1.5f);
  CHECK(fp4_e2m1_to_f32(0x1B) == -1.5f);
}

TEST_CASE("fp4 e2m1 encoding returns the nibble of every value") {
  for (int nibble = 0; nibble < 16; ++nibble) {
    INFO("nibble " << nibble);
    CHECK(f32_to_fp4_e2m1(fp4_e2m1_to_f32(static_cast<uint8_t>(nibble))) == nibble);
  }
  CHECK(f32_to_fp4_e2m1(-0.0f) == 0x8);
  CHECK(f32_to_fp4_e2m1(0.0f) == 0x0);
}

TEST_CASE("fp4 e2m1 conversion rounds half to even") {
  CHECK(f32_to_fp4_e2m1(0.25f) == 0x0);   // 0 | 0.5: to 0
  CHECK(f32_to_fp4_e2m1(0.75f) == 0x2);   // 0.5 | 1.0: to 1.0
  CHECK(f32_to_fp4_e2m1(1.25f) == 0x2);   // 1.0 | 1.5: to 1.0
  CHECK(f32_to_fp4_e2m1(1.75f) == 0x4);   // 1.5 | 2.0: to 2.0
  CHECK(f32_to_fp4_e2m1(2.5f) == 0x4);    // 2.0 | 3.0: to 2.0
  CHECK(f32_to_fp4_e2m1(3.5f) == 0x6);    // 3.0 | 4.0: to 4.0
  CHECK(f32_to_fp4_e2m1(5.0f) == 0x6);    // 4.0 | 6.0: to 4.0
  CHECK(f32_to_fp4_e2m1(-0.25f) == 0x8);
  CHECK(f32_to_fp4_e2m1(-0.75f) == 0xA);
  CHECK(f32_to_fp4_e2m1(-1.25f) == 0xA);
  CHECK(f32_to_fp4_e2m1(-1.75f) == 0xC);
  CHECK(f32_to_fp4_e2m1(-2.5f) == 0xC);
  CHECK(f32_to_fp4_e2m1(-3.5f) == 0xE);
  CHECK(f32_to_fp4_e2m1(-5.0f) == 0xE);
  // off the ties: to the nearest.
  CHECK(f32_to_fp4_e2m1(std::nextafter(0.25f, 1.0f)) == 0x1);
  CHECK(f32_to_fp4_e2m1(std::nextafter(0.75f, 0.0f)) == 0x1);
  CHECK(f32_to_fp4_e2m1(std::nextafter(5.0f, 6.0f)) == 0x7);
  CHECK(f32_to_fp4_e2m1(std::nextafter(5.0f, 0.0f)) == 0x6);
  CHECK(f32_to_fp4_e2m1(2.4f) == 0x4);
  CHECK(f32_to_fp4_e2m1(2.6f) == 0x5);
  CHECK(f32_to_fp4_e2m1(-2.6f) == 0xD);
}

TEST_CASE("fp4 e2m1 encoding saturates at 6") {
  CHECK(f32_to_fp4_e2m1(6.0f) == 0x7);
  CHECK(f32_to_fp4_e2m1(7.0f) == 0x7);
  CHECK(f32_to_fp4_e2m1(100.0f) == 0x7);
  CHECK(f32_to_fp4_e2m1(kInf) == 0x7);
  CHECK(f32_to_fp4_e2m1(-6.5f) == 0xF);
  CHECK(f32_to_fp4_e2m1(-1e30f) == 0xF);
  CHECK(f32_to_fp4_e2m1(-kInf) == 0xF);
}

TEST_CASE("fp4 e2m1 encoding maps NaN to a zero magnitude") {
  CHECK((f32_to_fp4_e2m1(kNaN) & 0x7) == 0);
  CHECK((f32_to_fp4_e2m1(-kNaN) & 0x7) == 0);
}

TEST_CASE("fp4 e2m1 encoding matches a brute-force nearest search") {
  std::vector<float> values;
  for (int code = 0; code < 7; ++code) {
    const float lo = static_cast<float>(kFp4Magnitudes[code]);
    const float hi = static_cast<float>(kFp4Magnitudes[code + 1]);
    const float mid = (lo + hi) / 2.0f;
    for (float v : {lo, mid, std::nextafter(mid, 0.0f), std::nextafter(mid, kInf),
                    std::nextafter(lo, kInf)})
      values.push_back(v);
  }
  std::mt19937 rng(77);
  std::uniform_real_distribution<float> range(0.0f, 8.0f);
  for (int i = 0; i < 20000; ++i) values.push_back(range(rng));
  for (float v : {std::numeric_limits<float>::denorm_min(), 1e-30f, 6.0f, 1e30f})
    values.push_back(v);
  int mismatches = 0;
  for (float v : values) {
    for (float signed_v : {v, -v}) {
      const uint8_t want = brute_force_e2m1(signed_v);
      const uint8_t got = f32_to_fp4_e2m1(signed_v);
      if (got != want && ++mismatches <= 20) {
        INFO("input " << signed_v << " expected " << int{want} << " got " << int{got});
        CHECK(got == want);
      }
    }
  }
  CHECK(mismatches == 0);
}

// --- ue8m0_ceil_pow2 ---------------------------------------------------------------

TEST_CASE("ue8m0 ceil pow2 gives exact powers of two their own exponent") {
  CHECK(ue8m0_ceil_pow2(1.0f) == 127);
  CHECK(ue8m0_ceil_pow2(2.0f) == 128);
  CHECK(ue8m0_ceil_pow2(0.5f) == 126);
  CHECK(ue8m0_ceil_pow2(0x1p-126f) == 1);
  CHECK(ue8m0_ceil_pow2(0x1p127f) == 254);
  for (int e = -126; e <= 127; ++e) {
    INFO("2^" << e);
    CHECK(ue8m0_ceil_pow2(std::ldexp(1.0f, e)) == e + 127);
  }
}

TEST_CASE("ue8m0 ceil pow2 rounds values between powers of two up") {
  CHECK(ue8m0_ceil_pow2(std::nextafter(1.0f, 2.0f)) == 128);
  CHECK(ue8m0_ceil_pow2(std::nextafter(1.0f, 0.0f)) == 127);
  CHECK(ue8m0_ceil_pow2(3.0f) == 129);
  CHECK(ue8m0_ceil_pow2(1.5f) == 128);
  CHECK(ue8m0_ceil_pow2(0.75f) == 127);
  CHECK(ue8m0_ceil_pow2(std::nextafter(2.0f, 0.0f)) == 128);
  CHECK(ue8m0_ceil_pow2(1000.0f) == 127 + 10);  // 512 < 1000 <= 1024
  // the result satisfies 2^(b-128) < x <= 2^(b-127) for normal x.
  std::mt19937 rng(5);
  std::uniform_int_distribution<uint32_t> normal_bits(0x00800000u, 0x7EFFFFFFu);
  for (int i = 0; i < 10000; ++i) {
    const float x = bits_to_f32(normal_bits(rng));
    const int b = ue8m0_ceil_pow2(x);
    INFO("x = " << x);
    REQUIRE(b >= 1);
    REQUIRE(b <= 254);
    CHECK(static_cast<double>(x) <= std::ldexp(1.0, b - 127));
    CHECK(static_cast<double>(x) > std::ldexp(1.0, b - 128));
  }
}

TEST_CASE("ue8m0 ceil pow2 handles zero, subnormals, huge values and the sign") {
  CHECK(ue8m0_ceil_pow2(0.0f) == 0);
  CHECK(ue8m0_ceil_pow2(-0.0f) == 0);
  CHECK(ue8m0_ceil_pow2(std::numeric_limits<float>::denorm_min()) == 1);
  CHECK(ue8m0_ceil_pow2(std::nextafter(0x1p-126f, 0.0f)) == 1);
  CHECK(ue8m0_ceil_pow2(std::ldexp(1.0f, -130)) == 1);
  CHECK(ue8m0_ceil_pow2(std::nextafter(0x1p127f, kInf)) == 254);  // 2^128 clamped
  CHECK(ue8m0_ceil_pow2(std::numeric_limits<float>::max()) == 254);
  CHECK(ue8m0_ceil_pow2(kInf) == 254);
  CHECK(ue8m0_ceil_pow2(1e38f) == 254);
  // the sign bit is ignored (the magnitude is used).
  CHECK(ue8m0_ceil_pow2(-1.0f) == 127);
  CHECK(ue8m0_ceil_pow2(-3.0f) == 129);
}

}  // namespace
}  // namespace beluga
