// beluga against itself over loopback, with no mock anywhere: `beluga run
// --model remote:URL` (the remote provider) → `beluga daemon --http` (the
// HTTP serving) → a replayed model for the tool-call paths, or the embedded
// engine on a synthetic checkpoint for prefix reuse and cancellation. Both
// sides are the real binary as separate processes.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/agent/agent_test_support.h"
#include "tests/cli/daemon_home.h"
#include "tests/test_support.h"
#include "tests/tools/git_test_support.h"

using namespace beluga::testing;
using Json = nlohmann::json;

namespace {

std::vector<Json> json_lines(const std::string& text) {
  std::vector<Json> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    Json line = Json::parse(text.substr(start, end - start), nullptr, false);
    if (line.is_object()) out.push_back(std::move(line));
    start = end + 1;
  }
  return out;
}

std::vector<Json> of_type(const std::vector<Json>& events, const std::string& type) {
  std::vector<Json> out;
  for (const Json& e : events)
    if (e.value("type", "") == type) out.push_back(e);
  return out;
}

// Starts the daemon serving HTTP on a port the kernel picks; returns its URL.
std::string start_serving(DaemonHome& home, const std::string& model) {
  Run start = run("daemon start --model " + quote(model) + " --http 127.0.0.1:0");
  INFO(start.out);
  REQUIRE(start.status == 0);
  std::string address;
  for (int i = 0; i < 100 && address.empty(); ++i) {
    address = home.http_address();
    if (address.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE_FALSE(address.empty());
  return "http://" + address + "/v1";
}

void write_user_config(const DaemonHome& home, const std::string& toml) {
  std::filesystem::create_directories(home.file("config/beluga"));
  write_text(home.file("config/beluga/config.toml"), toml);
}

}  // namespace

TEST_CASE("beluga run on remote:URL drives a multi-step tool task through beluga's own HTTP serving") {
  IsolatedGitConfig git;  // first: DaemonHome's XDG_CONFIG_HOME must win
  DaemonHome home;
  ScratchRepo repo;
  repo.write("notes.txt", "alpha\n");
  repo.commit_all("initial");
  // What the served model says, request by request: read, edit, answer.
  write_replay(home.file("served.jsonl"),
               {completion("Read it first.", "", {{"read", {{"path", "notes.txt"}}}}),
                completion("Now edit.", "", {{"edit", {{"path", "notes.txt"}, {"old", "alpha"}, {"new", "beta"}}}}),
                completion("Done.", "I changed alpha to beta.")});
  EnvOverride token("BELUGA_HTTP_TOKEN", "e2e-secret-token");
  const std::string url = start_serving(home, "replay:" + home.file("served.jsonl"));

  EnvOverride key("BELUGA_REMOTE_API_KEY", "e2e-secret-token");
  EnvOverride name("BELUGA_REMOTE_MODEL", "served");
  Run turn = run("run " + quote("change alpha to beta in notes.txt") + " --model " + quote("remote:" + url) +
                 " --workspace " + quote(repo.root().string()) + " --json --mode yolo");
  INFO(turn.out);
  REQUIRE(turn.status == 0);
  CHECK(read_text(repo.root() / "notes.txt") == "beta\n");
  auto events = json_lines(turn.out);
  REQUIRE_FALSE(events.empty());
  CHECK(events.front()["model"].get<std::string>().find("remote:" + url) == 0);
  auto calls = of_type(events, "tool_call");
  REQUIRE(calls.size() == 2);
  CHECK(calls[0]["tool"] == "read");
  CHECK(calls[0]["arguments"] == Json{{"path", "notes.txt"}});
  CHECK(calls[1]["tool"] == "edit");
  CHECK(calls[1]["arguments"] == Json{{"path", "notes.txt"}, {"old", "alpha"}, {"new", "beta"}});
  // The ids are the server's (call_ + 24 characters), kept by the agent so
  // the history it sends back names each call as the server did.
  for (const Json& call : calls) {
    const std::string id = call["call_id"];
    CHECK(id.rfind("call_", 0) == 0);
    CHECK(id.size() == 29);
  }
  auto results = of_type(events, "tool_result");
  REQUIRE(results.size() == 2);
  CHECK(results[0]["ok"] == true);
  CHECK(results[1]["ok"] == true);
  const Json& done = events.back();
  CHECK(done["type"] == "done");
  CHECK(done["stop_reason"] == "completed");
  CHECK(done["steps"] == 3);
  std::string answer;
  for (const Json& e : of_type(events, "assistant_text")) answer += e["text"].get<std::string>();
  CHECK(answer == "I changed alpha to beta.");
  // Three requests served; the second and third re-sent the earlier calls,
  // which the server recognised by their ids.
  const std::string log = home.log();
  CHECK(log.find("e2e-secret-token") == std::string::npos);

  // A wrong key: a clear error naming the problem, never the key itself.
  EnvOverride wrong("BELUGA_REMOTE_API_KEY", "not-the-token-42");
  Run refused = run("run " + quote("again") + " --model " + quote("remote:" + url) + " --workspace " +
                    quote(repo.root().string()) + " --json");
  INFO(refused.out);
  CHECK(refused.status != 0);
  CHECK(refused.out.find("API key") != std::string::npos);
  CHECK(refused.out.find("not-the-token-42") == std::string::npos);
  CHECK(read_text(repo.root() / "notes.txt") == "beta\n");
}

TEST_CASE("A second turn through remote:URL reuses the first turn's tokens in the served engine's KV cache") {
  IsolatedGitConfig git;
  DaemonHome home;
  ScratchRepo repo;
  repo.write("a.txt", "alpha\n");
  repo.commit_all("initial");
  const std::string model = synthetic_checkpoint(home);
  const std::string url = start_serving(home, model);
  // Short answers; chat mode (the random model's text is kept as content).
  write_user_config(home, "max_output_tokens = 8\n");
  const std::string common = " --model " + quote("remote:" + url) + " --workspace " + quote(repo.root().string()) +
                             " --json --max-steps 1 --no-think";
  Run first = run("run " + quote("say hi") + common);
  INFO(first.out);
  REQUIRE(first.out.find("\"type\":\"done\"") != std::string::npos);
  auto events1 = json_lines(first.out);
  const Json done1 = events1.back();
  REQUIRE(done1["model_calls"].size() == 1);
  const int64_t prompt1 = done1["model_calls"][0]["prompt_tokens"];
  const int64_t answer1 = done1["tokens_generated"];
  CHECK(prompt1 > 100);  // the system message, tools and repository context
  CHECK(answer1 >= 1);
  const std::string session = events1.front()["session_id"];

  Run second = run("run " + quote("and again") + common + " --session " + session);
  INFO(second.out);
  auto events2 = json_lines(second.out);
  REQUIRE_FALSE(events2.empty());
  const Json done2 = events2.back();
  REQUIRE(done2["type"] == "done");
  REQUIRE(done2["model_calls"].size() == 1);
  const int64_t prompt2 = done2["model_calls"][0]["prompt_tokens"];
  const int64_t reused2 = done2["model_calls"][0]["reused_tokens"];
  // Turn 2's prompt is turn 1's prompt, its answer, then the new message:
  // everything of turn 1 is in the cache (the answer's last sampled token
  // at least up to the one the engine had not fed back yet).
  CHECK(prompt2 > prompt1 + answer1);
  CHECK(reused2 >= prompt1 + answer1 - 1);
  CHECK(reused2 < prompt2);
}

namespace {

// The served model's queue, from `beluga daemon status --json`.
Json model_queue() {
  Json s = Json::parse(run("daemon status --json").out, nullptr, false);
  if (!s.is_object() || !s.contains("model") || !s["model"].is_object()) return Json::object();
  return s["model"].value("queue", Json::object());
}

template <typename Pred>
bool wait_until(Pred done, std::chrono::seconds limit = std::chrono::seconds(120)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

}  // namespace

TEST_CASE("Interrupting beluga run on remote:URL cancels the served generation and frees the model") {
  IsolatedGitConfig git;
  DaemonHome home;
  ScratchRepo repo;
  repo.write("a.txt", "alpha\n");
  repo.commit_all("initial");
  const std::string model = synthetic_checkpoint(home);
  const std::string url = start_serving(home, model);
  // Far more tokens than the test waits for: the generation is still
  // running when the client goes away.
  write_user_config(home, "max_output_tokens = 20000\n");
  const std::string out = home.file("events.jsonl");
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, STDOUT_FILENO);
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, STDIN_FILENO);
    const std::string remote = "remote:" + url;
    const std::string ws = repo.root().string();
    ::execl(BELUGA_BINARY, BELUGA_BINARY, "run", "say hi", "--model", remote.c_str(), "--workspace", ws.c_str(),
            "--json", "--max-steps", "1", "--no-think", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // The request is on the model once text streams back to the agent.
  const bool generating = wait_until([&] { return read_text(out).find("\"assistant_text\"") != std::string::npos; });
  if (!generating) ::kill(pid, SIGKILL);
  REQUIRE(generating);
  CHECK(model_queue().value("running", 0) == 1);
  REQUIRE(::kill(pid, SIGINT) == 0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  auto events = json_lines(read_text(out));
  REQUIRE_FALSE(events.empty());
  CHECK(events.back()["stop_reason"] == "cancelled");
  // The server saw the connection close: the generation stopped and the
  // model is free (nobody waits, nothing runs), long before 20000 tokens.
  CHECK(wait_until([] {
    Json q = model_queue();
    return q.value("running", 1) == 0 && q.value("waiting", 1) == 0;
  }));
  CHECK(wait_until([&] { return home.log().find("cancelled") != std::string::npos; }));
  CHECK(home.log().find(" done") == std::string::npos);
}
