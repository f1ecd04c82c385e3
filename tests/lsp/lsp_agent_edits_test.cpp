// The agent's writes through `beluga lsp`: an open document changes by
// workspace/applyEdit (a minimal, versioned edit of the unsaved buffer; the
// disk untouched), a closed file on disk (and beluga/rewind restores it).
#include <catch2/catch.hpp>

#include <string>

#include "tests/lsp/lsp_test_support.h"

using namespace beluga::testing;
using beluga::lsp::Position;
using beluga::lsp::Range;

namespace {

const std::string kMain = "int main() {\n  return 0;\n}\n";

bool is_status(const Json& m, const std::string& state) {
  return m.value("method", std::string()) == "beluga/status" && m["params"].value("state", std::string()) == state;
}

}  // namespace

TEST_CASE("a fix code action's replayed edit arrives as a minimal workspace/applyEdit on the unsaved buffer") {
  LspHome home;
  ScratchRepo repo;
  repo.write("src/main.c", kMain);
  repo.commit_all("start");
  const std::string model = home.file("model.jsonl");
  const Call edit{"edit", {{"path", "src/main.c"}, {"old", "return 0;"}, {"new", "return 42; // \xF0\x9F\x98\x80"}}};
  write_replay(model, {completion("The diagnostic wants 42.", "", {edit}), completion("", "Fixed: main returns 42.")});
  LspClient client({"--model", "replay:" + model}, home.file("lsp.log"));
  client.request("initialize", initialize_params(repo.root().string()));
  client.notify("initialized", Json::object());
  client.wait_message([](const Json& m) { return is_status(m, "ready"); });

  EditorBuffer buffer(client, beluga::lsp::uri_from_path(repo.path("src/main.c")), kMain);
  client.on_request([&buffer](const Json& request) -> std::optional<Json> {
    const std::string method = request.value("method", std::string());
    if (method == "window/showMessageRequest") return Json{{"title", "Allow once"}};
    if (method == "workspace/applyEdit") {
      const Json& change = request["params"]["edit"]["documentChanges"][0];
      if (change["textDocument"]["version"] != buffer.version()) return Json{{"applied", false}};
      for (const auto& e : change["edits"])
        buffer.replace(*beluga::lsp::range_from_json(e["range"], "range"), e["newText"].get<std::string>());
      return Json{{"applied", true}};
    }
    return Json(nullptr);
  });
  buffer.open();
  // An unsaved line with an emoji above the code: the edit must land below it.
  buffer.replace(Range{Position{0, 0}, Position{0, 0}}, "// unsaved \xF0\x9F\x98\x80 note\n");
  const Json diagnostic = {{"range", {{"start", {{"line", 2}, {"character", 9}}}, {"end", {{"line", 2}, {"character", 10}}}}},
                           {"severity", 2},
                           {"source", "lint"},
                           {"message", "main should return 42"}};
  const size_t from = client.message_count();
  Json result = client.request("workspace/executeCommand",
                               {{"command", "beluga.fix"},
                                {"arguments", {{{"uri", buffer.uri()}, {"range", diagnostic["range"]}, {"diagnostic", diagnostic}}}}});
  INFO(result.dump() << client.log());
  REQUIRE(result.contains("result"));
  CHECK(result["result"]["stopReason"] == "end_turn");

  // The edit: one TextEdit, versioned, replacing "0;" on line 2 (0-based) only.
  size_t at = 0;
  Json apply = client.wait_method("workspace/applyEdit", from, &at);
  const Json& change = apply["params"]["edit"]["documentChanges"][0];
  CHECK(change["textDocument"]["uri"] == buffer.uri());
  REQUIRE(change["edits"].size() == 1);
  CHECK(change["edits"][0]["range"] == Json({{"start", {{"line", 2}, {"character", 9}}}, {"end", {{"line", 2}, {"character", 11}}}}));
  CHECK(change["edits"][0]["newText"] == "42; // \xF0\x9F\x98\x80");
  CHECK(buffer.text() == "// unsaved \xF0\x9F\x98\x80 note\nint main() {\n  return 42; // \xF0\x9F\x98\x80\n}\n");
  CHECK(repo.read("src/main.c") == kMain);  // the buffer changed, unsaved; the disk did not

  // The permission was asked before the edit; progress began and ended.
  size_t asked = 0;
  client.wait_method("window/showMessageRequest", from, &asked);
  CHECK(asked < at);
  std::vector<std::string> kinds;
  for (const auto& m : client.messages())
    if (m.value("method", std::string()) == "$/progress") kinds.push_back(m["params"]["value"]["kind"]);
  REQUIRE(kinds.size() >= 2);
  CHECK(kinds.front() == "begin");
  CHECK(kinds.back() == "end");
  client.wait_message([](const Json& m) {
    return m.value("method", std::string()) == "window/showMessage" &&
           m["params"]["message"].get<std::string>().find("Fixed: main returns 42.") != std::string::npos;
  }, from);
}

TEST_CASE("an agent write to a file that is not open goes to disk and beluga/rewind restores it") {
  LspHome home;
  ScratchRepo repo;
  repo.write("notes.txt", "first\n");
  repo.commit_all("start");
  const std::string model = home.file("model.jsonl");
  const Call edit{"edit", {{"path", "notes.txt"}, {"old", "first"}, {"new", "second"}}};
  write_replay(model, {completion("", "", {edit}), completion("", "Done.")});
  LspClient client({"--model", "replay:" + model}, home.file("lsp.log"));
  client.request("initialize", initialize_params(repo.root().string(), false, {{"mode", "auto-edit"}}));
  client.notify("initialized", Json::object());
  Json chat = client.request("beluga/chat", {{"text", "change notes.txt"}});
  INFO(chat.dump() << client.log());
  REQUIRE(chat.contains("result"));
  CHECK(chat["result"]["stopReason"] == "end_turn");
  CHECK(repo.read("notes.txt") == "second\n");

  Json rewind = client.request("beluga/rewind", Json::object());
  INFO(rewind.dump());
  REQUIRE(rewind.contains("result"));
  CHECK(rewind["result"]["restored"] == Json::array({repo.path("notes.txt")}));
  CHECK(repo.read("notes.txt") == "first\n");
}
