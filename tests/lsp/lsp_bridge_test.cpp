// `beluga lsp` as an editor runs it: the real binary on pipes, a daemon it
// starts itself with a replayed model in a scratch home, and a client that
// behaves like an editor (tests/lsp/lsp_client.h).
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "lsp/framing.h"
#include "tests/lsp/lsp_test_support.h"

using namespace beluga::testing;
using beluga::lsp::Position;
using beluga::lsp::Range;

namespace {

const std::string kMain = "int main() {\n  return 0;\n}\n";

bool is_status(const Json& m, const std::string& state) {
  return m.value("method", std::string()) == "beluga/status" && m["params"].value("state", std::string()) == state;
}

// An editor's answers: progress tokens accepted, permission answered
// with `permission`, edits applied to `buffer` (then reported with didChange).
LspClient::RequestHandler editor_answers(EditorBuffer* buffer, const std::string& permission) {
  return [buffer, permission](const Json& request) -> std::optional<Json> {
    const std::string method = request.value("method", std::string());
    if (method == "window/workDoneProgress/create") return Json(nullptr);
    if (method == "window/showMessageRequest") {
      if (permission.empty()) return std::nullopt;
      return Json{{"title", permission}};
    }
    if (method == "workspace/applyEdit" && buffer) {
      const Json& change = request["params"]["edit"]["documentChanges"][0];
      if (change["textDocument"]["uri"] != buffer->uri() || change["textDocument"]["version"] != buffer->version())
        return Json{{"applied", false}, {"failureReason", "stale version"}};
      for (const auto& edit : change["edits"]) {
        auto range = beluga::lsp::range_from_json(edit["range"], "range");
        buffer->replace(*range, edit["newText"].get<std::string>());
      }
      return Json{{"applied", true}};
    }
    return Json(nullptr);
  };
}

}  // namespace

TEST_CASE("beluga lsp keeps the lifecycle rules and survives malformed frames") {
  LspHome home;
  ScratchRepo repo;
  const std::string model = home.file("model.jsonl");
  write_replay(model, {completion("", "Hello.")});
  LspClient client({"--model", "replay:" + model}, home.file("lsp.log"));

  Json early = client.request("textDocument/codeAction", Json::object());
  CHECK(early["error"]["code"] == -32002);

  Json init = client.request("initialize", initialize_params(repo.root().string(), /*utf8=*/true));
  INFO(init.dump());
  const Json caps = init["result"]["capabilities"];
  CHECK(caps["positionEncoding"] == "utf-8");
  CHECK(caps["textDocumentSync"]["change"] == 2);
  CHECK(caps["textDocumentSync"]["openClose"] == true);
  CHECK(caps["executeCommandProvider"]["commands"].size() == 5);
  CHECK(caps["inlineCompletionProvider"] == true);
  CHECK(caps["completionProvider"].is_object());
  CHECK(caps["codeActionProvider"]["codeActionKinds"] == Json::array({"quickfix", "refactor", "source"}));
  CHECK(init["result"]["serverInfo"]["name"] == "beluga");
  client.notify("initialized", Json::object());
  // It started a daemon and connected.
  client.wait_message([](const Json& m) { return is_status(m, "ready"); });

  // A bad Content-Length, a body that is not JSON, a message that is not
  // JSON-RPC (its id is known: answered), an unknown method, an unknown
  // notification: the server answers what it can and carries on.
  client.send_raw("Content-Length: twelve\r\n\r\n{\"jsonrpc\":\"2.0\"}");
  client.send_raw(beluga::lsp::encode_frame("{\"jsonrpc\": \"2.0\", \"id\": 5, \"method\": "));
  client.send_raw(beluga::lsp::encode_frame(R"({"jsonrpc":"2.0","id":77,"method":5})"));
  Json bad = client.wait_response(77);
  CHECK(bad["error"]["code"] == -32600);
  Json unknown = client.request("textDocument/noSuchThing", Json::object());
  CHECK(unknown["error"]["code"] == -32601);
  client.notify("$/noSuchNotification", Json::object());
  client.send_raw("Content-Length: 99999999999999999999999999\r\n\r\n");

  Json actions = client.request("textDocument/codeAction",
                                {{"textDocument", {{"uri", beluga::lsp::uri_from_path(repo.path("a.c"))}}},
                                 {"range", {{"start", {{"line", 0}, {"character", 0}}}, {"end", {{"line", 0}, {"character", 3}}}}},
                                 {"context", {{"diagnostics", Json::array({{{"range", {{"start", {{"line", 0}, {"character", 0}}},
                                                                                       {"end", {{"line", 0}, {"character", 1}}}}},
                                                                            {"message", "expected ';'"}}})}}}});
  REQUIRE(actions.contains("result"));
  std::vector<std::string> titles;
  for (const auto& a : actions["result"]) titles.push_back(a["title"]);
  CHECK(titles == std::vector<std::string>{"Fix this diagnostic (beluga)", "Explain (beluga)",
                                           "Implement / complete this (beluga)", "Write tests for this (beluga)",
                                           "Ask beluga\xE2\x80\xA6"});
  CHECK(actions["result"][0]["command"]["command"] == "beluga.fix");
  CHECK(actions["result"][0]["command"]["arguments"][0]["diagnostic"]["message"] == "expected ';'");

  Json only = client.request("textDocument/codeAction",
                             {{"textDocument", {{"uri", beluga::lsp::uri_from_path(repo.path("a.c"))}}},
                              {"range", {{"start", {{"line", 0}, {"character", 0}}}, {"end", {{"line", 0}, {"character", 0}}}}},
                              {"context", {{"diagnostics", Json::array()}, {"only", {"source"}}}}});
  REQUIRE(only["result"].size() == 1);
  CHECK(only["result"][0]["command"]["command"] == "beluga.writeTests");

  Json bad_command = client.request("workspace/executeCommand", {{"command", "beluga.nope"}, {"arguments", Json::array()}});
  CHECK(bad_command["error"]["code"] == -32602);
  Json no_prompt = client.request("workspace/executeCommand", {{"command", "beluga.ask"}, {"arguments", {Json::object()}}});
  CHECK(no_prompt["error"]["code"] == -32602);

  Json down = client.request("shutdown", nullptr);
  CHECK(down["result"].is_null());
  CHECK(client.request("textDocument/codeAction", Json::object())["error"]["code"] == -32600);
  client.notify("exit", nullptr);
  CHECK(client.wait_exit() == 0);
}

