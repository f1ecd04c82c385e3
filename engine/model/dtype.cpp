#include "engine/model/dtype.h"

#include <cmath>
#include <limits>

namespace beluga {
namespace {

struct DTypeInfo {
  DType type;
  std::string_view name;
  int size_bytes;
};

constexpr DTypeInfo kInfo[] = {
    {DType::BF16, "BF16", 2},       {DType::F16, "F16", 2},
    {DType::F32, "F32", 4},         {DType::F8_E4M3, "F8_E4M3", 1},
    {DType::F8_E8M0, "F8_E8M0", 1}, {DType::I8, "I8", 1},
    {DType::U8, "U8", 1},           {DType::I32, "I32", 4},
    {DType::I64, "I64", 8},
};

constexpr float kFp4Magnitudes[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};

// Index of the nearest entry of an increasing table; a tie goes to the even
// index, which is round-half-to-even on the mantissa because the codes of
// these formats increase with value and their last bit is the mantissa's.
int nearest_code(const float* table, int count, float magnitude) {
  int hi = 0;
  while (hi < count && table[hi] < magnitude) ++hi;
  if (hi == 0) return 0;
  if (hi == count) return count - 1;
  float down = magnitude - table[hi - 1];
  float up = table[hi] - magnitude;
  if (down < up) return hi - 1;
  if (up < down) return hi;
  return (hi % 2 == 0) ? hi : hi - 1;
}

}  // namespace

std::string_view dtype_name(DType t) {
  for (const auto& info : kInfo)
    if (info.type == t) return info.name;
  return "?";
}

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const auto& info : kInfo)
    if (info.name == name) return info.type;
  return std::nullopt;
}

int dtype_size_bytes(DType t) {
  for (const auto& info : kInfo)
    if (info.type == t) return info.size_bytes;
  return 0;
}

uint16_t f32_to_bf16(float f) {
  uint32_t bits = f32_to_bits(f);
  if (std::isnan(f)) return static_cast<uint16_t>((bits >> 16) | 0x40);  // quiet NaN
  uint32_t rounding = 0x7FFF + ((bits >> 16) & 1);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

float f16_to_f32(uint16_t v) {
  uint32_t sign = uint32_t{v & 0x8000u} << 16;
  uint32_t exponent = (v >> 10) & 0x1F;
  uint32_t mantissa = v & 0x3FF;
  if (exponent == 0) {
    float magnitude = std::ldexp(static_cast<float>(mantissa), -24);  // subnormal or zero
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31) return bits_to_f32(sign | 0x7F800000u | (mantissa << 13));
  return bits_to_f32(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

float fp8_e4m3_to_f32(uint8_t v) {
  bool negative = (v & 0x80) != 0;
  int exponent = (v >> 3) & 0xF;
  int mantissa = v & 0x7;
  float magnitude;
  if (exponent == 0xF && mantissa == 0x7) {
    magnitude = std::numeric_limits<float>::quiet_NaN();
  } else if (exponent == 0) {
    magnitude = std::ldexp(static_cast<float>(mantissa), -9);  // m/8 * 2^-6
  } else {
    magnitude = std::ldexp(1.0f + static_cast<float>(mantissa) / 8.0f, exponent - 7);
  }
  return negative ? -magnitude : magnitude;
}

uint8_t f32_to_fp8_e4m3(float f) {
  if (std::isnan(f)) return 0x7F;
  uint8_t sign = std::signbit(f) ? 0x80 : 0x00;
  float magnitude = std::fabs(f);
  if (magnitude >= 448.0f) return sign | 0x7E;
  // nearbyint rounds half to even in the default rounding mode; the scalings
  // below are by powers of two, so they are exact.
  if (magnitude < 0x1p-6f) {  // subnormal: steps of 2^-9; 8 steps is the smallest normal
    return sign | static_cast<uint8_t>(std::nearbyint(magnitude * 512.0f));
  }
  const uint32_t bits = f32_to_bits(magnitude);
  int exponent = static_cast<int>(bits >> 23) - 127;
  float fraction = bits_to_f32((bits & 0x7FFFFFu) | 0x3F800000u);  // in [1, 2)
  int mantissa = static_cast<int>(std::nearbyint((fraction - 1.0f) * 8.0f));
  if (mantissa == 8) {
    mantissa = 0;
    ++exponent;
  }
  int code = ((exponent + 7) << 3) | mantissa;
  return sign | static_cast<uint8_t>(code > 0x7E ? 0x7E : code);
}

float e8m0_to_f32(uint8_t v) {
  if (v == 0xFF) return std::numeric_limits<float>::quiet_NaN();
  if (v == 0) return bits_to_f32(0x00400000u);  // 2^-127 is subnormal in f32
  return bits_to_f32(uint32_t{v} << 23);
}

float fp4_e2m1_to_f32(uint8_t nibble) {
  float magnitude = kFp4Magnitudes[nibble & 0x7];
  return (nibble & 0x8) ? -magnitude : magnitude;
}

uint8_t f32_to_fp4_e2m1(float f) {
  if (std::isnan(f)) return 0;
  uint8_t sign = std::signbit(f) ? 0x8 : 0x0;
  float magnitude = std::fmin(std::fabs(f), 6.0f);
  return sign | static_cast<uint8_t>(nearest_code(kFp4Magnitudes, 8, magnitude));
}

uint8_t ue8m0_ceil_pow2(float x) {
  uint32_t bits = f32_to_bits(x) & 0x7FFFFFFFu;
  int exponent = static_cast<int>(bits >> 23);  // biased, as ue8m0 is
  uint32_t mantissa = bits & 0x7FFFFFu;
  if (exponent == 0) return mantissa == 0 ? 0 : 1;  // zero or subnormal: 2^-126 covers it
  if (exponent >= 255) return 254;
  if (mantissa != 0) ++exponent;
  return static_cast<uint8_t>(exponent > 254 ? 254 : exponent);
}

}  // namespace beluga
