// The fast linear's summation order (linear.h) in plain C++: the oracle the
// AVX2 kernel must match bit for bit, and the path on CPUs without AVX2.
#include <cmath>
#include <cstring>

#include "engine/cpu/linear_kernels.h"
#include "engine/cpu/linear_pairs.h"
#include "engine/model/dtype.h"

namespace beluga::cpu::kernels {
namespace {

// FP8 weights in "unit" form: the e4m3 bits placed in an f16 (sign to bit
// 15, exponent and mantissa to bits 13..7), which is the e4m3 value / 256;
// the block's multiplier carries the 256. This is what the AVX2 kernel's
// F16C conversion computes, so both paths see the same numbers. FP4
// weights are doubled (all e2m1 values times 2 are small integers, which
// the AVX2 kernel looks up as bytes) and the multiplier carries the 1/2;
// scaling by powers of two is exact, so the sums are unchanged.
struct UnitTables {
  float fp8[256];
  float fp4[16];
  UnitTables() {
    for (int i = 0; i < 256; ++i) fp8[i] = f16_to_f32(static_cast<uint16_t>(((i & 0x80) << 8) | ((i & 0x7F) << 7)));
    for (int i = 0; i < 16; ++i) fp4[i] = 2.0f * fp4_e2m1_to_f32(static_cast<uint8_t>(i));
  }
};
const UnitTables& unit_tables() {
  static const UnitTables t;
  return t;
}

void decode_block(const LinearArgs& a, int64_t o, int64_t c0, int64_t n, float* dst) {
  const UnitTables& t = unit_tables();
  switch (a.storage) {
    case WeightStorage::kFP8: {
      const uint8_t* src = a.weight + (a.row0 + o) * a.in + c0;
      for (int64_t c = 0; c < n; ++c) dst[c] = t.fp8[src[c]];
      break;
    }
    case WeightStorage::kFP4: {
      const uint8_t* src = a.weight + (a.row0 + o) * (a.in / 2) + c0 / 2;  // c0 is even: blocks of 32
      for (int64_t c = 0; c < n; ++c) dst[c] = t.fp4[(src[c / 2] >> (4 * (c & 1))) & 0xF];
      break;
    }
    case WeightStorage::kBF16:
      if (a.f32) {
        std::memcpy(dst, a.weight + ((a.row0 + o) * a.in + c0) * 4, static_cast<size_t>(n) * 4);
      } else {
        const uint8_t* src = a.weight + ((a.row0 + o) * a.in + c0) * 2;
        for (int64_t c = 0; c < n; ++c) dst[c] = bf16_to_f32(static_cast<uint16_t>(src[2 * c] | (src[2 * c + 1] << 8)));
      }
      break;
  }
}

}  // namespace

namespace {

// Every e8m0 scale byte as float, times 256 for FP8's unit form and times
// 1/2 for FP4's doubled values.
struct ScaleTables {
  float e8m0[256];
  float e8m0_half[256];
  float e8m0_x256[256];
  ScaleTables() {
    for (int i = 0; i < 256; ++i) {
      const float scale = e8m0_to_f32(static_cast<uint8_t>(i));
      e8m0[i] = scale;
      e8m0_half[i] = scale * 0.5f;
      e8m0_x256[i] = scale * 256.0f;
    }
  }
};
const ScaleTables scale_tables;

}  // namespace

const float* multiplier_table(WeightStorage storage) {
  switch (storage) {
    case WeightStorage::kFP8: return scale_tables.e8m0_x256;
    case WeightStorage::kFP4: return scale_tables.e8m0_half;
    case WeightStorage::kBF16: break;
  }
  return nullptr;
}

const float* e8m0_values() { return scale_tables.e8m0; }

const uint8_t* scale_row(const LinearArgs& a, int64_t o) {
  switch (a.storage) {
    case WeightStorage::kFP8: return a.scale + ((a.row0 + o) / a.block_rows) * a.scale_cols;
    case WeightStorage::kFP4: return a.scale + (a.row0 + o) * a.scale_cols;
    case WeightStorage::kBF16: break;
  }
  return nullptr;
}

float block_multiplier(const LinearArgs& a, int64_t o, int64_t block) {
  const float* table = multiplier_table(a.storage);
  return table ? table[scale_row(a, o)[block]] : 1.0f;
}

float reduce_lanes(const float* acc) {
  float v8[8], v4[4], v2[2];
  for (int l = 0; l < 8; ++l) v8[l] = acc[l] + acc[l + 8];
  for (int l = 0; l < 4; ++l) v4[l] = v8[l] + v8[l + 4];
  for (int l = 0; l < 2; ++l) v2[l] = v4[l] + v4[l + 2];
  return v2[0] + v2[1];
}

void linear_rows_portable(const LinearArgs& a, int64_t begin, int64_t end) {
  for (int64_t o0 = begin; o0 < end; o0 += kTileRows) {
    const int64_t tile = end - o0 < kTileRows ? end - o0 : kTileRows;
    std::memset(a.acc, 0, static_cast<size_t>(a.rows * kTileRows * kLanes) * sizeof(float));
    for (int64_t c0 = 0, block = 0; c0 < a.in; c0 += a.block_cols, ++block) {
      const int64_t n = a.in - c0 < a.block_cols ? a.in - c0 : a.block_cols;
      float mult[kTileRows];
      for (int64_t t = 0; t < tile; ++t) {
        decode_block(a, o0 + t, c0, n, a.wbuf + t * a.block_cols);
        mult[t] = block_multiplier(a, o0 + t, block);
      }
      for (int64_t r = 0; r < a.rows; ++r) {
        const float* x = a.x + r * a.in + c0;
        for (int64_t t = 0; t < tile; ++t) {
          const float* w = a.wbuf + t * a.block_cols;
          float partial[kLanes] = {};
          for (int64_t c = 0; c < n; ++c) partial[c % kLanes] = std::fma(w[c], x[c], partial[c % kLanes]);
          float* acc = a.acc + (r * kTileRows + t) * kLanes;
          for (int l = 0; l < kLanes; ++l) acc[l] = std::fma(partial[l], mult[t], acc[l]);
        }
      }
    }
    for (int64_t r = 0; r < a.rows; ++r)
      for (int64_t t = 0; t < tile; ++t) a.y[r * a.out + o0 + t] = reduce_lanes(a.acc + (r * kTileRows + t) * kLanes);
  }
}

void arrange_pairs_inputs(WeightStorage storage, const float* x, int64_t rows, int64_t in, uint16_t* out) {
  int64_t column[kPairsSteps * kPairsWords];
  for (int s = 0; s < kPairsSteps; ++s)
    for (int k = 0; k < kPairsWords; ++k) column[s * kPairsWords + k] = pairs_column(storage, s, k);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = r * in; g < (r + 1) * in; g += kPairsGroup)
      for (int64_t i = 0; i < kPairsGroup; ++i) {
        uint32_t bits;
        std::memcpy(&bits, x + g + column[i], sizeof bits);
        out[g + i] = static_cast<uint16_t>(bits >> 16);  // exact: the inputs are bf16 values
      }
}

