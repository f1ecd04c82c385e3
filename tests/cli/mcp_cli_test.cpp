// `beluga run` with an MCP server from the user's config.toml: the
// reference memory server (tests/mcp-servers) started for the run, its tool
// called by a replayed model under a wildcard allow rule.
#include <catch2/catch.hpp>

#include "tests/agent/agent_test_support.h"
#include "tests/cli/cli_support.h"
#include "tests/tools/mcp/mcp_test_support.h"

using beluga::testing::AgentSandbox;
using beluga::testing::Call;
using beluga::testing::completion;
using beluga::testing::quote;
using beluga::testing::Run;
using beluga::testing::run_beluga;
using Catch::Matchers::Contains;

TEST_CASE("beluga run calls the tools of an MCP server configured in config.toml", "[cli][agent][mcp]") {
  if (std::string why = beluga::testing::mcp_servers_missing(); !why.empty()) {
    WARN(why);
    return;
  }
  AgentSandbox s;
  const std::string memory_file = s.file("memory.jsonl");
  s.write_user_config("[permissions]\nallow = [\"memory__*\"]\n[mcp_servers.memory]\ncommand = " +
                      nlohmann::json(beluga::testing::mcp_server_bin("mcp-server-memory")).dump() +
                      "\nenv = { MEMORY_FILE_PATH = " + nlohmann::json(memory_file).dump() + " }\n");
  const std::string entities = R"([{"name":"cli","entityType":"test","observations":["from beluga run"]}])";
  beluga::testing::write_replay(s.file("r.jsonl"), {
      completion("Store.", "", {Call{"memory__create_entities", {{"entities", entities, false}}}}),
      completion("Done.", "Stored."),
  });
  Run run = run_beluga("run " + quote("remember") + " --model " + quote("replay:" + s.file("r.jsonl")) +
                       " --workspace " + quote(s.repo().root().string()));
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.out, Contains("memory__create_entities"));
  CHECK_THAT(run.err, Contains("mcp memory: ready"));
  CHECK_THAT(beluga::testing::read_text(memory_file), Contains("from beluga run"));
}
