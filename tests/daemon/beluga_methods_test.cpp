// beluga/ methods through the socket: model and daemon status, sessions,
// index status and refresh, context rendering, checkpoints.
#include <catch2/catch.hpp>

#include "tests/daemon/daemon_test_support.h"

using namespace beluga;
using namespace beluga::testing;

namespace {

std::vector<std::string> one_write() {
  return {completion("Write it.", "Writing.", {Call{"write", {{"path", "notes.txt"}, {"content", "hello\n"}}}}),
          completion("Done.", "Wrote notes.txt.")};
}

}  // namespace

TEST_CASE("model info and daemon status describe the daemon") {
  DaemonFixture f(one_write());
  auto client = f.client();
  Json info = client->result("beluga/model/info", Json::object());
  CHECK(info["kind"] == "replay");
  CHECK(info["spec"].get<std::string>().rfind("replay:", 0) == 0);
  CHECK(info["contextTokens"].get<int64_t>() > 0);
  CHECK(info["queue"]["slots"] == 1);
  Json status = client->result("beluga/daemon/status", Json::object());
  CHECK(status["pid"].get<int64_t>() == ::getpid());
  CHECK(status["connections"].get<int64_t>() == 1);
  CHECK(status["liveSessions"] == 0);
}

TEST_CASE("sessions are listed rendered and deleted") {
  DaemonFixture f(one_write());
  auto client = f.client();
  client->initialize();
  client->on_request([](const Json&) -> std::optional<Json> { return select_option("allow_once"); });
  const std::string session = client->new_session(f.workspace());
  CHECK(client->result("session/prompt", TestClient::text_prompt(session, "Write the notes"))["stopReason"] ==
        "end_turn");

  Json listed = client->result("beluga/sessions/list", {{"cwd", f.workspace()}});
  REQUIRE(listed["sessions"].size() == 1);
  CHECK(listed["sessions"][0]["sessionId"] == session);
  CHECK(listed["sessions"][0]["live"] == true);
  CHECK(listed["sessions"][0]["title"].get<std::string>().find("Write the notes") != std::string::npos);

  Json rendered = client->result("beluga/context/render", {{"sessionId", session}});
  CHECK(rendered["text"].get<std::string>().find("Write the notes") != std::string::npos);
  CHECK(rendered["tokens"].get<int64_t>() > 0);
  Json repo_context = client->result("beluga/context/render", {{"cwd", f.workspace()}, {"budgetTokens", 1000}});
  CHECK(repo_context["text"].get<std::string>().find("notes.txt") != std::string::npos);
  CHECK(client->call("beluga/context/render", {{"sessionId", "nope"}})["error"]["code"] == rpc::kResourceNotFound);

  // Deleting a live, idle session unloads it and removes it from the store.
  CHECK(client->result("beluga/sessions/delete", {{"sessionId", session}})["deleted"] == session);
  CHECK(client->result("beluga/sessions/list", {{"cwd", f.workspace()}})["sessions"].empty());
  CHECK(client->call("session/prompt", TestClient::text_prompt(session, "hi"))["error"]["code"] ==
        rpc::kResourceNotFound);
  CHECK(client->call("beluga/sessions/delete", {{"sessionId", session}})["error"]["code"] == rpc::kResourceNotFound);
}

TEST_CASE("checkpoints of a turn are listed diffed and restored") {
  DaemonFixture f(one_write());
  write_text(f.workspace() + "/kept.txt", "kept\n");
  auto client = f.client();
  client->initialize();
  client->on_request([](const Json&) -> std::optional<Json> { return select_option("allow_once"); });
  const std::string session = client->new_session(f.workspace());
  CHECK(client->result("session/prompt", TestClient::text_prompt(session, "Write"))["stopReason"] == "end_turn");

  Json list = client->result("beluga/checkpoints/list", {{"cwd", f.workspace()}, {"sessionId", session}});
  REQUIRE(list["checkpoints"].size() == 1);
  const std::string checkpoint = list["checkpoints"][0]["id"];
  Json diff = client->result("beluga/checkpoints/diff", {{"cwd", f.workspace()}, {"from", checkpoint}});
  REQUIRE(diff["files"].size() == 1);
  CHECK(diff["files"][0].get<std::string>().find("notes.txt") != std::string::npos);
  Json restored = client->result("beluga/checkpoints/restore", {{"cwd", f.workspace()}, {"checkpoint", checkpoint}});
  CHECK(restored["removed"].size() == 1);
  CHECK_FALSE(std::filesystem::exists(f.workspace() + "/notes.txt"));
  CHECK(read_text(f.workspace() + "/kept.txt") == "kept\n");
  CHECK(client->call("beluga/checkpoints/restore", {{"cwd", f.workspace()}, {"checkpoint", session + "/99"}})["error"]["code"] ==
        rpc::kResourceNotFound);
  CHECK(client->call("beluga/checkpoints/list", {{"cwd", 5}})["error"]["code"] == rpc::kInvalidParams);
}

TEST_CASE("index status and refresh go through the indexer") {
  DaemonFixture f(one_write());
  write_text(f.workspace() + "/main.c", "int add(int a, int b) { return a + b; }\n");
  auto client = f.client();
  Json before = client->result("beluga/index/status", {{"cwd", f.workspace()}});
  CHECK(before["indexed"] == false);
  Json refreshed = client->result("beluga/index/refresh", {{"cwd", f.workspace()}});
  CHECK(refreshed["files"].get<int64_t>() >= 1);
  CHECK(refreshed["changes"]["added"].get<int64_t>() >= 1);
  Json after = client->result("beluga/index/status", {{"cwd", f.workspace()}});
  CHECK(after["indexed"] == true);
  CHECK(after["files"] == refreshed["files"]);
  CHECK(client->call("beluga/index/status", Json::object())["error"]["code"] == rpc::kInvalidParams);
}
