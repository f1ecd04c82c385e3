// Inline completion through `beluga lsp` on a daemon running a synthetic
// checkpoint (tests/daemon/synthetic_model.h): the item is the daemon's
// fill-in-the-middle text at the cursor, completion offers it as one item,
// a newer request supersedes an older one, and $/cancelRequest answers -32800.
#include <catch2/catch.hpp>

#include <string>

#include "daemon/socket_client.h"
#include "tests/daemon/synthetic_model.h"
#include "tests/lsp/lsp_test_support.h"

using namespace beluga::testing;
using beluga::lsp::Position;

namespace {

bool is_status(const Json& m, const std::string& state) {
  return m.value("method", std::string()) == "beluga/status" && m["params"].value("state", std::string()) == state;
}

Json inline_params(const std::string& uri, Position p) {
  return {{"textDocument", {{"uri", uri}}},
          {"position", beluga::lsp::to_json(p)},
          {"context", {{"triggerKind", 2}}}};
}

}  // namespace

TEST_CASE("inline completion on a synthetic checkpoint returns the daemon's FIM text and honours cancellation") {
  LspHome home;
  ScratchRepo repo;
  // "é" before the cursor: the UTF-16 position differs from the byte offset.
  const std::string text = "int twice(int x) {\n  /* caf\xC3\xA9 */ return \n}\n";
  repo.write("src/twice.c", text);
  const Position cursor{1, 20};  // after "return " (the comment's é is one UTF-16 unit)
  LspClient client({"--model", synthetic_model_dir()}, home.file("lsp.log"));
  // A long debounce keeps the supersede and cancel steps deterministic.
  client.request("initialize", initialize_params(repo.root().string(), false,
                                                 {{"completion", {{"maxTokens", 6}, {"debounceMs", 1500}, {"contextTokens", 0}}}}));
  client.notify("initialized", Json::object());
  client.wait_message([](const Json& m) { return is_status(m, "ready"); });
  EditorBuffer buffer(client, beluga::lsp::uri_from_path(repo.path("src/twice.c")), text);
  buffer.open();

  Json result = client.request("textDocument/inlineCompletion", inline_params(buffer.uri(), cursor));
  INFO(result.dump() << client.log());
  REQUIRE(result.contains("result"));
  REQUIRE(result["result"]["items"].is_array());

  // The same request straight to the daemon: greedy decoding gives the same text.
  auto paths = beluga::daemon::daemon_paths();
  REQUIRE(paths.ok());
  auto fd = beluga::daemon::connect_unix(paths->socket);
  REQUIRE(fd.ok());
  beluga::daemon::LineClient direct(*fd);
  const std::string prefix = "int twice(int x) {\n  /* caf\xC3\xA9 */ return ";
  auto expected = direct.call("beluga/complete", {{"cwd", repo.root().string()},
                                                  {"path", repo.path("src/twice.c")},
                                                  {"prefix", prefix},
                                                  {"suffix", "\n}\n"},
                                                  {"maxTokens", 6},
                                                  {"contextTokens", 0}},
                              std::chrono::seconds(120));
  REQUIRE(expected.ok());
  const std::string fim = (*expected)["text"];
  if (fim.empty()) {
    CHECK(result["result"]["items"].empty());
  } else {
    REQUIRE(result["result"]["items"].size() == 1);
    const Json item = result["result"]["items"][0];
    CHECK(item["insertText"] == fim);
    CHECK(item["range"] == beluga::lsp::to_json(beluga::lsp::Range{cursor, cursor}));

    Json completion = client.request("textDocument/completion", inline_params(buffer.uri(), cursor));
    REQUIRE(completion.contains("result"));
    REQUIRE(completion["result"]["items"].size() == 1);
    CHECK(completion["result"]["items"][0]["textEdit"]["newText"] == fim);
    CHECK(completion["result"]["items"][0]["textEdit"]["range"] == item["range"]);
    CHECK(completion["result"]["items"][0]["label"].is_string());
  }

  // A newer request for the same document supersedes the older one.
  Json older = client.send_request("textDocument/inlineCompletion", inline_params(buffer.uri(), cursor));
  Json newer = client.send_request("textDocument/inlineCompletion", inline_params(buffer.uri(), cursor));
  Json older_answer = client.wait_response(older);
  REQUIRE(older_answer.contains("result"));
  CHECK(older_answer["result"]["items"].empty());
  CHECK(client.wait_response(newer).contains("result"));

  // $/cancelRequest: -32800 at once.
  Json cancelled = client.send_request("textDocument/inlineCompletion", inline_params(buffer.uri(), cursor));
  client.notify("$/cancelRequest", {{"id", cancelled}});
  Json answer = client.wait_response(cancelled);
  REQUIRE(answer.contains("error"));
  CHECK(answer["error"]["code"] == -32800);

  // The server still serves after all of it.
  CHECK(client.request("textDocument/codeAction",
                       {{"textDocument", {{"uri", buffer.uri()}}},
                        {"range", beluga::lsp::to_json(beluga::lsp::Range{cursor, cursor})},
                        {"context", {{"diagnostics", Json::array()}}}})
            .contains("result"));
}

TEST_CASE("inline completion with a replayed model reports the daemon's refusal as an error") {
  LspHome home;
  ScratchRepo repo;
  repo.write("a.c", "int x = ;\n");
  const std::string model = home.file("model.jsonl");
  write_replay(model, {completion("", "unused")});
  LspClient client({"--model", "replay:" + model}, home.file("lsp.log"));
  client.request("initialize", initialize_params(repo.root().string(), false, {{"completion", {{"debounceMs", 0}}}}));
  client.notify("initialized", Json::object());
  EditorBuffer buffer(client, beluga::lsp::uri_from_path(repo.path("a.c")), "int x = ;\n");
  buffer.open();
  Json result = client.request("textDocument/inlineCompletion", inline_params(buffer.uri(), Position{0, 8}));
  INFO(result.dump());
  REQUIRE(result.contains("error"));
  CHECK(result["error"]["message"].get<std::string>().find("embedded model") != std::string::npos);
}
