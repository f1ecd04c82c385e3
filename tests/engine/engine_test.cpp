// The engine's runtime guarantees, on synthetic checkpoints of several shapes
// (written by `beluga model synth`'s library), with sequences longer than the
// window and than several compression blocks:
//   - a prompt fed at once, in chunks of any size or token by token gives the
//     same logits; so does a sequence run inside a batch of others;
//   - a snapshot (in memory or in a file) continues bit-identically;
//   - speculative greedy decoding gives exactly the plain greedy tokens;
//   - bad input (token ids, state files) is an error, never a crash.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>

#include "engine/engine.h"
#include "engine/model/synth.h"
#include "engine/runtime/model.h"
#include "engine/runtime/state_io.h"
#include "tests/engine/synthetic_checkpoints.h"
#include "tests/test_support.h"

using namespace beluga;
using beluga::testing::ScratchDir;

namespace {

using testing::prompt_tokens;
using Shape = testing::SynthShape;

const Shape kShapes[] = {
    {"micro fp8 (window 4, ratios 0/4/16)", "v4-micro.config.json", SynthStorage::kFP8},
    {"micro bf16", "v4-micro.config.json", SynthStorage::kBF16},
    {"tiny fp8 (window 16, ratios 0/0/4/16/4/16)", "v4-tiny.config.json", SynthStorage::kFP8},
};

const std::string& checkpoint(const Shape& shape) { return testing::synthetic_checkpoint(shape); }

std::vector<float> logits_after(const Model& model, std::span<const int32_t> tokens, size_t chunk) {
  StackState state = model.new_state();
  std::vector<float> logits;
  for (size_t begin = 0; begin < tokens.size(); begin += chunk) {
    SequenceChunk c{&state, tokens.subspan(begin, std::min(chunk, tokens.size() - begin))};
    auto out = model.forward(std::span<const SequenceChunk>(&c, 1), {});
    REQUIRE(out.ok());
    logits = out->front().logits;
  }
  return logits;
}

float max_abs_diff(std::span<const float> a, std::span<const float> b) {
  REQUIRE(a.size() == b.size());
  float worst = 0.0f;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
  return worst;
}

std::vector<int32_t> greedy(Session& session, int64_t n, GenerateOptions options, GenerateStats* stats = nullptr) {
  std::vector<int32_t> out;
  auto result = session.generate(n, {}, [&](int32_t t) { out.push_back(t); return true; }, options);
  REQUIRE(result.ok());
  if (stats) *stats = *result;
  return out;
}

}  // namespace

TEST_CASE("a prompt fed at once, in chunks or token by token gives the same logits", "[engine]") {
  for (const Shape& shape : kShapes) {
    INFO(shape.name);
    auto model = Model::load(checkpoint(shape));
    REQUIRE(model.ok());
    const auto tokens = prompt_tokens(70, (*model)->config().vocab_size, 1);  // > window, > 4 blocks of 16
    const std::vector<float> whole = logits_after(**model, tokens, tokens.size());
    for (size_t chunk : {1, 3, 7, 16, 33}) {
      INFO("chunk " << chunk);
      CHECK(max_abs_diff(logits_after(**model, tokens, chunk), whole) <= 1e-6f);
    }
  }
}

TEST_CASE("each sequence in a batch gets the logits it gets alone", "[engine]") {
  for (const Shape& shape : kShapes) {
    INFO(shape.name);
    auto model = Model::load(checkpoint(shape));
    REQUIRE(model.ok());
    const int64_t vocab = (*model)->config().vocab_size;
    // Three sequences at different positions, fed different chunk lengths.
    std::vector<std::vector<int32_t>> histories = {prompt_tokens(5, vocab, 2), prompt_tokens(37, vocab, 3), {}};
    std::vector<std::vector<int32_t>> chunks = {prompt_tokens(9, vocab, 4), prompt_tokens(1, vocab, 5), prompt_tokens(21, vocab, 6)};
    std::vector<StackState> states;
    for (const auto& history : histories) {
      states.push_back((*model)->new_state());
      if (history.empty()) continue;
      SequenceChunk c{&states.back(), history};
      REQUIRE((*model)->forward(std::span<const SequenceChunk>(&c, 1), {}).ok());
    }
    std::vector<SequenceChunk> batch;
    for (size_t i = 0; i < chunks.size(); ++i) batch.push_back({&states[i], chunks[i]});
    auto together = (*model)->forward(batch, {});
    REQUIRE(together.ok());
    for (size_t i = 0; i < chunks.size(); ++i) {
      INFO("sequence " << i);
      std::vector<int32_t> all = histories[i];
      all.insert(all.end(), chunks[i].begin(), chunks[i].end());
      CHECK(max_abs_diff((*together)[i].logits, logits_after(**model, all, all.size())) <= 1e-6f);
    }
  }
}

