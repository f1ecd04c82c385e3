// ACP v1 end to end: the in-process daemon with a replayed model, driven by
// the test client over its socket. Every session replays the same script
// from its first line (model_queue.h): a write the user must allow, then
// an answer.
#include <catch2/catch.hpp>

#include "tests/daemon/daemon_test_support.h"
#include "tests/daemon/schema_check.h"

using namespace beluga;
using namespace beluga::testing;

namespace {

std::vector<std::string> write_then_answer() {
  return {completion("I should write the notes.", "Writing notes.txt.", {Call{"write", {{"path", "notes.txt"}, {"content", "hello\n"}}}}),
          completion("It is written.", "Wrote notes.txt."),
          completion("Again.", "A third answer.")};
}

void allow_everything(TestClient& client) {
  client.on_request([](const Json& request) -> std::optional<Json> {
    if (request["method"] == "session/request_permission") return select_option("allow_once");
    return std::nullopt;
  });
}

std::string joined_text(const std::vector<Json>& chunks) {
  std::string text;
  for (const Json& c : chunks) text += c["content"]["text"].get<std::string>();
  return text;
}

}  // namespace

TEST_CASE("a full ACP session streams updates and asks permission for a write") {
  DaemonFixture f(write_then_answer());
  AcpSchema schema;
  auto client = f.client();
  Json init = client->initialize();
  CHECK(init["protocolVersion"] == 1);
  CHECK(init["agentCapabilities"]["loadSession"] == true);
  CHECK(init["agentInfo"]["name"] == "beluga");
  CHECK(schema.check("InitializeResponse", init) == "");

  Json created = client->result("session/new", {{"cwd", f.workspace()}, {"mcpServers", Json::array()}});
  CHECK(schema.check("NewSessionResponse", created) == "");
  const std::string session = created["sessionId"];
  CHECK(created["modes"]["currentModeId"] == "default");
  CHECK(created["modes"]["availableModes"].size() == 4);

  std::vector<Json> asked;
  std::mutex asked_mutex;
  client->on_request([&](const Json& request) -> std::optional<Json> {
    std::lock_guard lock(asked_mutex);
    asked.push_back(request);
    return select_option("allow_once");
  });
  Json done = client->result("session/prompt", TestClient::text_prompt(session, "Write hello to notes.txt"));
  CHECK(done["stopReason"] == "end_turn");
  CHECK(read_text(f.workspace() + "/notes.txt") == "hello\n");

  for (const Json& u : client->updates()) {
    INFO(u.dump());
    CHECK(schema.check_update(u) == "");
  }
  CHECK(joined_text(client->updates_of("agent_thought_chunk")).find("I should write the notes.") != std::string::npos);
  CHECK(joined_text(client->updates_of("agent_message_chunk")).find("Wrote notes.txt.") != std::string::npos);

  auto calls = client->updates_of("tool_call");
  REQUIRE(calls.size() == 1);
  CHECK(calls[0]["kind"] == "edit");
  CHECK(calls[0]["status"] == "pending");
  CHECK(calls[0]["rawInput"]["path"] == "notes.txt");
  const std::string call_id = calls[0]["toolCallId"];

  {
    std::lock_guard lock(asked_mutex);
    REQUIRE(asked.size() == 1);
    const Json& params = asked[0]["params"];
    CHECK(params["sessionId"] == session);
    CHECK(params["toolCall"]["toolCallId"] == call_id);
    CHECK(params["options"].size() == 3);
    CHECK(schema.check("RequestPermissionRequest", params) == "");
  }

  bool saw_diff = false, saw_in_progress = false;
  for (const Json& u : client->updates_of("tool_call_update")) {
    if (u["toolCallId"] != call_id) continue;
    if (u["status"] == "in_progress") saw_in_progress = true;
    if (u["status"] == "completed")
      for (const Json& c : u["content"])
        if (c["type"] == "diff") {
          saw_diff = true;
          CHECK(c["path"].get<std::string>().size() > 9);
          CHECK(c["oldText"].is_null());
          CHECK(c["newText"] == "hello\n");
        }
  }
  CHECK(saw_in_progress);
  CHECK(saw_diff);
  auto usage = client->updates_of("usage_update");
  REQUIRE_FALSE(usage.empty());
  CHECK(usage.back()["used"].get<int64_t>() > 0);
  CHECK(usage.back()["size"].get<int64_t>() >= usage.back()["used"].get<int64_t>());
  CHECK(client->garbage().empty());
}

