// engine_bench: CPU prefill and decode speed of the beluga engine, set
// against the machine's own memory bandwidth (a roofline reference).
//
//   engine_bench --model DIR            [--prompt N=64] [--decode M=8] [--seed S]
//   engine_bench --synth CONFIG --cache DIR  (synthesises DIR once, then as above)
//
// The defaults are small because a 2-core machine is slow: with the fused
// AVX2 kernels (engine/cpu/linear.h) the 1.4 GB bench config prefills a few
// tokens/s and decodes in under a second per token. `beluga bench decode`
// and `beluga bench prefill` are the command-line form of the same
// measurements (daemon/bench_command.cpp).
//
// Steps, all in one process so the numbers describe one machine state:
//   1. memory bandwidth: a multi-threaded streaming read of a 1 GiB buffer,
//      best of 10 passes (memory_bandwidth.h). Done before the model loads so
//      the buffer and the weights are not resident at once.
//   2. page-cache warm-up: the checkpoint's safetensors files are read once,
//      so a cold disk is not charged to prefill (the model maps them).
//   3. prefill: one forward of N seeded random token ids on a fresh state.
//   4. decode: M single-token forwards, each feeding the argmax of the
//      previous logits (greedy), the first one the prefill's.
//   5. weight bytes per decoded token from the manifest (weight_traffic.h) and
//      the fraction of the measured bandwidth that decode speed implies:
//      bytes/token x tokens/s / (bytes/s). 1.0 would be a decoder that does
//      nothing but stream its weights once per token at full bandwidth.
//
// The report is for people; its last line is one JSON object for scripts.
// Not part of the test suite: it takes minutes and its numbers are timings.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/checkpoint_cache.h"
#include "bench/engine_measure.h"
#include "bench/memory_bandwidth.h"
#include "bench/weight_traffic.h"
#include "engine/cpu/thread_pool.h"
#include "engine/model/manifest.h"
#include "engine/runtime/model.h"

namespace beluga::bench {
namespace {

constexpr uint64_t kBandwidthBufferBytes = 1ull << 30;
constexpr int kBandwidthPasses = 10;

struct Options {
  std::string model_dir;
  std::string synth_config;
  std::string cache_dir;
  int64_t prompt_tokens = 64;
  int64_t decode_tokens = 8;
  uint64_t seed = 1;
  int threads = 0;  // accepted for command-line compatibility; the engine pool uses every hardware thread
};

double gb(uint64_t bytes) { return static_cast<double>(bytes) / 1e9; }
double mb(uint64_t bytes) { return static_cast<double>(bytes) / 1e6; }

int run(const Options& options) {
  std::string folder = options.model_dir;
  if (!options.synth_config.empty()) {
    auto cached = ensure_synthetic_checkpoint(options.synth_config, options.cache_dir);
    if (!cached) {
      std::fprintf(stderr, "engine_bench: %s\n", cached.message().c_str());
      return 1;
    }
    folder = cached->folder;
    if (cached->synthesized_now) std::fprintf(stderr, "synthesised in %.1f s\n", cached->synth_seconds);
  }

  // Fail on a wrong folder before spending time on the bandwidth passes.
  if (auto config = load_model_config(folder + "/config.json"); !config) {
    std::fprintf(stderr, "engine_bench: %s\n", config.message().c_str());
    return 1;
  }
  std::printf("beluga engine_bench (CPU)\n");
  const BandwidthResult bandwidth = measure_read_bandwidth(kBandwidthBufferBytes, kBandwidthPasses);
  if (bandwidth.gb_per_s <= 0.0) {
    std::fprintf(stderr, "engine_bench: could not allocate the %llu-byte bandwidth buffer\n",
                 static_cast<unsigned long long>(kBandwidthBufferBytes));
    return 1;
  }
  std::printf("memory bandwidth   %8.2f GB/s   streaming read of %.2f GiB, %d threads, best of %d (median %.2f)\n",
              bandwidth.gb_per_s, static_cast<double>(bandwidth.buffer_bytes) / (1ull << 30), bandwidth.threads,
              bandwidth.passes, bandwidth.median_gb_per_s);

  const auto warm_start = std::chrono::steady_clock::now();
  const uint64_t warmed = warm_page_cache(folder);
  const double warm_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - warm_start).count();
  auto loaded = Model::load(folder);
  if (!loaded) {
    std::fprintf(stderr, "engine_bench: %s\n", loaded.message().c_str());
    return 1;
  }
  const Model& model = **loaded;
  const ModelConfig& c = model.config();
  std::printf("checkpoint         %s: %.2f GB, %lld layers (+%lld MTP), %lld experts (%lld per token), vocab %lld\n",
              folder.c_str(), gb(manifest_totals(c).bytes), static_cast<long long>(c.num_hidden_layers),
              static_cast<long long>(c.num_nextn_predict_layers), static_cast<long long>(c.n_routed_experts),
              static_cast<long long>(c.num_experts_per_tok), static_cast<long long>(c.vocab_size));
  std::printf("                   page cache warmed: %.2f GB read in %.2f s; engine threads %d\n", gb(warmed), warm_s,
              cpu::worker_count());
  std::fflush(stdout);

