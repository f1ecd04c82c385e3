// beluga/complete (fill-in-the-middle on the embedded model: a synthetic
// checkpoint with the real V4 tokenizer) and $/cancel_request, for
// completions and for prompts.
#include <catch2/catch.hpp>

#include <algorithm>

#include "engine/model/tokenizer.h"
#include "tests/daemon/daemon_test_support.h"
#include "tests/daemon/synthetic_model.h"

using namespace beluga;
using namespace beluga::testing;

namespace {

const char* kFimBegin = "<｜fim▁begin｜>";
const char* kFimHole = "<｜fim▁hole｜>";
const char* kFimEnd = "<｜fim▁end｜>";

Json complete_params(const std::string& cwd, const std::string& path, Json extra = Json::object()) {
  Json p = {{"cwd", cwd}, {"path", path}, {"prefix", "int main(void) {\n  return "}, {"suffix", ";\n}\n"}};
  for (auto& [k, v] : extra.items()) p[k] = v;
  return p;
}

void write_sources(ScratchRepo& repo) {
  repo.write("src/util.c", "int helper(int x) { return x * 2; }\nint unused_name(void) { return 0; }\n");
  repo.write("src/util.h", "int helper(int x);\n");
  repo.write("src/main.c", "#include \"util.h\"\nint main(void) {\n  return helper(21);\n}\n");
  repo.write("docs/notes.md", "# notes\nnothing here calls anything\n");
}

}  // namespace

TEST_CASE("beluga/complete fills the middle on the embedded model with ranked repository context") {
  DaemonFixture f(EmbeddedModel{}, synthetic_model_dir());
  write_sources(f.repo());
  auto client = f.client();
  auto tokenizer = Tokenizer::load(synthetic_model_dir() + "/tokenizer.json");
  REQUIRE(tokenizer.ok());

  // No repository context: the prompt is exactly the FIM block after the path.
  Json bare = client->result("beluga/complete",
                             complete_params(f.workspace(), "src/main.c", {{"maxTokens", 8}, {"contextTokens", 0}}));
  REQUIRE(bare["text"].is_string());
  const std::string reason = bare["stopReason"];
  CHECK((reason == "end_turn" || reason == "max_tokens"));
  CHECK(bare["completionTokens"].get<int64_t>() <= 8);
  if (reason == "max_tokens") CHECK(bare["completionTokens"] == 8);
  CHECK(bare["contextFiles"] == Json::array());
  const std::string expected_prompt = std::string("<｜begin▁of▁sentence｜>## src/main.c\n") + kFimBegin +
                                      "int main(void) {\n  return " + kFimHole + ";\n}\n" + kFimEnd;
  CHECK(bare["promptTokens"] == static_cast<int64_t>(tokenizer->encode(expected_prompt).size()));

  // An absolute path inside the workspace is the same file.
  Json absolute = client->result(
      "beluga/complete", complete_params(f.workspace(), f.workspace() + "/src/main.c", {{"maxTokens", 8}, {"contextTokens", 0}}));
  CHECK(absolute["promptTokens"] == bare["promptTokens"]);
  CHECK(absolute["text"] == bare["text"]);  // greedy: the same prompt gives the same text

  // With context: the files main.c uses come before the FIM block, main.c itself never.
  Json ranked = client->result("beluga/complete", complete_params(f.workspace(), "src/main.c", {{"maxTokens", 4}}));
  std::vector<std::string> files = ranked["contextFiles"].get<std::vector<std::string>>();
  REQUIRE_FALSE(files.empty());
  CHECK(std::find(files.begin(), files.end(), "src/util.c") != files.end());
  CHECK(std::find(files.begin(), files.end(), "src/main.c") == files.end());
  CHECK(files.back() != "docs/notes.md");  // the most related file sits nearest the code
  CHECK(ranked["promptTokens"].get<int64_t>() > bare["promptTokens"].get<int64_t>());

  // A budget too small for any file leaves the context out.
  Json tiny = client->result("beluga/complete",
                             complete_params(f.workspace(), "src/main.c", {{"maxTokens", 2}, {"contextTokens", 3}}));
  CHECK(tiny["contextFiles"] == Json::array());
  CHECK(tiny["promptTokens"] == bare["promptTokens"]);

  // Stop sequences: the text ends before the first occurrence. The stop
  // string is an ASCII character after the first, so it means the same
  // bytes inside the daemon as in this JSON text.
  const std::string text = bare["text"];
  size_t at = 1;
  while (at < text.size() && static_cast<unsigned char>(text[at]) >= 0x80) ++at;
  if (at < text.size()) {
    const std::string stop = text.substr(at, 1);
    Json stopped = client->result("beluga/complete", complete_params(f.workspace(), "src/main.c",
                                                                     {{"maxTokens", 8}, {"contextTokens", 0},
                                                                      {"stop", Json::array({stop})}}));
    CHECK(stopped["stopReason"] == "stop_sequence");
    CHECK(stopped["text"] == text.substr(0, text.find(stop)));
  } else {
    WARN("the synthetic model wrote no ASCII character after the first; the stop-sequence check needs one");
  }
  CHECK(client->garbage().empty());
}

