// The `beluga run` command-line contract on the real binary: human and
// --json output, exit statuses, clear errors for bad replay files, the
// non-interactive permission rule, a kill -9 between steps then --session
// resume, and the embedded engine on a synthetic checkpoint.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/agent/agent_test_support.h"
#include "tests/cli/cli_support.h"

namespace {

using beluga::testing::AgentSandbox;
using beluga::testing::Call;
using beluga::testing::completion;
using beluga::testing::quote;
using beluga::testing::Run;
using beluga::testing::run_beluga;
using Catch::Matchers::Contains;
using nlohmann::json;

std::vector<json> json_lines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    INFO(line);
    json j = json::parse(line, nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    REQUIRE(j.contains("type"));
    out.push_back(std::move(j));
  }
  return out;
}

std::vector<std::string> types(const std::vector<json>& events) {
  std::vector<std::string> out;
  for (const json& e : events) out.push_back(e["type"]);
  return out;
}

std::string run_args(AgentSandbox& s, const std::string& replay, const std::string& task, const std::string& more = "") {
  return "run " + quote(task) + " --model " + quote("replay:" + replay) + " --workspace " +
         quote(s.repo().root().string()) + " " + more;
}

// Rows of the session store: (turn, role, raw json) in order.
std::vector<std::pair<int64_t, json>> stored_messages(const std::string& db_path, const std::string& session) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT turn, json FROM messages WHERE session = ?1 ORDER BY seq", -1, &stmt, nullptr) ==
          SQLITE_OK);
  sqlite3_bind_text(stmt, 1, session.c_str(), -1, SQLITE_TRANSIENT);
  std::vector<std::pair<int64_t, json>> out;
  while (sqlite3_step(stmt) == SQLITE_ROW)
    out.emplace_back(sqlite3_column_int64(stmt, 0),
                     json::parse(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1))));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

}  // namespace

TEST_CASE("beluga run streams a replayed edit with its diff and ends with the changed files", "[cli][agent]") {
  AgentSandbox s;
  s.repo().write("a.txt", "hello world\n");
  s.repo().commit_all("initial");
  beluga::testing::write_replay(s.file("r.jsonl"), {
      completion("Look first.", "", {{"read", {{"path", "a.txt"}}}}),
      completion("Edit.", "", {{"edit", {{"path", "a.txt"}, {"old", "world"}, {"new", "beluga"}}}}),
      completion("Done.", "Greeting changed."),
  });
  Run run = run_beluga(run_args(s, s.file("r.jsonl"), "greet beluga", "--mode auto-edit"));
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.out, Contains("● read a.txt"));
  CHECK_THAT(run.out, Contains("● edit a.txt"));
  CHECK_THAT(run.out, Contains("-hello world"));
  CHECK_THAT(run.out, Contains("+hello beluga"));
  CHECK_THAT(run.out, Contains("Greeting changed."));
  CHECK_THAT(run.out, Contains("Changed files:\n  M  a.txt"));
  CHECK_THAT(run.out, Contains("done (the model finished, 3 model calls"));
  CHECK(run.out.find("\033[") == std::string::npos);  // not a terminal: no colour
  CHECK(s.repo().read("a.txt") == "hello beluga\n");
}

TEST_CASE("beluga run --json writes one typed event per line ending with done", "[cli][agent]") {
  AgentSandbox s;
  s.repo().write("a.txt", "x\n");
  s.repo().commit_all("initial");
  beluga::testing::write_replay(s.file("r.jsonl"), {
      completion("Think.", "", {{"shell", {{"command", "echo hi > made.txt"}}}}),
      completion("", "Made it."),
  });
  Run run = run_beluga(run_args(s, s.file("r.jsonl"), "make a file", "--json --mode yolo"));
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  auto events = json_lines(run.out);
  auto kinds = types(events);
  REQUIRE(kinds.size() >= 7);
  CHECK(kinds.front() == "session");
  CHECK(kinds[1] == "turn_started");
  CHECK(kinds.back() == "done");
  const json& done = events.back();
  CHECK(done["stop_reason"] == "completed");
  CHECK(done["steps"] == 2);
  CHECK(done["changed_files"] == json::array({"A  made.txt"}));
  bool saw_call = false, saw_result = false;
  for (const json& e : events) {
    if (e["type"] == "tool_call") {
      saw_call = true;
      CHECK(e["tool"] == "shell");
      CHECK(e["arguments"]["command"] == "echo hi > made.txt");
    }
    if (e["type"] == "tool_result") saw_result = e["ok"] == true;
  }
  CHECK(saw_call);
  CHECK(saw_result);
}

