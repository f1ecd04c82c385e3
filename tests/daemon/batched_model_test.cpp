// The daemon's embedded model with several sessions at once (SharedModel on
// agent/embedded_pool.h and engine/batch_scheduler.h), on the synthetic
// V4-vocabulary checkpoint: two agent sessions and an HTTP request
// generating together each get exactly the tokens a lone embedded provider
// gets for the same prompts; each session keeps its own KV cache between
// turns; a session dropped for the budget re-prefills and still gets the
// same tokens.
#include <catch2/catch.hpp>

#include <latch>
#include <thread>

#include <nlohmann/json.hpp>

#include "agent/model_provider.h"
#include "daemon/model_queue.h"
#include "engine/model/dsv4_tokens.h"
#include "tests/daemon/synthetic_model.h"

using namespace beluga;

namespace {

std::string first_prompt(const std::string& user) {
  return std::string(dsv4::kBos) + "<｜User｜>" + user + "<｜Assistant｜></think>";
}

// The prompt of the next turn: the last prompt, the model's answer, and a
// new user message (the way the agent loop extends a conversation).
std::string next_prompt(const std::string& prompt, const agent::Completion& answer, const std::string& user) {
  std::string out = prompt + answer.text;
  if (answer.stop == agent::CompletionStop::kEndOfTurn) out += dsv4::kEos;
  return out + "<｜User｜>" + user + "<｜Assistant｜></think>";
}

agent::CompletionRequest request_for(const std::string& prompt) {
  agent::CompletionRequest r;
  r.prompt = prompt;
  r.max_tokens = 10;
  return r;
}

// Each user's conversation run alone, turn after turn, on a provider of its own.
std::vector<std::vector<agent::Completion>> alone(const std::vector<std::vector<std::string>>& users) {
  std::vector<std::vector<agent::Completion>> out;
  for (const auto& turns : users) {
    auto provider = agent::open_model_provider(testing::synthetic_model_dir());
    REQUIRE(provider.ok());
    std::string prompt;
    out.emplace_back();
    for (const std::string& user : turns) {
      prompt = prompt.empty() ? first_prompt(user) : next_prompt(prompt, out.back().back(), user);
      auto answer = (*provider)->complete(request_for(prompt));
      REQUIRE(answer.ok());
      out.back().push_back(*answer);
    }
  }
  return out;
}

void check_same(const agent::Completion& got, const agent::Completion& expected) {
  CHECK(got.tokens == expected.tokens);
  CHECK(got.text == expected.text);
  CHECK(got.stop == expected.stop);
  CHECK(got.prompt_tokens == expected.prompt_tokens);
}

}  // namespace

TEST_CASE("daemon sessions and an HTTP request generating at once each get the tokens they get alone") {
  const std::vector<std::vector<std::string>> users = {
      {"write a function that adds two numbers", "now in C"},
      {"hello", "what is a monad?"},
      {"explain the borrow checker in one line", "shorter"},
  };
  const auto expected = alone(users);

  daemon::ModelOptions options;
  options.embedded_slots = 4;
  options.pool.gather_wait = std::chrono::seconds(60);  // every step waits for every member: steps are known
  auto model = daemon::SharedModel::open(testing::synthetic_model_dir(), options);
  REQUIRE(model.ok());
  auto a = (*model)->provider_for("session-a");
  auto b = (*model)->provider_for("session-b");
  REQUIRE(a.ok());
  REQUIRE(b.ok());

  // Two turns; in each, the three line up inside their prefill (each is then
  // a member of the scheduler's batch with no call waiting) and go together.
  std::vector<std::string> prompts(3);
  std::vector<std::vector<agent::Completion>> got(3);
  for (size_t turn = 0; turn < 2; ++turn) {
    INFO("turn " << turn);
    std::latch lined_up(3);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < 3; ++i)
      threads.emplace_back([&, i] {
        prompts[i] = turn == 0 ? first_prompt(users[i][0]) : next_prompt(prompts[i], got[i].back(), users[i][turn]);
        agent::CompletionRequest request = request_for(prompts[i]);
        bool arrived = false;
        request.on_prefill = [&](int64_t, int64_t) {
          if (!arrived) {
            arrived = true;
            lined_up.arrive_and_wait();
          }
        };
        auto answer = i == 0 ? (*a)->complete(request)
                    : i == 1 ? (*b)->complete(request)
                             : (*model)->complete_chat("http 127.0.0.1 #" + std::to_string(turn), request);
        agent::Completion failed;
        if (!answer.ok()) failed.text = "error: " + answer.message();
        got[i].push_back(answer.ok() ? *answer : failed);
      });
    for (auto& t : threads) t.join();
    for (size_t i = 0; i < 3; ++i) {
      INFO("conversation " << i);
      check_same(got[i][turn], expected[i][turn]);
      // The second turn prefills only what the conversation's own KV cache
      // lacks: each daemon session (and the HTTP endpoints) kept its Session.
      if (turn == 1) CHECK(got[i][turn].prefilled_tokens < got[i][turn].prompt_tokens);
    }
  }
  const nlohmann::json info = (*model)->info();
  INFO(info.dump());
  CHECK(info["queue"]["slots"] == 4);
  CHECK(info["engine"]["sessions"] == 3);
  CHECK(info["engine"]["evicted"] == 0);
  CHECK(info["engine"]["busy"] == 0);
  CHECK(info["engine"]["batch"]["largestStep"] == 3);
}

TEST_CASE("an engine session dropped for the budget re-prefills and gets the same tokens") {
  const std::vector<std::vector<std::string>> users = {{"first user", "again"}, {"second user", "again"}};
  const auto expected = alone(users);
  daemon::ModelOptions options;
  SECTION("at most one session kept") { options.pool.max_sessions = 1; }
  SECTION("a state budget smaller than one session") { options.pool.max_state_bytes = 1; }
  auto model = daemon::SharedModel::open(testing::synthetic_model_dir(), options);
  REQUIRE(model.ok());
  auto a = (*model)->provider_for("a");
  auto b = (*model)->provider_for("b");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  auto a1 = (*a)->complete(request_for(first_prompt(users[0][0])));
  REQUIRE(a1.ok());
  auto b1 = (*b)->complete(request_for(first_prompt(users[1][0])));  // drops a's Session
  REQUIRE(b1.ok());
  auto a2 = (*a)->complete(request_for(next_prompt(first_prompt(users[0][0]), *a1, users[0][1])));
  REQUIRE(a2.ok());
  check_same(*a1, expected[0][0]);
  check_same(*b1, expected[1][0]);
  check_same(*a2, expected[0][1]);
  CHECK(a2->prefilled_tokens == a2->prompt_tokens);  // started over
  const nlohmann::json info = (*model)->info();
  INFO(info.dump());
  CHECK(info["engine"]["evicted"].get<int64_t>() >= 2);
  CHECK(info["engine"]["sessions"].get<int64_t>() <= 1);
}
