#include "daemon/bench_command.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>
#include <nlohmann/json.hpp>

#include "bench/engine_measure.h"
#include "bench/gemm_reference.h"
#include "bench/memory_bandwidth.h"
#include "bench/weight_traffic.h"
#include "daemon/command_output.h"
#include "engine/runtime/model.h"

namespace beluga {
namespace {

using nlohmann::json;

struct BenchOptions {
  std::string model_dir;
  bool json = false;
  int64_t tokens = 0;  // decode: steps (default 8); prefill: prompt tokens (default 64)
  int64_t prompt = 16;
  int64_t batch = 1;
  int64_t bandwidth_mib = 1024;  // the streaming-read buffer: far larger than the caches
  std::vector<int64_t> counts = {1, 2, 4, 8};  // sessions: how many at once, run after run
  bool speculative = false;
};

Result<std::unique_ptr<Model>> load_warm(const std::string& folder) {
  bench::warm_page_cache(folder);
  return Model::load(folder);
}

int run_decode(const BenchOptions& o) {
  const int64_t steps = o.tokens > 0 ? o.tokens : 8;
  // Bandwidth first, before the weights are resident.
  const bench::BandwidthResult bandwidth =
      bench::measure_read_bandwidth(static_cast<uint64_t>(o.bandwidth_mib) << 20, 10);
  if (bandwidth.gb_per_s <= 0)
    return fail("could not allocate the " + std::to_string(o.bandwidth_mib) + " MiB bandwidth buffer");
  auto model = load_warm(o.model_dir);
  if (!model) return fail(model.message());
  auto timing = bench::time_decode(**model, o.batch, o.prompt, steps, 1);
  if (!timing) return fail(timing.message());
  const uint64_t bytes = bench::weight_bytes_per_decoded_token((*model)->config()).per_token_bytes();
  const double bandwidth_bytes = bandwidth.gb_per_s * 1e9;
  // Weights stream once per step whatever the batch: the roofline is steps/s.
  const double ratio = static_cast<double>(bytes) * timing->steps_per_s() / bandwidth_bytes;
  if (o.json) {
    std::printf("%s\n", json{{"tokens_per_s", timing->tokens_per_s()},
                             {"bytes_per_token", bytes},
                             {"bandwidth_bytes_per_s", bandwidth_bytes},
                             {"roofline_ratio", ratio}}
                            .dump()
                            .c_str());
    return 0;
  }
  std::printf("decode     %.3f tokens/s (batch %lld, %lld steps after a %lld-token prompt, %.1f ms/step)\n",
              timing->tokens_per_s(), static_cast<long long>(o.batch), static_cast<long long>(steps),
              static_cast<long long>(o.prompt), 1e3 / timing->steps_per_s());
  std::printf("weights    %.1f MB read per token\n", static_cast<double>(bytes) / 1e6);
  std::printf("bandwidth  %.2f GB/s (streaming read, %d threads, best of %d; median %.2f)\n", bandwidth.gb_per_s,
              bandwidth.threads, bandwidth.passes, bandwidth.median_gb_per_s);
  std::printf("roofline   %.4f of the bandwidth limit (%.2f steps/s if bandwidth-bound)\n", ratio,
              bandwidth_bytes / static_cast<double>(bytes));
  return 0;
}

int run_prefill(const BenchOptions& o) {
  const int64_t tokens = o.tokens > 0 ? o.tokens : 64;
  auto model = load_warm(o.model_dir);
  if (!model) return fail(model.message());
  auto seconds = bench::time_prefill(**model, tokens, 1);
  if (!seconds) return fail(seconds.message());
  const double tps = static_cast<double>(tokens) / *seconds;
  bench::GemmReference ref;
  if (bench::openblas_available()) ref = bench::openblas_prefill_reference((*model)->weights(), tokens);
  const bool have = bench::openblas_available() && ref.seconds > 0;
  if (o.json) {
    std::printf("%s\n", json{{"tokens_per_s", tps},
                             {"seconds", *seconds},
                             {"openblas_seconds", have ? json(ref.seconds) : json(nullptr)},
                             {"gemm_efficiency", have ? json(ref.seconds / *seconds) : json(nullptr)}}
                            .dump()
                            .c_str());
    return 0;
  }
  std::printf("prefill    %.3f tokens/s (%lld tokens in %.2f s)\n", tps, static_cast<long long>(tokens), *seconds);
  if (have)
    std::printf("openblas   %.2f s for the same %lld GEMMs (%.1f GFLOP/s, %s kernels); efficiency %.3f (target >= 1.0)\n",
                ref.seconds, static_cast<long long>(ref.gemms), ref.flops / ref.seconds / 1e9,
                bench::openblas_core().c_str(), ref.seconds / *seconds);
  else
    std::printf("openblas   not built in (install libopenblas-dev and rebuild for the GEMM comparison)\n");
  return 0;
}

// Engine Sessions generating at once through the batch scheduler, for each
// count, against one session measured in the same run.
int run_sessions(const BenchOptions& o) {
  const int64_t tokens = o.tokens > 0 ? o.tokens : 8;
  auto model = load_warm(o.model_dir);
  if (!model) return fail(model.message());
  json runs = json::array();
  std::vector<int64_t> counts = o.counts;
  if (counts.empty() || counts.front() != 1) counts.insert(counts.begin(), 1);  // the reference, first
  double alone = 0;  // one session's tokens/s
  for (int64_t count : counts) {
    auto timing = bench::time_sessions(**model, count, o.prompt, tokens, o.speculative, 1);
    if (!timing) return fail(timing.message());
    if (alone == 0) alone = timing->tokens_per_s();
    const double chunks_per_step = timing->steps > 0 ? static_cast<double>(timing->chunks) / timing->steps : 0;
    const double speedup = alone > 0 ? timing->tokens_per_s() / alone : 0;
    runs.push_back({{"sessions", count}, {"tokens_per_s", timing->tokens_per_s()}, {"seconds", timing->seconds},
                    {"steps", timing->steps}, {"chunks_per_step", chunks_per_step}, {"speedup", speedup},
                    {"forward_seconds", timing->forward_seconds}, {"mtp_seconds", timing->mtp_seconds}});
    if (!o.json) {
      const double steps = static_cast<double>(std::max<int64_t>(1, timing->steps));
      std::printf("sessions %3lld  %8.3f tokens/s  %6.2fx one session  (%lld tokens each, %lld steps, %.2f "
                  "sequences/step, %.1f ms/step: main model %.1f, MTP block %.1f, the rest %.1f)\n",
                  static_cast<long long>(count), timing->tokens_per_s(), speedup, static_cast<long long>(tokens),
                  static_cast<long long>(timing->steps), chunks_per_step, 1e3 * timing->seconds / steps,
                  1e3 * timing->forward_seconds / steps, 1e3 * timing->mtp_seconds / steps,
                  1e3 * (timing->seconds - timing->forward_seconds - timing->mtp_seconds) / steps);
    }
  }
  if (o.json) std::printf("%s\n", runs.dump().c_str());
  return 0;
}

}  // namespace

void add_bench_commands(CLI::App& app) {
  auto opts = std::make_shared<BenchOptions>();
  CLI::App* group = app.add_subcommand("bench", "Measure the CPU engine against this machine's limits");
  group->require_subcommand(1);
  CLI::App* decode = group->add_subcommand("decode", "Decode tokens/s against the memory-bandwidth roofline");
  CLI::App* prefill = group->add_subcommand("prefill", "Prefill tokens/s against OpenBLAS on the same shapes");
  CLI::App* sessions = group->add_subcommand(
      "sessions", "Tokens/s of engine sessions generating at once (batch scheduler) vs one session");
  for (CLI::App* sub : {decode, prefill, sessions}) {
    sub->add_option("--model", opts->model_dir, "Checkpoint folder")->required()->check(CLI::ExistingDirectory);
    sub->add_flag("--json", opts->json, "Print one JSON object");
  }
  decode->add_option("--tokens", opts->tokens, "Decode steps (default 8)")->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  decode->add_option("--prompt", opts->prompt, "Prompt tokens before decoding (default 16)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  decode->add_option("--bandwidth-mib", opts->bandwidth_mib,
                     "Buffer of the bandwidth measurement in MiB (default 1024; keep it far above the caches)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  decode->add_option("--batch", opts->batch, "Sequences decoded together (default 1)")->check(CLI::Range(int64_t{1}, int64_t{256}));
  prefill->add_option("--tokens", opts->tokens, "Prompt tokens (default 64)")->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  sessions->add_option("--counts", opts->counts, "Sessions at once, one run each (default 1 2 4 8; a run of 1 always comes first)")
      ->check(CLI::Range(int64_t{1}, int64_t{256}));
  sessions->add_option("--tokens", opts->tokens, "Tokens each session generates (default 8)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  sessions->add_option("--prompt", opts->prompt, "Prompt tokens of each session (default 16)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  sessions->add_flag("--speculative", opts->speculative, "Greedy with MTP drafts and verify pairs");
  sessions->callback([opts] { throw CLI::RuntimeError(run_sessions(*opts)); });
  decode->callback([opts] { throw CLI::RuntimeError(run_decode(*opts)); });
  prefill->callback([opts] { throw CLI::RuntimeError(run_prefill(*opts)); });
}

}  // namespace beluga
