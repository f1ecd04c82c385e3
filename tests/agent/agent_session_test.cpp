// Sessions across turns and processes: rewind, resume after a crash,
// compaction; and the pieces under them (store, permissions, config,
// providers).
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include "agent/agent_config.h"
#include "agent/agent_loop.h"
#include "agent/permissions.h"
#include "tests/agent/agent_test_support.h"
#include "tools/registry.h"

namespace beluga::agent {
namespace {

using beluga::testing::AgentSandbox;
using beluga::testing::completion;
using Catch::Matchers::Contains;

struct Session {
  AgentSandbox sandbox;
  std::optional<SessionStore> store;
  tools::ToolRegistry registry = tools::make_default_registry();
  std::vector<AgentEvent> events;
  int replays = 0;

  Session() {
    auto opened = SessionStore::open(sandbox.db_path());
    REQUIRE(opened.ok());
    store.emplace(std::move(opened).value());
  }
  AgentSetup setup(const std::vector<std::string>& completions) {
    const std::string path = sandbox.file("replay" + std::to_string(++replays) + ".jsonl");
    testing::write_replay(path, completions);
    auto replay = open_replay_provider(path);
    REQUIRE(replay.ok());
    AgentSetup s;
    s.provider = std::move(replay).value();
    s.store = &*store;
    s.workspace = sandbox.repo().root();
    s.registry = &registry;
    s.policy.mode = PermissionMode::kYolo;
    s.callbacks.on_event = [this](const AgentEvent& e) { events.push_back(e); };
    return s;
  }
};

// Checks that every model call carries the conversation its prompt was
// rendered from (what the remote provider sends), then passes it on.
class ConversationCheck final : public ModelProvider {
 public:
  ConversationCheck(std::unique_ptr<ModelProvider> inner, std::vector<bool>* matches)
      : inner_(std::move(inner)), matches_(matches) {}
  Result<Completion> complete(const CompletionRequest& request) override {
    bool same = false;
    if (request.conversation) {
      auto rendered = render_prompt(*request.conversation, request.render_options);
      same = rendered.ok() && *rendered == request.prompt;
    }
    matches_->push_back(same);
    return inner_->complete(request);
  }
  int64_t count_tokens(std::string_view text) const override { return inner_->count_tokens(text); }
  int64_t context_tokens() const override { return inner_->context_tokens(); }
  std::string describe() const override { return inner_->describe(); }
  std::string token_counter_identity() const override { return inner_->token_counter_identity(); }

