// The `beluga context` contract (daemon/context_command.h, docs/indexer.md)
// on the real binary, with the index cache in a scratch $XDG_CACHE_HOME and
// the golden V4 tokenizer.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_support.h"
#include "tests/test_support.h"

using beluga::testing::golden_path;
using beluga::testing::json_keys;
using beluga::testing::quote;
using beluga::testing::read_text;
using beluga::testing::Run;
using beluga::testing::run_beluga;
using beluga::testing::ScratchDir;
using nlohmann::json;

namespace {

struct Workspace : beluga::testing::CliWorkspace {
  Workspace() {
    put("src/math.py", "def square(x):\n    return x * x\n\ndef cube(x):\n    return square(x) * x\n");
    put("src/shapes.cpp", "struct Box { int w; };\nint volume(const Box& b) { return b.w * b.w * b.w; }\n");
    put("README.md", "# demo\n");
  }
  std::string tokenizer() const { return " --tokenizer " + quote(golden_path("tokenizer/tokenizer.json")); }
};

json parse_ok(const Run& run) {
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  return json::parse(run.out);
}

}  // namespace

TEST_CASE("beluga context --json prints the documented object and --since appends", "[cli][context]") {
  Workspace ws;
  json base = parse_ok(run_beluga("context " + ws.path() + " --budget 4000 --json" + ws.tokenizer()));
  CHECK(json_keys(base) == std::set<std::string>{"id", "kind", "base", "since", "compacted", "compacted_because", "tokens",
                                      "context_tokens", "budget", "reserve_tokens", "tokens_estimated",
                                      "token_counter", "files", "changes", "text"});
  CHECK(base["kind"] == "base");
  CHECK(base["since"].is_null());
  CHECK(base["tokens_estimated"] == false);
  CHECK(base["budget"] == 4000);
  CHECK(base["tokens"].get<int64_t>() <= 3600);
  CHECK(base["files"]["whole"] == 3);
  std::string text = base["text"];
  CHECK(text.rfind("=== BELUGA CONTEXT " + base["id"].get<std::string>(), 0) == 0);
  CHECK(text.find("=== FILE src/math.py (5 lines) ===\ndef square(x):\n") != std::string::npos);

  ws.put("src/math.py", "def square(x):\n    return x ** 2\n\ndef cube(x):\n    return square(x) * x\n");
  json delta = parse_ok(run_beluga("context " + ws.path() + " --since " + base["id"].get<std::string>() + " --json"));
  CHECK(delta["kind"] == "delta");
  CHECK(delta["since"] == base["id"]);
  CHECK(delta["changes"]["diffs"].get<int>() + delta["changes"]["replaced"].get<int>() == 1);
  CHECK(delta["context_tokens"].get<int64_t>() == base["tokens"].get<int64_t>() + delta["tokens"].get<int64_t>());
  CHECK(delta["token_counter"] == base["token_counter"]);  // the index remembers the tokenizer
  CHECK(delta["text"].get<std::string>().find("    return x ** 2\n") != std::string::npos);
}

TEST_CASE("beluga context writes the text to --out and a summary to stdout", "[cli][context]") {
  Workspace ws;
  ScratchDir out;
  Run run = run_beluga("context " + ws.path() + " --budget 4000 --out " + quote(out.file("ctx.txt")));
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(run.out.rfind("context ", 0) == 0);
  CHECK(run.out.find("token counts estimated") != std::string::npos);
  CHECK(read_text(out.file("ctx.txt")).rfind("=== BELUGA CONTEXT ", 0) == 0);

  Run plain = run_beluga("context " + ws.path() + " --budget 4000 --focus square");
  REQUIRE(plain.exit_code == 0);
  CHECK(plain.out.rfind("=== BELUGA CONTEXT ", 0) == 0);
  CHECK(plain.err.rfind("beluga: context ", 0) == 0);
}

TEST_CASE("beluga context rejects bad input with one clear line", "[cli][context]") {
  Workspace ws;
  Run no_budget = run_beluga("context " + ws.path());
  CHECK(no_budget.exit_code == 1);
  CHECK(no_budget.err == "beluga: context needs --budget N (tokens), or --since ID\n");

  Run focus = run_beluga("context " + ws.path() + " --budget 4000 --focus nowhere.c");
  CHECK(focus.exit_code == 1);
  CHECK(focus.err.find("--focus 'nowhere.c': no file, folder or symbol") != std::string::npos);

  Run since = run_beluga("context " + ws.path() + " --since 0123456789abcdef");
  CHECK(since.exit_code == 1);
  CHECK(since.err.find("no context 0123456789abcdef is recorded") != std::string::npos);

  Run missing = run_beluga("context /nonexistent/beluga --budget 10");
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.rfind("beluga: ", 0) == 0);

  Run tiny = run_beluga("context " + ws.path() + " --budget 5");
  CHECK(tiny.exit_code == 1);
  CHECK(tiny.err.find("too small") != std::string::npos);
}
