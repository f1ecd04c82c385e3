// MCP servers passed by an ACP client in session/new: started for the
// session (the reference memory server from npm), their tools declared to
// the model, called through a replayed turn after the user allows them
// (MCP tools ask by default), and HTTP entries reported unsupported.
#include <catch2/catch.hpp>

#include "tests/daemon/daemon_test_support.h"
#include "tests/tools/mcp/mcp_test_support.h"

using namespace beluga;
using namespace beluga::testing;

TEST_CASE("session/new starts the client's MCP servers and their tools run in the session") {
  if (std::string why = mcp_servers_missing(); !why.empty()) {
    WARN(why);
    return;
  }
  const std::string entities = R"([{"name":"beluga","entityType":"project","observations":["speaks MCP"]}])";
  DaemonFixture f({completion("Remember it.", "Storing the entity.",
                              {Call{"memory__create_entities", {{"entities", entities, false}}}}),
                   completion("Stored.", "Done: the entity is in memory.")});
  const std::string memory_file = f.sandbox().file("memory.jsonl");
  auto client = f.client();
  client->initialize();
  Json servers = Json::array({{{"name", "memory"},
                               {"command", mcp_server_bin("mcp-server-memory")},
                               {"args", Json::array()},
                               {"env", Json::array({{{"name", "MEMORY_FILE_PATH"}, {"value", memory_file}}})}},
                              {{"type", "http"}, {"name", "remote"}, {"url", "https://example.com/mcp"}, {"headers", Json::array()}}});
  Json created = client->result("session/new", {{"cwd", f.workspace()}, {"mcpServers", servers}});
  INFO(created.dump());
  const Json& reported = created["_meta"]["beluga"]["mcpServers"];
  REQUIRE(reported.size() == 2);
  CHECK(reported[0]["name"] == "memory");
  CHECK(reported[0]["state"] == "ready");
  CHECK(reported[0]["protocol"] == "2025-11-25");
  bool declared = false;
  for (const Json& t : reported[0]["tools"]) declared = declared || t == "memory__create_entities";
  CHECK(declared);
  CHECK(reported[1]["name"] == "remote");
  CHECK(reported[1]["state"] == "unsupported");
  CHECK(reported[1]["error"].get<std::string>().find("not supported yet") != std::string::npos);

  std::vector<std::string> asked;
  std::mutex asked_mutex;
  client->on_request([&](const Json& request) -> std::optional<Json> {
    std::lock_guard lock(asked_mutex);
    asked.push_back(request["params"]["toolCall"].value("title", std::string()) + "|" + request.dump());
    return select_option("allow_once");
  });
  const std::string session = created["sessionId"];
  Json done = client->result("session/prompt", TestClient::text_prompt(session, "Remember beluga"));
  CHECK(done["stopReason"] == "end_turn");
  {
    std::lock_guard lock(asked_mutex);
    REQUIRE(asked.size() == 1);  // MCP tools ask by default
    CHECK(asked[0].find("memory__create_entities") != std::string::npos);
  }
  bool completed = false;
  for (const Json& u : client->updates_of("tool_call_update"))
    if (u.value("status", "") == "completed") completed = true;
  CHECK(completed);
  CHECK(read_text(memory_file).find("speaks MCP") != std::string::npos);
  CHECK(client->garbage().empty());
}
