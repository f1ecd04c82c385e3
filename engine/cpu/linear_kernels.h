// Internal to engine/cpu/linear.cpp: the fast linear kernels and the one
// summation order they share (see linear.h). Two implementations:
//   portable  plain C++ (std::fma), any shape;
//   avx2      AVX2 + FMA + F16C intrinsics (linear_avx2.cpp), chosen at run
//             time when the CPU has them and the shape allows (every scale
//             block a multiple of 16 columns);
//   avx512    AVX-512 (linear_avx512.cpp), on the same shapes, when the
//             CPU has it.
// Both give bit-identical results; tests/engine/cpu/linear_test.cpp checks.
#pragma once

#include <cstdint>

#include "engine/model/weights.h"

namespace beluga::cpu::kernels {

inline constexpr int kLanes = 16;     // partial sums per (input row, output row)
inline constexpr int kTileRows = 4;   // output rows decoded and applied together

// One call's work: output rows [begin, end) of y = W x for every input row.
struct LinearArgs {
  WeightStorage storage = WeightStorage::kBF16;
  bool f32 = false;                 // kBF16 storage holding F32
  int64_t in = 0;
  int64_t out = 0;                  // output rows computed (y's row length)
  int64_t row0 = 0;                 // output row o uses row row0 + o of the weight
  const uint8_t* weight = nullptr;
  const uint8_t* scale = nullptr;
  int64_t block_rows = 1;           // rows sharing one scale row (FP8: 128; else 1)
  int64_t block_cols = 128;         // columns per scale (FP8: 128, FP4: 32, BF16/F32: 128, scale 1)
  int64_t scale_cols = 0;           // scales per scale row
  const float* x = nullptr;         // [rows, in]
  int64_t rows = 0;
  float* y = nullptr;               // [rows, out]
  // Scratch of the calling thread: acc [rows * kTileRows * kLanes], wbuf [kTileRows * block_cols].
  float* acc = nullptr;
  float* wbuf = nullptr;
  // The pairs order only (linear_pairs.h): the inputs arranged, [rows, in]:
  // as bf16 for up to four e4m3-rounded rows, else as float32 (odd and even
  // words split).
  const uint16_t* xb = nullptr;
  const float* xf = nullptr;
};

void linear_rows_portable(const LinearArgs& a, int64_t begin, int64_t end);

// The SIMD kernels' decoders, chosen once per call (a template argument).
enum WeightKind { kKindFP8, kKindFP4, kKindBF16, kKindF32 };

// The first byte of output row `o`'s stored weights.
inline const uint8_t* weight_row(const LinearArgs& a, int64_t o) {
  const int64_t r = a.row0 + o;
  switch (a.storage) {
    case WeightStorage::kFP8: return a.weight + r * a.in;
    case WeightStorage::kFP4: return a.weight + r * (a.in / 2);
    case WeightStorage::kBF16: break;
  }
  return a.weight + r * a.in * (a.f32 ? 4 : 2);
}

// Shared by both paths: the multiplier of scale block `block` of output row
// `o` (FP8: the e8m0 scale x 256, FP4: x 1/2, see linear_portable.cpp), and the final
// pairwise sum of a row's kLanes accumulators.
float block_multiplier(const LinearArgs& a, int64_t o, int64_t block);
// The same, split for inner loops: scale byte -> multiplier (null for
// BF16/F32, whose multiplier is 1), and the scale bytes of output row `o`.
const float* multiplier_table(WeightStorage storage);
const uint8_t* scale_row(const LinearArgs& a, int64_t o);
float reduce_lanes(const float* acc);

// False when this build or this CPU has no AVX2/FMA/F16C.
bool avx2_available();
void linear_rows_avx2(const LinearArgs& a, int64_t begin, int64_t end);

// False when this build or this CPU has no AVX-512 (F, BW, VL) or AVX2.
// The same work with 16-lane registers, on the AVX2 kernel's shapes
// (linear_avx512.cpp).
bool avx512_available();
void linear_rows_avx512(const LinearArgs& a, int64_t begin, int64_t end);

}  // namespace beluga::cpu::kernels
