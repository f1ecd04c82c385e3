// The agent loop end to end with the replay provider on scratch git
// repositories: recorded V4 completions go through the real rendering,
// DSML parsing, permission checks, tools, checkpoints and session store.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "agent/agent_loop.h"
#include "engine/model/chat_template.h"
#include "tests/agent/agent_test_support.h"
#include "tools/registry.h"

namespace beluga::agent {
namespace {

using beluga::testing::AgentSandbox;
using beluga::testing::Call;
using beluga::testing::completion;
using beluga::testing::Param;
using Catch::Matchers::Contains;

// A provider that remembers every prompt and completion (for the byte
// identity check) and delegates to replay.
class Tap final : public ModelProvider {
 public:
  explicit Tap(std::unique_ptr<ModelProvider> inner) : inner_(std::move(inner)) {}
  Result<Completion> complete(const CompletionRequest& request) override {
    auto out = inner_->complete(request);
    prompts.push_back(request.prompt);
    completions.push_back(out ? out->text : "");
    return out;
  }
  int64_t count_tokens(std::string_view text) const override { return inner_->count_tokens(text); }
  int64_t context_tokens() const override { return context ? context : inner_->context_tokens(); }
  std::string describe() const override { return inner_->describe(); }
  std::vector<std::string> prompts, completions;
  int64_t context = 0;

 private:
  std::unique_ptr<ModelProvider> inner_;
};

struct Harness {
  AgentSandbox sandbox;
  std::optional<SessionStore> store;
  tools::ToolRegistry registry = tools::make_default_registry();
  std::vector<AgentEvent> events;
  Tap* tap = nullptr;
  std::function<PermissionAnswer(const PermissionRequest&)> ask;
  std::function<void(const AgentEvent&)> also;  // called on the turn's thread for each event

  Harness() {
    auto opened = SessionStore::open(sandbox.db_path());
    REQUIRE(opened.ok());
    store.emplace(std::move(opened).value());
  }

  AgentSetup setup(const std::vector<std::string>& completions, PermissionMode mode = PermissionMode::kYolo,
                   const std::string& replay_name = "replay.jsonl") {
    testing::write_replay(sandbox.file(replay_name), completions);
    auto replay = open_replay_provider(sandbox.file(replay_name));
    REQUIRE(replay.ok());
    auto t = std::make_unique<Tap>(std::move(replay).value());
    tap = t.get();
    AgentSetup s;
    s.provider = std::move(t);
    s.store = &*store;
    s.workspace = sandbox.repo().root();
    s.registry = &registry;
    s.policy.mode = mode;
    s.callbacks.on_event = [this](const AgentEvent& e) {
      events.push_back(e);
      if (also) also(e);
    };
    if (ask) s.callbacks.ask = [this](const PermissionRequest& r) { return ask(r); };
    return s;
  }

  std::unique_ptr<Agent> create(const std::vector<std::string>& completions, PermissionMode mode = PermissionMode::kYolo) {
    auto agent = Agent::create(setup(completions, mode));
    REQUIRE(agent.ok());
    return std::move(agent).value();
  }

