// The shell tool (tools/shell_tool.cpp, tools/shell_runner.cpp) and the
// head/tail output cap (tools/output_cap.cpp). Timeouts are 1-2 s so the
// file stays fast on a loaded 2-core machine.
#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>

#include "tests/tools/adversarial.h"
#include "tests/tools/git_test_support.h"
#include "tools/output_cap.h"
#include "tools/shell_runner.h"

namespace beluga::testing {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Processes of group `pgid` still running (zombies excluded), read from /proc.
int live_in_group(long pgid) {
  int count = 0;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::string name = entry.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (std::sscanf(stat.c_str() + paren + 1, " %c %ld %ld", &state, &ppid, &pgrp) == 3 && pgrp == pgid &&
        state != 'Z' && state != 'X')
      ++count;
  }
  return count;
}

// Running processes whose command line has `argument` (zombies excluded).
int running_with_argument(const std::string& argument) {
  int count = 0;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::string name = entry.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::ifstream in(entry.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline.find(std::string(1, '\0') + argument + std::string(1, '\0')) != std::string::npos) ++count;
  }
  return count;
}

long read_pgid(const ScratchRepo& ws) {
  std::string text = ws.read("pgid");
  return text.empty() ? -1 : std::stol(text);
}

long peak_rss_kb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

bool bwrap_usable() {
  return std::system("command -v bwrap >/dev/null 2>&1 && bwrap --ro-bind / / --unshare-net true >/dev/null 2>&1") == 0;
}

// ---- adversarial cases -------------------------------------------------------

std::string forked_children_outlive_timeout() {
  ScratchRepo ws(false);
  auto start = Clock::now();
  auto r = ws.call("shell", {{"command", "echo $$ > pgid; (sleep 30 &); bash -c 'sleep 31 & sleep 32' & sleep 33"},
                             {"timeout", 1}});
  double took = seconds_since(start);
  if (r.ok || r.text.find("timed out") == std::string::npos) return "the call did not report a timeout: " + r.text;
  if (took > 4.0) return "the call took " + std::to_string(took) + " s instead of returning promptly";
  long pgid = read_pgid(ws);
  if (pgid <= 0) return "the command never ran";
  if (int live = live_in_group(pgid); live != 0) return std::to_string(live) + " processes of the group survived";
  return "";
}

std::string term_ignoring_command_is_killed() {
  ScratchRepo ws(false);
  tools::ShellRequest request;
  request.command = "trap '' TERM; echo $$ > pgid; sleep 30 & sleep 31; wait";
  request.cwd = ws.root();
  request.timeout = std::chrono::milliseconds(1000);
  request.kill_grace = std::chrono::milliseconds(300);
  auto start = Clock::now();
  auto outcome = tools::run_shell(request, ws.context());
  double took = seconds_since(start);
  if (!outcome) return "could not run: " + outcome.message();
  if (!outcome->timed_out) return "no timeout reported";
  if (took > 4.0) return "took " + std::to_string(took) + " s";
  long pgid = read_pgid(ws);
  if (int live = live_in_group(pgid); live != 0) return std::to_string(live) + " processes ignoring SIGTERM survived";
  return "";
}

std::string hundred_megabytes_of_output() {
  ScratchRepo ws(false);
  long rss_before = peak_rss_kb();
  auto start = Clock::now();
  auto r = ws.call("shell", {{"command", "head -c 100000000 /dev/zero | tr '\\0' x; echo; echo THE-END"}, {"timeout", 60}});
  double took = seconds_since(start);
  long grown_kb = peak_rss_kb() - rss_before;
  if (!r.data || (*r.data)["output_bytes"].get<uint64_t>() != 100000000 + 9) return "not all bytes were streamed";
  if (r.text.size() > ws.context().limits.max_output_bytes + 1024)
    return "the output was not capped (" + std::to_string(r.text.size()) + " bytes)";
  if (r.text.find("THE-END") == std::string::npos || r.text.find("bytes dropped") == std::string::npos)
    return "the tail or the dropped-bytes marker is missing";
  if (grown_kb > 48 * 1024) return "memory grew by " + std::to_string(grown_kb / 1024) + " MB";
  if (took > 12.0) return "took " + std::to_string(took) + " s";
  return "";
}

