// The `beluga template` command-line contract, exercised on the real binary:
// render --jsonl over every golden render case, parse on golden completions,
// the exact output shapes, exit codes and errors naming the input line.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_support.h"
#include "tests/test_support.h"

using beluga::testing::ScratchDir;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {

using beluga::testing::quote;
using beluga::testing::Run;
using beluga::testing::run_beluga;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

std::vector<json> golden_lines(const std::string& file) {
  std::vector<json> out;
  for (const std::string& line : lines_of(beluga::testing::read_text(beluga::testing::golden_path("chat-encoding/" + file))))
    out.push_back(json::parse(line));
  return out;
}

const std::string kEos = "<｜end▁of▁sentence｜>";

}  // namespace

TEST_CASE("template render --jsonl renders every golden case and marks the refused ones", "[cli][template]") {
  const std::string input = beluga::testing::read_text(beluga::testing::golden_path("chat-encoding/render.jsonl"));
  std::vector<json> cases = golden_lines("render.jsonl");
  Run run = run_beluga("template render --jsonl", input);
  CHECK(run.exit_code == 1);  // the six error cases
  std::vector<std::string> out = lines_of(run.out);
  REQUIRE(out.size() == cases.size());
  size_t prompts = 0, errors = 0;
  for (size_t k = 0; k < cases.size(); ++k) {
    INFO(cases[k]["name"].get<std::string>());
    json got = json::parse(out[k]);
    if (cases[k].contains("prompt")) {
      REQUIRE(got.size() == 1);
      CHECK(got["prompt"] == cases[k]["prompt"]);
      prompts += got["prompt"] == cases[k]["prompt"];
    } else {
      REQUIRE(got.contains("error"));
      CHECK(got["error"]["line"] == k + 1);
      CHECK_THAT(run.err, Contains("line " + std::to_string(k + 1) + ": "));
      ++errors;
    }
  }
  CHECK(prompts == 75);
  CHECK(errors == 6);
}

TEST_CASE("template render --jsonl exits 0 when every line renders", "[cli][template]") {
  std::string input;
  for (const json& c : golden_lines("render.jsonl"))
    if (c.contains("prompt")) input += c.dump() + "\n";
  Run run = run_beluga("template render --jsonl", input);
  CHECK(run.exit_code == 0);
  CHECK(run.err.empty());
  CHECK(lines_of(run.out).size() == 75);
}

TEST_CASE("template render --revision v4-0731 renders the 0731 effort ladder", "[cli][template]") {
  std::vector<json> cases = golden_lines("render-0731.jsonl");
  const std::string input = beluga::testing::read_text(beluga::testing::golden_path("chat-encoding/render-0731.jsonl"));
  Run run = run_beluga("template render --jsonl --revision v4-0731", input);
  std::vector<std::string> out = lines_of(run.out);
  REQUIRE(out.size() == cases.size());
  for (size_t k = 0; k < cases.size(); ++k) {
    INFO(cases[k]["name"].get<std::string>());
    json got = json::parse(out[k]);
    if (cases[k].contains("prompt")) CHECK(got["prompt"] == cases[k]["prompt"]);
    else CHECK(got.contains("error"));
  }
}

TEST_CASE("template render without --jsonl prints the prompt itself", "[cli][template]") {
  Run run = run_beluga("template render",
                       R"({"messages": [{"role": "user", "content": "Hi"}], "options": {"thinking_mode": "thinking"}})");
  CHECK(run.exit_code == 0);
  CHECK(run.out == "<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜><think>");
}

TEST_CASE("template render names the line of a bad request and goes on", "[cli][template]") {
  const std::string good = R"({"messages": [{"role": "user", "content": "Hi"}], "options": {"thinking_mode": "chat"}})";
  Run run = run_beluga("template render --jsonl",
                       good + "\nnot json\n\n" + R"({"messages": 5, "options": {"thinking_mode": "chat"}})" + "\n" +
                           R"({"messages": [{"role": "bot", "content": "x"}], "options": {"thinking_mode": "chat"}})" +
                           "\n" + good + "\n");
  CHECK(run.exit_code == 1);
  std::vector<std::string> out = lines_of(run.out);
  REQUIRE(out.size() == 5);
  CHECK(json::parse(out[0])["prompt"] == "<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜></think>");
  CHECK(json::parse(out[1])["error"]["line"] == 2);
  CHECK(json::parse(out[2])["error"]["line"] == 4);  // the blank line 3 is skipped
  CHECK_THAT(json::parse(out[2])["error"]["message"].get<std::string>(), Contains("messages"));
  CHECK(json::parse(out[3])["error"]["line"] == 5);
  CHECK_THAT(json::parse(out[3])["error"]["message"].get<std::string>(), Contains("unknown role \"bot\""));
  CHECK(json::parse(out[4]).contains("prompt"));
  CHECK_THAT(run.err, Contains("line 2: invalid JSON") && Contains("line 4: ") && Contains("line 5: "));
}

TEST_CASE("template parse prints the reference's result for golden completions", "[cli][template]") {
  for (const json& c : golden_lines("parse.jsonl")) {
    const std::string name = c["name"];
    if (name != "chat_plain" && name != "thinking_multiple_invokes_non_string_params" &&
        name != "chat_string_param_multiline_quotes_unicode" && name != "official_fixture_1_first_assistant_turn")
      continue;
    INFO(name);
    Run run = run_beluga("template parse --thinking-mode " + c["options"]["thinking_mode"].get<std::string>(),
                         c["completion"].get<std::string>());
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    CHECK(json::parse(run.out) == c["result"]);
  }
}

TEST_CASE("template parse defaults to thinking mode", "[cli][template]") {
  Run run = run_beluga("template parse", "Think.</think>Done." + kEos);
  REQUIRE(run.exit_code == 0);
  json got = json::parse(run.out);
  CHECK(got["reasoning_content"] == "Think.");
  CHECK(got["content"] == "Done.");
}

TEST_CASE("template parse of a malformed completion prints the error and exits non-zero", "[cli][template]") {
  for (const json& c : golden_lines("parse.jsonl")) {
    if (!c.contains("error")) continue;
    INFO(c["name"].get<std::string>());
    Run run = run_beluga("template parse --thinking-mode " + c["options"]["thinking_mode"].get<std::string>(),
                         c["completion"].get<std::string>());
    CHECK(run.exit_code != 0);
    CHECK(run.out.empty());
    CHECK_THAT(run.err, Contains(c["error"]["message"].get<std::string>()));
  }
  Run bad_utf8 = run_beluga("template parse --thinking-mode chat", "caf\xC3" + kEos);
  CHECK(bad_utf8.exit_code != 0);
  CHECK_THAT(bad_utf8.err, Contains("not valid UTF-8"));
}

TEST_CASE("template parse --jsonl answers every golden parse case", "[cli][template]") {
  std::vector<json> cases = golden_lines("parse.jsonl");
  Run run = run_beluga("template parse --jsonl",
                       beluga::testing::read_text(beluga::testing::golden_path("chat-encoding/parse.jsonl")));
  CHECK(run.exit_code == 1);
  std::vector<std::string> out = lines_of(run.out);
  REQUIRE(out.size() == cases.size());
  for (size_t k = 0; k < cases.size(); ++k) {
    INFO(cases[k]["name"].get<std::string>());
    json got = json::parse(out[k]);
    if (cases[k].contains("result")) CHECK(got["result"] == cases[k]["result"]);
    else CHECK(got["error"]["message"] == cases[k]["error"]["message"]);
  }
}