  std::vector<const AgentEvent*> of(EventKind kind) const {
    std::vector<const AgentEvent*> out;
    for (const AgentEvent& e : events)
      if (e.kind == kind) out.push_back(&e);
    return out;
  }
};

std::string git_head_message(const std::filesystem::path& root) {
  git_libgit2_init();
  git_repository* repo = nullptr;
  testing::git_check(git_repository_open(&repo, root.c_str()), "open");
  git_object* head = nullptr;
  testing::git_check(git_revparse_single(&head, repo, "HEAD"), "HEAD");
  git_commit* commit = nullptr;
  testing::git_check(git_commit_lookup(&commit, repo, git_object_id(head)), "commit");
  std::string message = git_commit_message(commit);
  git_commit_free(commit);
  git_object_free(head);
  git_repository_free(repo);
  git_libgit2_shutdown();
  return message;
}

}  // namespace

TEST_CASE("a replayed multi-step task reads and edits two files then runs the tests and commits", "[agent]") {
  Harness h;
  auto& repo = h.sandbox.repo();
  repo.write("src/greet.txt", "hello world\n");
  repo.write("src/name.txt", "name = old\n");
  repo.write("test.sh", "grep -q 'hello beluga' src/greet.txt && grep -q 'name = new' src/name.txt && echo PASS\n");
  repo.commit_all("initial");

  auto agent = h.create({
      completion("I should look at the file first.", "", {{"read", {{"path", "src/greet.txt"}}}}),
      completion("Now edit both files.", "Editing.",
                 {{"edit", {{"path", "src/greet.txt"}, {"old", "hello world"}, {"new", "hello beluga"}}},
                  {"edit", {{"path", "src/name.txt"}, {"old", "old"}, {"new", "new"}}}}),
      completion("Run the tests.", "", {{"shell", {{"command", "sh test.sh"}}}}),
      completion("Tests pass; commit.", "",
                 {{"git_add", {{"paths", "[\"src/greet.txt\", \"src/name.txt\"]", false}}},
                  {"git_commit", {{"message", "Greet beluga"}}}}),
      completion("Done.", "I changed the greeting and the name, the tests pass, and I committed."),
  });
  TurnResult result = agent->run_turn("Greet beluga instead of the world and rename old to new, then commit.");
  INFO(result.message);
  REQUIRE(result.reason == StopReason::kCompleted);
  CHECK(result.steps == 5);
  CHECK(repo.read("src/greet.txt") == "hello beluga\n");
  CHECK(repo.read("src/name.txt") == "name = new\n");
  CHECK(git_head_message(repo.root()) == "Greet beluga\n");
  CHECK(result.final_text == "I changed the greeting and the name, the tests pass, and I committed.");

  // Every tool succeeded, the shell ran the test, the edits came with diffs.
  auto results = h.of(EventKind::kToolResult);
  REQUIRE(results.size() == 6);
  for (const AgentEvent* r : results) CHECK(r->ok);
  CHECK_THAT(results[3]->text, Contains("PASS"));
  CHECK_THAT(results[1]->diff, Contains("-hello world"));
  CHECK_THAT(results[1]->diff, Contains("+hello beluga"));
  CHECK(h.of(EventKind::kDone).size() == 1);
  CHECK(h.of(EventKind::kDone)[0]->stop_reason == "completed");
  CHECK(h.of(EventKind::kAssistantText).size() >= 2);

  // The transcript is stored: user, then 5 model turns and 6 results.
  auto stored = h.store->active_messages(agent->session_id());
  REQUIRE(stored.ok());
  CHECK(stored->size() == 1 + 5 + 6);
  CHECK(stored->front().message.content == "Greet beluga instead of the world and rename old to new, then commit.");

  // Each prompt the model saw starts with the previous prompt plus what the
  // model generated: the KV cache is only ever extended.
  REQUIRE(h.tap->prompts.size() == 5);
  for (size_t i = 1; i < h.tap->prompts.size(); ++i) {
    const std::string held = h.tap->prompts[i - 1] + h.tap->completions[i - 1];
    CHECK(h.tap->prompts[i].compare(0, held.size(), held) == 0);
  }
  // The tools are declared in V4's format in the system message.
  CHECK_THAT(h.tap->prompts[0], Contains("## Tools"));
  CHECK_THAT(h.tap->prompts[0], Contains("src/greet.txt"));  // the repository context lists the files
}

TEST_CASE("a permission ask answered deny then allow reaches the model both times", "[agent]") {
  Harness h;
  h.sandbox.repo().write("a.txt", "a\n");
  h.sandbox.repo().commit_all("initial");
  std::vector<PermissionRequest> asked;
  h.ask = [&](const PermissionRequest& r) {
    asked.push_back(r);
    return asked.size() == 1 ? PermissionAnswer::kDeny : PermissionAnswer::kAllowOnce;
  };
  auto agent = h.create({
      completion("Create the file.", "", {{"shell", {{"command", "echo made > out.txt"}}}}),
      completion("It was denied; I ask again with a reason.", "I need this file for the task.",
                 {{"shell", {{"command", "echo made > out.txt"}}}}),
      completion("Done.", "Created out.txt."),
  }, PermissionMode::kDefault);
  TurnResult result = agent->run_turn("Create out.txt");
  INFO(result.message);
  REQUIRE(result.reason == StopReason::kCompleted);
  REQUIRE(asked.size() == 2);
  CHECK(asked[0].tool == "shell");
  CHECK_THAT(asked[0].summary, Contains("echo made > out.txt"));
  auto results = h.of(EventKind::kToolResult);
  REQUIRE(results.size() == 2);
  CHECK_FALSE(results[0]->ok);
  CHECK_THAT(results[0]->text, Contains("permission denied"));
  CHECK(results[1]->ok);
  CHECK(h.sandbox.repo().read("out.txt") == "made\n");
  auto permissions = h.of(EventKind::kPermission);
  REQUIRE(permissions.size() == 2);
  CHECK(permissions[0]->answer == "deny");
  CHECK(permissions[1]->answer == "allow_once");
  // The model saw the refusal in its next prompt.
  CHECK_THAT(h.tap->prompts[1], Contains("permission denied"));
}

TEST_CASE("without anyone to ask a call that needs permission is denied", "[agent]") {
  Harness h;
  auto agent = h.create({
      completion("", "", {{"write", {{"path", "new.txt"}, {"content", "x"}}}}),
      completion("", "I could not write the file."),
  }, PermissionMode::kDefault);
  TurnResult result = agent->run_turn("write new.txt");
  CHECK(result.reason == StopReason::kCompleted);
  CHECK_FALSE(h.sandbox.repo().exists("new.txt"));
  auto results = h.of(EventKind::kToolResult);
  REQUIRE(results.size() == 1);
  CHECK_THAT(results[0]->text, Contains("not interactive"));
}

TEST_CASE("plan mode refuses edits and auto-edit mode allows them without asking", "[agent]") {
  {
    Harness h;
    auto agent = h.create({completion("", "", {{"write", {{"path", "p.txt"}, {"content", "x"}}}}), completion("", "ok")},
                          PermissionMode::kPlan);
    TurnResult result = agent->run_turn("write");
    INFO(result.message);
    CHECK(result.reason == StopReason::kCompleted);
    CHECK_FALSE(h.sandbox.repo().exists("p.txt"));
    CHECK_THAT(h.of(EventKind::kToolResult)[0]->text, Contains("plan mode"));
  }
  {
    Harness h;
    h.ask = [](const PermissionRequest&) -> PermissionAnswer { FAIL("auto-edit must not ask for an edit"); return PermissionAnswer::kDeny; };
    auto agent = h.create({completion("", "", {{"write", {{"path", "p.txt"}, {"content", "x"}}}}), completion("", "ok")},
                          PermissionMode::kAutoEdit);
    CHECK(agent->run_turn("write").reason == StopReason::kCompleted);
    CHECK(h.sandbox.repo().read("p.txt") == "x");
  }
}

TEST_CASE("a malformed tool call is answered with an error and the model recovers", "[agent]") {
  Harness h;
  h.sandbox.repo().write("a.txt", "alpha\n");
  auto agent = h.create({
      // Not parseable at all: a second </think> inside the answer.
      "thinking</think>answer</think> more",
      // Parseable, but the arguments are not JSON (string="false" with bad JSON).
      completion("", "", {{"read", {{"path", "{not json", false}}}}),
      completion("", "", {{"read", {{"path", "a.txt"}}}}),
      completion("", "a.txt says alpha."),
  });
  TurnResult result = agent->run_turn("what does a.txt say?");
  INFO(result.message);
  REQUIRE(result.reason == StopReason::kCompleted);
  CHECK(result.steps == 4);
  auto warnings = h.of(EventKind::kWarning);
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0]->text, Contains("malformed"));
  auto results = h.of(EventKind::kToolResult);
  REQUIRE(results.size() == 2);
  CHECK_FALSE(results[0]->ok);
  CHECK_THAT(results[0]->text, Contains("not run"));
  CHECK(results[1]->ok);
  CHECK_THAT(h.tap->prompts[1], Contains("could not be read"));
  // The malformed reply stays in the transcript verbatim.
  CHECK_THAT(h.tap->prompts[1], Contains("answer</think> more"));
}

