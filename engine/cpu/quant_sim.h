// Quantise-dequantise of activations, as the official V4 kernels apply them
// (kernel.py act_quant / fp4_act_quant with power-of-two ue8m0 scales):
//
//   FP8: per block of `block` values, s = 2^ceil(log2(max(amax, 1e-4) * fp32(1/448))),
//        x <- e4m3(clamp(x / s, +-448)) * s      (round to nearest even)
//   FP4: per block of 32, s = 2^ceil(log2(max(amax, 6 * 2^-126) * fp32(1/6))),
//        x <- e2m1(clamp(x / s, +-6)) * s
//
// Blocks start at 0 with stride `block`; the last may be partial (the
// natural ceil-div extension the golden data uses for small shapes).
// Uses: FP8 with block 128 on the input of every FP8/FP4 linear; FP8 with
// block 64 on the non-RoPE dims of KV rows; FP4 on the indexer's queries and
// keys after their Hadamard rotation.
#pragma once

#include <cstdint>
#include <span>

namespace beluga::cpu {

void fp8_quant_dequant(std::span<float> x, int64_t block);
void fp4_quant_dequant(std::span<float> x, int64_t block = 32);

}  // namespace beluga::cpu