 private:
  std::unique_ptr<ModelProvider> inner_;
  std::vector<bool>* matches_;
};

}  // namespace

TEST_CASE("rewind after shell edits restores the exact tree and truncates the transcript", "[agent]") {
  Session s;
  auto& repo = s.sandbox.repo();
  repo.write("a.txt", "one\n");
  repo.write("keep/b.txt", "two\n");
  repo.write(".gitignore", "build/\n");
  repo.write("build/out.o", "ignored\n");
  repo.commit_all("initial");
  const auto original = repo.tree_state();
  auto agent = Agent::create(s.setup({
      completion("", "", {{"shell", {{"command", "echo changed > a.txt && mkdir -p new && echo x > new/c.txt && rm keep/b.txt"}}}}),
      completion("", "Turn one done."),
      completion("", "", {{"shell", {{"command", "chmod +x a.txt && echo more >> new/c.txt"}}}}),
      completion("", "Turn two done."),
  }));
  REQUIRE(agent.ok());
  REQUIRE((*agent)->run_turn("change things").reason == StopReason::kCompleted);
  const auto after_one = repo.tree_state();
  CHECK(after_one != original);
  REQUIRE((*agent)->run_turn("change more").reason == StopReason::kCompleted);
  CHECK(repo.tree_state() != after_one);

  auto back_one = (*agent)->rewind(1);
  REQUIRE(back_one.ok());
  CHECK(repo.tree_state() == after_one);
  CHECK(back_one->to_turn == 2);
  auto turns = s.store->turns((*agent)->session_id());
  REQUIRE(turns.ok());
  CHECK(turns->size() == 1);

  auto back_all = (*agent)->rewind(1);
  REQUIRE(back_all.ok());
  CHECK(repo.tree_state() == original);
  CHECK(repo.read("build/out.o") == "ignored\n");  // ignored files are never touched
  CHECK((*agent)->transcript().empty());
  auto stored = s.store->active_messages((*agent)->session_id());
  REQUIRE(stored.ok());
  CHECK(stored->empty());
  CHECK_FALSE((*agent)->rewind(1).ok());  // nothing left to rewind
}

TEST_CASE("a session resumed after a crash between steps keeps every completed step", "[agent]") {
  Session s;
  s.sandbox.repo().write("a.txt", "alpha\n");
  s.sandbox.repo().commit_all("initial");
  std::string id;
  {
    // A crash right after the model's turn was stored and before its call
    // ran: what the store holds at that moment.
    auto agent = Agent::create(s.setup({}));
    REQUIRE(agent.ok());
    id = (*agent)->session_id();
    REQUIRE(s.store->begin_turn(id, TurnRecord{1, "", "read a.txt", "", 0}).ok());
    Message user;
    user.role = Role::kUser;
    user.content = "read a.txt";
    REQUIRE(s.store->append_message(id, 1, user).ok());
    Message model;
    model.role = Role::kAssistant;
    model.raw_completion = "<think>" + completion("", "", {{"read", {{"path", "a.txt"}}}});
    model.tool_calls = {ToolCall{"call_1_1_1", "read", "{\"path\": \"a.txt\"}"}};
    REQUIRE(s.store->append_message(id, 1, model).ok());
  }
  auto resumed = Agent::resume(s.setup({completion("", "a.txt says alpha.")}), id);
  REQUIRE(resumed.ok());
  const auto& transcript = (*resumed)->transcript();
  REQUIRE(transcript.size() == 3);
  CHECK(transcript[2].message.role == Role::kTool);
  CHECK_THAT(*transcript[2].message.content, Contains("interrupted"));
  auto turns = s.store->turns(id);
  REQUIRE(turns.ok());
  CHECK(turns->front().stop_reason == "interrupted");
  TurnResult next = (*resumed)->run_turn("so?");
  CHECK(next.reason == StopReason::kCompleted);
  CHECK(next.turn == 2);
}

TEST_CASE("compaction replaces old turns by the model's summary and keeps recent turns verbatim", "[agent]") {
  Session s;
  auto agent = Agent::create(s.setup({
      completion("", "First answer, about apples."),
      completion("", "Second answer, about pears."),
  }));
  REQUIRE(agent.ok());
  REQUIRE((*agent)->run_turn("tell me about apples").reason == StopReason::kCompleted);
  REQUIRE((*agent)->run_turn("tell me about pears").reason == StopReason::kCompleted);
  const std::string id = (*agent)->session_id();
  auto before = (*agent)->render();
  REQUIRE(before.ok());

  // Resumed with a context just above the current prompt: the next step
  // passes compact_at and compacts turn 1 (turn 2 is kept).
  auto setup = s.setup({"The user asked about apples; I answered.", completion("", "Third answer.")});
  setup.options.context_tokens = setup.provider->count_tokens(*before) + 200;
  setup.options.max_output_tokens = 64;
  std::vector<bool> conversations;  // the compaction's call and the step's
  setup.provider = std::make_unique<ConversationCheck>(std::move(setup.provider), &conversations);
  auto resumed = Agent::resume(std::move(setup), id);
  REQUIRE(resumed.ok());
  s.events.clear();
  TurnResult result = (*resumed)->run_turn("and plums?");
  INFO(result.message);
  REQUIRE(result.reason == StopReason::kCompleted);
  bool compacted = false;
  for (const AgentEvent& e : s.events) compacted |= e.kind == EventKind::kCompaction;
  CHECK(compacted);
  CHECK(conversations == std::vector<bool>{true, true});
  auto prompt = (*resumed)->render();
  REQUIRE(prompt.ok());
  CHECK_THAT(*prompt, Contains("The user asked about apples; I answered."));
  CHECK_THAT(*prompt, !Contains("tell me about apples"));
  CHECK_THAT(*prompt, Contains("tell me about pears"));
  CHECK_THAT(*prompt, Contains("Third answer."));
  auto record = s.store->latest_compaction(id);
  REQUIRE(record.ok());
  REQUIRE(record->has_value());
  // A later resume sees the same compacted transcript.
  auto again = Agent::resume(s.setup({}), id);
  REQUIRE(again.ok());
  CHECK((*again)->render().value() == *prompt);
}

TEST_CASE("permission rules: deny beats ask beats allow and modes set the defaults", "[agent]") {
  PermissionPolicy policy;
  auto rule = [](const char* text, Decision d) { return parse_rule(text, d, "test").value(); };
  policy.rules = {rule("shell(git status*)", Decision::kAllow), rule("shell(rm *)", Decision::kDeny),
                  rule("shell(git *)", Decision::kAsk), rule("read(secret/*)", Decision::kDeny)};
  auto shell = [](const char* command) { return nlohmann::json{{"command", command}}.dump(); };
  CHECK(decide(policy, "shell", shell("rm -rf /")).decision == Decision::kDeny);
  CHECK(decide(policy, "shell", shell("git status --short")).decision == Decision::kAsk);  // ask beats allow
  CHECK(decide(policy, "shell", shell("ls")).decision == Decision::kAsk);                  // default mode
  CHECK(decide(policy, "read", R"({"path": "src/a.cpp"})").decision == Decision::kAllow);
  CHECK(decide(policy, "read", R"({"path": "secret/key"})").decision == Decision::kDeny);
  CHECK(decide(policy, "edit", R"({"path": "a", "old": "x", "new": "y"})").decision == Decision::kAsk);
  policy.mode = PermissionMode::kAutoEdit;
  CHECK(decide(policy, "edit", R"({"path": "a", "old": "x", "new": "y"})").decision == Decision::kAllow);
  CHECK(decide(policy, "git_commit", R"({"message": "m"})").decision == Decision::kAsk);
  policy.mode = PermissionMode::kPlan;
  CHECK(decide(policy, "edit", R"({"path": "a", "old": "x", "new": "y"})").decision == Decision::kDeny);
  CHECK(decide(policy, "grep", R"({"pattern": "x"})").decision == Decision::kAllow);
  policy.mode = PermissionMode::kYolo;
  CHECK(decide(policy, "shell", shell("make")).decision == Decision::kAllow);
  CHECK(decide(policy, "shell", shell("rm x")).decision == Decision::kDeny);  // deny holds in yolo
  CHECK(glob_match("a*b?c", "aXXbYc"));
  CHECK_FALSE(glob_match("a*b?c", "aXXbc"));
  CHECK(glob_match("*", ""));
  CHECK_FALSE(parse_rule("shell(", Decision::kAllow, "t").ok());
  CHECK_FALSE(parse_rule("she ll", Decision::kAllow, "t").ok());
}

TEST_CASE("config files: TOML and JSON rules and the limits of a workspace config", "[agent]") {
  auto toml = parse_agent_config(R"toml(
mode = "auto-edit"
max_steps = 7
[permissions]
allow = ["shell(git status*)"]
deny = ["shell(rm *)"]
)toml", "config.toml", ConfigTrust::kUser);
  REQUIRE(toml.ok());
  CHECK(toml->mode == PermissionMode::kAutoEdit);
  CHECK(toml->max_steps == 7);
  REQUIRE(toml->rules.size() == 2);
  CHECK(rule_text(toml->rules[1]) == "shell(rm *)");
  auto json = parse_agent_config(R"({"permissions": {"ask": ["git_commit"]}})", "config.json", ConfigTrust::kUser);
  REQUIRE(json.ok());
  CHECK(json->rules.at(0).action == Decision::kAsk);

  auto typo = parse_agent_config("[permissions]\ndeny_ = [\"shell(rm *)\"]\n", "c.toml", ConfigTrust::kUser);
  REQUIRE_FALSE(typo.ok());
  CHECK_THAT(typo.message(), Contains("permissions.deny_"));
  auto bad_toml = parse_agent_config("mode = \n", "c.toml", ConfigTrust::kUser);
  REQUIRE_FALSE(bad_toml.ok());
  CHECK_THAT(bad_toml.message(), Contains("c.toml:1"));
  auto grant = parse_agent_config("[permissions]\nallow = [\"shell\"]\n", "ws/.beluga/config.toml", ConfigTrust::kWorkspace);
  REQUIRE_FALSE(grant.ok());
  CHECK_THAT(grant.message(), Contains("only add ask and deny"));
  CHECK_FALSE(parse_agent_config("mode = \"yolo\"\n", "ws", ConfigTrust::kWorkspace).ok());
  CHECK(parse_agent_config("[permissions]\ndeny = [\"shell(curl *)\"]\n", "ws", ConfigTrust::kWorkspace).ok());

  AgentSandbox sandbox;
  sandbox.write_user_config("[permissions]\nallow = [\"shell(make*)\"]\n");
  sandbox.repo().write(".beluga/config.toml", "mode = \"plan\"\n[permissions]\ndeny = [\"shell(make install*)\"]\n");
  auto merged = load_agent_config(sandbox.repo().root());
  REQUIRE(merged.ok());
  CHECK(merged->mode == PermissionMode::kPlan);
  CHECK(merged->rules.size() == 2);
  CHECK(merged->files.size() == 2);
}

TEST_CASE("replay files: missing files malformed lines and the recorder", "[agent]") {
  testing::ScratchDir dir;
  auto missing = open_model_provider("replay:" + dir.file("nope.jsonl"));
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.message(), Contains("does not exist"));
  testing::write_text(dir.file("bad.jsonl"), "{\"completion\": \"a\"}\n\n{\"completion\": 3}\n");
  auto bad = open_model_provider("replay:" + dir.file("bad.jsonl"));
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.message(), Contains("line 3"));
  testing::write_text(dir.file("broken.jsonl"), "{\"completion\": \"a\"\n");
  CHECK_THAT(open_model_provider("replay:" + dir.file("broken.jsonl")).message(), Contains("line 1: not valid JSON"));
  CHECK_FALSE(open_model_provider("replay:").ok());
  CHECK_THAT(open_model_provider(dir.file("no-such-folder")).message(), Contains("not a checkpoint folder"));

  testing::write_replay(dir.file("in.jsonl"), {"one", "two ✓"});
  auto replay = open_model_provider("replay:" + dir.file("in.jsonl"));
  REQUIRE(replay.ok());
  auto recording = wrap_recording(std::move(replay).value(), dir.file("out.jsonl"));
  REQUIRE(recording.ok());
  std::string streamed;
  CompletionRequest request;
  request.prompt = "p";
  request.on_text = [&](std::string_view t) {
    streamed += t;
    return true;
  };
  REQUIRE((*recording)->complete(request).ok());
  REQUIRE((*recording)->complete(request).ok());
  CHECK(streamed == "onetwo ✓");
  CHECK(testing::read_text(dir.file("out.jsonl")) == testing::read_text(dir.file("in.jsonl")));
  CHECK_FALSE((*recording)->complete(request).ok());
}