std::string reading_stdin_gets_eof() {
  ScratchRepo ws(false);
  auto start = Clock::now();
  auto r = ws.call("shell", {{"command", "if read -r line; then echo got:$line; else echo eof; fi; cat; echo done"},
                             {"timeout", 5}});
  if (seconds_since(start) > 2.5) return "the command waited for input";
  if (r.text.find("eof") == std::string::npos || r.text.find("done") == std::string::npos) return "unexpected: " + r.text;
  return "";
}

std::string secrets_are_not_in_the_environment() {
  ScratchRepo ws(false);
  EnvOverride github("GITHUB_TOKEN", "ghp_leak_value_1234");
  EnvOverride custom("BELUGA_TEST_SECRET", "custom_leak_value_5678");
  EnvOverride plain("BELUGA_TEST_PLAIN", "plain_visible_value");
  ws.context().secret_env_vars.push_back("BELUGA_TEST_SECRET");
  auto r = ws.call("shell", {{"command", "env; cat /proc/self/environ | tr '\\0' '\\n'"}, {"timeout", 5}});
  if (r.text.find("ghp_leak_value_1234") != std::string::npos) return "GITHUB_TOKEN reached the command";
  if (r.text.find("custom_leak_value_5678") != std::string::npos) return "a context secret reached the command";
  if (r.text.find("plain_visible_value") == std::string::npos) return "the ordinary environment was not passed";
  return "";
}

std::string cwd_outside_the_workspace() {
  ScratchRepo ws(false);
  fs::path outside = ws.root().parent_path();
  fs::create_directory_symlink(outside, ws.path("escape"));
  for (std::string cwd : {std::string(".."), outside.string(), std::string("/"), std::string("escape")}) {
    auto r = ws.call("shell", {{"command", "touch beluga-escape-marker"}, {"cwd", cwd}});
    if (r.ok) return "cwd '" + cwd + "' was accepted";
    if (fs::exists(outside / "beluga-escape-marker")) return "the command ran outside via cwd '" + cwd + "'";
  }
  return "";
}

std::string closed_output_and_sleeping() {
  ScratchRepo ws(false);
  auto start = Clock::now();
  auto r = ws.call("shell", {{"command", "echo $$ > pgid; exec >&- 2>&-; sleep 30"}, {"timeout", 1}});
  if (seconds_since(start) > 4.0) return "did not return promptly";
  if (r.data == nullptr || !(*r.data)["timed_out"].get<bool>()) return "no timeout reported";
  if (live_in_group(read_pgid(ws)) != 0) return "the sleeper survived";
  return "";
}

std::string background_job_holding_the_pipe() {
  ScratchRepo ws(false);
  auto start = Clock::now();
  auto r = ws.call("shell", {{"command", "echo $$ > pgid; (sleep 30 &); echo started"}});
  if (seconds_since(start) > 3.0) return "waited for the background job";
  if (!r.ok || r.text.find("started") == std::string::npos) return "unexpected: " + r.text;
  if (live_in_group(read_pgid(ws)) != 0) return "the background job outlived the call";
  return "";
}

std::string cancel_during_a_flood() {
  ScratchRepo ws(false);
  auto start = Clock::now();
  ws.context().keep_going = [start] { return seconds_since(start) < 0.3; };
  auto r = ws.call("shell", {{"command", "echo $$ > pgid; yes"}, {"timeout", 30}});
  if (seconds_since(start) > 3.0) return "cancellation was not prompt";
  if (r.data == nullptr || !(*r.data)["cancelled"].get<bool>()) return "no cancellation reported";
  if (r.text.size() > ws.context().limits.max_output_bytes + 1024) return "output not capped";
  if (live_in_group(read_pgid(ws)) != 0) return "the flood survived";
  return "";
}

std::string one_huge_line() {
  ScratchRepo ws(false);
  auto r = ws.call("shell", {{"command", "head -c 3000000 /dev/zero | tr '\\0' y"}, {"timeout", 10}});
  if (r.text.size() > ws.context().limits.max_output_bytes + 1024) return "a line without newlines escaped the cap";
  if (r.text.find("bytes dropped") == std::string::npos) return "no marker";
  return "";
}

