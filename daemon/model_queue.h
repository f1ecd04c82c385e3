// One model for every session: the daemon loads the model once, and each
// session's agent gets a provider that queues its calls on it.
//
// The queue (ModelQueue) decides who uses the model next. It grants
// `slots` concurrent calls (ModelOptions::embedded_slots for the embedded
// engine, whose concurrent calls share forward passes) in arrival order of
// the waiting calls. Since an
// agent makes one model call at a time and goes to the back of the line
// after each, arrival order is round-robin across sessions: a session with
// a long turn cannot starve one with a short turn, each waits at most one
// call per other waiting session. Waiting is cancellable (the agent's
// keep_going is polled while in line), so a cancelled turn leaves the
// line at once.
//
// SharedModel holds what the spec names:
//   DIR           the embedded engine, loaded once (agent/embedded_pool.h):
//                 one engine Session per daemon session (its KV cache kept
//                 between turns, within ModelOptions' count and memory
//                 budget, least recently used dropped first: a dropped
//                 session re-prefills its next prompt), and the granted
//                 calls run through the engine's BatchScheduler, so
//                 concurrent sessions decode in shared forward passes. FIM
//                 completions (complete_raw) keep one Session under their
//                 caller's name, the HTTP endpoints (complete_chat) one
//                 Session for all their requests (a request that finds it
//                 busy runs on a temporary one).
//   remote:URL    a model served elsewhere (agent/remote_provider.h): the
//                 settings are resolved once (the model name asked of the
//                 server if need be) and each session gets its own provider
//                 (its own connections); the queue grants [remote] slots
//                 calls at once (default 4), since the server batches.
//   replay:FILE   the recording, read once; each session replays it from its
//                 first line with its own cursor (so every session of a
//                 test or a load run plays the same script); the HTTP
//                 endpoints share one more cursor (complete_chat).
//
// Thread contract: all methods are thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "agent/embedded_pool.h"
#include "agent/model_provider.h"
#include "engine/base/result.h"

namespace beluga::daemon {

class ModelQueue {
 public:
  explicit ModelQueue(int slots) : slots_(slots < 1 ? 1 : slots) {}

  // Waits for a slot; false if `keep_going` turned false first (polled
  // every 50 ms). A true return must be paired with release().
  bool acquire(const std::string& session, const std::function<bool()>& keep_going);
  void release();
  int slots() const { return slots_; }

  struct Stats {
    int64_t waiting = 0;
    int64_t running = 0;
    int64_t served = 0;
    int64_t abandoned = 0;  // left the line cancelled
  };
  Stats stats() const;

 private:
  struct Ticket {
    uint64_t number;
    std::string session;
  };
  const int slots_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Ticket> waiting_;
  uint64_t next_ticket_ = 0;
  int running_ = 0;
  int64_t served_ = 0, abandoned_ = 0;
};

// The embedded engine's budget (daemon.json "engine", see protocol.md).
struct ModelOptions {
  int embedded_slots = 4;          // concurrent calls on the embedded engine
  agent::EmbeddedPoolLimits pool;  // engine Sessions kept
};

class SharedModel {
 public:
  // `spec` as `beluga run --model`: a checkpoint folder, replay:FILE or
  // remote:URL; `options` apply to a checkpoint folder.
  static Result<std::unique_ptr<SharedModel>> open(const std::string& spec, const ModelOptions& options = {});
  ~SharedModel();

  // A provider for one session's agent; its calls wait in the queue.
  Result<std::unique_ptr<agent::ModelProvider>> provider_for(const std::string& session);
  // One call with a prompt of the caller's own (beluga/complete's FIM
  // prompt), through the queue like any session's call, under the name
  // `who`. Embedded only: a replay model answers an error, since its
  // recording holds agent turns, and so does a remote one (it is sent chat
  // messages, not prompt text). A call cancelled while waiting returns a
  // Completion stopped kCancelled.
  Result<agent::Completion> complete_raw(const std::string& who, const agent::CompletionRequest& request);
  // One chat turn of the HTTP serving endpoints, through the queue like
  // complete_raw. A replay model answers it too: every such call takes the
  // next recorded completion from one cursor the HTTP endpoints share (the
  // sessions keep their own cursors), so a test scripts what its HTTP
  // requests get in order.
  Result<agent::Completion> complete_chat(const std::string& who, const agent::CompletionRequest& request);
  bool embedded() const;
  std::string_view kind() const;  // "embedded", "replay" or "remote"

  const std::string& spec() const { return spec_; }
  std::string describe() const;
  int64_t context_tokens() const;
  int64_t count_tokens(std::string_view text) const;
  int64_t count_prompt_tokens(std::string_view prompt) const;  // ModelProvider::count_prompt_tokens
  // The counting rule's name, as the index records it (ModelProvider).
  std::string token_counter_identity() const;
  ModelQueue& queue() { return queue_; }
  nlohmann::json info() const;

  struct Backend;

 private:
  SharedModel(std::string spec, std::unique_ptr<Backend> backend, int slots);
  std::string spec_;
  std::unique_ptr<Backend> backend_;
  const int slots_;
  ModelQueue queue_;
};

}  // namespace beluga::daemon
