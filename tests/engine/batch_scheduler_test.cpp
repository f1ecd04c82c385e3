// BatchScheduler (engine/batch_scheduler.h): sessions generating at once on
// one scheduler get, bit for bit, the tokens and logits each gets alone —
// with speculative greedy decoding (MTP verify pairs), seeded sampling,
// one session prefilling while others decode, sessions that stop early,
// one cancelled, one sent a bad token id.
//
// To know that sessions really shared steps, the tests line sessions up at a
// latch inside sync()'s first keep_going poll (each is a member then, with
// no call waiting, so nobody waits on anybody), and give the scheduler a
// long gather wait: the first prefill step then holds every session.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <cstring>
#include <latch>
#include <mutex>
#include <thread>

#include "engine/batch_scheduler.h"
#include "engine/engine.h"
#include "engine/runtime/model.h"
#include "tests/engine/synthetic_checkpoints.h"

using namespace beluga;
using testing::prompt_tokens;

namespace {

const testing::SynthShape kShapes[] = {
    {"micro fp8 (window 4, ratios 0/4/16)", "v4-micro.config.json", SynthStorage::kFP8},
    {"tiny fp8 (window 16, ratios 0/0/4/16/4/16)", "v4-tiny.config.json", SynthStorage::kFP8},
};

// Long enough that a step never runs without a member that is merely slow
// to be scheduled on a loaded machine; short enough that a broken test ends.
constexpr std::chrono::seconds kGatherWait{60};

struct Job {
  std::vector<int32_t> prompt;
  int64_t max_tokens = 20;
  float temperature = 0.0f;  // > 0: seeded sampling (no speculation)
  int64_t cancel_after = -1;  // >= 0: keep_going turns false after this many tokens
};

struct Outcome {
  std::vector<int32_t> tokens;
  std::vector<float> logits;  // last_logits() after generate
  GenerateStats stats;
  std::string error;
};

bool same_bits(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Runs `job` on `session`. `arrive` (optional) is called once, from inside
// sync() before the first chunk; `on_token` (optional) after each token.
Outcome run_job(Session& session, const Job& job, const std::function<void()>& arrive = nullptr,
                const std::function<void(size_t)>& on_token = nullptr) {
  Outcome out;
  SyncOptions sync;
  sync.chunk_tokens = 8;
  bool arrived = false;
  sync.keep_going = [&] {
    if (arrive && !arrived) {
      arrived = true;
      arrive();
    }
    return true;
  };
  if (Status s = session.sync(job.prompt, sync); !s) {
    out.error = s.message();
    return out;
  }
  SamplingParams sampling;
  sampling.temperature = job.temperature;
  sampling.seed = 1234;
  GenerateOptions options;
  options.keep_going = [&] { return job.cancel_after < 0 || static_cast<int64_t>(out.tokens.size()) < job.cancel_after; };
  auto stats = session.generate(job.max_tokens, sampling, [&](int32_t t) {
    out.tokens.push_back(t);
    if (on_token) on_token(out.tokens.size());
    return true;
  }, options);
  if (!stats) {
    out.error = stats.message();
    return out;
  }
  out.stats = *stats;
  out.logits.assign(session.last_logits().begin(), session.last_logits().end());
  return out;
}

std::vector<Outcome> run_alone(const Engine& engine, const std::vector<Job>& jobs) {
  std::vector<Outcome> out;
  for (const Job& job : jobs) {
    auto session = engine.open_session();
    out.push_back(run_job(*session, job));
  }
  return out;
}

// Every job on its own thread and its own session of one scheduler, lined
// up at a latch before their prefill.
std::vector<Outcome> run_together(BatchScheduler& scheduler, const std::vector<Job>& jobs) {
  std::vector<Outcome> out(jobs.size());
  std::latch all_generating(static_cast<std::ptrdiff_t>(jobs.size()));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < jobs.size(); ++i)
    threads.emplace_back([&, i] {
      auto session = scheduler.open_session();
      out[i] = run_job(*session, jobs[i], [&] { all_generating.arrive_and_wait(); });
    });
  for (auto& t : threads) t.join();
  return out;
}

void check_same(const std::vector<Outcome>& together, const std::vector<Outcome>& alone) {
  REQUIRE(together.size() == alone.size());
  for (size_t i = 0; i < alone.size(); ++i) {
    INFO("session " << i);
    REQUIRE(alone[i].error.empty());
    CHECK(together[i].error.empty());
    CHECK(together[i].tokens == alone[i].tokens);
    CHECK(same_bits(together[i].logits, alone[i].logits));
    CHECK(together[i].stats.cancelled == alone[i].stats.cancelled);
    // The MTP block's drafts (batched MTP rows) are the same too.
    CHECK(together[i].stats.drafted == alone[i].stats.drafted);
    CHECK(together[i].stats.accepted == alone[i].stats.accepted);
    CHECK(together[i].stats.forward_passes == alone[i].stats.forward_passes);
  }
}

}  // namespace