void arrange_pairs_inputs_f32(WeightStorage storage, const float* x, int64_t rows, int64_t in, float* out) {
  int64_t column[kPairsSteps * kPairsWords];
  for (int s = 0; s < kPairsSteps; ++s)
    for (int j = 0; j < kLanes; ++j) {
      column[s * kPairsWords + j] = pairs_column(storage, s, 2 * j + 1);
      column[s * kPairsWords + kLanes + j] = pairs_column(storage, s, 2 * j);
    }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = r * in; g < (r + 1) * in; g += kPairsGroup)
      for (int64_t i = 0; i < kPairsGroup; ++i) out[g + i] = x[g + column[i]];
}

void linear_rows_pairs_portable(const LinearArgs& a, int64_t begin, int64_t end) {
  const float* e8m0 = e8m0_values();
  const int64_t groups = a.in / kPairsGroup;
  float w[kPairsGroup];
  for (int64_t o = begin; o < end; ++o) {
    const uint8_t* scales = scale_row(a, o);
    for (int64_t r = 0; r < a.rows; ++r) {
      const float* x = a.x + r * a.in;
      float acc[kLanes] = {};
      for (int64_t g = 0; g < groups; ++g) {
        const int64_t c0 = g * kPairsGroup;
        // True weight values: the unit tables' FP8 x 256, FP4 / 2 (exact), BF16 as is.
        decode_block(a, o, c0, kPairsGroup, w);
        if (a.storage != WeightStorage::kBF16)
          for (float& v : w) v *= a.storage == WeightStorage::kFP8 ? 256.0f : 0.5f;
        float p[kLanes] = {};
        for (int s = 0; s < kPairsSteps; ++s)
          for (int j = 0; j < kLanes; ++j) {
            const int64_t odd = pairs_column(a.storage, s, 2 * j + 1), even = pairs_column(a.storage, s, 2 * j);
            p[j] = std::fma(w[odd], x[c0 + odd], p[j]);
            p[j] = std::fma(w[even], x[c0 + even], p[j]);
          }
        for (int j = 0; j < kLanes; ++j) {
          const float multiplier = scales ? e8m0[scales[pairs_scale_block(a.storage, g, j)]] : 1.0f;
          acc[j] = std::fma(p[j], multiplier, acc[j]);
        }
      }
      a.y[r * a.out + o] = reduce_lanes(acc);
    }
  }
}

}  // namespace beluga::cpu::kernels
