// Timed runs of the CPU engine shared by bench/engine_bench.cpp and
// `beluga bench decode|prefill` (daemon/bench_command.cpp). Each prompt is
// seeded random token ids; decoding is greedy.
#pragma once

#include <cstdint>
#include <string>

#include "engine/base/result.h"
#include "engine/runtime/model.h"

namespace beluga::bench {

// Reads every safetensors file of `folder` once (so a cold disk is not
// charged to the first forward pass); returns the bytes read.
uint64_t warm_page_cache(const std::string& folder);

// Seconds of one forward of `tokens` prompt tokens on a fresh state.
Result<double> time_prefill(const Model& model, int64_t tokens, uint64_t seed);

struct DecodeTiming {
  int64_t batch = 1;    // sequences decoded together, one token each per step
  int64_t steps = 0;
  double seconds = 0;
  double tokens_per_s() const { return seconds > 0 ? static_cast<double>(batch * steps) / seconds : 0; }
  double steps_per_s() const { return seconds > 0 ? static_cast<double>(steps) / seconds : 0; }
};

// `batch` sequences, each prefilled with `prompt` tokens (untimed), then
// `steps` forward passes of one token per sequence (timed).
Result<DecodeTiming> time_decode(const Model& model, int64_t batch, int64_t prompt, int64_t steps, uint64_t seed);

struct SessionsTiming {
  int64_t sessions = 1;  // engine Sessions generating at once through one BatchScheduler
  int64_t tokens = 0;    // tokens each generated
  double seconds = 0;
  int64_t steps = 0;         // the scheduler's forward passes while they generated
  int64_t chunks = 0;        // sequence chunks those steps carried
  int64_t largest_step = 0;  // most chunks in one step (the scheduler's whole life)
  int64_t mtp_steps = 0;     // its MTP-block passes
  double forward_seconds = 0, mtp_seconds = 0;  // of `seconds`, in the main model's and the MTP block's passes
  double tokens_per_s() const { return seconds > 0 ? static_cast<double>(sessions * tokens) / seconds : 0; }
};

// `sessions` engine Sessions on one BatchScheduler (engine/batch_scheduler.h),
// each prefilled with `prompt` tokens (untimed), then each generating
// `tokens` greedy tokens on a thread of its own, all started together
// (timed until the last ends). `speculative`: MTP drafts and verify pairs.
Result<SessionsTiming> time_sessions(const Model& model, int64_t sessions, int64_t prompt, int64_t tokens,
                                     bool speculative, uint64_t seed);

}  // namespace beluga::bench