TEST_CASE("sessions decoding together get exactly the tokens and logits each gets alone", "[engine][batch]") {
  for (const auto& shape : kShapes) {
    INFO(shape.name);
    auto engine = Engine::load(testing::synthetic_checkpoint(shape));
    REQUIRE(engine.ok());
    const int64_t vocab = (*engine)->info().vocab_size;
    // Different prompt lengths (different positions in every step), greedy
    // with MTP drafts and seeded sampling, and lengths that end at
    // different steps (a finished session leaves the batch).
    std::vector<Job> jobs(3);
    jobs[0].prompt = prompt_tokens(5, vocab, 21);
    jobs[0].max_tokens = 12;
    jobs[1].prompt = prompt_tokens(29, vocab, 22);
    jobs[1].max_tokens = 30;
    jobs[2].prompt = prompt_tokens(17, vocab, 23);
    jobs[2].max_tokens = 21;
    jobs[2].temperature = 0.8f;
    const auto alone = run_alone(**engine, jobs);
    CHECK(alone[0].stats.drafted > 0);  // the verify pairs are exercised

    BatchOptions options;
    options.gather_wait = kGatherWait;
    BatchScheduler scheduler((*engine)->model(), options);
    check_same(run_together(scheduler, jobs), alone);
    const BatchStats stats = scheduler.stats();
    CHECK(stats.largest_step == 3);
    CHECK(stats.mtp_calls > 0);
    CHECK(stats.mtp_steps < stats.mtp_calls);  // MTP rows of several sessions shared a pass
    CHECK(stats.members == 0);
  }
}