TEST_CASE("beluga lsp exits with 1 on exit without shutdown") {
  LspHome home;
  ScratchRepo repo;
  const std::string model = home.file("model.jsonl");
  write_replay(model, {completion("", "Hello.")});
  LspClient client({"--model", "replay:" + model}, home.file("lsp.log"));
  client.request("initialize", initialize_params(repo.root().string()));
  client.notify("exit", nullptr);
  CHECK(client.wait_exit() == 1);
}

TEST_CASE("beluga chat streams the turn and the session is listed") {
  LspHome home;
  ScratchRepo repo;
  repo.write("a.c", kMain);
  const std::string model = home.file("model.jsonl");
  write_replay(model, {completion("Thinking about it.", "Hello from the replay.")});
  LspClient client({"--model", "replay:" + model}, home.file("lsp.log"));
  client.request("initialize", initialize_params(repo.root().string()));
  client.notify("initialized", Json::object());
  client.wait_message([](const Json& m) { return is_status(m, "ready"); });

  Json chat = client.request("beluga/chat", {{"text", "hi"}});
  INFO(chat.dump() << client.log());
  REQUIRE(chat.contains("result"));
  CHECK(chat["result"]["stopReason"] == "end_turn");
  const std::string session = chat["result"]["sessionId"];
  std::string message, thought;
  for (const auto& m : client.messages()) {
    if (m.value("method", std::string()) != "beluga/chatUpdate") continue;
    CHECK(m["params"]["sessionId"] == session);
    if (m["params"]["kind"] == "message") message += m["params"]["text"].get<std::string>();
    if (m["params"]["kind"] == "thought") thought += m["params"]["text"].get<std::string>();
  }
  CHECK(message == "Hello from the replay.");
  CHECK(thought == "Thinking about it.");

  Json sessions = client.request("beluga/sessions", Json::object());
  REQUIRE(sessions.contains("result"));
  bool listed = false;
  for (const auto& s : sessions["result"]["sessions"]) listed = listed || s["sessionId"] == session;
  CHECK(listed);
  CHECK(client.request("beluga/chat", {{"text", 5}})["error"]["code"] == -32602);
}

