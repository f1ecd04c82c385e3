#include "bench/memory_bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace beluga::bench {
namespace {

// 16 bytes per lane (SSE2 / NEON width, so no target flags are needed); four
// independent accumulators cover one 64-byte cache line per iteration and keep
// the adds off the critical path, so the loop is bound by the loads alone.
typedef uint64_t Lane __attribute__((vector_size(16)));
constexpr uint64_t kLineBytes = 64;
constexpr size_t kLanesPerLine = kLineBytes / sizeof(Lane);

uint64_t sum_lines(const Lane* lanes, uint64_t line_count) {
  Lane a = {0, 0}, b = a, c = a, d = a;
  for (uint64_t i = 0; i < line_count; ++i) {
    const Lane* line = lanes + i * kLanesPerLine;
    a += line[0];
    b += line[1];
    c += line[2];
    d += line[3];
  }
  const Lane total = a + b + c + d;
  return total[0] + total[1];
}

void fill_lines(Lane* lanes, uint64_t first_line, uint64_t line_count) {
  for (uint64_t i = 0; i < line_count; ++i)
    for (size_t j = 0; j < kLanesPerLine; ++j) {
      const uint64_t v = (first_line + i) * kLanesPerLine + j;
      lanes[i * kLanesPerLine + j] = Lane{v, v ^ 0x9e3779b97f4a7c15ull};
    }
}

// Runs fn(thread, first_line, line_count) on `threads` threads over
// contiguous slices of [0, lines).
template <typename Fn>
void run_sliced(int threads, uint64_t lines, Fn fn) {
  std::vector<std::thread> workers;
  const uint64_t per = lines / static_cast<uint64_t>(threads);
  for (int t = 0; t < threads; ++t) {
    const uint64_t first = per * static_cast<uint64_t>(t);
    const uint64_t count = t + 1 == threads ? lines - first : per;
    workers.emplace_back([=] { fn(t, first, count); });
  }
  for (auto& w : workers) w.join();
}

}  // namespace

BandwidthResult measure_read_bandwidth(uint64_t buffer_bytes, int passes) {
  BandwidthResult result;
  result.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  result.passes = passes;
  const uint64_t lines = buffer_bytes / kLineBytes;
  result.buffer_bytes = lines * kLineBytes;
  auto* lanes = static_cast<Lane*>(std::aligned_alloc(kLineBytes, result.buffer_bytes));
  if (lanes == nullptr) return result;

  // First touch from the threads that will read, so on a NUMA machine each
  // slice lives on its reader's node.
  run_sliced(result.threads, lines, [&](int, uint64_t first, uint64_t count) {
    fill_lines(lanes + first * kLanesPerLine, first, count);
  });

  std::vector<uint64_t> sums(static_cast<size_t>(result.threads));
  std::vector<double> pass_seconds;
  for (int pass = 0; pass < passes; ++pass) {
    const auto start = std::chrono::steady_clock::now();
    run_sliced(result.threads, lines, [&](int t, uint64_t first, uint64_t count) {
      sums[static_cast<size_t>(t)] = sum_lines(lanes + first * kLanesPerLine, count);
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    pass_seconds.push_back(seconds);
    for (uint64_t s : sums) result.checksum += s;
  }
  std::free(lanes);
  if (pass_seconds.empty()) return result;
  std::sort(pass_seconds.begin(), pass_seconds.end());
  const double bytes = static_cast<double>(result.buffer_bytes);
  result.gb_per_s = bytes / pass_seconds.front() / 1e9;
  result.median_gb_per_s = bytes / pass_seconds[pass_seconds.size() / 2] / 1e9;
  return result;
}

}  // namespace beluga::bench
