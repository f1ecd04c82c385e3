// `beluga run --model remote:URL` as a process against a scripted
// OpenAI-compatible server on loopback: a multi-step tool task (read a
// file, edit it, answer), the conversation the server is sent at each
// step, and the API key absent from the output and the session store.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>

#include "tests/agent/agent_test_support.h"
#include "tests/agent/scripted_http_server.h"
#include "tests/cli/cli_support.h"

namespace {

using beluga::testing::AgentSandbox;
using beluga::testing::delta_event;
using beluga::testing::done_event;
using beluga::testing::quote;
using beluga::testing::Run;
using beluga::testing::run_beluga;
using beluga::testing::ScriptedHttpServer;
using beluga::testing::stream_events;
using beluga::testing::usage_event;
using Catch::Matchers::Contains;
using nlohmann::json;

const std::string kKey = "sk-cli-SECRET-7777";

std::string tool_call(int index, const std::string& id, const std::string& name, const json& arguments) {
  return delta_event({{"tool_calls", {{{"index", index}, {"id", id}, {"type", "function"},
                                       {"function", {{"name", name}, {"arguments", arguments.dump()}}}}}}});
}

std::string file_bytes(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return "";
  return beluga::testing::read_text(path);
}

}  // namespace

TEST_CASE("beluga run with a remote model reads and edits a file through the scripted server", "[cli][remote]") {
  AgentSandbox s;
  s.repo().write("a.txt", "hello world\n");
  s.repo().commit_all("initial");
  ScriptedHttpServer server({
      stream_events({delta_event({{"reasoning_content", "Look first."}}),
                     tool_call(0, "srv-1", "read", {{"path", "a.txt"}}), delta_event(json::object(), "tool_calls"),
                     usage_event(900, 0), done_event()}),
      stream_events({delta_event({{"reasoning_content", "Now edit."}}),
                     tool_call(0, "srv-2", "edit", {{"path", "a.txt"}, {"old", "world"}, {"new", "beluga"}}),
                     delta_event(json::object(), "tool_calls"), usage_event(1000, 900), done_event()}),
      stream_events({delta_event({{"reasoning_content", "Done."}}), delta_event({{"content", "Greeting changed."}}),
                     delta_event(json::object(), "stop"), usage_event(1100, 1000), done_event()}),
  });
  ::setenv("BELUGA_REMOTE_API_KEY", kKey.c_str(), 1);
  ::setenv("BELUGA_REMOTE_MODEL", "test-model", 1);
  Run run = run_beluga("run " + quote("greet beluga") + " --model " + quote("remote:" + server.base_url()) +
                       " --workspace " + quote(s.repo().root().string()) + " --mode auto-edit");
  ::unsetenv("BELUGA_REMOTE_API_KEY");
  ::unsetenv("BELUGA_REMOTE_MODEL");
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.out, Contains("● read a.txt"));
  CHECK_THAT(run.out, Contains("● edit a.txt"));
  CHECK_THAT(run.out, Contains("+hello beluga"));
  CHECK_THAT(run.out, Contains("Greeting changed."));
  CHECK_THAT(run.out, Contains("done (the model finished, 3 model calls"));
  CHECK(s.repo().read("a.txt") == "hello beluga\n");

  auto requests = server.requests();
  REQUIRE(requests.size() == 3);
  for (const auto& r : requests) {
    CHECK(r.target == "/v1/chat/completions");
    CHECK(r.header("Authorization") == "Bearer " + kKey);
    json body = r.json();
    CHECK(body["model"] == "test-model");
    CHECK(body["thinking"]["type"] == "enabled");
    bool declares_edit = false;
    for (const json& t : body["tools"]) declares_edit = declares_edit || t["function"]["name"] == "edit";
    CHECK(declares_edit);
  }
  // Step 2 is sent step 1's call (under the agent's own id) and its result.
  const json second = requests[1].json()["messages"];
  REQUIRE(second.size() >= 4);
  const json& call_turn = second[second.size() - 2];
  CHECK(call_turn["role"] == "assistant");
  CHECK(call_turn["reasoning_content"] == "Look first.");
  REQUIRE(call_turn["tool_calls"].size() == 1);
  CHECK(call_turn["tool_calls"][0]["function"]["name"] == "read");
  CHECK(json::parse(call_turn["tool_calls"][0]["function"]["arguments"].get<std::string>()) == json({{"path", "a.txt"}}));
  const json& result = second.back();
  CHECK(result["role"] == "tool");
  CHECK(result["tool_call_id"] == call_turn["tool_calls"][0]["id"]);
  CHECK_THAT(result["content"].get<std::string>(), Contains("hello world"));
  const json third = requests[2].json()["messages"];
  CHECK(third.back()["role"] == "tool");
  CHECK(third.size() == second.size() + 2);

  // The key went only into the Authorization header.
  CHECK(run.out.find(kKey) == std::string::npos);
  CHECK(run.err.find(kKey) == std::string::npos);
  const std::string store = file_bytes(s.db_path()) + file_bytes(s.db_path() + "-wal");
  CHECK_FALSE(store.empty());
  CHECK(store.find(kKey) == std::string::npos);
  CHECK(store.find("remote:" + server.base_url() + " model test-model") != std::string::npos);
}

TEST_CASE("beluga run with an unreachable remote model fails with the host and port", "[cli][remote]") {
  AgentSandbox s;
  s.repo().write("a.txt", "x\n");
  s.repo().commit_all("initial");
  s.write_user_config("[remote]\nmodel = \"m\"\nmax_attempts = 1\n");
  uint16_t port = 0;
  {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor probe(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = probe.local_endpoint().port();
  }
  Run run = run_beluga("run hello --model " + quote("remote:http://127.0.0.1:" + std::to_string(port) + "/v1") +
                       " --workspace " + quote(s.repo().root().string()));
  INFO(run.out << run.err);
  CHECK(run.exit_code != 0);
  CHECK_THAT(run.out + run.err, Contains("cannot connect to 127.0.0.1:" + std::to_string(port)));
}