TEST_CASE("beluga run denies what needs permission when nobody can be asked", "[cli][agent]") {
  AgentSandbox s;
  s.repo().commit_all("initial");
  beluga::testing::write_replay(s.file("r.jsonl"), {
      completion("", "", {{"shell", {{"command", "touch nope.txt"}}}}),
      completion("", "I was not allowed."),
  });
  Run run = run_beluga(run_args(s, s.file("r.jsonl"), "touch", "--json"));
  REQUIRE(run.exit_code == 0);
  CHECK_FALSE(s.repo().exists("nope.txt"));
  bool denied = false;
  for (const json& e : json_lines(run.out))
    if (e["type"] == "permission") denied = e["decision"] == "ask" && e["answer"] == "deny";
  CHECK(denied);
}

TEST_CASE("beluga run reports bad replay files and limits with clear errors and exit statuses", "[cli][agent]") {
  AgentSandbox s;
  Run missing = run_beluga(run_args(s, s.file("missing.jsonl"), "x"));
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.err, Contains("missing.jsonl does not exist"));

  beluga::testing::write_text(s.file("bad.jsonl"), "{\"completion\": \"ok\"}\n{\"text\": \"no\"}\n");
  Run bad = run_beluga(run_args(s, s.file("bad.jsonl"), "x"));
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.err, Contains("line 2: missing the \"completion\" member"));

  beluga::testing::write_replay(s.file("short.jsonl"), {completion("", "", {{"git_status", {}}})});
  Run short_file = run_beluga(run_args(s, s.file("short.jsonl"), "x"));
  CHECK(short_file.exit_code == 2);
  CHECK_THAT(short_file.out, Contains("no recorded completion left for model call 2"));

  beluga::testing::write_replay(s.file("loop.jsonl"), std::vector<std::string>(4, completion("", "", {{"git_status", {}}})));
  Run steps = run_beluga(run_args(s, s.file("loop.jsonl"), "x", "--max-steps 2 --json"));
  CHECK(steps.exit_code == 3);
  CHECK(json_lines(steps.out).back()["stop_reason"] == "max_steps");

  beluga::testing::write_replay(s.file("garbage.jsonl"), std::vector<std::string>(3, "a</think>b</think>"));
  Run garbage = run_beluga(run_args(s, s.file("garbage.jsonl"), "x"));
  CHECK(garbage.exit_code == 5);
  CHECK_THAT(garbage.out, Contains("stopped: malformed"));

  CHECK(run_beluga(run_args(s, s.file("loop.jsonl"), "x", "--mode sideways")).exit_code != 0);
  CHECK_THAT(run_beluga(run_args(s, s.file("loop.jsonl"), "x", "--session nosuch")).err, Contains("no session 'nosuch'"));
  s.write_user_config("[permissions]\ndeny = [\"shell(rm\"]\n");
  Run bad_config = run_beluga(run_args(s, s.file("loop.jsonl"), "x"));
  CHECK(bad_config.exit_code == 1);
  CHECK_THAT(bad_config.err, Contains("config.toml"));
}

TEST_CASE("a beluga run killed between steps resumes with --session and loses no completed step", "[cli][agent]") {
  AgentSandbox s;
  s.repo().write("a.txt", "alpha\n");
  s.repo().commit_all("initial");
  // Step 2's shell command kills beluga itself (its parent) with SIGKILL.
  beluga::testing::write_replay(s.file("first.jsonl"), {
      completion("Read it.", "", {{"read", {{"path", "a.txt"}}}}),
      completion("Now crash.", "", {{"shell", {{"command", "kill -9 $PPID; sleep 5"}}}}),
      completion("", "never reached"),
  });
  Run crashed = run_beluga(run_args(s, s.file("first.jsonl"), "read a.txt", "--json --mode yolo"));
  CHECK((crashed.exit_code == -1 || crashed.exit_code == 128 + 9));  // SIGKILL (as system()'s shell reports it)
  auto events = json_lines(crashed.out);
  REQUIRE_FALSE(events.empty());
  const std::string id = events.front()["session_id"];
  CHECK(types(events).back() == "permission");  // the shell call was about to run

  auto before = stored_messages(s.db_path(), id);
  REQUIRE(before.size() == 4);  // user, model (read), read's result, model (shell)
  CHECK(before[0].second["content"] == "read a.txt");
  CHECK(before[2].second["role"] == "tool");
  CHECK_THAT(before[2].second["content"].get<std::string>(), Contains("alpha"));
  CHECK(before[3].second["tool_calls"][0]["name"] == "shell");

  beluga::testing::write_replay(s.file("second.jsonl"), {completion("", "a.txt says alpha.")});
  Run resumed = run_beluga(run_args(s, s.file("second.jsonl"), "what did it say?", "--json --session " + id));
  INFO(resumed.out << resumed.err);
  REQUIRE(resumed.exit_code == 0);
  auto after_events = json_lines(resumed.out);
  CHECK(after_events.front()["resumed"] == true);
  CHECK(after_events.back()["turn"] == 2);
  auto after = stored_messages(s.db_path(), id);
  REQUIRE(after.size() == 7);
  for (size_t i = 0; i < before.size(); ++i) CHECK(after[i].second == before[i].second);
  CHECK_THAT(after[4].second["content"].get<std::string>(), Contains("interrupted"));
  CHECK(after[5].second["content"] == "what did it say?");
  CHECK(after[6].first == 2);
}

