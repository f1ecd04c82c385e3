// The `beluga tool NAME --args JSON --root DIR [--json]` contract, on the
// real binary: the tool's text on stdout (errors on stderr), the exact JSON
// shape with --json, and a non-zero exit code whenever the tool refused.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_support.h"
#include "tests/test_support.h"

using beluga::testing::ScratchDir;
using nlohmann::json;

namespace {

using beluga::testing::quote;
using beluga::testing::Run;
using beluga::testing::run_beluga;

Run run_tool(const std::string& name, const json& args, const std::string& root, bool as_json = false) {
  return run_beluga("tool " + name + " --args " + quote(args.dump()) + " --root " + quote(root) +
                    (as_json ? " --json" : ""));
}

}  // namespace

TEST_CASE("beluga tool read prints the numbered text and exits 0", "[cli]") {
  ScratchDir dir;
  beluga::testing::write_text(dir.file("a.txt"), "hello\nworld\n");
  Run run = run_tool("read", {{"path", "a.txt"}}, dir.path());
  INFO(run.err);
  CHECK(run.exit_code == 0);
  CHECK(run.out == "     1\thello\n     2\tworld\n");
  CHECK(run.err.empty());
}

TEST_CASE("beluga tool --json prints ok, text and data", "[cli]") {
  ScratchDir dir;
  beluga::testing::write_text(dir.file("a.txt"), "hello\n");
  Run run = run_tool("read", {{"path", "a.txt"}}, dir.path(), true);
  REQUIRE(run.exit_code == 0);
  json out = json::parse(run.out);
  CHECK(out["ok"] == true);
  CHECK(out["text"] == "     1\thello\n");
  CHECK(out["data"]["total_lines"] == 1);
  CHECK(out.size() == 3);
}

TEST_CASE("beluga tool exits non-zero when the tool refuses", "[cli]") {
  ScratchDir dir;
  std::filesystem::create_directories(dir.file("ws"));
  beluga::testing::write_text(dir.file("secret.txt"), "top secret\n");
  Run escape = run_tool("read", {{"path", "../secret.txt"}}, dir.file("ws"));
  CHECK(escape.exit_code == 1);
  CHECK_THAT(escape.err, Catch::Contains("outside the workspace"));
  CHECK(escape.out.empty());
  Run as_json = run_tool("write", {{"path", "../secret.txt"}, {"content", "pwned"}}, dir.file("ws"), true);
  CHECK(as_json.exit_code == 1);
  json out = json::parse(as_json.out);
  CHECK(out["ok"] == false);
  CHECK_THAT(out["text"].get<std::string>(), Catch::Contains("outside the workspace"));
  CHECK(beluga::testing::read_text(dir.file("secret.txt")) == "top secret\n");
}

TEST_CASE("beluga tool names a bad argument and an unknown tool", "[cli]") {
  ScratchDir dir;
  Run bad = run_tool("read", {{"path", "a.txt"}, {"lines", 3}}, dir.path());
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.err, Catch::Contains("unknown argument 'lines'"));
  Run unknown = run_tool("nope", json::object(), dir.path());
  CHECK(unknown.exit_code == 1);
  CHECK_THAT(unknown.err, Catch::Contains("unknown tool 'nope'"));
  Run no_root = run_beluga("tool read --args '{\"path\": \"a\"}' --root " + quote(dir.file("missing")));
  CHECK(no_root.exit_code != 0);
  CHECK_THAT(no_root.err, Catch::Contains("--root"));
}

TEST_CASE("beluga tool edit changes a file under the root and refuses to overwrite unread files", "[cli]") {
  ScratchDir dir;
  beluga::testing::write_text(dir.file("a.txt"), "one\ntwo\n");
  Run edit = run_tool("edit", {{"path", "a.txt"}, {"old", "two"}, {"new", "three"}}, dir.path());
  CHECK(edit.exit_code == 0);
  CHECK(beluga::testing::read_text(dir.file("a.txt")) == "one\nthree\n");
  Run write = run_tool("write", {{"path", "a.txt"}, {"content", "x"}}, dir.path());
  CHECK(write.exit_code == 1);
  CHECK_THAT(write.err, Catch::Contains("has not been read in this session"));
  Run grep = run_tool("grep", {{"regex", "thr+ee"}}, dir.path());
  CHECK(grep.exit_code == 0);
  CHECK(grep.out == "a.txt:2:three\n");
}