TEST_CASE("session/cancel ends a turn that waits for a permission answer") {
  DaemonFixture f(write_then_answer());
  auto client = f.client();
  client->initialize();
  const std::string session = client->new_session(f.workspace());
  const int64_t prompt = client->send_request("session/prompt", TestClient::text_prompt(session, "Write it"));
  Json question = client->wait_daemon_request();
  CHECK(question["method"] == "session/request_permission");

  // A second prompt while this one runs is refused.
  Json second = client->call("session/prompt", TestClient::text_prompt(session, "again"));
  CHECK(second["error"]["code"] == rpc::kInvalidRequest);

  client->notify("session/cancel", {{"sessionId", session}});
  Json done = client->wait_response(prompt);
  CHECK(done["result"]["stopReason"] == "cancelled");
  CHECK_FALSE(std::filesystem::exists(f.workspace() + "/notes.txt"));
  // The late answer is ignored; the session takes its next prompt.
  client->answer(question["id"], select_option("allow_once"));
  allow_everything(*client);
  Json next = client->result("session/prompt", TestClient::text_prompt(session, "Continue"));
  CHECK(next.contains("stopReason"));
}

TEST_CASE("session/load after a reconnect replays the history before answering") {
  DaemonFixture f(write_then_answer());
  std::string session;
  {
    auto first = f.client();
    first->initialize();
    session = first->new_session(f.workspace());
    allow_everything(*first);
    CHECK(first->result("session/prompt", TestClient::text_prompt(session, "Write hello please"))["stopReason"] ==
          "end_turn");
  }
  auto second = f.client();
  second->initialize();
  Json loaded = second->result("session/load", {{"sessionId", session}, {"cwd", f.workspace()}, {"mcpServers", Json::array()}});
  CHECK(loaded["modes"]["currentModeId"] == "default");
  // Everything below arrived before the response (one connection keeps order).
  CHECK(joined_text(second->updates_of("user_message_chunk")) == "Write hello please");
  CHECK(joined_text(second->updates_of("agent_message_chunk")).find("Wrote notes.txt.") != std::string::npos);
  auto calls = second->updates_of("tool_call");
  REQUIRE(calls.size() == 1);
  CHECK(calls[0]["rawInput"]["content"] == "hello\n");
  CHECK(second->updates_of("tool_call_update").size() == 1);

  Json listed = second->result("session/list", {{"cwd", f.workspace()}});
  bool found = false;
  for (const Json& s : listed["sessions"]) found = found || s["sessionId"] == session;
  CHECK(found);
  // An unknown session is a resource-not-found error.
  Json missing = second->call("session/load", {{"sessionId", "nope"}, {"cwd", f.workspace()}, {"mcpServers", Json::array()}});
  CHECK(missing["error"]["code"] == rpc::kResourceNotFound);
}

TEST_CASE("session/set_mode changes what needs asking") {
  DaemonFixture f(write_then_answer());
  auto client = f.client();
  client->initialize();
  const std::string session = client->new_session(f.workspace());
  CHECK(client->result("session/set_mode", {{"sessionId", session}, {"modeId", "auto-edit"}}) == Json::object());
  CHECK(client->wait_until([&] { return !client->updates_of("current_mode_update").empty(); }));
  CHECK(client->updates_of("current_mode_update")[0]["currentModeId"] == "auto-edit");
  // No permission handler: a question would be held and the turn would never end.
  Json done = client->result("session/prompt", TestClient::text_prompt(session, "Write it"));
  CHECK(done["stopReason"] == "end_turn");
  CHECK(read_text(f.workspace() + "/notes.txt") == "hello\n");

  Json bad = client->call("session/set_mode", {{"sessionId", session}, {"modeId", "reckless"}});
  CHECK(bad["error"]["code"] == rpc::kInvalidParams);
}