[[maybe_unused]] const bool registered = add_adversarial_cases({
    {"shell", "a command that forks children and sleeps past its timeout is killed, group and all",
     forked_children_outlive_timeout},
    {"shell", "a command ignoring SIGTERM is killed with SIGKILL after the grace period", term_ignoring_command_is_killed},
    {"shell", "100 MB of output is streamed, capped, fast, in bounded memory", hundred_megabytes_of_output},
    {"shell", "a command reading stdin gets end-of-file at once", reading_stdin_gets_eof},
    {"shell", "secret environment variables never reach the command", secrets_are_not_in_the_environment},
    {"shell", "a cwd outside the workspace (.., absolute, /, symlink) is refused", cwd_outside_the_workspace},
    {"shell", "a command that closes its output and sleeps still times out", closed_output_and_sleeping},
    {"shell", "a background job holding the pipe does not hold the call and is killed", background_job_holding_the_pipe},
    {"shell", "cancelling during an endless flood returns promptly", cancel_during_a_flood},
    {"shell", "one 3 MB line without newlines is capped", one_huge_line},
});

}  // namespace

// ---- ordinary behaviour ----------------------------------------------------

TEST_CASE("the shell tool reports output, exit code and duration", "[shell]") {
  ScratchRepo ws(false);
  auto ok = ws.call("shell", {{"command", "echo out; echo err >&2"}});
  CHECK(ok.ok);
  CHECK(ok.text.rfind("exit code 0 in ", 0) == 0);
  CHECK(ok.text.find("out\n") != std::string::npos);
  CHECK(ok.text.find("err\n") != std::string::npos);
  REQUIRE(ok.data);
  CHECK((*ok.data)["exit_code"] == 0);

  auto failed = ws.call("shell", {{"command", "echo nope; exit 3"}});
  CHECK_FALSE(failed.ok);
  CHECK(failed.text.rfind("exit code 3", 0) == 0);
  CHECK((*failed.data)["exit_code"] == 3);

  auto killed = ws.call("shell", {{"command", "kill -KILL $$"}});
  CHECK_FALSE(killed.ok);
  CHECK(killed.text.find("killed by SIGKILL") != std::string::npos);
}

TEST_CASE("the shell tool runs in the workspace root or a folder inside it", "[shell]") {
  ScratchRepo ws(false);
  fs::create_directories(ws.path("sub/dir"));
  auto root = ws.call("shell", {{"command", "pwd"}});
  CHECK(root.text.find(ws.root().string() + "\n") != std::string::npos);
  auto sub = ws.call("shell", {{"command", "pwd"}, {"cwd", "sub/dir"}});
  CHECK(sub.text.find((ws.root() / "sub/dir").string() + "\n") != std::string::npos);
  auto missing = ws.call("shell", {{"command", "pwd"}, {"cwd", "nope"}});
  CHECK_FALSE(missing.ok);
  ws.write("file.txt", "x");
  auto not_folder = ws.call("shell", {{"command", "pwd"}, {"cwd", "file.txt"}});
  CHECK_FALSE(not_folder.ok);
  CHECK(not_folder.text.find("not a folder") != std::string::npos);
}

TEST_CASE("a shell timeout above the maximum is capped and said so", "[shell]") {
  ScratchRepo ws(false);
  auto r = ws.call("shell", {{"command", "true"}, {"timeout", 100000}});
  CHECK(r.ok);
  CHECK(r.text.find("timeout capped to 600 s") != std::string::npos);
  auto bad = ws.call("shell", {{"command", "true"}, {"timeout", 0}});
  CHECK_FALSE(bad.ok);
}

TEST_CASE("a sandboxed shell without bubblewrap is an error, not an unsandboxed run", "[shell]") {
  ScratchRepo ws(false);
  ws.context().sandbox_shell = true;
  ScratchDir empty;
  EnvOverride path("PATH", empty.path());
  auto r = ws.call("shell", {{"command", "/bin/touch ran"}});
  CHECK_FALSE(r.ok);
  CHECK(r.text.find("bubblewrap") != std::string::npos);
  CHECK_FALSE(ws.exists("ran"));
}