TEST_CASE("a permission request becomes showMessageRequest and cancelling the progress cancels the turn") {
  LspHome home;
  ScratchRepo repo;
  repo.write("src/main.c", kMain);
  const std::string model = home.file("model.jsonl");
  const Call edit{"edit", {{"path", "src/main.c"}, {"old", "return 0;"}, {"new", "return 1;"}}};
  write_replay(model, {completion("", "", {edit}), completion("", "", {edit})});
  LspClient client({"--model", "replay:" + model}, home.file("lsp.log"));
  client.on_request(editor_answers(nullptr, /*permission=*/""));  // questions stay unanswered
  client.request("initialize", initialize_params(repo.root().string()));
  client.notify("initialized", Json::object());
  const std::string uri = beluga::lsp::uri_from_path(repo.path("src/main.c"));
  const Json argument = {{"uri", uri}, {"range", {{"start", {{"line", 1}, {"character", 2}}}, {"end", {{"line", 1}, {"character", 11}}}}}};

  // Cancelled through the progress: the turn ends "cancelled".
  size_t from = client.message_count();
  Json id = client.send_request("workspace/executeCommand", {{"command", "beluga.implement"}, {"arguments", {argument}}});
  size_t at = 0;
  Json question = client.wait_method("window/showMessageRequest", from, &at);
  INFO(client.log());
  CHECK(question["params"]["message"].get<std::string>().find("edit") != std::string::npos);
  std::vector<std::string> actions;
  for (const auto& a : question["params"]["actions"]) actions.push_back(a["title"]);
  CHECK(actions == std::vector<std::string>{"Allow once", "Allow always", "Deny"});
  Json begin = client.wait_message([](const Json& m) {
    return m.value("method", std::string()) == "$/progress" && m["params"]["value"]["kind"] == "begin";
  }, from);
  CHECK(begin["params"]["value"]["cancellable"] == true);
  CHECK(begin["params"]["value"]["title"].get<std::string>().find("Implement") != std::string::npos);
  client.notify("window/workDoneProgress/cancel", {{"token", begin["params"]["token"]}});
  Json cancelled = client.wait_response(id);
  REQUIRE(cancelled.contains("result"));
  CHECK(cancelled["result"]["stopReason"] == "cancelled");
  client.wait_message([&](const Json& m) {
    return m.value("method", std::string()) == "$/progress" && m["params"]["token"] == begin["params"]["token"] &&
           m["params"]["value"]["kind"] == "end";
  }, from);
  CHECK(repo.read("src/main.c") == kMain);

  // Cancelled through $/cancelRequest: the request is answered -32800.
  from = client.message_count();
  id = client.send_request("workspace/executeCommand", {{"command", "beluga.implement"}, {"arguments", {argument}}});
  client.wait_method("window/showMessageRequest", from);
  client.notify("$/cancelRequest", {{"id", id}});
  Json cancelled2 = client.wait_response(id);
  REQUIRE(cancelled2.contains("error"));
  CHECK(cancelled2["error"]["code"] == -32800);
  CHECK(repo.read("src/main.c") == kMain);
}

TEST_CASE("beluga lsp reconnects after a daemon restart and tells the user") {
  LspHome home;
  ScratchRepo repo;
  const std::string model = home.file("model.jsonl");
  write_replay(model, {completion("", "First.")});
  LspClient client({"--model", "replay:" + model}, home.file("lsp.log"));
  client.request("initialize", initialize_params(repo.root().string()));
  client.notify("initialized", Json::object());
  client.wait_message([](const Json& m) { return is_status(m, "ready"); });
  Json first = client.request("beluga/chat", {{"text", "one"}});
  REQUIRE(first.contains("result"));

  const size_t from = client.message_count();
  REQUIRE(home.beluga("daemon restart --model replay:" + model) == 0);
  client.wait_message([](const Json& m) { return is_status(m, "disconnected"); }, from);
  client.wait_message([](const Json& m) {
    return is_status(m, "ready") && m["params"]["message"].get<std::string>().find("reconnected") != std::string::npos;
  }, from);
  client.wait_message([](const Json& m) {
    return m.value("method", std::string()) == "window/showMessage" &&
           m["params"]["message"].get<std::string>().find("reconnected") != std::string::npos;
  }, from);
  // A new session on the new daemon (the replay starts again at its first line).
  Json second = client.request("beluga/chat", {{"text", "two"}});
  INFO(second.dump() << client.log());
  REQUIRE(second.contains("result"));
  CHECK(second["result"]["sessionId"] != first["result"]["sessionId"]);
}

TEST_CASE("the agent reads the editor's unsaved buffer after incremental changes in utf-16") {
  LspHome home;
  ScratchRepo repo;
  const std::string disk = "// caf\xF0\x9F\x98\x80 \xC3\xA9\n" + kMain;
  repo.write("src/main.c", disk);
  const std::string model = home.file("model.jsonl");
  write_replay(model, {completion("", "", {Call{"read", {{"path", "src/main.c"}}}}), completion("", "Read it.")});
  LspClient client({"--model", "replay:" + model}, home.file("lsp.log"));
  client.request("initialize", initialize_params(repo.root().string()));
  client.notify("initialized", Json::object());
  EditorBuffer buffer(client, beluga::lsp::uri_from_path(repo.path("src/main.c")), disk);
  buffer.open();
  // After the emoji (two UTF-16 units: "// caf" is 6, the emoji ends at 8).
  buffer.replace(Range{Position{0, 8}, Position{0, 8}}, "X");
  // Replace "0" of "return 0;" on line 2 (0-based).
  buffer.replace(Range{Position{2, 9}, Position{2, 10}}, "7");
  const std::string expected = "// caf\xF0\x9F\x98\x80X \xC3\xA9\nint main() {\n  return 7;\n}\n";
  REQUIRE(buffer.text() == expected);

  Json chat = client.request("beluga/chat", {{"text", "read src/main.c"}});
  INFO(chat.dump() << client.log());
  REQUIRE(chat.contains("result"));
  std::string seen;
  for (const auto& m : client.messages())
    if (m.value("method", std::string()) == "beluga/chatUpdate" && m["params"]["kind"] == "tool_call_update")
      seen += m["params"]["toolCall"].dump();
  // The model was shown the buffer, not the disk.
  CHECK(seen.find("unsaved buffer") != std::string::npos);
  CHECK(seen.find("return 7;") != std::string::npos);
  CHECK(seen.find("caf\xF0\x9F\x98\x80X") != std::string::npos);
  CHECK(repo.read("src/main.c") == disk);
}