TEST_CASE("protocol errors are answered and the daemon stays up") {
  DaemonFixture f(write_then_answer());
  auto client = f.client();
  // Before initialize, session methods are refused.
  Json early = client->call("session/new", {{"cwd", f.workspace()}, {"mcpServers", Json::array()}});
  CHECK(early["error"]["code"] == rpc::kInvalidRequest);
  client->initialize();
  CHECK(client->call("session/new", {{"mcpServers", Json::array()}})["error"]["code"] == rpc::kInvalidParams);
  CHECK(client->call("session/new", {{"cwd", "relative/path"}, {"mcpServers", Json::array()}})["error"]["code"] ==
        rpc::kInvalidParams);
  CHECK(client->call("session/new", {{"cwd", f.workspace() + "/missing"}, {"mcpServers", Json::array()}})["error"]["code"] ==
        rpc::kInvalidParams);
  CHECK(client->call("session/new", Json::array({1, 2}))["error"]["code"] == rpc::kInvalidParams);
  CHECK(client->call("session/prompt", TestClient::text_prompt("no-such-session", "hi"))["error"]["code"] ==
        rpc::kResourceNotFound);
  CHECK(client->call("session/frobnicate", Json::object())["error"]["code"] == rpc::kMethodNotFound);

  const std::string session = client->new_session(f.workspace());
  Json image = client->call("session/prompt", {{"sessionId", session},
                                               {"prompt", Json::array({{{"type", "image"}, {"data", "AA=="}, {"mimeType", "image/png"}}})}});
  CHECK(image["error"]["code"] == rpc::kInvalidParams);
  Json no_prompt = client->call("session/prompt", {{"sessionId", session}});
  CHECK(no_prompt["error"]["code"] == rpc::kInvalidParams);
  // Unknown fields and MCP servers are accepted (the servers reported unused).
  Json with_mcp = client->result("session/new", {{"cwd", f.workspace()},
                                                 {"mcpServers", Json::array({{{"name", "fs"}, {"command", "mcp-fs"}, {"args", Json::array()}, {"env", Json::array()}}})},
                                                 {"someFutureField", true}});
  CHECK(with_mcp["_meta"]["beluga"]["mcpServersIgnored"][0] == "fs");

  client->send_raw("{\"jsonrpc\":\"2.0\",\"id\":99,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"one\"}}\n");
  CHECK(client->wait_response(99)["error"]["code"] == rpc::kInvalidParams);
  client->send_raw("garbage\n");
  CHECK(client->wait_response(nullptr)["error"]["code"] == rpc::kParseError);
  // A session of another connection is not reachable from this one.
  auto other = f.client();
  other->initialize();
  CHECK(other->call("session/cancel", {{"sessionId", session}})["error"]["code"] == rpc::kResourceNotFound);
  CHECK(client->result("beluga/model/info", Json::object())["kind"] == "replay");
}

TEST_CASE("a client disconnecting mid-turn cancels only its own turn") {
  DaemonFixture f(write_then_answer());
  auto quitter = f.client();
  quitter->initialize();
  const std::string abandoned = quitter->new_session(f.workspace());
  quitter->send_request("session/prompt", TestClient::text_prompt(abandoned, "Write it"));
  quitter->wait_daemon_request();  // the turn now waits for a permission answer

  auto steady = f.client();
  steady->initialize();
  ScratchRepo other_repo;
  const std::string session = steady->new_session(other_repo.root().string());
  quitter->hang_up();
  allow_everything(*steady);
  CHECK(steady->result("session/prompt", TestClient::text_prompt(session, "Write it"))["stopReason"] == "end_turn");
  CHECK(steady->wait_until([&] { return f.daemon().sessions().running_count() == 0; }));
  CHECK_FALSE(std::filesystem::exists(f.workspace() + "/notes.txt"));

  // The abandoned session kept its cancelled turn and can be loaded again.
  auto back = f.client();
  back->initialize();
  back->result("session/load", {{"sessionId", abandoned}, {"cwd", f.workspace()}, {"mcpServers", Json::array()}});
  CHECK(joined_text(back->updates_of("user_message_chunk")) == "Write it");
}

