#include "bench/gemm_reference.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include <dlfcn.h>

#include <cstdlib>
#include <string>

#include "engine/cpu/linear.h"

namespace beluga::bench {
namespace {

// cblas_sgemm, looked up in OpenBLAS at run time: linking OpenBLAS would
// load it (and its Fortran runtime, and its threads) at the start of every
// beluga command. The CBLAS enums are ints: row-major 101, no-trans 111,
// trans 112.
using Sgemm = void (*)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                       const float* b, int ldb, float beta, float* c, int ldc);
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;

using CoreName = char* (*)();

// OpenBLAS picks its kernels by the CPU model it recognises, and falls back
// to its generic SSE3 ("Prescott") kernels on a model it does not know,
// which a virtual machine's CPU often is: then it would run at a fraction
// of this machine's speed and flatter beluga. So, unless the user chose
// OPENBLAS_CORETYPE, the reference gets the newest kernels the CPU's
// features allow (read when the library loads).
void choose_openblas_core() {
  if (std::getenv("OPENBLAS_CORETYPE")) return;
  const char* core = nullptr;
  if (__builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512f"))
    core = "Cooperlake";
  else if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
    core = "SkylakeX";
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    core = "Haswell";
  if (core) setenv("OPENBLAS_CORETYPE", core, 0);
}

struct OpenBlas {
  Sgemm sgemm = nullptr;
  std::string core;  // the kernels it runs ("SkylakeX", ...)
};

const OpenBlas& openblas() {
  static const OpenBlas lib = [] {
    OpenBlas found;
    choose_openblas_core();
    for (const char* name : {"libopenblas.so.0", "libopenblas.so"})
      if (void* handle = dlopen(name, RTLD_NOW | RTLD_LOCAL))
        if (void* fn = dlsym(handle, "cblas_sgemm")) {
          found.sgemm = reinterpret_cast<Sgemm>(fn);
          if (void* core = dlsym(handle, "openblas_get_corename"))
            if (const char* text = reinterpret_cast<CoreName>(core)()) found.core = text;
          break;
        }
    return found;
  }();
  return lib;
}

Sgemm openblas_sgemm() { return openblas().sgemm; }

void time_gemm(const LinearWeight& w, int64_t row_begin, int64_t rows, int64_t m, GemmReference& ref) {
  if (m <= 0 || rows <= 0) return;
  std::vector<float> weights(static_cast<size_t>(rows * w.in));
  cpu::dequantize_rows(w, row_begin, row_begin + rows, weights);
  std::vector<float> x(static_cast<size_t>(m * w.in), 0.01f), y(static_cast<size_t>(m * rows));
  auto gemm = [&] {
    openblas_sgemm()(kRowMajor, kNoTrans, kTrans, static_cast<int>(m), static_cast<int>(rows),
                static_cast<int>(w.in), 1.0f, x.data(), static_cast<int>(w.in), weights.data(), static_cast<int>(w.in),
                0.0f, y.data(), static_cast<int>(rows));
  };
  gemm();  // warm-up: thread start, page faults
  auto start = std::chrono::steady_clock::now();
  gemm();
  ref.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ref.flops += 2.0 * static_cast<double>(m) * static_cast<double>(rows) * static_cast<double>(w.in);
  ++ref.gemms;
}

}  // namespace

bool openblas_available() { return openblas_sgemm() != nullptr; }

std::string openblas_core() { return openblas().core; }

GemmReference openblas_prefill_reference(const ModelWeights& weights, int64_t tokens) {
  GemmReference ref;
  if (!openblas_available()) return ref;
  const ModelConfig& c = weights.config();
  const int64_t per_expert = std::max<int64_t>(1, tokens * c.num_experts_per_tok / std::max<int64_t>(1, c.n_routed_experts));
  for (const BlockWeights& b : weights.blocks()) {
    const AttentionWeights& a = b.attn;
    for (const LinearWeight* w : {&a.wq_a, &a.wq_b, &a.wkv, &a.wo_b}) time_gemm(*w, 0, w->out, tokens, ref);
    const int64_t groups = c.o_groups, rank = c.o_lora_rank;
    for (int64_t g = 0; g < groups; ++g) time_gemm(a.wo_a, g * rank, rank, tokens, ref);
    if (a.compressor)
      for (const LinearWeight* w : {&a.compressor->wkv, &a.compressor->wgate}) time_gemm(*w, 0, w->out, tokens, ref);
    if (a.indexer)
      for (const LinearWeight* w : {&a.indexer->wq_b, &a.indexer->weights_proj, &a.indexer->compressor.wkv,
                                    &a.indexer->compressor.wgate})
        time_gemm(*w, 0, w->out, tokens, ref);
    time_gemm(b.ffn.gate, 0, b.ffn.gate.out, tokens, ref);
    for (const ExpertWeights& e : b.ffn.shared)
      for (const LinearWeight* w : {&e.w1, &e.w3, &e.w2}) time_gemm(*w, 0, w->out, tokens, ref);
    for (const ExpertWeights& e : b.ffn.experts)
      for (const LinearWeight* w : {&e.w1, &e.w3, &e.w2}) time_gemm(*w, 0, w->out, per_expert, ref);
  }
  time_gemm(weights.head(), 0, weights.head().out, tokens, ref);
  return ref;
}

}  // namespace beluga::bench