TEST_CASE("a session prefilling while others decode changes none of their results", "[engine][batch]") {
  const auto& shape = kShapes[1];
  auto engine = Engine::load(testing::synthetic_checkpoint(shape));
  REQUIRE(engine.ok());
  const int64_t vocab = (*engine)->info().vocab_size;
  // Two decoders generate 3 tokens, then 37 more (two generate() calls, run
  // alike alone and together); a late session arrives between the two with
  // a long prompt, and its prefill chunks share steps with their decoding.
  const std::vector<int32_t> prompts[2] = {prompt_tokens(9, vocab, 31), prompt_tokens(14, vocab, 32)};
  Job late;
  late.prompt = prompt_tokens(70, vocab, 33);
  late.max_tokens = 10;
  late.temperature = 0.5f;
  auto decode = [&](Session& session, size_t i, const std::function<void()>& between) {
    Outcome out;
    auto on_token = [&](int32_t t) {
      out.tokens.push_back(t);
      return true;
    };
    REQUIRE(session.sync(prompts[i]).ok());
    REQUIRE(session.generate(3, {}, on_token).ok());
    if (between) between();
    auto stats = session.generate(37, {}, on_token);
    REQUIRE(stats.ok());
    out.stats = *stats;
    out.logits.assign(session.last_logits().begin(), session.last_logits().end());
    return out;
  };
  std::vector<Outcome> alone;
  for (size_t i = 0; i < 2; ++i) alone.push_back(decode(*(*engine)->open_session(), i, nullptr));
  alone.push_back(run_alone(**engine, {late}).front());

  BatchOptions options;
  options.gather_wait = kGatherWait;
  BatchScheduler scheduler((*engine)->model(), options);
  // No session ever waits while a member with nothing in line: the decoders
  // wait between their generate() calls (not members), the late session
  // inside its first keep_going poll (a member with nothing in line) until
  // both decoders are members again; then all three send their calls.
  std::vector<Outcome> together(3);
  std::mutex mutex;
  std::condition_variable changed;
  int paused = 0;
  bool late_joined = false;
  auto pause = [&] {
    std::unique_lock lock(mutex);
    ++paused;
    changed.notify_all();
    changed.wait(lock, [&] { return late_joined; });
  };
  std::vector<std::thread> threads;
  for (size_t i = 0; i < 2; ++i)
    threads.emplace_back([&, i] { together[i] = decode(*scheduler.open_session(), i, pause); });
  threads.emplace_back([&] {
    {
      std::unique_lock lock(mutex);
      changed.wait(lock, [&] { return paused == 2; });
    }
    auto session = scheduler.open_session();
    together[2] = run_job(*session, late, [&] {
      {
        std::lock_guard lock(mutex);
        late_joined = true;
      }
      changed.notify_all();
      while (scheduler.stats().members < 3) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
  });
  for (auto& t : threads) t.join();
  check_same(together, alone);
  const BatchStats stats = scheduler.stats();
  CHECK(stats.largest_step == 3);  // the late session's first prefill chunk and both decoders
}

TEST_CASE("cancelling one session leaves the others' results untouched", "[engine][batch]") {
  const auto& shape = kShapes[0];
  auto engine = Engine::load(testing::synthetic_checkpoint(shape));
  REQUIRE(engine.ok());
  const int64_t vocab = (*engine)->info().vocab_size;
  std::vector<Job> jobs(3);
  for (size_t i = 0; i < jobs.size(); ++i) {
    jobs[i].prompt = prompt_tokens(6 + 5 * i, vocab, static_cast<uint32_t>(41 + i));
    jobs[i].max_tokens = 25;
  }
  jobs[1].cancel_after = 4;
  const auto alone = run_alone(**engine, jobs);
  REQUIRE(alone[1].stats.cancelled);

  BatchOptions options;
  options.gather_wait = kGatherWait;
  BatchScheduler scheduler((*engine)->model(), options);
  const auto together = run_together(scheduler, jobs);
  check_same(together, alone);
  CHECK(together[1].tokens.size() < together[0].tokens.size());
  CHECK(scheduler.stats().members == 0);
}

TEST_CASE("a bad token id fails its own session only", "[engine][batch]") {
  const auto& shape = kShapes[0];
  auto engine = Engine::load(testing::synthetic_checkpoint(shape));
  REQUIRE(engine.ok());
  const int64_t vocab = (*engine)->info().vocab_size;
  std::vector<Job> good(2);
  good[0].prompt = prompt_tokens(7, vocab, 51);
  good[1].prompt = prompt_tokens(12, vocab, 52);
  const auto alone = run_alone(**engine, good);

  BatchScheduler scheduler((*engine)->model());
  std::vector<Outcome> together(2);
  std::string bad_error;
  std::vector<std::thread> threads;
  for (size_t i = 0; i < 2; ++i)
    threads.emplace_back([&, i] {
      auto session = scheduler.open_session();
      together[i] = run_job(*session, good[i]);
    });
  threads.emplace_back([&] {
    auto session = scheduler.open_session();
    std::vector<int32_t> bad = prompt_tokens(10, vocab, 53);
    bad[6] = static_cast<int32_t>(vocab);
    Status s = session->sync(bad);
    if (!s) bad_error = s.message();
  });
  for (auto& t : threads) t.join();
  check_same(together, alone);
  CHECK(bad_error.find("outside the vocabulary") != std::string::npos);
}

TEST_CASE("MTP rows of several sequences in one pass get what each gets alone", "[engine][batch]") {
  for (const auto& shape : kShapes) {
    INFO(shape.name);
    auto model = Model::load(testing::synthetic_checkpoint(shape));
    REQUIRE(model.ok());
    const ModelConfig& c = (*model)->config();
    const size_t width = static_cast<size_t>(c.hc_mult * c.hidden_size);
    // Three sequences at different MTP positions, fed 3, 1 and 2 rows.
    const size_t history[] = {4, 9, 0}, fed[] = {3, 1, 2};
    std::vector<StackState> together, alone;
    std::vector<std::vector<float>> hidden;
    std::vector<std::vector<int32_t>> next;
    for (size_t i = 0; i < 3; ++i) {
      together.push_back((*model)->new_mtp_state());
      alone.push_back((*model)->new_mtp_state());
      const auto past = prompt_tokens(history[i], c.vocab_size, static_cast<uint32_t>(60 + i));
      std::vector<float> past_hidden(history[i] * width);
      for (size_t k = 0; k < past_hidden.size(); ++k) past_hidden[k] = static_cast<float>((k * 37 + i) % 101) / 50.0f - 1.0f;
      for (StackState* s : {&together.back(), &alone.back()})
        REQUIRE((*model)->forward_mtp(*s, past_hidden, past, {}).ok());
      next.push_back(prompt_tokens(fed[i], c.vocab_size, static_cast<uint32_t>(70 + i)));
      hidden.emplace_back(fed[i] * width);
      for (size_t k = 0; k < hidden.back().size(); ++k) hidden.back()[k] = static_cast<float>((k * 53 + 7 * i) % 97) / 40.0f - 1.2f;
    }
    std::vector<MtpChunk> chunks;
    for (size_t i = 0; i < 3; ++i) chunks.push_back({&together[i], hidden[i], next[i], i != 1});
    auto batch = (*model)->forward_mtp(chunks, {});
    REQUIRE(batch.ok());
    for (size_t i = 0; i < 3; ++i) {
      INFO("sequence " << i);
      auto one = (*model)->forward_mtp(alone[i], hidden[i], next[i], {});
      REQUIRE(one.ok());
      if (i == 1) CHECK((*batch)[i].logits.empty());  // asked for none
      else CHECK(same_bits((*batch)[i].logits, one->logits));
      CHECK(together[i].position == alone[i].position);
      CHECK(together[i].blocks[0].window == alone[i].blocks[0].window);
    }
  }
}
