// Element types of DeepSeek V4 checkpoints and their scalar conversions.
//
// The released checkpoints use these safetensors dtypes:
//
//   name      bytes  meaning in V4
//   BF16      2      embeddings, head, norms, small linears
//   F16       2      (not in the release; accepted for completeness)
//   F32       4      mHC parameters, attention sinks, compressor APE, gate bias
//   F8_E4M3   1      OCP float8 e4m3fn weights (bias 7, max 448, no infinities;
//                    0x7F/0xFF are NaN), with a ue8m0 scale per 128x128 block
//   F8_E8M0   1      scales: value 2^(b-127); 0xFF is NaN
//   I8 / U8   1      routed experts: FP4 e2m1 packed two per byte, low nibble
//                    = even column; nibble = sign (bit 3) | magnitude code
//                    (bits 0-2) into {0, .5, 1, 1.5, 2, 3, 4, 6}
//   I32, I64  4, 8   ffn.gate.tid2eid (hash routing table)
//
// Conversions to float are exact. Conversions from float round to nearest,
// ties to even. The FP8 and FP4 encoders first clamp to the format's largest
// finite value (saturating, as the official quantisation kernels do); the
// BF16 encoder is plain IEEE rounding (overflow gives infinity).
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace beluga {

enum class DType : uint8_t { BF16, F16, F32, F8_E4M3, F8_E8M0, I8, U8, I32, I64 };

inline constexpr DType kAllDTypes[] = {DType::BF16,    DType::F16, DType::F32,
                                       DType::F8_E4M3, DType::F8_E8M0, DType::I8,
                                       DType::U8,      DType::I32, DType::I64};

// Safetensors spelling ("BF16", "F8_E4M3", ...).
std::string_view dtype_name(DType t);
std::optional<DType> dtype_from_name(std::string_view name);
int dtype_size_bytes(DType t);

// --- scalar conversions ---------------------------------------------------

inline float bits_to_f32(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
inline uint32_t f32_to_bits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  return bits;
}

inline float bf16_to_f32(uint16_t v) { return bits_to_f32(uint32_t{v} << 16); }
uint16_t f32_to_bf16(float f);  // round to nearest even; NaN stays NaN

float f16_to_f32(uint16_t v);

float fp8_e4m3_to_f32(uint8_t v);
uint8_t f32_to_fp8_e4m3(float f);  // clamps to +-448, NaN -> 0x7F

// ue8m0: an unsigned power-of-two exponent, value 2^(b-127); 0xFF is NaN.
float e8m0_to_f32(uint8_t v);

float fp4_e2m1_to_f32(uint8_t nibble);  // low 4 bits used
uint8_t f32_to_fp4_e2m1(float f);       // clamps to +-6, NaN -> 0 magnitude

// The power-of-two scale exponent of the official kernels' fast_round_scale:
// the smallest e with 2^e >= x for a positive normal x (bit-exact, no libm),
// returned as the biased ue8m0 byte e + 127, at most 254. Zero gives 0 and
// every subnormal gives 1 (2^-126), as the kernels' bit trick does.
uint8_t ue8m0_ceil_pow2(float x);

}  // namespace beluga
