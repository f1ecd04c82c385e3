// cuda_bench: the CUDA backend's decode and prefill speed at full
// DeepSeek-V4-Flash layer dimensions (hidden 4096, 64 heads x 512, 256
// routed experts x 2048 in FP4, attention and shared expert in FP8), set
// against the GPU's own copy bandwidth and against cuBLAS on the same
// shapes, all measured in one run.
//
//   cuda_bench --synth bench/configs/flash-layers-gpu.config.json --cache DIR
//              [--context N=1024] [--decode M=32] [--prefill P=512]
//
// Steps:
//   1. device copy bandwidth: cudaMemcpy device-to-device of 2 GiB, best of
//      10, counting bytes read + written (the HBM roofline reference).
//   2. the synthetic checkpoint (2 layers: one CSA ratio-4, one HCA
//      ratio-128; ~6.7 GB) is synthesised once into DIR and uploaded.
//   3. decode: a context of N tokens is prefilled, then M greedy single-token
//      steps with a GPU timestamp around each block; per-layer latency is the
//      median over the steps. Bytes touched per layer = its non-expert
//      weights + 6 of its 256 experts + the KV state it reads. Fraction of
//      bandwidth = bytes / latency / copy bandwidth (target >= 0.80).
//      Extrapolation to the 43-layer model: 43 x the mean layer latency.
//   4. prefill: P tokens on a fresh state, tokens/s; against it, cuBLAS
//      (BF16 GemmEx, FP32 accumulate) running only the same layers' matrix
//      products for P tokens (experts as 256 GEMMs of P*6/256 tokens each).
// The last line is one JSON object for scripts.
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include "bench/checkpoint_cache.h"
#include "engine/cuda/cuda_model.h"
#include "engine/model/manifest.h"

namespace beluga::bench {
namespace {

void cuda_ok(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    std::fprintf(stderr, "cuda_bench: %s: %s\n", what, cudaGetErrorString(e));
    std::exit(1);
  }
}

double copy_bandwidth_gb_per_s() {
  const size_t bytes = size_t{2} << 30;
  void *a = nullptr, *b = nullptr;
  cuda_ok(cudaMalloc(&a, bytes), "malloc");
  cuda_ok(cudaMalloc(&b, bytes), "malloc");
  cuda_ok(cudaMemset(a, 1, bytes), "memset");
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  float best = 1e30f;
  for (int i = 0; i < 10; ++i) {
    cudaEventRecord(start);
    cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice);
    cudaEventRecord(stop);
    cudaEventSynchronize(stop);
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    best = std::min(best, ms);
  }
  cudaFree(a);
  cudaFree(b);
  return 2.0 * static_cast<double>(bytes) / (best * 1e-3) / 1e9;
}

// Weight bytes one decoded token reads in block b (6 of its experts).
uint64_t layer_weight_bytes(const ModelConfig& c, int64_t b) {
  uint64_t dense = 0, experts = 0;
  for_each_tensor(c, [&](const TensorSpec& t) {
    if (t.block != b) return;
    (t.expert >= 0 ? experts : dense) += t.byte_count();
  });
  return dense + experts / static_cast<uint64_t>(c.n_routed_experts) * static_cast<uint64_t>(c.num_experts_per_tok);
}

// KV state bytes block b reads for one token at `context` positions.
uint64_t layer_state_bytes(const ModelConfig& c, int64_t b, int64_t context) {
  const int64_t ratio = c.compress_ratios[static_cast<size_t>(b)];
  uint64_t bytes = static_cast<uint64_t>(std::min(context, c.sliding_window) * c.head_dim * 4);
  if (ratio > 0) {
    const int64_t entries = context / ratio;
    const int64_t attended = ratio == 4 ? std::min(entries, c.index_topk) : entries;
    bytes += static_cast<uint64_t>(attended * c.head_dim * 4);
    if (ratio == 4) bytes += static_cast<uint64_t>(entries * c.index_head_dim * 4);
  }
  return bytes;
}

std::vector<int32_t> random_tokens(int64_t n, int64_t vocab, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (auto& id : ids) id = static_cast<int32_t>(rng() % static_cast<uint64_t>(vocab));
  return ids;
}

