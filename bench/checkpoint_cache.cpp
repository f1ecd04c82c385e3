#include "bench/checkpoint_cache.h"

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "engine/base/files.h"
#include "engine/model/synth.h"

namespace beluga::bench {
namespace {

constexpr uint64_t kMaxConfigBytes = 16ull << 20;
constexpr const char* kStampName = "bench-source.config.json";

}  // namespace

Result<CachedCheckpoint> ensure_synthetic_checkpoint(const std::string& config_path, const std::string& cache_dir) {
  auto source = read_text_file(config_path, kMaxConfigBytes);
  if (!source) return source.error();
  CachedCheckpoint cached;
  cached.folder = cache_dir;
  const std::string stamp_path = cache_dir + "/" + kStampName;
  std::error_code ec;
  if (std::filesystem::exists(cache_dir + "/config.json", ec) && std::filesystem::exists(stamp_path, ec)) {
    auto stamp = read_text_file(stamp_path, kMaxConfigBytes);
    if (stamp && *stamp == *source) return cached;
  }

  std::fprintf(stderr, "synthesising %s into %s (once; later runs reuse it)\n", config_path.c_str(),
               cache_dir.c_str());
  // An old stamp must not outlive the checkpoint it vouched for.
  std::filesystem::remove(stamp_path, ec);
  SynthOptions options;
  options.seed = 0;
  int last_percent = -1;
  options.progress = [&](uint64_t done, uint64_t total) {
    const int percent = static_cast<int>(done * 100 / (total == 0 ? 1 : total));
    if (percent / 10 != last_percent / 10) {
      std::fprintf(stderr, "  %3d%% of tensors written\n", percent);
      last_percent = percent;
    }
  };
  const auto start = std::chrono::steady_clock::now();
  auto written = synthesize_checkpoint(*source, config_path, options, cache_dir);
  if (!written) return written.error();
  cached.synth_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  cached.synthesized_now = true;
  if (Status s = write_text_file_atomically(stamp_path, *source); !s) return s.error();
  return cached;
}

}  // namespace beluga::bench