TEST_CASE("beluga run drives the embedded engine on a synthetic checkpoint within its limits", "[cli][agent]") {
  AgentSandbox s;
  s.repo().write("a.txt", "alpha\n");
  s.repo().commit_all("initial");
  const std::string tokenizer = s.file("tokenizer.json");
  REQUIRE(run_beluga("tokenize --assemble-v4 --tokenizer " + quote(beluga::testing::golden_path("tokenizer/tokenizer.json")) +
                     " --added " + quote(beluga::testing::golden_path("tokenizer/v4_added_tokens.json")) + " --out " +
                     quote(tokenizer)).exit_code == 0);
  json config = json::parse(beluga::testing::read_text(beluga::testing::source_path("scripts/configs/v4-micro.config.json")));
  config["vocab_size"] = 129280;
  config["max_position_embeddings"] = 32768;
  beluga::testing::write_text(s.file("config.json"), config.dump());
  const std::string model = s.file("ckpt");
  REQUIRE(run_beluga("model synth --config " + quote(s.file("config.json")) + " --out " + quote(model) + " --tokenizer " +
                     quote(tokenizer)).exit_code == 0);
  // Eight tokens per model call, two calls: the random model's output is
  // nonsense, but the loop must stay within its limits and record it.
  s.write_user_config("max_output_tokens = 8\n");
  Run run = run_beluga("run " + quote("say hi") + " --model " + quote(model) + " --workspace " +
                       quote(s.repo().root().string()) + " --json --max-steps 2 --record " + quote(s.file("rec.jsonl")));
  INFO(run.out << run.err);
  REQUIRE((run.exit_code == 0 || run.exit_code == 3 || run.exit_code == 4 || run.exit_code == 5));
  auto events = json_lines(run.out);
  REQUIRE(events.size() >= 3);
  CHECK(events.front()["model"] == "embedded:" + model);
  const json& done = events.back();
  REQUIRE(done["type"] == "done");
  CHECK(done["steps"].get<int>() >= 1);
  CHECK(done["steps"].get<int>() <= 2);
  CHECK(done["tokens_generated"].get<int>() <= 16);
  CHECK(done["tokens_generated"].get<int>() >= 1);
  const std::string id = events.front()["session_id"];
  auto stored = stored_messages(s.db_path(), id);
  REQUIRE(stored.size() >= 2);
  CHECK(stored[0].second["content"] == "say hi");
  CHECK(stored[1].second["role"] == "assistant");
  CHECK(stored[1].second.contains("raw_completion"));

  // A second turn in a new process: the stored model turn (its exact text)
  // is rendered back into the prompt and the session grows.
  Run again = run_beluga("run " + quote("and again") + " --model " + quote(model) + " --workspace " +
                         quote(s.repo().root().string()) + " --json --max-steps 2 --session " + id);
  INFO(again.out << again.err);
  CHECK((again.exit_code == 0 || again.exit_code == 3 || again.exit_code == 4 || again.exit_code == 5));
  CHECK(json_lines(again.out).back()["turn"] == 2);
  CHECK(stored_messages(s.db_path(), id).size() > stored.size());

  // What was recorded replays to the same stop, through the same path.
  CHECK_THAT(beluga::testing::read_text(s.file("rec.jsonl")), Contains("{\"completion\":"));
  Run replay = run_beluga("run " + quote("say hi") + " --model " + quote("replay:" + s.file("rec.jsonl")) + " --workspace " +
                          quote(s.repo().root().string()) + " --json --max-steps 2");
  INFO(replay.out << replay.err);
  CHECK(replay.exit_code == run.exit_code);
  auto replayed = json_lines(replay.out);
  CHECK(replayed.back()["stop_reason"] == done["stop_reason"]);
  CHECK(replayed.back()["steps"] == done["steps"]);
}

