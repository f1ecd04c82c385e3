// The embedded engine shared by several callers (the daemon's sessions, its
// FIM completions, its HTTP endpoints): one loaded model and tokenizer, one
// BatchScheduler (engine/batch_scheduler.h) so that concurrent calls share
// each forward pass, and one engine Session per caller key, so that a
// caller's next prompt prefills only what its own KV cache lacks.
//
// The Sessions kept are bounded (EmbeddedPoolLimits): after each call the
// least recently used idle ones beyond the count or the state-memory budget
// are dropped. A dropped key's next call starts a fresh Session and
// prefills its whole prompt: the same result, only slower. A call on a key
// whose Session is busy (two calls of one caller at once) runs on a
// temporary Session, dropped after the call.
//
// Thread contract: all methods are thread-safe; calls on different keys run
// concurrently (through the scheduler).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "agent/model_provider.h"

namespace beluga::agent {

struct EmbeddedPoolLimits {
  int64_t max_sessions = 8;     // engine Sessions kept, at least 1
  int64_t max_state_bytes = 0;  // their state_bytes() in all at most; 0: no limit
  bool batch = true;            // model calls through a BatchScheduler (else on the caller's thread)
  std::chrono::microseconds gather_wait{5000};  // BatchOptions::gather_wait
};

struct EmbeddedPoolStats {
  int64_t sessions = 0;     // kept now
  int64_t busy = 0;         // in a call now
  int64_t state_bytes = 0;  // kept sessions' state
  int64_t evicted = 0;      // dropped for the limits so far
  int64_t temporary = 0;    // calls that ran on a temporary Session
  // The scheduler's counters (zero without batching).
  int64_t steps = 0, chunks = 0, rows = 0, largest_step = 0;
};

class EmbeddedPool : public std::enable_shared_from_this<EmbeddedPool> {
 public:
  // The checkpoint folder must hold tokenizer.json.
  static Result<std::shared_ptr<EmbeddedPool>> open(const std::string& model_dir, const EmbeddedPoolLimits& limits);
  ~EmbeddedPool();

  // One completion on `key`'s Session (see model_provider.h for the request).
  Result<Completion> complete(const std::string& key, const CompletionRequest& request);
  // A provider whose complete() is complete(key, ...); it keeps the pool alive.
  std::unique_ptr<ModelProvider> provider(const std::string& key);

  int64_t count_tokens(std::string_view text) const;
  int64_t count_prompt_tokens(std::string_view prompt) const;
  int64_t context_tokens() const;
  std::string describe() const;
  std::string token_counter_identity() const;
  EmbeddedPoolStats stats() const;
  const EmbeddedPoolLimits& limits() const;

  struct Parts;

 private:
  explicit EmbeddedPool(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

nlohmann::json stats_json(const EmbeddedPoolStats& stats);

}  // namespace beluga::agent
