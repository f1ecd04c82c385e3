// MCP tools in the agent: a replayed session calls the reference memory
// server's tools (installed from npm by scripts/setup.sh) as
// "memory__<tool>", permission rules name MCP tools with wildcards, a tool
// source's new registry reaches the next turn, and the config file's
// mcp_servers table.
#include <catch2/catch.hpp>

#include "agent/agent_config.h"
#include "agent/agent_loop.h"
#include "tests/agent/agent_test_support.h"
#include "tests/tools/mcp/mcp_test_support.h"
#include "tools/mcp/mcp_tool_set.h"
#include "tools/registry.h"

namespace beluga::agent {
namespace {

using beluga::testing::AgentSandbox;
using beluga::testing::Call;
using beluga::testing::completion;

struct McpHarness {
  AgentSandbox sandbox;
  std::optional<SessionStore> store;
  std::vector<AgentEvent> events;
  std::vector<std::string> asked;

  McpHarness() {
    auto opened = SessionStore::open(sandbox.db_path());
    REQUIRE(opened.ok());
    store.emplace(std::move(opened).value());
  }
  AgentSetup setup(const std::vector<std::string>& completions) {
    testing::write_replay(sandbox.file("replay.jsonl"), completions);
    auto replay = open_replay_provider(sandbox.file("replay.jsonl"));
    REQUIRE(replay.ok());
    AgentSetup s;
    s.provider = std::move(replay).value();
    s.store = &*store;
    s.workspace = sandbox.repo().root();
    s.callbacks.on_event = [this](const AgentEvent& e) { events.push_back(e); };
    s.callbacks.ask = [this](const PermissionRequest& r) {
      asked.push_back(r.tool);
      return PermissionAnswer::kDeny;
    };
    return s;
  }
};

PermissionRule rule(const std::string& text, Decision action) {
  auto r = parse_rule(text, action, "test");
  REQUIRE(r.ok());
  return *r;
}

}  // namespace

TEST_CASE("a replayed session calls the memory server's tools allowed by a wildcard rule", "[agent][mcp]") {
  if (std::string why = testing::mcp_servers_missing(); !why.empty()) {
    WARN(why);
    return;
  }
  McpHarness h;
  const std::string memory_file = h.sandbox.file("memory.jsonl");
  tools::mcp::McpToolSet mcp(tools::make_default_registry(), {testing::memory_server(memory_file)}, {});
  mcp.start(std::chrono::seconds(90));
  const std::string entities = R"([{"name":"beluga","entityType":"project","observations":["a C++ daemon"]}])";
  AgentSetup s = h.setup({completion("Store it.", "Creating the entity.",
                                     {Call{"memory__create_entities", {{"entities", entities, false}}}}),
                          completion("Check it.", "Reading the graph.", {Call{"memory__read_graph", {}}}),
                          completion("Delete it?", "Trying to delete.",
                                     {Call{"memory__delete_entities", {{"entityNames", R"(["beluga"])", false}}}}),
                          completion("Done.", "The graph holds beluga.")});
  s.tool_source = [&mcp] { return mcp.registry(); };
  s.policy.mode = PermissionMode::kDefault;
  s.policy.rules = {rule("memory__*", Decision::kAllow), rule("*__delete_*", Decision::kDeny)};
  auto agent = Agent::create(std::move(s));
  REQUIRE(agent.ok());
  auto prompt = (*agent)->render();
  REQUIRE(prompt.ok());
  CHECK(prompt->find("memory__create_entities") != std::string::npos);
  CHECK(prompt->find("[from MCP server 'memory']") != std::string::npos);

  TurnResult turn = (*agent)->run_turn("Remember beluga");
  CHECK(turn.reason == StopReason::kCompleted);
  CHECK(h.asked.empty());  // allowed by memory__*, the delete denied by *__delete_*
  std::vector<std::pair<std::string, std::string>> results;
  for (const TranscriptEntry& e : (*agent)->transcript())
    if (e.message.role == Role::kTool) results.emplace_back(e.message.name, e.message.content.value_or(""));
  REQUIRE(results.size() == 3);
  CHECK(results[0].first == "memory__create_entities");
  CHECK(results[1].second.find("a C++ daemon") != std::string::npos);
  CHECK(results[2].second.find("deny rule *__delete_*") != std::string::npos);
  CHECK(testing::read_text(memory_file).find("a C++ daemon") != std::string::npos);
}

TEST_CASE("MCP tools ask by default and rules name them with wildcards", "[agent][mcp]") {
  PermissionPolicy p;
  for (PermissionMode mode : {PermissionMode::kDefault, PermissionMode::kAutoEdit})
    for (const char* tool : {"memory__read_graph", "fs__write_file"}) {
      p.mode = mode;
      CHECK(decide(p, tool, "{}").decision == Decision::kAsk);
    }
  p.mode = PermissionMode::kPlan;
  CHECK(decide(p, "memory__read_graph", "{}").decision == Decision::kDeny);
  p.mode = PermissionMode::kDefault;
  p.rules = {rule("memory__*", Decision::kAllow), rule("*__delete_*", Decision::kDeny),
             rule("my-server__run(*rm -rf*)", Decision::kDeny)};
  CHECK(decide(p, "memory__read_graph", "{}").decision == Decision::kAllow);
  CHECK(decide(p, "memory__delete_entities", "{}").decision == Decision::kDeny);
  CHECK(decide(p, "fs__delete_file", "{}").decision == Decision::kDeny);
  CHECK(decide(p, "fs__read_file", "{}").decision == Decision::kAsk);
  CHECK(decide(p, "my-server__run", R"({"cmd":"rm -rf /"})").decision == Decision::kDeny);
  CHECK(decide(p, "my-server__run", R"({"cmd":"ls"})").decision == Decision::kAsk);
  // Built-in tools are matched as before.
  CHECK(decide(p, "read", R"({"path":"a"})").decision == Decision::kAllow);
  CHECK_FALSE(parse_rule("memory__*(x", Decision::kAllow, "t").ok());
  CHECK_FALSE(parse_rule("mem ory", Decision::kAllow, "t").ok());
}

TEST_CASE("a tool source's new registry reaches the next turn's declarations", "[agent][mcp]") {
  McpHarness h;
  auto first = std::make_shared<tools::ToolRegistry>(tools::make_default_registry());
  auto second = std::make_shared<tools::ToolRegistry>(*first);
  second->add({"extra__ping", "answers pong", R"({"type":"object"})",
               [](const nlohmann::json&, tools::ToolContext&) { return tools::ToolResult::success("pong"); }});
  std::shared_ptr<const tools::ToolRegistry> current = first;
  AgentSetup s = h.setup({completion("", "one"), completion("Ping.", "", {Call{"extra__ping", {}}}), completion("", "pong seen")});
  s.tool_source = [&current] { return current; };
  s.policy.mode = PermissionMode::kYolo;
  auto agent = Agent::create(std::move(s));
  REQUIRE(agent.ok());
  CHECK((*agent)->render()->find("extra__ping") == std::string::npos);
  CHECK((*agent)->run_turn("one").reason == StopReason::kCompleted);
  current = second;
  TurnResult turn = (*agent)->run_turn("two");
  CHECK(turn.reason == StopReason::kCompleted);
  CHECK((*agent)->render()->find("extra__ping") != std::string::npos);
  CHECK(turn.final_text == "pong seen");
}

TEST_CASE("config files declare MCP servers only in the user's config", "[agent][mcp]") {
  auto toml = parse_agent_config(R"toml(
[mcp_servers.memory]
command = "npx"
args = ["-y", "@modelcontextprotocol/server-memory"]
env = { MEMORY_FILE_PATH = "/tmp/m.jsonl" }
timeout = 20
[mcp_servers.remote]
url = "https://example.com/mcp"
enabled = false
)toml", "config.toml", ConfigTrust::kUser);
  REQUIRE(toml.ok());
  REQUIRE(toml->mcp_servers.size() == 2);
  const auto& memory = toml->mcp_servers[0].name == "memory" ? toml->mcp_servers[0] : toml->mcp_servers[1];
  CHECK(memory.command == "npx");
  CHECK(memory.args.size() == 2);
  CHECK(memory.env.at("MEMORY_FILE_PATH") == "/tmp/m.jsonl");
  CHECK(memory.call_timeout == std::chrono::seconds(20));
  auto json = parse_agent_config(R"({"mcp_servers": {"fs": {"command": "mcp-fs", "args": ["/srv"]}}})", "config.json",
                                 ConfigTrust::kUser);
  REQUIRE(json.ok());
  CHECK(json->mcp_servers.at(0).args.at(0) == "/srv");
  auto workspace = parse_agent_config("[mcp_servers.x]\ncommand = \"evil\"\n", ".beluga/config.toml", ConfigTrust::kWorkspace);
  REQUIRE_FALSE(workspace.ok());
  CHECK_THAT(workspace.message(), Catch::Matchers::Contains("cannot start MCP servers"));
  for (const char* bad : {"[mcp_servers.x]\nargs = []\n", "[mcp_servers.x]\ncommand = \"a\"\nurl = \"b\"\n",
                          "[mcp_servers.x]\ncommand = \"a\"\ntimout = 3\n", "[mcp_servers.\"a b\"]\ncommand = \"a\"\n",
                          "[mcp_servers.x]\ncommand = \"a\"\ntimeout = -1\n"}) {
    INFO(bad);
    CHECK_FALSE(parse_agent_config(bad, "c.toml", ConfigTrust::kUser).ok());
  }
}

}  // namespace beluga::agent