TEST_CASE("speculative greedy decoding yields exactly the plain greedy tokens", "[engine]") {
  for (const Shape& shape : kShapes) {
    INFO(shape.name);
    auto engine = Engine::load(checkpoint(shape));
    REQUIRE(engine.ok());
    const auto prompt = prompt_tokens(23, (*engine)->info().vocab_size, 7);
    auto plain_session = (*engine)->open_session();
    REQUIRE(plain_session->sync(prompt).ok());
    GenerateOptions plain;
    plain.speculative = false;
    const std::vector<int32_t> expected = greedy(*plain_session, 30, plain);
    std::vector<float> expected_logits(plain_session->last_logits().begin(), plain_session->last_logits().end());

    SECTION("drafts from the MTP block") {
      auto session = (*engine)->open_session();
      REQUIRE(session->sync(prompt).ok());
      GenerateStats stats;
      CHECK(greedy(*session, 30, {}, &stats) == expected);
      CHECK(stats.drafted > 0);
      CHECK(max_abs_diff(session->last_logits(), expected_logits) <= 1e-6f);
    }
    SECTION("drafts that are always right, always wrong, or mixed") {
      for (int kind = 0; kind < 3; ++kind) {
        INFO("drafter kind " << kind);
        auto session = (*engine)->open_session();
        REQUIRE(session->sync(prompt).ok());
        GenerateOptions options;
        options.drafter = [&](std::span<const int32_t> transcript, int32_t) -> int32_t {
          const size_t produced = transcript.size() + 1 - prompt.size();  // index of the token after `next`
          if (produced >= expected.size()) return -1;
          const bool right = kind == 0 || (kind == 2 && produced % 3 != 0);
          return right ? expected[produced] : (expected[produced] + 1) % static_cast<int32_t>((*engine)->info().vocab_size);
        };
        GenerateStats stats;
        CHECK(greedy(*session, 30, options, &stats) == expected);
        CHECK(session->tokens().size() == prompt.size() + 30);
        if (kind == 0) CHECK(stats.accepted == stats.drafted);
        if (kind == 1) CHECK(stats.accepted == 0);
        if (kind != 1) CHECK(stats.forward_passes < 30);
        CHECK(max_abs_diff(session->last_logits(), expected_logits) <= 1e-6f);
        // The session keeps working after speculation: one more plain step agrees.
        GenerateOptions no_draft;
        no_draft.speculative = false;
        auto next = greedy(*session, 1, no_draft);
        auto next_plain = greedy(*plain_session, 1, no_draft);
        CHECK(next == next_plain);
        plain_session = (*engine)->open_session();
        REQUIRE(plain_session->sync(prompt).ok());
        greedy(*plain_session, 30, plain);
      }
    }
  }
}

TEST_CASE("a restored snapshot continues bit-identically, in memory and from a file", "[engine]") {
  const Shape& shape = kShapes[0];
  auto engine = Engine::load(checkpoint(shape));
  REQUIRE(engine.ok());
  const auto prompt = prompt_tokens(29, (*engine)->info().vocab_size, 8);
  auto session = (*engine)->open_session();
  REQUIRE(session->sync(prompt).ok());
  auto saved = session->snapshot();
  ScratchDir dir;
  REQUIRE(session->save(dir.file("state.bkv")).ok());
  GenerateOptions plain;
  plain.speculative = false;
  const auto expected = greedy(*session, 12, plain);
  const std::vector<float> expected_logits(session->last_logits().begin(), session->last_logits().end());

  auto from_memory = (*engine)->open_session();
  from_memory->restore(*saved);
  CHECK(from_memory->tokens() == prompt);
  CHECK(greedy(*from_memory, 12, plain) == expected);
  CHECK(std::equal(expected_logits.begin(), expected_logits.end(), from_memory->last_logits().begin(), from_memory->last_logits().end()));

  auto from_file = (*engine)->open_session();
  REQUIRE(from_file->load(dir.file("state.bkv")).ok());
  CHECK(greedy(*from_file, 12, {}) == expected);  // speculation on: MTP state restored too
  CHECK(std::equal(expected_logits.begin(), expected_logits.end(), from_file->last_logits().begin(), from_file->last_logits().end()));
}

