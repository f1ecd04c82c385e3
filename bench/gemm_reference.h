// The prefill reference of `beluga bench prefill`: how long OpenBLAS takes
// for the matrix multiplications of one prefill of `tokens` tokens, on the
// same shapes, with the weights dequantised to float32 (OpenBLAS's format).
//
// Shapes: every linear of the main blocks (attention projections, wo_a as
// its groups, compressor and indexer projections, router gate, shared
// expert) with M = tokens; each routed expert with M = tokens x
// experts_per_token / experts (the average load), and the head with M =
// tokens. Each GEMM runs once after a warm-up call; only sgemm is timed
// (dequantisation is not).
//
// OpenBLAS runs the kernels of the newest core type the CPU's features
// allow (OPENBLAS_CORETYPE, unless the user set it): on a CPU model it does
// not recognise, as in many virtual machines, it would otherwise fall back
// to generic SSE3 kernels. openblas_core() names what it runs.
//
// OpenBLAS is looked up at run time (dlopen of libopenblas.so.0: Debian's
// libopenblas0, a benchmark-only dependency, never needed to build or run
// beluga); without it openblas_available() is false and the prefill
// benchmark reports no ratio.
#pragma once

#include <cstdint>
#include <string>

#include "engine/model/weights.h"

namespace beluga::bench {

bool openblas_available();
std::string openblas_core();  // "" before the first use or without OpenBLAS

struct GemmReference {
  double seconds = 0;      // sum of the timed sgemm calls
  double flops = 0;        // 2 x M x N x K summed
  int64_t gemms = 0;
};

GemmReference openblas_prefill_reference(const ModelWeights& weights, int64_t tokens);

}  // namespace beluga::bench
