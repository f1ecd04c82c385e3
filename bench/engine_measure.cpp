#include "bench/engine_measure.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <latch>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/batch_scheduler.h"
#include "engine/engine.h"

namespace beluga::bench {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

int32_t argmax(const std::vector<float>& logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

std::vector<int32_t> random_prompt(const Model& model, int64_t tokens, std::mt19937_64& rng) {
  std::uniform_int_distribution<int32_t> dist(0, static_cast<int32_t>(model.config().vocab_size - 1));
  std::vector<int32_t> prompt(static_cast<size_t>(tokens));
  for (int32_t& t : prompt) t = dist(rng);
  return prompt;
}

}  // namespace

uint64_t warm_page_cache(const std::string& folder) {
  uint64_t bytes = 0;
  std::vector<char> buffer(8u << 20);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(folder, ec)) {
    if (!entry.is_regular_file(ec) || entry.path().extension() != ".safetensors") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    while (in) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      bytes += static_cast<uint64_t>(in.gcount());
    }
  }
  return bytes;
}

Result<double> time_prefill(const Model& model, int64_t tokens, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int32_t> prompt = random_prompt(model, tokens, rng);
  StackState state = model.new_state();
  const SequenceChunk chunk{&state, prompt};
  const auto start = Clock::now();
  auto out = model.forward({&chunk, 1}, ForwardOptions{});
  if (!out) return out.error();
  return seconds_since(start);
}

Result<DecodeTiming> time_decode(const Model& model, int64_t batch, int64_t prompt, int64_t steps, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<StackState> states;
  std::vector<int32_t> next(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) states.push_back(model.new_state());
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<int32_t> tokens = random_prompt(model, prompt, rng);
    const SequenceChunk chunk{&states[static_cast<size_t>(b)], tokens};
    auto out = model.forward({&chunk, 1}, ForwardOptions{});
    if (!out) return out.error();
    next[static_cast<size_t>(b)] = argmax((*out)[0].logits);
  }
  std::vector<SequenceChunk> chunks(static_cast<size_t>(batch));
  DecodeTiming timing{batch, steps, 0};
  const auto start = Clock::now();
  for (int64_t s = 0; s < steps; ++s) {
    for (size_t b = 0; b < chunks.size(); ++b) chunks[b] = {&states[b], {&next[b], 1}};
    auto out = model.forward(chunks, ForwardOptions{});
    if (!out) return out.error();
    for (size_t b = 0; b < chunks.size(); ++b) next[b] = argmax((*out)[b].logits);
  }
  timing.seconds = seconds_since(start);
  return timing;
}

Result<SessionsTiming> time_sessions(const Model& model, int64_t sessions, int64_t prompt, int64_t tokens,
                                     bool speculative, uint64_t seed) {
  std::mt19937_64 rng(seed);
  BatchScheduler scheduler(model);
  std::vector<std::unique_ptr<Session>> list;
  for (int64_t i = 0; i < sessions; ++i) {
    list.push_back(scheduler.open_session());
    if (Status s = list.back()->sync(random_prompt(model, prompt, rng)); !s) return s.error();
  }
  const BatchStats before = scheduler.stats();
  std::latch ready(sessions + 1);
  std::vector<std::string> errors(static_cast<size_t>(sessions));
  std::vector<std::thread> threads;
  for (int64_t i = 0; i < sessions; ++i)
    threads.emplace_back([&, i] {
      ready.arrive_and_wait();
      GenerateOptions options;
      options.speculative = speculative;
      auto stats = list[static_cast<size_t>(i)]->generate(tokens, SamplingParams{}, nullptr, options);
      if (!stats) errors[static_cast<size_t>(i)] = stats.message();
    });
  ready.arrive_and_wait();
  const auto start = Clock::now();
  for (auto& t : threads) t.join();
  SessionsTiming timing;
  timing.seconds = seconds_since(start);
  for (const std::string& e : errors)
    if (!e.empty()) return make_error(e);
  const BatchStats after = scheduler.stats();
  timing.sessions = sessions;
  timing.tokens = tokens;
  timing.steps = after.steps - before.steps;
  timing.chunks = after.chunks - before.chunks;
  timing.largest_step = after.largest_step;
  timing.mtp_steps = after.mtp_steps - before.mtp_steps;
  timing.forward_seconds = after.forward_seconds - before.forward_seconds;
  timing.mtp_seconds = after.mtp_seconds - before.mtp_seconds;
  return timing;
}

}  // namespace beluga::bench
