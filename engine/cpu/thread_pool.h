// parallel_for: splits [0, n) into contiguous ranges run on a process-wide
// pool of worker threads (one per hardware thread), and returns when all are
// done. Small ranges run inline. Calls may come from several threads; each
// call waits only for its own ranges.
//
// Thread contract: the function is safe to call concurrently; `fn` must be
// safe to run on several threads at once for disjoint ranges.
#pragma once

#include <cstdint>
#include <functional>

namespace beluga::cpu {

void parallel_for(int64_t n, int64_t min_per_task, const std::function<void(int64_t begin, int64_t end)>& fn);

int worker_count();

}  // namespace beluga::cpu
