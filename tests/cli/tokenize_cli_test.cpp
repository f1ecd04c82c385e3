// The `beluga tokenize` command-line contract (daemon/tokenize_command.h),
// on the real binary: JSON lines in and out on all 375 golden cases, the
// assembled V4 tokenizer.json, bad input lines, and `model synth
// --tokenizer`.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_support.h"
#include "tests/test_support.h"

using beluga::testing::golden_path;
using beluga::testing::ScratchDir;
using nlohmann::json;

namespace {

using beluga::testing::quote;
using beluga::testing::Run;
using beluga::testing::run_beluga;

std::vector<json> lines_of(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(json::parse(line));
  return out;
}

struct Golden {
  std::string text;
  std::vector<int32_t> ids;
};

std::vector<Golden> golden_cases() {
  std::vector<Golden> cases;
  std::ifstream in(golden_path("tokenizer/cases.jsonl"), std::ios::binary);
  std::string line;
  while (std::getline(in, line)) {
    json j = json::parse(line);
    cases.push_back({j["text"].get<std::string>(), j["ids"].get<std::vector<int32_t>>()});
  }
  return cases;
}

std::string v3_tokenizer() { return quote(golden_path("tokenizer/tokenizer.json")); }
std::string v4_list() { return quote(golden_path("tokenizer/v4_added_tokens.json")); }

}  // namespace

TEST_CASE("tokenize --jsonl encodes every golden case to the reference ids", "[cli]") {
  const std::vector<Golden> cases = golden_cases();
  REQUIRE(cases.size() == 375);
  std::string input;
  for (const Golden& c : cases) input += json{{"text", c.text}}.dump() + "\n";
  Run run = run_beluga("tokenize --tokenizer " + v3_tokenizer() + " --jsonl", input);
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const std::vector<json> out = lines_of(run.out);
  REQUIRE(out.size() == cases.size());
  size_t passed = 0;
  std::string report;
  for (size_t i = 0; i < cases.size(); ++i) {
    if (out[i] == json{{"ids", cases[i].ids}}) ++passed;
    else if (report.size() < 3000)
      report += "line " + std::to_string(i + 1) + ": want " + json(cases[i].ids).dump() + " got " + out[i].dump() + "\n";
  }
  INFO(report);
  CHECK(passed == cases.size());
}

TEST_CASE("tokenize --jsonl --decode writes back every golden text", "[cli]") {
  const std::vector<Golden> cases = golden_cases();
  std::string input;
  for (const Golden& c : cases) input += json{{"ids", c.ids}}.dump() + "\n";
  Run run = run_beluga("tokenize --tokenizer " + v3_tokenizer() + " --jsonl --decode", input);
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const std::vector<json> out = lines_of(run.out);
  REQUIRE(out.size() == cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    INFO("line " << i + 1);
    CHECK(out[i] == json{{"text", cases[i].text}});
  }
}

TEST_CASE("tokenize --no-specials keeps added-token literals plain and drops special ids on decode", "[cli]") {
  const std::string input = json{{"text", "<｜User｜>hi<｜end▁of▁sentence｜>"}}.dump() + "\n";
  Run with = run_beluga("tokenize --tokenizer " + v3_tokenizer() + " --jsonl", input);
  REQUIRE(with.exit_code == 0);
  const std::vector<int32_t> ids = json::parse(with.out)["ids"].get<std::vector<int32_t>>();
  CHECK(ids.front() == 128803);
  CHECK(ids.back() == 1);
  Run without = run_beluga("tokenize --tokenizer " + v3_tokenizer() + " --no-specials --jsonl", input);
  REQUIRE(without.exit_code == 0);
  for (int32_t id : json::parse(without.out)["ids"].get<std::vector<int32_t>>()) CHECK((id > 2 && id < 128000));
  Run decoded = run_beluga("tokenize --tokenizer " + v3_tokenizer() + " --no-specials --jsonl --decode",
                           json{{"ids", ids}}.dump() + "\n");
  REQUIRE(decoded.exit_code == 0);
  CHECK(json::parse(decoded.out) == json{{"text", "<｜User｜>hi"}});
}