TEST_CASE("a sandboxed shell can write the workspace but not outside it, and has no network", "[shell]") {
  if (!bwrap_usable()) {
    WARN("bubblewrap is not installed or cannot create namespaces here; sandbox behaviour not checked");
    return;
  }
  ScratchRepo ws(false);
  ScratchDir outside;
  ws.context().sandbox_shell = true;
  auto r = ws.call("shell", {{"command", "touch inside && touch " + outside.file("outside") +
                                             "; echo rc=$?; cat /proc/net/dev | tail -n +3 | cut -d: -f1"}});
  INFO(r.text);
  CHECK(r.text.find("sandboxed") != std::string::npos);
  CHECK(ws.exists("inside"));
  CHECK_FALSE(fs::exists(outside.file("outside")));
  CHECK(r.text.find("rc=1") != std::string::npos);
  CHECK(r.text.find("eth") == std::string::npos);
  CHECK(r.text.find("lo") != std::string::npos);

  // A sandboxed command that forks and outlives its timeout dies with its sandbox.
  auto start = Clock::now();
  auto slow = ws.call("shell", {{"command", "(sleep 37.25 &); sleep 37.5"}, {"timeout", 1}});
  CHECK(seconds_since(start) < 4.0);
  CHECK((*slow.data)["timed_out"] == true);
  CHECK(running_with_argument("37.25") == 0);
  CHECK(running_with_argument("37.5") == 0);
}

TEST_CASE("the output cap keeps the head and the tail and counts what it dropped", "[shell]") {
  tools::HeadTailBuffer small(100);
  small.append("short");
  CHECK(small.text() == "short");
  CHECK_FALSE(small.truncated());

  tools::HeadTailBuffer buffer(40);
  std::string input;
  for (int i = 0; i < 100; ++i) input += "line " + std::to_string(i) + "\n";
  for (size_t i = 0; i < input.size(); i += 7) buffer.append(std::string_view(input).substr(i, 7));
  CHECK(buffer.total_bytes() == input.size());
  std::string text = buffer.text();
  CHECK(text.rfind("line 0\n", 0) == 0);
  CHECK(text.find("line 99\n") != std::string::npos);
  size_t at = text.find("[... ");
  REQUIRE(at != std::string::npos);
  uint64_t dropped = std::stoull(text.substr(at + 5));
  size_t marker_end = text.find("...]\n", at) + 5;
  CHECK(dropped == input.size() - at - (text.size() - marker_end));  // exact accounting
  CHECK(tools::cap_text(input, 1 << 20) == input);
}

TEST_CASE("adversarial cases of the shell, git and checkpoint tools are all contained",
          "[shell][git][checkpoint]") {
  IsolatedGitConfig isolated;
  std::map<std::string, int> per_area;
  int escaped = 0;
  for (const AdversarialCase& c : adversarial_cases()) {
    if (c.area != "shell" && c.area != "git" && c.area != "checkpoint") continue;  // other tools' rows run in their test
    auto start = Clock::now();
    std::string escape = c.run();
    if (double took = seconds_since(start); took > 0.5) std::printf("  %.2f s  %s: %s\n", took, c.area.c_str(), c.name.c_str());
    ++per_area[c.area];
    if (!escape.empty()) ++escaped;
    INFO(c.area << ": " << c.name);
    CHECK(escape == "");
  }
  int total = per_area["shell"] + per_area["git"] + per_area["checkpoint"];
  std::printf("adversarial cases (shell/git/checkpoint): %d, escaped: %d\n", total, escaped);
  std::printf("  by area: shell %d, git %d, checkpoint %d\n", per_area["shell"], per_area["git"], per_area["checkpoint"]);
  CHECK(per_area["shell"] > 0);
  CHECK(per_area["git"] > 0);
  CHECK(per_area["checkpoint"] > 0);
  CHECK(escaped == 0);
}

}  // namespace beluga::testing