TEST_CASE("the read tool sees the client's unsaved buffer when the client offers fs reads") {
  DaemonFixture f({completion("Look at it.", "Reading.", {Call{"read", {{"path", "notes.txt"}}}}),
                   completion("Seen.", "It says hello.")});
  write_text(f.workspace() + "/notes.txt", "on disk\n");
  auto tool_output = [](TestClient& client) {
    std::string text;
    for (const Json& u : client.updates_of("tool_call_update"))
      if (u.contains("content"))
        for (const Json& c : u["content"])
          if (c["type"] == "content") text += c["content"]["text"].get<std::string>();
    return text;
  };

  auto editor = f.client();
  editor->result("initialize", {{"protocolVersion", 1}, {"clientCapabilities", {{"fs", {{"readTextFile", true}}}}}});
  std::vector<Json> reads;
  std::mutex reads_mutex;
  editor->on_request([&](const Json& request) -> std::optional<Json> {
    if (request["method"] != "fs/read_text_file") return std::nullopt;
    std::lock_guard lock(reads_mutex);
    reads.push_back(request["params"]);
    return Json{{"content", "unsaved edit\n"}};
  });
  const std::string session = editor->new_session(f.workspace());
  CHECK(editor->result("session/prompt", TestClient::text_prompt(session, "Read notes"))["stopReason"] == "end_turn");
  {
    std::lock_guard lock(reads_mutex);
    REQUIRE(reads.size() == 1);
    CHECK(reads[0]["sessionId"] == session);
    CHECK(reads[0]["path"] == f.workspace() + "/notes.txt");
  }
  const std::string seen = tool_output(*editor);
  CHECK(seen.find("unsaved edit") != std::string::npos);
  CHECK(seen.find("unsaved buffer") != std::string::npos);
  CHECK(seen.find("on disk\n") == std::string::npos);

  // A client without the capability is never asked: the disk is read.
  auto plain = f.client();
  plain->initialize();
  const std::string other = plain->new_session(f.workspace());
  CHECK(plain->result("session/prompt", TestClient::text_prompt(other, "Read notes"))["stopReason"] == "end_turn");
  CHECK(tool_output(*plain).find("on disk") != std::string::npos);
}

TEST_CASE("stopping the daemon mid-turn cancels the turn and keeps the session") {
  DaemonFixture f(write_then_answer());
  auto client = f.client();
  client->initialize();
  const std::string session = client->new_session(f.workspace());
  client->send_request("session/prompt", TestClient::text_prompt(session, "Write it"));
  client->wait_daemon_request();  // waiting for a permission answer
  f.daemon().stop();              // what SIGTERM does in beluga daemon
  CHECK(client->wait_until([&] { return client->closed(); }));
  auto store = agent::SessionStore::open(f.sandbox().db_path());
  REQUIRE(store.ok());
  auto turns = store->turns(session);
  REQUIRE(turns.ok());
  REQUIRE(turns->size() == 1);
  CHECK((*turns)[0].stop_reason == "cancelled");
  auto messages = store->active_messages(session);
  REQUIRE(messages.ok());
  CHECK(messages->size() >= 2);  // the prompt and the model's turn with its call
}

TEST_CASE("the model's plan reaches the client as a plan update and session/load replays it") {
  const std::string plan = R"([{"content": "Write notes", "status": "in_progress", "priority": "high"},)"
                           R"( {"content": "Check them", "status": "pending", "priority": "low"}])";
  const std::string done_plan = R"([{"content": "Write notes", "status": "completed", "priority": "high"},)"
                                R"( {"content": "Check them", "status": "completed", "priority": "low"}])";
  DaemonFixture f({completion("Plan.", "", {Call{"update_plan", {{"entries", plan, false}}}}),
                   completion("Bad plan.", "", {Call{"update_plan", {{"entries", R"([{"content": "x", "status": "maybe", "priority": "high"}])", false}}}}),
                   completion("Finish.", "", {Call{"update_plan", {{"entries", done_plan, false}}}}),
                   completion("", "All done.")});
  AcpSchema schema;
  std::string session;
  {
    auto client = f.client();
    client->initialize();
    session = client->new_session(f.workspace());
    Json done = client->result("session/prompt", TestClient::text_prompt(session, "Plan and do"));
    CHECK(done["stopReason"] == "end_turn");
    auto plans = client->updates_of("plan");
    REQUIRE(plans.size() == 2);  // the invalid plan (a bad status) is a tool error, not a plan
    for (const Json& p : plans) CHECK(schema.check_update(p) == "");
    CHECK(plans[0]["entries"] == Json::parse(plan));
    CHECK(plans[1]["entries"] == Json::parse(done_plan));
    // No permission is asked in default mode (no handler is set: a question would hang the turn).
    for (const Json& c : client->updates_of("tool_call")) CHECK(c["kind"] == "think");
  }
  auto again = f.client();
  again->initialize();
  again->result("session/load", {{"sessionId", session}, {"cwd", f.workspace()}, {"mcpServers", Json::array()}});
  auto replayed = again->updates_of("plan");
  REQUIRE(replayed.size() == 2);
  CHECK(replayed.back()["entries"] == Json::parse(done_plan));
}