// Seconds cuBLAS needs for the matrix products of the model's layers on
// `tokens` tokens (BF16 inputs, FP32 accumulation), best of 5.
double cublas_layer_seconds(const ModelConfig& c, int64_t tokens) {
  struct Gemm {
    int64_t out, in, n, count;
  };
  std::vector<Gemm> gemms;
  const int64_t dim = c.hidden_size, heads = c.num_attention_heads, hd = c.head_dim;
  const int64_t per_expert = std::max<int64_t>(1, tokens * c.num_experts_per_tok / c.n_routed_experts);
  for (int64_t b = 0; b < c.num_hidden_layers; ++b) {
    const int64_t ratio = c.compress_ratios[static_cast<size_t>(b)];
    gemms.push_back({c.q_lora_rank, dim, tokens, 1});
    gemms.push_back({heads * hd, c.q_lora_rank, tokens, 1});
    gemms.push_back({hd, dim, tokens, 1});
    gemms.push_back({c.o_lora_rank, heads * hd / c.o_groups, tokens, c.o_groups});
    gemms.push_back({dim, c.o_groups * c.o_lora_rank, tokens, 1});
    if (ratio > 0) gemms.push_back({(ratio == 4 ? 2 : 1) * hd, dim, tokens, 2});
    if (ratio == 4) {
      gemms.push_back({c.index_n_heads * c.index_head_dim, c.q_lora_rank, tokens, 1});
      gemms.push_back({2 * c.index_head_dim, dim, tokens, 2});
    }
    gemms.push_back({c.n_routed_experts, dim, tokens, 1});
    gemms.push_back({c.moe_intermediate_size, dim, per_expert, 2 * c.n_routed_experts});
    gemms.push_back({dim, c.moe_intermediate_size, per_expert, c.n_routed_experts});
    gemms.push_back({c.moe_intermediate_size, dim, tokens, 2});
    gemms.push_back({dim, c.moe_intermediate_size, tokens, 1});
  }
  size_t largest_w = 0, largest_x = 0, largest_y = 0;
  for (const Gemm& g : gemms) {
    largest_w = std::max(largest_w, static_cast<size_t>(g.out * g.in));
    largest_x = std::max(largest_x, static_cast<size_t>(g.in * g.n));
    largest_y = std::max(largest_y, static_cast<size_t>(g.out * g.n));
  }
  __nv_bfloat16 *w = nullptr, *x = nullptr;
  float* y = nullptr;
  cuda_ok(cudaMalloc(&w, largest_w * 2), "malloc");
  cuda_ok(cudaMalloc(&x, largest_x * 2), "malloc");
  cuda_ok(cudaMalloc(&y, largest_y * 4), "malloc");
  cudaMemset(w, 0, largest_w * 2);
  cudaMemset(x, 0, largest_x * 2);
  cublasHandle_t handle;
  cublasCreate(&handle);
  const float one = 1.0f, zero = 0.0f;
  auto run_all = [&] {
    for (const Gemm& g : gemms)
      for (int64_t i = 0; i < g.count; ++i)
        cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(g.out), static_cast<int>(g.n),
                     static_cast<int>(g.in), &one, w, CUDA_R_16BF, static_cast<int>(g.in), x, CUDA_R_16BF,
                     static_cast<int>(g.in), &zero, y, CUDA_R_32F, static_cast<int>(g.out), CUBLAS_COMPUTE_32F,
                     CUBLAS_GEMM_DEFAULT);
  };
  run_all();
  cuda_ok(cudaDeviceSynchronize(), "cublas warm-up");
  double best = 1e30;
  for (int i = 0; i < 5; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    run_all();
    cuda_ok(cudaDeviceSynchronize(), "cublas");
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  cublasDestroy(handle);
  cudaFree(w);
  cudaFree(x);
  cudaFree(y);
  return best;
}