TEST_CASE("repeated malformed output stops the turn with a clear reason", "[agent]") {
  Harness h;
  auto agent = h.create({"a</think>b</think>", "a</think>b</think>", "a</think>b</think>", completion("", "never")});
  TurnResult result = agent->run_turn("hi");
  CHECK(result.reason == StopReason::kMalformed);
  CHECK_THAT(result.message, Contains("3 times in a row"));
  CHECK(result.steps == 3);
}

TEST_CASE("max steps stops a turn that keeps calling tools", "[agent]") {
  Harness h;
  std::vector<std::string> lines(5, completion("", "", {{"git_status", {}}}));
  auto setup = h.setup(lines);
  setup.options.max_steps = 3;
  auto agent = Agent::create(std::move(setup));
  REQUIRE(agent.ok());
  TurnResult result = (*agent)->run_turn("loop");
  CHECK(result.reason == StopReason::kMaxSteps);
  CHECK(result.steps == 3);
  // Every call of the stored transcript has its answer.
  CHECK((*agent)->render().ok());
}

TEST_CASE("running out of recorded completions is an error naming the call", "[agent]") {
  Harness h;
  auto agent = h.create({completion("", "", {{"git_status", {}}})});
  TurnResult result = agent->run_turn("status");
  CHECK(result.reason == StopReason::kError);
  CHECK_THAT(result.message, Contains("no recorded completion left for model call 2"));
}