TEST_CASE("tokenize names the line of bad input and exits non-zero", "[cli]") {
  struct Case {
    std::string args, input, fragment;
  };
  const std::vector<Case> cases = {
      {"--jsonl", "{\"text\": \"ok\"}\nnot json\n", "line 2"},
      {"--jsonl", "{\"text\": \"ok\"}\n{\"text\": \"ok\"}\n{\"txt\": \"x\"}\n", "line 3"},
      {"--jsonl", "{\"text\": 5}\n", "'text'"},
      {"--jsonl --decode", "{\"ids\": [1, \"x\"]}\n", "line 1"},
      {"--jsonl --decode", "{\"ids\": [-3]}\n", "line 1"},
      {"", "{\"text\": \"a\"}\n", "--jsonl"},
  };
  for (const Case& c : cases) {
    INFO(c.args << " <<< " << c.input);
    Run run = run_beluga("tokenize --tokenizer " + v3_tokenizer() + " " + c.args, c.input);
    CHECK(run.exit_code == 1);
    CHECK_THAT(run.err, Catch::Contains(c.fragment));
  }
  // The lines before the bad one were answered.
  Run partial = run_beluga("tokenize --tokenizer " + v3_tokenizer() + " --jsonl", "{\"text\": \"a\"}\nbad\n");
  CHECK(partial.out == "{\"ids\":[67]}\n");
  // A file that is not a tokenizer.
  ScratchDir dir;
  beluga::testing::write_text(dir.file("bad.json"), "{\"model\": 1}");
  Run bad_file = run_beluga("tokenize --tokenizer " + quote(dir.file("bad.json")) + " --jsonl", "");
  CHECK(bad_file.exit_code == 1);
  CHECK_THAT(bad_file.err, Catch::Contains("bad.json"));
}

TEST_CASE("tokenize --assemble-v4 writes a tokenizer that encodes V4 tokens to 128815..129279", "[cli]") {
  ScratchDir dir;
  const std::string out = dir.file("v4-tokenizer.json");
  Run assemble = run_beluga("tokenize --assemble-v4 --tokenizer " + v3_tokenizer() + " --added " + v4_list() +
                            " --out " + quote(out));
  INFO(assemble.err);
  REQUIRE(assemble.exit_code == 0);
  CHECK_THAT(assemble.out, Catch::Contains("465"));
  REQUIRE(std::filesystem::exists(out));

  const json list = json::parse(beluga::testing::read_text(golden_path("tokenizer/v4_added_tokens.json")));
  std::string input;
  for (const json& token : list) input += json{{"text", token["content"]}}.dump() + "\n";
  input += json{{"text", "<｜User｜>你好<｜Assistant｜><think>推理</think>答案<｜end▁of▁sentence｜>"}}.dump() + "\n";
  // The assembled file, and the V3 file with --added, agree.
  for (const std::string& args : {"--tokenizer " + quote(out), "--tokenizer " + v3_tokenizer() + " --added " + v4_list()}) {
    INFO(args);
    Run run = run_beluga("tokenize " + args + " --jsonl", input);
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    const std::vector<json> lines = lines_of(run.out);
    REQUIRE(lines.size() == list.size() + 1);
    for (size_t i = 0; i < list.size(); ++i) {
      CHECK(lines[i] == json{{"ids", {list[i]["id"]}}});
      CHECK(list[i]["id"] == 128815 + static_cast<int>(i));
    }
    CHECK(lines.back() == json{{"ids", {128803, 30594, 128804, 128821, 36101, 128822, 7624, 1}}});
  }
  // Missing --out is refused.
  Run no_out = run_beluga("tokenize --assemble-v4 --tokenizer " + v3_tokenizer() + " --added " + v4_list());
  CHECK(no_out.exit_code != 0);
}

TEST_CASE("model synth --tokenizer copies the tokenizer and refuses one larger than the vocabulary", "[cli]") {
  ScratchDir dir;
  const std::string micro = beluga::testing::source_path("scripts/configs/v4-micro.config.json");
  // vocab_size 64: the V3 tokenizer (128815 ids) does not fit.
  Run refused = run_beluga("model synth --config " + quote(micro) + " --out " + quote(dir.file("a")) +
                           " --tokenizer " + v3_tokenizer());
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Catch::Contains("vocab_size") && Catch::Contains("128815"));
  CHECK_FALSE(std::filesystem::exists(dir.file("a") + "/tokenizer.json"));
  // With vocab_size raised to fit, the file is copied byte for byte.
  std::string config = beluga::testing::read_text(micro);
  config.replace(config.find("\"vocab_size\": 64"), 16, "\"vocab_size\": 129280");
  beluga::testing::write_text(dir.file("config.json"), config);
  Run ok = run_beluga("model synth --config " + quote(dir.file("config.json")) + " --out " + quote(dir.file("b")) +
                      " --tokenizer " + v3_tokenizer());
  INFO(ok.err);
  REQUIRE(ok.exit_code == 0);
  CHECK(beluga::testing::read_bytes(dir.file("b") + "/tokenizer.json") ==
        beluga::testing::read_bytes(golden_path("tokenizer/tokenizer.json")));
}