TEST_CASE("the session store refuses a newer schema", "[agent]") {
  testing::ScratchDir dir;
  {
    auto store = SessionStore::open(dir.file("s.sqlite"));
    REQUIRE(store.ok());
    SessionRecord r;
    r.id = "x";
    REQUIRE(store->create_session(r).ok());
    CHECK(store->load_session("x").ok());
    CHECK_THAT(store->load_session("y").message(), Contains("no session 'y'"));
  }
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(dir.file("s.sqlite").c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  auto newer = SessionStore::open(dir.file("s.sqlite"));
  REQUIRE_FALSE(newer.ok());
  CHECK_THAT(newer.message(), Contains("schema version 99"));
}

TEST_CASE("the system message carries the packed repository context", "[agent]") {
  Session s;
  auto& repo = s.sandbox.repo();
  repo.write("src/util.py", "def helper(x):\n    return x + 1\n");
  repo.write("src/main.py", "from util import helper\n\ndef main():\n    return helper(1)\n");
  repo.write(".gitignore", "build/\n");
  repo.write("build/out.py", "def generated():\n    pass\n");
  repo.commit_all("initial");
  auto agent = Agent::create(s.setup({completion("", "Nothing to do.")}));
  REQUIRE(agent.ok());
  const std::string& system = (*agent)->session().system_prompt;
  CHECK_THAT(system, Contains("=== BELUGA CONTEXT "));
  CHECK_THAT(system, Contains("=== FILE src/util.py (2 lines) ===\ndef helper(x):\n"));
  CHECK_THAT(system, Contains("=== FILE src/main.py ("));
  CHECK_THAT(system, !Contains("build/out.py"));  // ignored files stay out
}

}  // namespace beluga::agent
