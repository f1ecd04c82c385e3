// Streaming-read memory bandwidth of this machine, measured in-process: the
// roofline reference the engine benchmark divides its weight traffic by.
//
// A buffer much larger than the last-level cache is first written (so every
// page is really backed, not the shared zero page) and then summed by one
// std::thread per hardware thread, each over its own contiguous slice, a few
// times; the best pass counts (on a shared machine, other tenants only ever
// slow a pass down). Summing (not copying) measures pure reads,
// which is what decoding does to weights.
//
// Thread contract: a plain function; it starts and joins its own threads.
#pragma once

#include <cstdint>

namespace beluga::bench {

struct BandwidthResult {
  double gb_per_s = 0.0;         // best pass, 1 GB = 1e9 bytes
  double median_gb_per_s = 0.0;  // the spread says how noisy the machine was
  uint64_t buffer_bytes = 0;
  int threads = 0;
  int passes = 0;
  uint64_t checksum = 0;    // the sum, so the reads cannot be optimised away
};

BandwidthResult measure_read_bandwidth(uint64_t buffer_bytes, int passes);

}  // namespace beluga::bench
