// Client file writes (daemon/acp/client_writes.h): a client that offers
// fs.readTextFile and fs.writeTextFile keeps the session's files. The
// agent's edits read its buffers and land there, never on the disk; a
// refused write is a tool error the model sees.
#include <catch2/catch.hpp>

#include <map>

#include "tests/daemon/daemon_test_support.h"

using namespace beluga;
using namespace beluga::testing;

namespace {

// An editor in the tests: buffers by absolute path, permission granted.
struct Editor {
  std::mutex mutex;
  std::map<std::string, std::string> buffers;
  std::vector<Json> writes;
  std::string refuse_writes;  // non-empty: answer fs/write_text_file with this error

  void attach(TestClient& client) {
    client.on_request([this](const Json& request) -> std::optional<Json> {
      const std::string method = request["method"];
      std::lock_guard lock(mutex);
      if (method == "session/request_permission") return select_option("allow_once");
      if (method == "fs/read_text_file") {
        auto it = buffers.find(request["params"]["path"].get<std::string>());
        if (it == buffers.end()) return TestClient::error_reply(-32002, "no such file in the editor");
        return Json{{"content", it->second}};
      }
      if (method == "fs/write_text_file") {
        writes.push_back(request["params"]);
        if (!refuse_writes.empty()) return TestClient::error_reply(-32603, refuse_writes);
        buffers[request["params"]["path"].get<std::string>()] = request["params"]["content"];
        return Json::object();
      }
      return std::nullopt;
    });
  }
};

Json editor_initialize(TestClient& client) {
  return client.result("initialize", {{"protocolVersion", 1},
                                      {"clientCapabilities", {{"fs", {{"readTextFile", true}, {"writeTextFile", true}}}}}});
}

Json find_update(const std::vector<Json>& updates, const std::string& call_id_prefix_tool, const std::string& status) {
  for (const Json& u : updates)
    if (u.value("status", "") == status && u.contains("content") &&
        u["content"].dump().find(call_id_prefix_tool) != std::string::npos)
      return u;
  return nullptr;
}

}  // namespace

TEST_CASE("edits go to the editor's buffers through fs/write_text_file and the disk stays untouched") {
  DaemonFixture f({completion("Read it.", "", {Call{"read", {{"path", "notes.txt"}}}}),
                   completion("Edit the buffer.", "", {Call{"edit", {{"path", "notes.txt"}, {"old", "buffer"}, {"new", "edited"}}}}),
                   completion("A new file.", "", {Call{"write", {{"path", "new.txt"}, {"content", "fresh\n"}}}}),
                   completion("Done.", "Edited notes.txt and wrote new.txt.")});
  f.repo().write("notes.txt", "hello disk\n");
  const std::string notes = f.workspace() + "/notes.txt";
  Editor editor;
  editor.buffers[notes] = "hello buffer\n";  // unsaved changes
  auto client = f.client();
  editor.attach(*client);
  editor_initialize(*client);
  const std::string session = client->new_session(f.workspace());
  Json done = client->result("session/prompt", TestClient::text_prompt(session, "Change notes and add new.txt"));
  CHECK(done["stopReason"] == "end_turn");

  // The disk is as it was; the editor has the changes.
  CHECK(read_text(notes) == "hello disk\n");
  CHECK_FALSE(std::filesystem::exists(f.workspace() + "/new.txt"));
  {
    std::lock_guard lock(editor.mutex);
    CHECK(editor.buffers[notes] == "hello edited\n");
    CHECK(editor.buffers[f.workspace() + "/new.txt"] == "fresh\n");
    REQUIRE(editor.writes.size() == 2);
    CHECK(editor.writes[0]["sessionId"] == session);
    CHECK(editor.writes[0]["path"] == notes);
  }
  // The diff the client is shown is the buffer's.
  Json diff;
  for (const Json& u : client->updates_of("tool_call_update"))
    for (const Json& c : u.value("content", Json::array()))
      if (c.value("type", "") == "diff" && c["path"] == notes) diff = c;
  REQUIRE(diff.is_object());
  CHECK(diff["oldText"] == "hello buffer\n");
  CHECK(diff["newText"] == "hello edited\n");
  CHECK(client->garbage().empty());
}

TEST_CASE("a write the editor refuses is a tool error the model sees and leaves the disk alone") {
  DaemonFixture f({completion("Write.", "", {Call{"write", {{"path", "new.txt"}, {"content", "fresh\n"}}}}),
                   completion("It failed.", "The editor refused the write.")});
  Editor editor;
  editor.refuse_writes = "the buffer is read-only";
  auto client = f.client();
  editor.attach(*client);
  editor_initialize(*client);
  const std::string session = client->new_session(f.workspace());
  Json done = client->result("session/prompt", TestClient::text_prompt(session, "Add new.txt"));
  CHECK(done["stopReason"] == "end_turn");
  CHECK_FALSE(std::filesystem::exists(f.workspace() + "/new.txt"));
  Json failed = find_update(client->updates_of("tool_call_update"), "the buffer is read-only", "failed");
  REQUIRE(failed.is_object());
  CHECK(failed["content"].dump().find("the editor refused to write new.txt") != std::string::npos);
  // The model's next prompt holds the error as the call's result.
  Json rendered = client->result("beluga/context/render", {{"sessionId", session}});
  CHECK(rendered["text"].get<std::string>().find("the buffer is read-only") != std::string::npos);
}

TEST_CASE("a client without fs.writeTextFile leaves writes on the disk") {
  DaemonFixture f({completion("Write.", "", {Call{"write", {{"path", "new.txt"}, {"content", "fresh\n"}}}}),
                   completion("Done.", "Wrote it.")});
  Editor editor;
  auto client = f.client();
  editor.attach(*client);
  client->result("initialize", {{"protocolVersion", 1},
                                {"clientCapabilities", {{"fs", {{"readTextFile", true}, {"writeTextFile", false}}}}}});
  const std::string session = client->new_session(f.workspace());
  client->result("session/prompt", TestClient::text_prompt(session, "Add new.txt"));
  CHECK(read_text(f.workspace() + "/new.txt") == "fresh\n");
  std::lock_guard lock(editor.mutex);
  CHECK(editor.writes.empty());
}
