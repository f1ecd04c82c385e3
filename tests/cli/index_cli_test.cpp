// The `beluga index PATH [--json]` and `beluga symbols PATH NAME [--json]`
// contracts (daemon/index_commands.h, docs/indexer.md), on the real binary,
// with the index cache in a scratch $XDG_CACHE_HOME.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_support.h"
#include "tests/test_support.h"

using beluga::testing::json_keys;
using beluga::testing::quote;
using beluga::testing::Run;
using beluga::testing::run_beluga;
using beluga::testing::ScratchDir;
using nlohmann::json;

namespace {

// A small workspace (no git: its .gitignore is still honoured) and a
// private cache folder for the index.
struct Workspace : beluga::testing::CliWorkspace {
  Workspace() {
    put("src/math.py", "def square(x):\n    return x * x\n\ndef cube(x):\n    return square(x) * x\n");
    put("src/shapes.cpp", "struct Box { int w; };\nint volume(const Box& b) { return b.w * b.w * b.w; }\n");
    put("README.md", "# demo\n");
    put(".gitignore", "out/\n");
    put("out/skip.py", "def hidden():\n    pass\n");
  }
};

}  // namespace

TEST_CASE("beluga index --json prints the documented report", "[cli][index]") {
  Workspace ws;
  Run run = run_beluga("index " + ws.path() + " --json");
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(run.err.empty());  // no progress bar: stderr is not a terminal
  json out = json::parse(run.out);
  CHECK(json_keys(out) == std::set<std::string>{"workspace", "database", "files", "symbols", "references", "tokens",
                                      "tokens_estimated", "token_counter", "languages", "syntax_errors", "changes",
                                      "ignored", "skipped", "untagged", "git", "rebuilt_because", "seconds"});
  CHECK(out["workspace"] == std::filesystem::canonical(ws.dir.path()).string());
  CHECK(out["database"].get<std::string>().starts_with(ws.cache.path() + "/beluga/index/"));
  CHECK(out["files"] == 4);  // math.py, shapes.cpp, README.md, .gitignore
  CHECK(out["symbols"] == 4);  // square, cube, Box, volume
  CHECK(out["references"].get<int>() >= 2);  // square (call), Box (type)
  CHECK(out["tokens_estimated"] == true);
  CHECK(out["token_counter"] == "estimate:bytes/3");
  CHECK(out["languages"]["python"]["files"] == 1);
  CHECK(out["languages"]["cpp"]["files"] == 1);
  CHECK(out["languages"]["text"]["files"] == 2);
  CHECK(out["changes"]["added"] == 4);
  CHECK(out["ignored"] == 1);
  CHECK(out["git"] == false);
  CHECK(out["rebuilt_because"].is_null());
  CHECK(out["seconds"].is_number());

  Run again = run_beluga("index " + ws.path() + " --json");
  REQUIRE(again.exit_code == 0);
  json second = json::parse(again.out);
  CHECK(second["changes"]["unchanged"] == 4);
  CHECK(second["changes"]["added"] == 0);
  CHECK(second["symbols"] == 4);
}

TEST_CASE("beluga index prints files symbols references tokens languages and time", "[cli][index]") {
  Workspace ws;
  Run run = run_beluga("index " + ws.path());
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.out, Catch::StartsWith("indexed " + std::filesystem::canonical(ws.dir.path()).string() + " in "));
  CHECK_THAT(run.out, Catch::Contains("files       4\n"));
  CHECK_THAT(run.out, Catch::Contains("symbols     4\n"));
  CHECK_THAT(run.out, Catch::Contains("references  "));
  CHECK_THAT(run.out, Catch::Contains("(estimated: bytes/3"));
  CHECK_THAT(run.out, Catch::Contains("languages   cpp 1, python 1, text 2\n"));
}

TEST_CASE("beluga symbols --json lists definitions and references of a name", "[cli][index]") {
  Workspace ws;
  Run run = run_beluga("symbols " + ws.path() + " square --json");  // indexes first when needed
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  json out = json::parse(run.out);
  CHECK(out["name"] == "square");
  REQUIRE(out["definitions"].size() == 1);
  CHECK(out["definitions"][0] == json{{"path", "src/math.py"},
                                      {"language", "python"},
                                      {"kind", "function"},
                                      {"line", 1},
                                      {"end_line", 2},
                                      {"signature", "def square(x):"}});
  REQUIRE(out["references"].size() == 1);
  CHECK(out["references"][0] ==
        json{{"path", "src/math.py"}, {"language", "python"}, {"kind", "call"}, {"line", 5}});

  Run none = run_beluga("symbols " + ws.path() + " hidden --json");  // only in the ignored out/
  REQUIRE(none.exit_code == 0);
  json empty = json::parse(none.out);
  CHECK(empty["definitions"].empty());
  CHECK(empty["references"].empty());
}

