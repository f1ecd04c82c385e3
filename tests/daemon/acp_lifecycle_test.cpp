// The rest of ACP v1's agent methods: what initialize advertises,
// authenticate/logout for an agent without authentication, session/resume,
// session/close, session/set_config_option (the mode), set_mode during a
// turn, and a replayed model restarting its script for every session.
#include <catch2/catch.hpp>

#include "tests/daemon/daemon_test_support.h"
#include "tests/daemon/schema_check.h"

using namespace beluga;
using namespace beluga::testing;

namespace {

std::string message_text(TestClient& client) {
  std::string text;
  for (const Json& c : client.updates_of("agent_message_chunk")) text += c["content"]["text"].get<std::string>();
  return text;
}

}  // namespace

TEST_CASE("initialize advertises exactly the implemented methods and authentication is not needed") {
  DaemonFixture f(std::vector<std::string>{});
  AcpSchema schema;
  auto client = f.client();
  Json init = client->initialize();
  CHECK(schema.check("InitializeResponse", init) == "");
  const Json& caps = init["agentCapabilities"];
  CHECK(caps["loadSession"] == true);
  CHECK(caps["sessionCapabilities"] ==
        Json{{"list", Json::object()}, {"delete", Json::object()}, {"resume", Json::object()}, {"close", Json::object()}});
  CHECK_FALSE(caps.contains("auth"));
  CHECK(init["authMethods"] == Json::array());

  Json auth = client->call("authenticate", {{"methodId", "password"}});
  CHECK(auth["error"]["code"] == -32602);
  CHECK(auth["error"]["message"].get<std::string>().find("methodId:") != std::string::npos);
  CHECK(client->call("authenticate", Json::object())["error"]["code"] == -32602);
  CHECK(client->result("logout", Json::object()) == Json::object());
}

TEST_CASE("session/resume reopens a session on a new connection without replaying its history") {
  DaemonFixture f({completion("", "First answer."), completion("", "Second answer.")});
  std::string session;
  {
    auto first = f.client();
    first->initialize();
    session = first->new_session(f.workspace());
    first->result("session/prompt", TestClient::text_prompt(session, "hello"));
  }
  auto second = f.client();
  second->initialize();
  Json resumed = second->result("session/resume", {{"sessionId", session}, {"cwd", f.workspace()}});
  AcpSchema schema;
  CHECK(schema.check("ResumeSessionResponse", resumed) == "");
  CHECK(resumed["modes"]["currentModeId"] == "default");
  CHECK(resumed["configOptions"][0]["id"] == "mode");
  CHECK(second->updates().empty());  // no history
  Json done = second->result("session/prompt", TestClient::text_prompt(session, "again"));
  CHECK(done["stopReason"] == "end_turn");
  // A reopened session's replayed model starts its script again (docs/protocol.md, session/load).
  CHECK(message_text(*second) == "First answer.");
  Json missing = second->call("session/resume", {{"sessionId", "no-such-session"}, {"cwd", f.workspace()}});
  CHECK(missing["error"]["code"] == -32002);
}

TEST_CASE("session/close cancels the running turn and releases the session") {
  DaemonFixture f({completion("Write.", "", {Call{"write", {{"path", "notes.txt"}, {"content", "x\n"}}}}),
                   completion("", "Done.")});
  auto client = f.client();
  client->initialize();
  const std::string session = client->new_session(f.workspace());
  const int64_t prompt = client->send_request("session/prompt", TestClient::text_prompt(session, "Write"));
  Json asked = client->wait_daemon_request();
  CHECK(asked["method"] == "session/request_permission");
  CHECK(client->result("session/close", {{"sessionId", session}}) == Json::object());
  Json done = client->wait_response(prompt);
  CHECK(done["result"]["stopReason"] == "cancelled");
  CHECK_FALSE(std::filesystem::exists(f.workspace() + "/notes.txt"));
  // Closed: no longer open here; session/load brings it back from the store.
  Json refused = client->call("session/prompt", TestClient::text_prompt(session, "more"));
  CHECK(refused["error"]["code"] == -32002);
  client->result("session/load", {{"sessionId", session}, {"cwd", f.workspace()}, {"mcpServers", Json::array()}});
  CHECK(f.daemon().sessions().live_count() == 1);
}

