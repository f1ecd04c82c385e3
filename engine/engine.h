// beluga's inference engine: the one header the rest of beluga includes.
//
// An Engine is a loaded DeepSeek V4 model; a Session is one conversation's
// token transcript and its attention state (KV cache). The transcript is the
// source of truth: sync(tokens) makes the session hold exactly `tokens`,
// prefilling only the new suffix when `tokens` extends what it holds (and
// starting over otherwise). generate() samples and appends tokens one by
// one, calling back per token; with greedy sampling and an MTP block it
// drafts a token ahead and verifies it with the main model, which yields
// the same tokens as plain greedy decoding. Nothing here exposes tensors.
//
// Sessions opened on a BatchScheduler (engine/batch_scheduler.h) run the
// same code, but their model calls share forward passes with the other
// sessions of that scheduler; their results are the same, bit for bit.
//
// Thread contract: an Engine is const after load and may be shared; a
// Session is used by one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "engine/runtime/sampler.h"

namespace beluga {

class BatchScheduler;
class Model;
struct ChunkResult;
struct SavedState;
struct SequenceChunk;
struct StackState;

struct ModelInfo {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t layers = 0;
  int64_t mtp_layers = 0;
  int64_t max_positions = 0;
  int64_t bos_token = -1;  // -1: none
  int64_t eos_token = -1;
};

// Returns false to stop (cancellation is checked between chunks and tokens).
using KeepGoing = std::function<bool()>;

struct SyncOptions {
  int64_t chunk_tokens = 512;  // prefill in chunks of this many tokens
  KeepGoing keep_going;        // polled between chunks
};

// Proposes the token after `next`, given the transcript so far (which does
// not yet include `next`); -1 proposes nothing. Prompt lookup (copying what
// followed the same tokens earlier) is a cheap drafter for code edits.
using Drafter = std::function<int32_t(std::span<const int32_t> transcript, int32_t next)>;

struct GenerateOptions {
  bool speculative = true;  // draft a token ahead and verify it (greedy only)
  Drafter drafter;          // the draft source; empty: the model's MTP block
  KeepGoing keep_going;     // polled between steps
};

struct GenerateStats {
  int64_t tokens = 0;            // tokens appended
  int64_t forward_passes = 0;    // main-model forward calls
  int64_t drafted = 0;           // MTP drafts proposed
  int64_t accepted = 0;          // drafts the main model confirmed
  bool cancelled = false;
};

class Session;

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> load(const std::string& model_folder);
  ~Engine();

  ModelInfo info() const;
  std::unique_ptr<Session> open_session() const;
  const Model& model() const { return *model_; }

 private:
  Engine() = default;
  std::unique_ptr<Model> model_;
};

class Session {
 public:
  // `scheduler`: where its model calls run (BatchScheduler::open_session);
  // null: directly on this thread.
  explicit Session(const Model& model, BatchScheduler* scheduler = nullptr);
  ~Session();

  const std::vector<int32_t>& tokens() const { return tokens_; }
  // Logits after the last token of the transcript (empty before any token).
  std::span<const float> last_logits() const { return last_logits_; }

  Status sync(std::span<const int32_t> tokens, const SyncOptions& options = {});

  // Bytes its attention state and last results hold (what keeping the
  // session costs; a cache of sessions budgets with it).
  int64_t state_bytes() const;

  // Appends up to `max_tokens` tokens; `on_token` returns false to stop.
  // Needs a non-empty transcript.
  Result<GenerateStats> generate(int64_t max_tokens, const SamplingParams& sampling,
                                 const std::function<bool(int32_t)>& on_token, const GenerateOptions& options = {});

  // In-memory snapshot and restore: the restored session continues
  // bit-identically.
  std::shared_ptr<const SavedState> snapshot() const;
  void restore(const SavedState& state);

  // The same, through a versioned, checksummed file (engine/runtime/state_io.h).
  Status save(const std::string& path) const;
  Status load(const std::string& path);

 private:
  struct State;
  Status append(std::span<const int32_t> tokens, int64_t chunk_tokens, const KeepGoing& keep_going);
  void reset();
  Status sync_now(std::span<const int32_t> tokens, const SyncOptions& options);
  Result<GenerateStats> generate_now(int64_t max_tokens, const SamplingParams& sampling,
                                     const std::function<bool(int32_t)>& on_token, const GenerateOptions& options);
  // The model calls, directly or through the scheduler.
  Result<ChunkResult> run_main(const SequenceChunk& chunk);
  // `logits`: false when the rows only extend the MTP state.
  Result<ChunkResult> run_mtp(std::span<const float> hidden, std::span<const int32_t> next_tokens, bool logits);

  const Model& model_;
  BatchScheduler* scheduler_;
  std::vector<int32_t> tokens_;
  std::vector<float> last_logits_;
  std::unique_ptr<State> state_;
};

}  // namespace beluga