TEST_CASE("cancel in the middle of a shell command stops it and keeps the transcript consistent", "[agent]") {
  Harness h;
  h.sandbox.repo().commit_all("initial");
  std::atomic<bool> shell_started{false};
  h.also = [&](const AgentEvent& e) {
    if (e.kind == EventKind::kToolCall && e.tool == "shell") shell_started.store(true);
  };
  auto agent = h.create({
      completion("", "", {{"shell", {{"command", "sleep 30; echo finished > late.txt"}}}, {"git_status", {}}}),
      completion("", "never reached"),
  });
  std::thread canceller([&] {
    for (int i = 0; i < 800 && !shell_started.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // well inside the sleep
    agent->cancel();
  });
  auto start = std::chrono::steady_clock::now();
  TurnResult result = agent->run_turn("sleep");
  canceller.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(result.reason == StopReason::kCancelled);
  CHECK(seconds < 15);
  CHECK_FALSE(h.sandbox.repo().exists("late.txt"));
  auto results = h.of(EventKind::kToolResult);
  REQUIRE(results.size() == 2);
  CHECK_THAT(results[0]->text, Contains("cancel"));
  CHECK_THAT(results[1]->text, Contains("not run"));
  // Every call has its result: the transcript renders and a new turn can follow.
  CHECK(agent->render().ok());
  auto stored = h.store->turns(agent->session_id());
  REQUIRE(stored.ok());
  CHECK(stored->back().stop_reason == "cancelled");
}

}  // namespace beluga::agent

namespace beluga::agent {

TEST_CASE("an allow for this session answer is not asked again for the same command", "[agent]") {
  Harness h;
  h.sandbox.repo().commit_all("initial");
  int asked = 0;
  h.ask = [&](const PermissionRequest&) {
    ++asked;
    return PermissionAnswer::kAllowSession;
  };
  auto agent = h.create({
      completion("", "", {{"shell", {{"command", "echo a >> log.txt"}}}}),
      completion("", "", {{"shell", {{"command", "echo a >> log.txt"}}}}),
      completion("", "", {{"shell", {{"command", "echo b >> log.txt"}}}}),
      completion("", "Logged."),
  }, PermissionMode::kDefault);
  REQUIRE(agent->run_turn("log").reason == StopReason::kCompleted);
  CHECK(asked == 2);  // the repeated command was granted; another command line is asked again
  CHECK(h.sandbox.repo().read("log.txt") == "a\na\nb\n");
}

TEST_CASE("chat mode sessions render without reasoning and parse answers without a think block", "[agent]") {
  Harness h;
  h.sandbox.repo().write("a.txt", "alpha\n");
  auto setup = h.setup({
      completion("", "Let me read it.", {{"read", {{"path", "a.txt"}}}}, /*thinking=*/false),
      completion("", "It says alpha.", {}, /*thinking=*/false),
  });
  setup.options.thinking = ThinkingMode::kChat;
  auto agent = Agent::create(std::move(setup));
  REQUIRE(agent.ok());
  TurnResult result = (*agent)->run_turn("what does a.txt say?");
  INFO(result.message);
  REQUIRE(result.reason == StopReason::kCompleted);
  CHECK(result.final_text == "It says alpha.");
  CHECK(h.of(EventKind::kReasoning).empty());
  REQUIRE(h.tap->prompts.size() == 2);
  CHECK(h.tap->prompts[0].size() > 9);
  CHECK(h.tap->prompts[0].compare(h.tap->prompts[0].size() - 8, 8, "</think>") == 0);  // the generation point
  const std::string held = h.tap->prompts[0] + h.tap->completions[0];
  CHECK(h.tap->prompts[1].compare(0, held.size(), held) == 0);
  // A resumed chat-mode session stays in chat mode.
  auto resumed = Agent::resume(h.setup({}, PermissionMode::kYolo, "again.jsonl"), (*agent)->session_id());
  REQUIRE(resumed.ok());
  CHECK_FALSE((*resumed)->session().thinking);
}

}  // namespace beluga::agent

namespace beluga::agent {

TEST_CASE("a call to an unknown tool is answered with the available tools not a permission refusal", "[agent]") {
  Harness h;
  auto agent = h.create({completion("", "", {{"run_tests", {}}}), completion("", "ok")}, PermissionMode::kDefault);
  REQUIRE(agent->run_turn("test").reason == StopReason::kCompleted);
  auto results = h.of(EventKind::kToolResult);
  REQUIRE(results.size() == 1);
  CHECK_THAT(results[0]->text, Contains("unknown tool 'run_tests'"));
  CHECK_THAT(results[0]->text, Contains("shell"));
  CHECK(h.of(EventKind::kPermission).empty());
}

}  // namespace beluga::agent