TEST_CASE("session/set_config_option sets the mode and refuses unknown options and values") {
  DaemonFixture f(std::vector<std::string>{});
  AcpSchema schema;
  auto client = f.client();
  client->initialize();
  Json created = client->result("session/new", {{"cwd", f.workspace()}, {"mcpServers", Json::array()}});
  CHECK(schema.check("NewSessionResponse", created) == "");
  const Json& option = created["configOptions"][0];
  CHECK(option["id"] == "mode");
  CHECK(option["type"] == "select");
  CHECK(option["category"] == "mode");
  CHECK(option["currentValue"] == "default");
  CHECK(option["options"].size() == 4);
  const std::string session = created["sessionId"];

  Json set = client->result("session/set_config_option", {{"sessionId", session}, {"configId", "mode"}, {"value", "yolo"}});
  CHECK(schema.check("SetSessionConfigOptionResponse", set) == "");
  CHECK(set["configOptions"][0]["currentValue"] == "yolo");
  REQUIRE(client->wait_until([&] { return !client->updates_of("config_option_update").empty(); }));
  CHECK(client->updates_of("current_mode_update").back()["currentModeId"] == "yolo");
  for (const Json& u : client->updates()) CHECK(schema.check_update(u) == "");
  auto listed = client->result("beluga/sessions/list", {{"cwd", f.workspace()}});
  CHECK(listed["sessions"][0]["mode"] == "yolo");

  CHECK(client->call("session/set_config_option", {{"sessionId", session}, {"configId", "model"}, {"value", "x"}})
            ["error"]["code"] == -32602);
  CHECK(client->call("session/set_config_option", {{"sessionId", session}, {"configId", "mode"}, {"value", "fast"}})
            ["error"]["code"] == -32602);
  CHECK(client->call("session/set_config_option", {{"sessionId", session}, {"configId", "mode"}, {"value", true}})
            ["error"]["code"] == -32602);
}

TEST_CASE("session/set_mode during a turn governs the turn's next permission decision") {
  DaemonFixture f({completion("Run.", "", {Call{"shell", {{"command", "echo a > a.txt"}}}}),
                   completion("Write.", "", {Call{"write", {{"path", "notes.txt"}, {"content", "x\n"}}}}),
                   completion("", "Both done.")});
  auto client = f.client();
  client->initialize();
  const std::string session = client->new_session(f.workspace());
  const int64_t prompt = client->send_request("session/prompt", TestClient::text_prompt(session, "Do both"));
  Json asked = client->wait_daemon_request();  // the shell command asks in default mode
  CHECK(client->result("session/set_mode", {{"sessionId", session}, {"modeId", "yolo"}}) == Json::object());
  client->answer(asked["id"], select_option("allow_once"));
  // The write that follows is decided in yolo mode: no second question.
  Json done = client->wait_response(prompt);
  CHECK(done["result"]["stopReason"] == "end_turn");
  CHECK(read_text(f.workspace() + "/notes.txt") == "x\n");
  CHECK_THROWS(client->wait_daemon_request(std::chrono::seconds(1)));
  auto modes = client->updates_of("current_mode_update");
  REQUIRE(modes.size() == 1);
  CHECK(modes[0]["currentModeId"] == "yolo");
}

TEST_CASE("a replayed model restarts its script for every session") {
  DaemonFixture f({completion("", "First answer."), completion("", "Second answer.")});
  auto a = f.client();
  auto b = f.client();
  a->initialize();
  b->initialize();
  const std::string one = a->new_session(f.workspace());
  const std::string two = b->new_session(f.workspace());
  a->result("session/prompt", TestClient::text_prompt(one, "hi"));
  CHECK(message_text(*a) == "First answer.");
  b->result("session/prompt", TestClient::text_prompt(two, "hi"));
  CHECK(message_text(*b) == "First answer.");
  a->result("session/prompt", TestClient::text_prompt(one, "more"));
  CHECK(message_text(*a) == "First answer.Second answer.");
}