TEST_CASE("beluga symbols sees edits made since the last index", "[cli][index]") {
  Workspace ws;
  REQUIRE(run_beluga("index " + ws.path()).exit_code == 0);
  ws.put("src/more.py", "def square_root(x):\n    return square(x) ** 0.5\n");
  Run run = run_beluga("symbols " + ws.path() + " square");
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.out, Catch::Contains("definitions of square (1)\n  src/math.py:1-2  function  def square(x):\n"));
  CHECK_THAT(run.out, Catch::Contains("references to square (2)\n  src/math.py:5  call\n  src/more.py:2  call\n"));
}

TEST_CASE("beluga index rebuilds an index overwritten with garbage", "[cli][index]") {
  Workspace ws;
  Run first = run_beluga("index " + ws.path() + " --json");
  REQUIRE(first.exit_code == 0);
  std::string database = json::parse(first.out)["database"];
  beluga::testing::write_text(database, std::string(4096, '\x5a'));
  Run second = run_beluga("index " + ws.path() + " --json");
  INFO(second.err);
  REQUIRE(second.exit_code == 0);
  CHECK_THAT(second.err, Catch::Contains("was rebuilt"));
  json out = json::parse(second.out);
  CHECK(out["rebuilt_because"].is_string());
  CHECK(out["symbols"] == 4);
}

TEST_CASE("beluga index reports files above --max-file-bytes as skipped", "[cli][index]") {
  Workspace ws;
  ws.put("vendor/bundle.js", "// " + std::string(300, 'x') + "\n");
  Run run = run_beluga("index " + ws.path() + " --json --max-file-bytes 200");
  REQUIRE(run.exit_code == 0);
  json out = json::parse(run.out);
  REQUIRE(out["skipped"].size() == 1);
  CHECK(out["skipped"][0]["path"] == "vendor/bundle.js");
  CHECK_THAT(out["skipped"][0]["reason"].get<std::string>(), Catch::StartsWith("too large"));
}

TEST_CASE("beluga index counts with --tokenizer and symbols keeps that tokenizer", "[cli][index]") {
  Workspace ws;
  std::string tokenizer = beluga::testing::golden_path("tokenizer/tokenizer.json");
  Run run = run_beluga("index " + ws.path() + " --json --tokenizer " + quote(tokenizer));
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  json out = json::parse(run.out);
  CHECK(out["tokens_estimated"] == false);
  CHECK_THAT(out["token_counter"].get<std::string>(), Catch::StartsWith("tokenizer:"));
  CHECK(out["tokens"].get<int>() > 0);
  // `symbols` reuses the recorded tokenizer: no recount, no rebuild note.
  Run symbols = run_beluga("symbols " + ws.path() + " cube");
  REQUIRE(symbols.exit_code == 0);
  CHECK(symbols.err.empty());
  Run again = run_beluga("index " + ws.path() + " --json --tokenizer " + quote(tokenizer));
  REQUIRE(again.exit_code == 0);
  CHECK(json::parse(again.out)["changes"]["unchanged"] == 4);
}

TEST_CASE("beluga index and symbols refuse bad input with a clear message", "[cli][index]") {
  Workspace ws;
  Run missing = run_beluga("index /nonexistent/beluga-ws");
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.err, Catch::Contains("/nonexistent/beluga-ws"));

  Run file = run_beluga("index " + quote(ws.dir.file("README.md")));
  CHECK(file.exit_code == 1);
  CHECK_THAT(file.err, Catch::Contains("not a folder"));

  beluga::testing::write_text(ws.cache.file("bad-tokenizer.json"), "{ not json");
  Run bad_tokenizer = run_beluga("index " + ws.path() + " --tokenizer " + quote(ws.cache.file("bad-tokenizer.json")));
  CHECK(bad_tokenizer.exit_code == 1);
  CHECK_THAT(bad_tokenizer.err, Catch::Contains("bad-tokenizer.json"));

  Run empty_name = run_beluga("symbols " + ws.path() + " ''");
  CHECK(empty_name.exit_code == 1);
  CHECK_THAT(empty_name.err, Catch::Contains("empty"));

  Run no_name = run_beluga("symbols " + ws.path());
  CHECK(no_name.exit_code != 0);
  CHECK_THAT(no_name.err, Catch::Contains("NAME"));
}