TEST_CASE("damaged or foreign state files are refused and leave the session intact", "[engine]") {
  auto engine = Engine::load(checkpoint(kShapes[0]));
  REQUIRE(engine.ok());
  auto other = Engine::load(checkpoint(kShapes[2]));
  REQUIRE(other.ok());
  const auto prompt = prompt_tokens(10, (*engine)->info().vocab_size, 9);
  auto session = (*engine)->open_session();
  REQUIRE(session->sync(prompt).ok());
  ScratchDir dir;
  const std::string path = dir.file("state.bkv");
  REQUIRE(session->save(path).ok());
  const auto good = testing::read_bytes(path);

  auto target = (*engine)->open_session();
  REQUIRE(target->sync(std::vector<int32_t>{1, 2, 3}).ok());
  auto refused = [&](const std::vector<uint8_t>& bytes, const char* fragment) {
    testing::write_bytes(path, bytes);
    Status s = target->load(path);
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(s.message(), Catch::Contains(fragment));
    CHECK(target->tokens() == std::vector<int32_t>{1, 2, 3});
  };
  refused({}, "too short");
  refused(std::vector<uint8_t>(good.begin(), good.end() - 9), "truncated");
  auto flipped = good;
  flipped[good.size() / 2] ^= 0x40;
  refused(flipped, "checksum");
  auto wrong_magic = good;
  wrong_magic[0] = 'X';
  refused(wrong_magic, "magic");
  auto wrong_version = good;
  wrong_version[8] = 9;
  refused(wrong_version, "version 9");
  // A state of another model.
  auto foreign = (*other)->open_session();
  REQUIRE(foreign->sync(std::vector<int32_t>{4, 5}).ok());
  REQUIRE(foreign->save(path).ok());
  Status s = target->load(path);
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.message(), Catch::Contains("other shapes"));
}

TEST_CASE("sync reuses the common prefix and starts over when the transcript diverges", "[engine]") {
  auto engine = Engine::load(checkpoint(kShapes[0]));
  REQUIRE(engine.ok());
  const int64_t vocab = (*engine)->info().vocab_size;
  const auto a = prompt_tokens(20, vocab, 10), b = prompt_tokens(17, vocab, 11);
  auto session = (*engine)->open_session();
  REQUIRE(session->sync(a).ok());
  auto longer = a;
  longer.push_back(5);
  REQUIRE(session->sync(longer).ok());
  auto fresh = (*engine)->open_session();
  REQUIRE(fresh->sync(longer).ok());
  CHECK(max_abs_diff(session->last_logits(), fresh->last_logits()) <= 1e-6f);
  REQUIRE(session->sync(b).ok());  // diverges: starts over
  auto fresh_b = (*engine)->open_session();
  REQUIRE(fresh_b->sync(b).ok());
  CHECK(session->tokens() == b);
  CHECK(max_abs_diff(session->last_logits(), fresh_b->last_logits()) <= 1e-6f);
}

TEST_CASE("bad token ids and cancellation are errors that leave a consistent session", "[engine]") {
  auto engine = Engine::load(checkpoint(kShapes[0]));
  REQUIRE(engine.ok());
  const int32_t vocab = static_cast<int32_t>((*engine)->info().vocab_size);
  auto session = (*engine)->open_session();
  Status bad = session->sync(std::vector<int32_t>{1, vocab, 2});
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.message(), Catch::Contains("outside the vocabulary"));
  CHECK(session->tokens().empty());
  CHECK_FALSE(session->sync(std::vector<int32_t>{-1}).ok());

  SyncOptions options;
  options.chunk_tokens = 4;
  int polls = 0;
  options.keep_going = [&] { return ++polls <= 2; };  // two chunks, then cancel
  Status cancelled = session->sync(prompt_tokens(20, vocab, 12), options);
  REQUIRE_FALSE(cancelled.ok());
  CHECK_THAT(cancelled.message(), Catch::Contains("cancelled"));
  CHECK(session->tokens().size() == 8);
  const auto expected = prompt_tokens(20, vocab, 12);
  REQUIRE(session->sync(expected).ok());  // resumes from the prefix it kept
  auto fresh = (*engine)->open_session();
  REQUIRE(fresh->sync(expected).ok());
  CHECK(max_abs_diff(session->last_logits(), fresh->last_logits()) <= 1e-6f);
  CHECK_FALSE(session->generate(3, SamplingParams{-1.0f}, nullptr).ok());
}
