// BatchScheduler: the forward passes of several Sessions run together, so
// concurrent generations share each weight read.
//
// Decode is memory-bound: a step reads the active weights once whether it
// carries one row or eight, so B sequences decoded in one Model::forward
// cost far less than B passes. A Session opened here (open_session()) runs
// exactly the code of a plain Session, on its caller's thread, but hands
// every model call to the scheduler's thread and blocks until it is done.
// Each step the scheduler runs one Model::forward over every waiting main-
// model chunk (a decode token, an MTP verify pair, a prefill chunk of a
// session that just arrived); the sessions' MTP-block rows (drafts, and the
// rows that keep the MTP state in step) go together the same way, in one
// Model::forward_mtp, before the main chunks of that step.
//
// Results are those of the session running alone, bit for bit: the
// forward pass's arithmetic is per row (engine/runtime/model.h), so which
// sessions share a step changes nothing but the time. Cancellation stays
// per session: a session checks its own keep_going between its steps and
// leaves; the others go on. A session whose sampling ends leaves too.
//
// When does a step run? A session is a member while inside sync() or
// generate(). A step runs once every member has a call waiting, or when
// the oldest waiting call has waited `gather_wait` (a member busy in its
// own callback, e.g. writing to a slow client, delays the others at most
// that long per step). Waiting MTP calls run first, since the members
// behind them send their main chunks next.
//
// Thread contract: all methods are thread-safe. Sessions opened here are
// each used by one thread at a time (as any Session) and must be destroyed
// before the scheduler. The destructor finishes the calls in flight.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <thread>

#include "engine/base/result.h"
#include "engine/runtime/model.h"

namespace beluga {

class Session;

struct BatchOptions {
  // How long the oldest waiting main-model call waits for the other members.
  std::chrono::microseconds gather_wait{5000};
};

struct BatchStats {
  int64_t steps = 0;          // Model::forward calls (one per step)
  int64_t chunks = 0;         // sequence chunks over all steps
  int64_t rows = 0;           // tokens over all steps
  int64_t largest_step = 0;   // most chunks in one step
  int64_t mtp_steps = 0;      // Model::forward_mtp calls
  int64_t mtp_calls = 0;      // MTP chunks over all of them
  int64_t members = 0;        // sessions inside sync()/generate() now
  double forward_seconds = 0;  // spent in Model::forward
  double mtp_seconds = 0;      // spent in Model::forward_mtp
};

class BatchScheduler {
 public:
  explicit BatchScheduler(const Model& model, BatchOptions options = {});
  ~BatchScheduler();
  BatchScheduler(const BatchScheduler&) = delete;
  BatchScheduler& operator=(const BatchScheduler&) = delete;

  // A Session whose model calls run through this scheduler.
  std::unique_ptr<Session> open_session();
  const Model& model() const { return model_; }
  BatchStats stats() const;

  // What Session calls (from its own thread; each blocks until done).
  // join()/leave() bracket a sync() or generate().
  void join();
  void leave();
  Result<ChunkResult> forward(const SequenceChunk& chunk);
  // `logits`: false when the rows only extend the MTP state.
  Result<ChunkResult> forward_mtp(StackState& state, std::span<const float> hidden,
                                  std::span<const int32_t> next_tokens, bool logits);

 private:
  struct Call;
  void run();
  Status check_tokens(std::span<const int32_t> tokens) const;
  Result<ChunkResult> submit(Call& call);

  const Model& model_;
  const BatchOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable work_;  // the scheduler's thread waits here
  std::condition_variable done_;  // the sessions' threads wait here
  std::deque<Call*> main_calls_, mtp_calls_;
  int64_t members_ = 0;
  bool stopping_ = false;
  BatchStats stats_;
  std::thread thread_;  // last: started once the rest is ready
};

}  // namespace beluga