int run(int argc, char** argv) {
  CLI::App app{"CUDA backend benchmark at Flash layer dimensions"};
  std::string synth_config, cache_dir;
  int64_t context = 1024, decode = 32, prefill = 512;
  app.add_option("--synth", synth_config, "config.json of the synthetic checkpoint")->required();
  app.add_option("--cache", cache_dir, "folder holding the synthesised checkpoint")->required();
  app.add_option("--context", context, "tokens prefilled before decoding");
  app.add_option("--decode", decode, "decode steps timed");
  app.add_option("--prefill", prefill, "prompt length of the prefill measurement");
  CLI11_PARSE(app, argc, argv);

  if (Status s = cuda::device_available(); !s) {
    std::fprintf(stderr, "cuda_bench: %s\n", s.message().c_str());
    return 1;
  }
  const std::string device = cuda::device_description();
  std::printf("device: %s\n", device.c_str());
  const double bandwidth = copy_bandwidth_gb_per_s();
  std::printf("device copy bandwidth: %.0f GB/s (read + write)\n", bandwidth);

  auto checkpoint = ensure_synthetic_checkpoint(synth_config, cache_dir);
  if (!checkpoint) {
    std::fprintf(stderr, "cuda_bench: %s\n", checkpoint.message().c_str());
    return 1;
  }
  auto weights = ModelWeights::load(checkpoint->folder);
  if (!weights) {
    std::fprintf(stderr, "cuda_bench: %s\n", weights.message().c_str());
    return 1;
  }
  const ModelConfig& c = (*weights)->config();
  const auto load_start = std::chrono::steady_clock::now();
  auto model = cuda::CudaModel::load(**weights);
  if (!model) {
    std::fprintf(stderr, "cuda_bench: %s\n", model.message().c_str());
    return 1;
  }
  std::printf("uploaded %.2f GB of weights in %.1f s\n", static_cast<double>((*model)->weight_bytes()) / 1e9,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count());

  auto forward = [&](cuda::CudaState& state, std::span<const int32_t> tokens) {
    cuda::CudaChunk chunk{&state, tokens};
    auto out = (*model)->forward(std::span<const cuda::CudaChunk>(&chunk, 1), {});
    if (!out) {
      std::fprintf(stderr, "cuda_bench: %s\n", out.message().c_str());
      std::exit(1);
    }
    return std::move(out->front().logits);
  };

  // Prefill speed on a fresh state (one warm-up run first).
  const auto prompt = random_tokens(prefill, c.vocab_size, 7);
  double prefill_seconds = 1e30;
  for (int i = 0; i < 2; ++i) {
    auto state = (*model)->new_state();
    const auto t0 = std::chrono::steady_clock::now();
    forward(**state, prompt);
    if (i > 0) prefill_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  const double cublas_seconds = cublas_layer_seconds(c, prefill);

  // Decode after a context of `context` tokens.
  auto state = (*model)->new_state();
  auto logits = forward(**state, random_tokens(context, c.vocab_size, 9));
  (*model)->set_block_timing(true);
  std::vector<std::vector<float>> per_block(static_cast<size_t>(c.num_hidden_layers));
  std::vector<double> step_seconds;
  for (int64_t step = 0; step < decode; ++step) {
    const int32_t token = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    const auto t0 = std::chrono::steady_clock::now();
    logits = forward(**state, std::span<const int32_t>(&token, 1));
    step_seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    const auto ms = (*model)->block_milliseconds();
    for (size_t b = 0; b < ms.size(); ++b) per_block[b].push_back(ms[b]);
  }
  auto median = [](std::vector<float> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::sort(step_seconds.begin(), step_seconds.end());

  std::printf("\ndecode at context %lld (median of %lld steps):\n", static_cast<long long>(context),
              static_cast<long long>(decode));
  double total_ms = 0.0, worst_fraction = 1.0, sum_fraction = 0.0;
  std::string json_layers;
  for (int64_t b = 0; b < c.num_hidden_layers; ++b) {
    const double ms = median(per_block[static_cast<size_t>(b)]);
    const uint64_t bytes = layer_weight_bytes(c, b) + layer_state_bytes(c, b, context);
    const double fraction = static_cast<double>(bytes) / (ms * 1e-3) / 1e9 / bandwidth;
    total_ms += ms;
    worst_fraction = std::min(worst_fraction, fraction);
    sum_fraction += fraction;
    std::printf("  layer %lld (ratio %lld): %.3f ms, %.1f MB touched, %.0f GB/s = %.2f of copy bandwidth\n",
                static_cast<long long>(b), static_cast<long long>(c.compress_ratios[static_cast<size_t>(b)]), ms,
                static_cast<double>(bytes) / 1e6, static_cast<double>(bytes) / (ms * 1e-3) / 1e9, fraction);
    json_layers += (b ? "," : "") + std::string("{\"ratio\":") + std::to_string(c.compress_ratios[static_cast<size_t>(b)]) +
                   ",\"ms\":" + std::to_string(ms) + ",\"bytes\":" + std::to_string(bytes) +
                   ",\"bandwidth_fraction\":" + std::to_string(fraction) + "}";
  }
  const double mean_layer_ms = total_ms / static_cast<double>(c.num_hidden_layers);
  const double flash_tokens_per_s = 1e3 / (43.0 * mean_layer_ms);
  std::printf("  whole step (%lld layers + head, host included): %.3f ms\n", static_cast<long long>(c.num_hidden_layers),
              step_seconds[step_seconds.size() / 2] * 1e3);
  std::printf("  43-layer Flash extrapolation: %.2f ms/token = %.1f tokens/s (layers only)\n", 43.0 * mean_layer_ms,
              flash_tokens_per_s);
  const double prefill_tps = static_cast<double>(prefill) / prefill_seconds;
  const double cublas_tps = static_cast<double>(prefill) / cublas_seconds;
  std::printf("\nprefill %lld tokens: %.3f s = %.0f tokens/s; cuBLAS BF16 matrix products alone: %.4f s = %.0f tokens/s;"
              " ratio %.3f\n",
              static_cast<long long>(prefill), prefill_seconds, prefill_tps, cublas_seconds, cublas_tps,
              prefill_tps / cublas_tps);
  std::printf("{\"device\":\"%s\",\"copy_gb_per_s\":%.1f,\"layers\":[%s],\"mean_bandwidth_fraction\":%.3f,"
              "\"flash_tokens_per_s\":%.2f,\"prefill_tokens_per_s\":%.1f,\"cublas_tokens_per_s\":%.1f,"
              "\"prefill_ratio\":%.4f}\n",
              device.c_str(), bandwidth, json_layers.c_str(), sum_fraction / static_cast<double>(c.num_hidden_layers),
              flash_tokens_per_s, prefill_tps, cublas_tps, prefill_tps / cublas_tps);
  return 0;
}

}  // namespace
}  // namespace beluga::bench

int main(int argc, char** argv) { return beluga::bench::run(argc, argv); }
