// The daemon on a remote model (`remote:URL`): sessions' turns go to the
// scripted OpenAI-compatible server, beluga/model/info reports it with its
// slots, and beluga/complete (fill-in-the-middle) is refused cleanly.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "tests/agent/scripted_http_server.h"
#include "tests/daemon/daemon_test_support.h"

using namespace beluga;
using namespace beluga::testing;

TEST_CASE("A daemon on a remote model runs a session turn and refuses fill-in-the-middle", "[daemon][remote]") {
  ScriptedHttpServer server({stream_events({delta_event({{"reasoning_content", "Easy."}}),
                                            delta_event({{"content", "Hello from the remote model."}}, "stop"),
                                            done_event()})});
  ::setenv("BELUGA_REMOTE_MODEL", "test-model", 1);
  DaemonFixture f(EmbeddedModel{}, "remote:" + server.base_url());
  ::unsetenv("BELUGA_REMOTE_MODEL");
  auto client = f.client();
  client->initialize();

  Json info = client->result("beluga/model/info", Json::object());
  CHECK(info["kind"] == "remote");
  CHECK(info["queue"]["slots"] == 4);
  CHECK(info["description"] == "remote:" + server.base_url() + " model test-model");

  Json fim = client->call("beluga/complete", {{"cwd", f.workspace()}, {"path", "a.c"}, {"prefix", "int x = "},
                                              {"suffix", ";\n"}});
  REQUIRE(fim.contains("error"));
  CHECK(fim["error"]["code"] == -32603);
  CHECK(fim["error"]["message"].get<std::string>().find("fill-in-the-middle runs on the embedded engine") !=
        std::string::npos);

  const std::string session = client->new_session(f.workspace());
  Json done = client->result("session/prompt", TestClient::text_prompt(session, "Say hello"));
  CHECK(done["stopReason"] == "end_turn");
  bool saw_answer = false;
  for (const Json& n : client->notifications())
    if (n.dump().find("Hello from the remote model.") != std::string::npos) saw_answer = true;
  CHECK(saw_answer);
  REQUIRE(server.count() == 1);
  CHECK(server.requests()[0].json()["messages"].back()["content"].get<std::string>().find("Say hello") !=
        std::string::npos);
}
