// `beluga chat` driven through a pipe: turns, /rewind, /mode, /compact,
// /sessions, /resume, and bad commands.
#include <catch2/catch.hpp>

#include "tests/agent/agent_test_support.h"
#include "tests/cli/cli_support.h"

namespace {

using beluga::testing::AgentSandbox;
using beluga::testing::completion;
using beluga::testing::quote;
using beluga::testing::Run;
using beluga::testing::run_beluga;
using Catch::Matchers::Contains;

std::string chat_args(AgentSandbox& s, const std::string& replay, const std::string& more = "") {
  return "chat --model " + quote("replay:" + replay) + " --workspace " + quote(s.repo().root().string()) + " " + more;
}

}  // namespace

TEST_CASE("beluga chat runs turns and rewinds them from a pipe", "[cli][agent]") {
  AgentSandbox s;
  s.repo().write("a.txt", "one\n");
  s.repo().commit_all("initial");
  beluga::testing::write_replay(s.file("r.jsonl"), {
      completion("", "", {{"shell", {{"command", "echo two > a.txt"}}}}),
      completion("", "First turn done."),
      completion("", "", {{"shell", {{"command", "echo three > a.txt && echo new > b.txt"}}}}),
      completion("", "Second turn done."),
      "The user changed a.txt twice.",  // the /compact summary
  });
  Run run = run_beluga(chat_args(s, s.file("r.jsonl"), "--mode yolo"),
                       "make it two\nmake it three\n/mode\n/compact\n/rewind\n/mode plan\n/mode sideways\n/rewind x\n"
                       "/sessions\n/nope\n/quit\nnever run\n");
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.out, Contains("First turn done."));
  CHECK_THAT(run.out, Contains("Second turn done."));
  CHECK_THAT(run.out, Contains("mode: yolo"));
  CHECK_THAT(run.out, Contains("compacted"));
  CHECK_THAT(run.out, Contains("rewound to before turn 2"));
  CHECK_THAT(run.out, Contains("mode: plan"));
  CHECK_THAT(run.out, Contains("unknown permission mode 'sideways'"));
  CHECK_THAT(run.out, Contains("/rewind takes a number of turns"));
  CHECK_THAT(run.out, Contains("make it two"));  // the session's title in /sessions
  CHECK_THAT(run.out, Contains("unknown command /nope"));
  // Turn 2 undone, turn 1 kept; "never run" came after /quit.
  CHECK(s.repo().read("a.txt") == "two\n");
  CHECK_FALSE(s.repo().exists("b.txt"));
}

TEST_CASE("beluga chat resumes another session and keeps the current one on a bad id", "[cli][agent]") {
  AgentSandbox s;
  s.repo().commit_all("initial");
  beluga::testing::write_replay(s.file("first.jsonl"), {completion("", "Noted: the code word is heron.")});
  Run first = run_beluga("run " + quote("remember heron") + " --model " + quote("replay:" + s.file("first.jsonl")) +
                         " --workspace " + quote(s.repo().root().string()) + " --json");
  REQUIRE(first.exit_code == 0);
  const std::string id = nlohmann::json::parse(first.out.substr(0, first.out.find('\n')))["session_id"];

  beluga::testing::write_replay(s.file("chat.jsonl"), {completion("", "The code word was heron.")});
  Run chat = run_beluga(chat_args(s, s.file("chat.jsonl")), "/resume nosuch\n/resume " + id + "\nwhat was the word?\n");
  INFO(chat.out << chat.err);
  REQUIRE(chat.exit_code == 0);
  CHECK_THAT(chat.out, Contains("no session 'nosuch'"));
  CHECK_THAT(chat.out, Contains("resumed " + id));
  CHECK_THAT(chat.out, Contains("The code word was heron."));
  CHECK_THAT(chat.out, Contains("session " + id + ")"));  // the turn ran in the resumed session
}
