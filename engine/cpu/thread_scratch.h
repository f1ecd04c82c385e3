// Per-thread buffers of the forward pass (engine/runtime) and of the
// linear's inputs (linear.cpp), kept between calls so that a decode step
// allocates nothing once warm: thread_scratch<T>() is the calling thread's
// T, created on first use. They are kept only while small: Model::forward
// calls release_thread_scratch() after a call of more than kKeptRows rows
// (a prefill chunk, whose allocations are spread over its tokens anyway),
// so that a thread which once prefilled does not hold that chunk's memory
// for the rest of its life. Releasing once per forward, not per function,
// spares the blocks of one prefill chunk from allocating afresh each.
//
// Thread contract: everything here is the calling thread's own. A lambda
// run on a pool worker must use the caller's buffers through a reference
// taken on the calling thread, never call thread_scratch<T>() itself.
#pragma once

#include <cstddef>
#include <functional>

namespace beluga::cpu {

inline constexpr size_t kKeptRows = 16;

// Registers `release` to run at the next release_thread_scratch() on this thread.
void on_thread_scratch_release(std::function<void()> release);
// Frees every registered buffer set of the calling thread (they are
// recreated empty and grow again on next use).
void release_thread_scratch();

template <typename T>
T& thread_scratch() {
  thread_local T scratch;
  thread_local bool registered = (on_thread_scratch_release([] { scratch = T(); }), true);
  (void)registered;
  return scratch;
}

}  // namespace beluga::cpu