TEST_CASE("a cancelled beluga/complete answers -32800 whether it waits or runs") {
  DaemonFixture f(EmbeddedModel{}, synthetic_model_dir());
  write_sources(f.repo());
  auto client = f.client();
  auto& queue = f.daemon().model().queue();
  // The test holds the model (every slot): completions wait in its queue.
  for (int i = 0; i < queue.slots(); ++i) REQUIRE(queue.acquire("test", {}));
  const Json params = complete_params(f.workspace(), "src/main.c", {{"maxTokens", 4}, {"contextTokens", 0}});
  const int64_t running = client->send_request("beluga/complete", params);
  REQUIRE(client->wait_until([&] { return queue.stats().waiting == 1; }));
  const int64_t waiting = client->send_request("beluga/complete", params);

  client->notify("$/cancel_request", {{"requestId", 999}});  // unknown: ignored
  client->notify("$/cancel_request", {{"requestId", waiting}});
  Json answered = client->wait_response(waiting);  // at once, while the model is still held
  CHECK(answered["error"]["code"] == -32800);
  CHECK(answered["error"]["message"] == "request cancelled");
  CHECK(queue.stats().waiting == 1);

  client->notify("$/cancel_request", {{"requestId", running}});
  Json stopped = client->wait_response(running);
  CHECK(stopped["error"]["code"] == -32800);
  CHECK(stopped["error"]["data"]["completionTokens"] == 0);
  CHECK(stopped["error"]["data"]["text"] == "");
  for (int i = 0; i < queue.slots(); ++i) queue.release();

  // The daemon goes on: a new completion runs, and cancelling it after its answer changes nothing.
  Json done = client->call("beluga/complete", params);
  REQUIRE(done.contains("result"));
  CHECK(done["result"]["completionTokens"].get<int64_t>() <= 4);
  client->notify("$/cancel_request", {{"requestId", done["id"]}});
  CHECK(client->result("beluga/model/info", Json::object())["kind"] == "embedded");
  CHECK(client->garbage().empty());
}

TEST_CASE("beluga/complete refuses bad params and a replayed model") {
  DaemonFixture f(std::vector<std::string>{});
  auto client = f.client();
  const std::string ws = f.workspace();
  struct Case {
    Json params;
    std::string field;
  };
  std::vector<Case> cases = {
      {Json::object(), "cwd"},
      {{{"cwd", "relative"}, {"path", "a.c"}, {"prefix", ""}, {"suffix", ""}}, "cwd"},
      {{{"cwd", ws + "/missing"}, {"path", "a.c"}, {"prefix", ""}, {"suffix", ""}}, "cwd"},
      {{{"cwd", ws}, {"prefix", ""}, {"suffix", ""}}, "path"},
      {{{"cwd", ws}, {"path", "/etc/passwd"}, {"prefix", ""}, {"suffix", ""}}, "path"},
      {{{"cwd", ws}, {"path", "../outside.c"}, {"prefix", ""}, {"suffix", ""}}, "path"},
      {{{"cwd", ws}, {"path", "a.c"}, {"suffix", ""}}, "prefix"},
      {{{"cwd", ws}, {"path", "a.c"}, {"prefix", 3}, {"suffix", ""}}, "prefix"},
      {{{"cwd", ws}, {"path", "a.c"}, {"prefix", ""}}, "suffix"},
      {complete_params(ws, "a.c", {{"maxTokens", 0}}), "maxTokens"},
      {complete_params(ws, "a.c", {{"maxTokens", 1025}}), "maxTokens"},
      {complete_params(ws, "a.c", {{"maxTokens", "many"}}), "maxTokens"},
      {complete_params(ws, "a.c", {{"temperature", -1}}), "temperature"},
      {complete_params(ws, "a.c", {{"temperature", "hot"}}), "temperature"},
      {complete_params(ws, "a.c", {{"stop", "x"}}), "stop"},
      {complete_params(ws, "a.c", {{"stop", Json::array({""})}}), "stop"},
      {complete_params(ws, "a.c", {{"contextTokens", -1}}), "contextTokens"},
  };
  for (const Case& c : cases) {
    INFO(c.params.dump());
    Json r = client->call("beluga/complete", c.params);
    REQUIRE(r.contains("error"));
    CHECK(r["error"]["code"] == -32602);
    CHECK(r["error"]["message"].get<std::string>().find(c.field + ":") != std::string::npos);
  }
  Json replay = client->call("beluga/complete", complete_params(ws, "a.c"));
  CHECK(replay["error"]["code"] == -32603);
  CHECK(replay["error"]["message"].get<std::string>().find("completion needs an embedded model") !=
        std::string::npos);
  CHECK(client->result("beluga/model/info", Json::object())["kind"] == "replay");
}

TEST_CASE("$/cancel_request for a session/prompt cancels its turn") {
  DaemonFixture f({completion("I should write.", "Writing.", {Call{"write", {{"path", "notes.txt"}, {"content", "x\n"}}}}),
                   completion("", "Done.")});
  auto client = f.client();
  client->initialize();
  const std::string session = client->new_session(f.workspace());
  const int64_t prompt = client->send_request("session/prompt", TestClient::text_prompt(session, "Write notes"));
  Json asked = client->wait_daemon_request();  // the write waits for permission
  CHECK(asked["method"] == "session/request_permission");
  client->notify("$/cancel_request", {{"requestId", prompt}});
  Json done = client->wait_response(prompt);
  REQUIRE(done.contains("result"));
  CHECK(done["result"]["stopReason"] == "cancelled");
  CHECK_FALSE(std::filesystem::exists(f.workspace() + "/notes.txt"));
  // The session takes the next prompt as usual.
  Json next = client->result("session/prompt", TestClient::text_prompt(session, "Again"));
  CHECK(next.contains("stopReason"));
}