  auto prefill_s = time_prefill(model, options.prompt_tokens, options.seed);
  if (!prefill_s) {
    std::fprintf(stderr, "engine_bench: prefill: %s\n", prefill_s.message().c_str());
    return 1;
  }
  const double prefill_tps = static_cast<double>(options.prompt_tokens) / *prefill_s;
  std::printf("prefill            %8.2f tokens/s  %lld tokens in %.2f s\n", prefill_tps,
              static_cast<long long>(options.prompt_tokens), *prefill_s);
  std::fflush(stdout);

  // Decode, greedy, after a prompt of the same length (its prefill untimed).
  auto decoded = time_decode(model, 1, options.prompt_tokens, options.decode_tokens, options.seed);
  if (!decoded) {
    std::fprintf(stderr, "engine_bench: decode: %s\n", decoded.message().c_str());
    return 1;
  }
  const double decode_s = decoded->seconds, decode_tps = decoded->tokens_per_s();
  std::printf("decode             %8.2f tokens/s  %lld tokens in %.2f s, %.1f ms/token (greedy, after the prompt)\n",
              decode_tps, static_cast<long long>(options.decode_tokens), decode_s,
              options.decode_tokens > 0 ? 1e3 * decode_s / static_cast<double>(options.decode_tokens) : 0.0);

  // Roofline.
  const WeightTraffic traffic = weight_bytes_per_decoded_token(c);
  const uint64_t per_token = traffic.per_token_bytes();
  const double fraction = gb(per_token) * decode_tps / bandwidth.gb_per_s;
  std::printf("weights per token  %8.1f MB  = non-expert %.1f + routed experts %.1f (%lld of %lld, x%lld layers)\n",
              mb(per_token), mb(traffic.non_expert_bytes), mb(traffic.routed_expert_bytes),
              static_cast<long long>(c.num_experts_per_tok), static_cast<long long>(c.n_routed_experts),
              static_cast<long long>(c.num_hidden_layers));
  std::printf("                              + head %.1f + embedding/tid2eid rows %.3f\n", mb(traffic.head_bytes),
              mb(traffic.lookup_row_bytes));
  std::printf("bandwidth used     %8.4f GB/s = %.2f%% of measured (%.0f tokens/s if bandwidth-bound)\n",
              gb(per_token) * decode_tps, 100.0 * fraction, bandwidth.gb_per_s / gb(per_token));
  std::printf(
      "{\"prefill_tokens_per_s\": %.4f, \"decode_tokens_per_s\": %.4f, \"weight_bytes_per_token\": %llu, "
      "\"memory_bandwidth_gb_per_s\": %.3f, \"bandwidth_fraction\": %.6f}\n",
      prefill_tps, decode_tps, static_cast<unsigned long long>(per_token), bandwidth.gb_per_s, fraction);
  return 0;
}

}  // namespace
}  // namespace beluga::bench

int main(int argc, char** argv) {
  beluga::bench::Options options;
  CLI::App app{"engine_bench: CPU prefill/decode tokens/s of the beluga engine against measured memory bandwidth"};
  auto* model = app.add_option("--model", options.model_dir, "Checkpoint folder (config.json + safetensors)");
  auto* synth = app.add_option("--synth", options.synth_config,
                               "config.json to synthesise a checkpoint from (seed 0) into --cache, once")
                    ->check(CLI::ExistingFile);
  auto* cache = app.add_option("--cache", options.cache_dir, "Folder of the synthetic checkpoint (with --synth)");
  model->excludes(synth);
  synth->needs(cache);
  cache->needs(synth);
  app.add_option("--prompt", options.prompt_tokens, "Prompt tokens for prefill (default 64)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  app.add_option("--decode", options.decode_tokens, "Tokens to decode (default 8)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
  app.add_option("--seed", options.seed, "Seed of the random prompt (default 1)");
  app.add_option("--threads", options.threads, "Ignored: the engine uses one worker per hardware thread");
  CLI11_PARSE(app, argc, argv);
  if (options.model_dir.empty() && options.synth_config.empty()) {
    std::fprintf(stderr, "engine_bench: give --model DIR, or --synth CONFIG --cache DIR\n");
    return 2;
  }
  return beluga::bench::run(options);
}