TEST_CASE("Ctrl+C during a shell command cancels beluga run with status 130 and a consistent session", "[cli][agent]") {
  AgentSandbox s;
  s.repo().commit_all("initial");
  beluga::testing::write_replay(s.file("r.jsonl"), {
      completion("", "", {{"shell", {{"command", "sleep 30; touch late.txt"}}}}),
      completion("", "never reached"),
  });
  const std::string out = s.file("events.jsonl");
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, STDOUT_FILENO);
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, STDIN_FILENO);
    const std::string replay = "replay:" + s.file("r.jsonl");
    const std::string ws = s.repo().root().string();
    ::execl(BELUGA_BINARY, BELUGA_BINARY, "run", "wait", "--model", replay.c_str(), "--workspace", ws.c_str(), "--json",
            "--mode", "yolo", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Wait until the shell call has been allowed (it is about to run), then a bit.
  bool started = false;
  for (int i = 0; i < 600 && !started; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    started = beluga::testing::read_text(out).find("\"permission\"") != std::string::npos;
  }
  REQUIRE(started);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(::kill(pid, SIGINT) == 0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  auto events = json_lines(beluga::testing::read_text(out));
  REQUIRE_FALSE(events.empty());
  CHECK(events.back()["type"] == "done");
  CHECK(events.back()["stop_reason"] == "cancelled");
  CHECK_FALSE(s.repo().exists("late.txt"));
  const std::string id = events.front()["session_id"];
  auto stored = stored_messages(s.db_path(), id);
  REQUIRE(stored.size() == 3);  // user, the model's call, the call's (cancelled) result
  CHECK(stored[2].second["role"] == "tool");
}

TEST_CASE("beluga run asks on the terminal and follows the answers", "[cli][agent]") {
  AgentSandbox s;
  s.repo().write("a.txt", "hello world\n");
  s.repo().commit_all("initial");
  const auto edit = completion("", "", {{"edit", {{"path", "a.txt"}, {"old", "world"}, {"new", "beluga"}}}});
  beluga::testing::write_replay(s.file("r.jsonl"), {edit, edit, completion("", "Done.")});
  beluga::testing::write_text(s.file("answers"), "n\ny\n");
  // util-linux `script` runs beluga on a pseudo-terminal fed with the answers.
  const std::string command = std::string(BELUGA_BINARY) + " run greet --model " + quote("replay:" + s.file("r.jsonl")) +
                              " --workspace " + quote(s.repo().root().string());
  const std::string shell = "script -qec " + quote(command) + " /dev/null < " + quote(s.file("answers")) + " > " +
                            quote(s.file("out")) + " 2>&1";
  const int status = std::system(shell.c_str());
  const std::string out = beluga::testing::read_text(s.file("out"));
  INFO(out);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_THAT(out, Contains("Allow edit a.txt?"));
  CHECK_THAT(out, Contains("denied"));
  CHECK(s.repo().read("a.txt") == "hello beluga\n");
}

TEST_CASE("beluga run shows the model's plan and --json reports it as a plan event", "[cli][agent]") {
  AgentSandbox s;
  s.repo().write("a.txt", "x\n");
  s.repo().commit_all("initial");
  const std::string plan = R"([{"content": "Read a.txt", "status": "completed", "priority": "high"},)"
                           R"( {"content": "Summarise it", "status": "in_progress", "priority": "medium"}])";
  beluga::testing::write_replay(s.file("r.jsonl"), {
      completion("Plan first.", "", {{"update_plan", {{"entries", plan, false}}}}),
      completion("", "Summarised."),
  });
  Run human = run_beluga(run_args(s, s.file("r.jsonl"), "summarise"));
  INFO(human.out << human.err);
  REQUIRE(human.exit_code == 0);
  CHECK_THAT(human.out, Contains("Plan:\n    ✓ Read a.txt !\n    ▸ Summarise it\n"));

  Run run = run_beluga(run_args(s, s.file("r.jsonl"), "summarise", "--json"));
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  json plan_event;
  for (const json& e : json_lines(run.out))
    if (e["type"] == "plan") plan_event = e;
  REQUIRE(plan_event.is_object());
  CHECK(plan_event["entries"] == json::parse(plan));
  CHECK(plan_event["call_id"].is_string());
}
