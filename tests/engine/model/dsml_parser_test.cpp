// Tests of engine/model/dsml_parser.h.
//
// Oracles: ../shared/golden/chat-encoding/parse.jsonl (results and error
// messages of DeepSeek's parse_message_from_completion_text, matched
// exactly); a table of further malformed completions whose expected
// messages were printed by that same reference function; and the parser
// itself fed whole: every other chunking (one byte at a time, random
// splits) must give the same merged events and the same result.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "engine/model/dsml_parser.h"
#include "engine/model/py_json.h"
#include "tests/test_support.h"

namespace beluga {
namespace {

using Catch::Matchers::Contains;
using Kind = DsmlEvent::Kind;

const std::string kEos = "<｜end▁of▁sentence｜>";

struct ParseCase {
  std::string name;
  ThinkingMode mode = ThinkingMode::kChat;
  std::string completion;
  JsonValue line;
};

std::vector<ParseCase> golden_parse_cases() {
  std::string text = testing::read_text(testing::golden_path("chat-encoding/parse.jsonl"));
  std::vector<ParseCase> cases;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    auto value = parse_json(line);
    REQUIRE(value.ok());
    ParseCase c;
    c.name = value->find("name")->text;
    c.mode = value->find("options")->find("thinking_mode")->text == "thinking" ? ThinkingMode::kThinking
                                                                               : ThinkingMode::kChat;
    c.completion = value->find("completion")->text;
    c.line = std::move(value).value();
    cases.push_back(std::move(c));
  }
  return cases;
}

// The reference's return value, as JSON text, for comparison.
std::string result_json(const ParsedCompletion& c) { return to_python_json(completion_to_json(c)); }

// The events, with consecutive deltas of one kind (and call) merged, one
// line each: what must not depend on the chunking.
std::vector<std::string> merged_events(const std::vector<DsmlEvent>& events) {
  std::vector<std::string> out;
  Kind last_kind = Kind::kEnd;
  size_t last_index = 0;
  for (const DsmlEvent& e : events) {
    bool delta = e.kind == Kind::kReasoningDelta || e.kind == Kind::kContentDelta || e.kind == Kind::kArgumentsDelta;
    if (delta && !out.empty() && last_kind == e.kind && last_index == e.call_index) {
      out.back() += e.text;
      continue;
    }
    std::string line = std::to_string(static_cast<int>(e.kind)) + "#" + std::to_string(e.call_index) + ":";
    switch (e.kind) {
      case Kind::kParameterComplete:
        line += e.parameter.name + "=" + e.parameter.value + (e.parameter.is_string ? " (string)" : " (json)");
        break;
      case Kind::kToolCallComplete:
        line += e.call.name + " " + e.call.arguments + (e.call.closed ? " closed" : " open") + " [" +
                e.call.arguments_error + "]";
        break;
      default: line += e.text;
    }
    out.push_back(line);
    last_kind = e.kind;
    last_index = e.call_index;
  }
  return out;
}

struct Run {
  std::vector<DsmlEvent> events;
  Result<ParsedCompletion> result = make_error("not run");
};

Run run_chunks(const std::string& text, ThinkingMode mode, const std::vector<size_t>& cuts) {
  DsmlStreamParser parser(mode);
  Run run;
  size_t at = 0;
  for (size_t cut : cuts) {
    parser.feed(std::string_view(text).substr(at, cut - at), run.events);
    at = cut;
  }
  parser.feed(std::string_view(text).substr(at), run.events);
  parser.finish(run.events);
  run.result = parser.result();
  return run;
}

Run run_whole(const std::string& text, ThinkingMode mode) { return run_chunks(text, mode, {}); }

std::string outcome(const Run& run) { return run.result.ok() ? result_json(*run.result) : "error: " + run.result.message(); }

// Whole, byte by byte and in random chunks: the same merged events and result.
void check_chunking_invariance(const std::string& text, ThinkingMode mode) {
  Run whole = run_whole(text, mode);
  std::vector<std::string> expected = merged_events(whole.events);
  std::vector<std::vector<size_t>> chunkings;
  std::vector<size_t> bytes;
  for (size_t k = 1; k < text.size(); ++k) bytes.push_back(k);
  chunkings.push_back(bytes);
  std::mt19937 rng(12345);
  for (int trial = 0; trial < 24; ++trial) {
    std::vector<size_t> cuts;
    size_t max_chunk = 1 + trial % 9 * 3;
    for (size_t at = 0;;) {
      at += 1 + rng() % max_chunk;
      if (at >= text.size()) break;
      cuts.push_back(at);
    }
    chunkings.push_back(cuts);
  }
  for (const auto& cuts : chunkings) {
    Run split = run_chunks(text, mode, cuts);
    REQUIRE(outcome(split) == outcome(whole));
    REQUIRE(merged_events(split.events) == expected);
  }
  // The deltas add up to the result.
  if (whole.result.ok()) {
    std::string reasoning, content;
    std::vector<std::string> arguments(whole.result->tool_calls.size());
    for (const DsmlEvent& e : whole.events) {
      if (e.kind == Kind::kReasoningDelta) reasoning += e.text;
      if (e.kind == Kind::kContentDelta) content += e.text;
      if (e.kind == Kind::kArgumentsDelta) arguments.at(e.call_index) += e.text;
    }
    CHECK(reasoning == whole.result->reasoning_content);
    CHECK(content == whole.result->content);
    for (size_t k = 0; k < arguments.size(); ++k) CHECK(arguments[k] == whole.result->tool_calls[k].arguments);
  }
}

TEST_CASE("every parse.jsonl case gives the reference's result or error message", "[dsml]") {
  auto cases = golden_parse_cases();
  REQUIRE(cases.size() == 31);
  size_t results = 0, errors = 0;
  for (const ParseCase& c : cases) {
    INFO(c.name);
    auto parsed = parse_completion(c.completion, c.mode);
    if (const JsonValue* expected = c.line.find("result")) {
      INFO((parsed.ok() ? std::string() : parsed.message()));
      REQUIRE(parsed.ok());
      CHECK(result_json(*parsed) == to_python_json(*expected));
      results += result_json(*parsed) == to_python_json(*expected);
    } else {
      REQUIRE_FALSE(parsed.ok());
      CHECK(parsed.message() == c.line.find("error")->find("message")->text);
      errors += parsed.message() == c.line.find("error")->find("message")->text;
    }
  }
  CHECK(results == 16);
  CHECK(errors == 15);
}

TEST_CASE("every parse.jsonl case parses the same whole, byte by byte and in random chunks", "[dsml]") {
  for (const ParseCase& c : golden_parse_cases()) {
    INFO(c.name);
    check_chunking_invariance(c.completion, c.mode);
  }
}

// Malformed or unusual completions beyond the golden file. Each expected
// value was printed by encoding_dsv4.parse_message_from_completion_text.
struct ExtraCase {
  const char* name;
  ThinkingMode mode;
  std::string completion;
  std::string expected;  // result_json, or "error: " + message
};

const std::string kOpen = "\n\n<｜DSML｜tool_calls>\n";
const std::string kClose = "</｜DSML｜tool_calls>";

std::vector<ExtraCase> extra_cases() {
  const ThinkingMode chat = ThinkingMode::kChat;
  const ThinkingMode thinking = ThinkingMode::kThinking;
  auto ok = [](std::string content, std::string calls = "", std::string reasoning = "") {
    return R"({"role": "assistant", "content": ")" + content + R"(", "reasoning_content": ")" + reasoning +
           R"(", "tool_calls": [)" + calls + "]}";
  };
  auto call = [](std::string name, std::string args_json_quoted) {
    return R"({"type": "function", "function": {"name": ")" + name + R"(", "arguments": )" + args_json_quoted + "}}";
  };
  return {
      {"unknown markup inside the calls block", chat, kOpen + "<｜DSML｜foo>\n" + kClose + kEos,
       "error: Tool call format error: expected '>\\n' but got '>\n<｜DSML｜foo>\n'"},
      {"text between invokes", chat,
       kOpen + "<｜DSML｜invoke name=\"a\">\n</｜DSML｜invoke>\nnote\n" + kClose + kEos,
       "error: Tool call format error: expected '>\\n' but got '>\nnote\n'"},
      {"text after the calls without EOS", chat, kOpen + kClose + "bye",
       "error: Unexpected content after tool calls"},
      {"text after EOS that follows the calls", chat, kOpen + kClose + kEos + "x", "error: Unexpected content at end"},
      {"an empty calls block", chat, kOpen + kClose + kEos, ok("")},
      {"the text ends right after the tool-calls opening", chat, "Hi\n\n<｜DSML｜tool_calls", ok("Hi")},
      {"the text ends after the opening tag and its newline", chat, "Hi" + kOpen,
       "error: Missing special token in tool calls"},
      {"the text ends inside an invoke tag", chat, kOpen + "<｜DSML｜invoke name=\"a\">\n", ok("", call("a", "\"{}\""))},
      {"the text ends right after </｜DSML｜invoke", chat, kOpen + "<｜DSML｜invoke name=\"a\">\n</｜DSML｜invoke",
       ok("", call("a", "\"{}\""))},
      {"the text ends after </｜DSML｜invoke>", chat, kOpen + "<｜DSML｜invoke name=\"a\">\n</｜DSML｜invoke>",
       "error: Tool call format error: expected '>\\n' but got '>'"},
      {"the text ends inside a parameter value", chat,
       kOpen + "<｜DSML｜invoke name=\"a\">\n<｜DSML｜parameter name=\"x\" string=\"true\">Par",
       "error: Parameter format error: ' name=\"x\" string=\"true\">Par'"},
      {"the text ends after a parameter's closing tag without its newline", chat,
       kOpen + "<｜DSML｜invoke name=\"a\">\n<｜DSML｜parameter name=\"x\" string=\"true\">v</｜DSML｜parameter>",
       "error: Parameter format error: expected '>\\n' but got '>'"},
      {"a parameter value ending in <\\n before the closing tag", chat,
       kOpen + "<｜DSML｜invoke name=\"a\">\n<｜DSML｜parameter name=\"x\" string=\"true\">v<\n/｜DSML｜parameter>\n"
               "</｜DSML｜invoke>\n" + kClose + kEos,
       ok("", call("a", R"("{\"x\": \"v\"}")"))},
      {"the parameter name is the shortest that fits", chat,
       kOpen + "<｜DSML｜invoke name=\"a\">\n<｜DSML｜parameter name=\"x\" string=\"yes\" string=\"false\">1"
               "</｜DSML｜parameter>\n</｜DSML｜invoke>\n" + kClose + kEos,
       ok("", call("a", R"("{\"x\\\" string=\\\"yes\": 1}")"))},
      {"an invoke name with leading whitespace and a blank line", chat,
       kOpen + "<｜DSML｜invoke \t name=\"a b\">\n\n</｜DSML｜invoke>\n" + kClose + kEos, ok("", call("a b", "\"{}\""))},
      {"an invoke tag without name", chat, kOpen + "<｜DSML｜invoke>\n</｜DSML｜invoke>\n" + kClose + kEos,
       "error: Tool name format error: '>\n'"},
      {"an invoke tag with a space before >", chat,
       kOpen + "<｜DSML｜invoke name=\"a\" >\n</｜DSML｜invoke>\n" + kClose + kEos,
       "error: Tool name format error: ' name=\"a\" >\n'"},
      {"a parameter with the name attribute misspelt", chat,
       kOpen + "<｜DSML｜invoke name=\"a\">\n<｜DSML｜parameter nam=\"x\" string=\"true\">1</｜DSML｜parameter>\n"
               "</｜DSML｜invoke>\n" + kClose + kEos,
       "error: Parameter format error: ' nam=\"x\" string=\"true\">1<'"},
      {"BOS in the reasoning", thinking, "a<｜begin▁of▁sentence｜>b</think>c" + kEos,
       "error: Unexpected special token '<｜begin▁of▁sentence｜>' in content"},
      {"EOS in the reasoning", thinking, "a" + kEos + "b</think>c" + kEos,
       "error: Unexpected special token '<｜end▁of▁sentence｜>' in content"},
      {"a second </think> in the content", thinking, "a</think>b</think>c" + kEos,
       "error: Unexpected special token '</think>' in content"},
      {"the first special token in check order names the error", chat, "｜DSML｜ <think>" + kEos,
       "error: Unexpected special token '<think>' in content"},
      {"missing EOS wins over a special token", chat, "a <think> b", "error: Invalid format: missing EOS token"},
      {"a tool block in chat content after reasoning-like text", chat, "x</think>y" + kEos,
       "error: Unexpected special token '</think>' in content"},
      {"thinking mode with nothing at all", thinking, "", "error: Invalid thinking format: missing </think>"},
      {"chat mode with nothing at all", chat, "", "error: Invalid format: missing EOS token"},
      {"multi-byte text around every tag", thinking,
       "思考🚀</think>答え" + kOpen + "<｜DSML｜invoke name=\"検索\">\n<｜DSML｜parameter name=\"語\" string=\"true\">東京🗼"
           "</｜DSML｜parameter>\n</｜DSML｜invoke>\n" + kClose + kEos,
       ok("答え", call("検索", R"("{\"語\": \"東京🗼\"}")"), "思考🚀")},
      {"a control character in a string value is escaped", chat,
       kOpen + "<｜DSML｜invoke name=\"a\">\n<｜DSML｜parameter name=\"x\" string=\"true\">\x01\x1f\x7f"
               "</｜DSML｜parameter>\n</｜DSML｜invoke>\n" + kClose + kEos,
       ok("", call("a", "\"{\\\"x\\\": \\\"\\\\u0001\\\\u001f\x7f\\\"}\""))},
  };
}

TEST_CASE("malformed and unusual completions parse as the reference parses them", "[dsml]") {
  for (const ExtraCase& c : extra_cases()) {
    INFO(c.name);
    INFO(c.completion);
    Run whole = run_whole(c.completion, c.mode);
    CHECK(outcome(whole) == c.expected);
    check_chunking_invariance(c.completion, c.mode);
  }
}

TEST_CASE("text is emitted as soon as it cannot start a stop string", "[dsml]") {
  DsmlStreamParser parser(ThinkingMode::kThinking);
  std::vector<DsmlEvent> events;
  parser.feed("Let me think</th", events);
  REQUIRE(events.size() == 1);
  CHECK(events[0].kind == Kind::kReasoningDelta);
  CHECK(events[0].text == "Let me think");
  events.clear();
  parser.feed("ink>Answer: caf\xC3", events);  // </think> completes; é is split
  REQUIRE(events.size() == 1);
  CHECK(events[0].kind == Kind::kContentDelta);
  CHECK(events[0].text == "Answer: caf");
  events.clear();
  parser.feed("\xA9!\n\n<｜DS", events);
  REQUIRE(events.size() == 1);
  CHECK(events[0].text == "é!");
  events.clear();
  parser.feed("ML｜tool_calls>\n<｜DSML｜invoke name=\"get_weather\">\n<｜DSML｜parameter name=\"city\" string=\"true\">Par",
              events);
  REQUIRE(events.size() == 3);
  CHECK(events[0].kind == Kind::kToolCallStarted);
  CHECK(events[0].text == "get_weather");
  CHECK(events[1].kind == Kind::kArgumentsDelta);
  CHECK(events[1].text == "{\"city\": \"");
  CHECK(events[2].text == "P");  // "ar" could still be followed by "<\n/｜DSML｜parameter"
  events.clear();
  parser.feed("is</｜DSML｜parameter>\n</｜DSML｜invoke>\n</｜DSML｜tool_calls>", events);
  // The rest of the value, how it is split aside, then the parameter, the
  // closing brace and the call.
  std::string rest;
  size_t k = 0;
  for (; k < events.size() && events[k].kind == Kind::kArgumentsDelta; ++k) rest += events[k].text;
  CHECK(rest == "aris\"");
  REQUIRE(events.size() == k + 3);
  CHECK(events[k].kind == Kind::kParameterComplete);
  CHECK(events[k].parameter.value == "Paris");
  CHECK(events[k + 1].kind == Kind::kArgumentsDelta);
  CHECK(events[k + 1].text == "}");
  CHECK(events[k + 2].kind == Kind::kToolCallComplete);
  CHECK(events[k + 2].call.arguments == "{\"city\": \"Paris\"}");
  CHECK(events[k + 2].call.closed);
  events.clear();
  parser.feed(kEos, events);
  CHECK(events.empty());
  parser.finish(events);
  REQUIRE(events.size() == 1);
  CHECK(events[0].kind == Kind::kEnd);
  REQUIRE(parser.result().ok());
  CHECK(parser.result()->ended_with_eos);
  CHECK(parser.result()->content == "Answer: café!");
}

TEST_CASE("an error is final: later text is ignored", "[dsml]") {
  DsmlStreamParser parser(ThinkingMode::kChat);
  std::vector<DsmlEvent> events;
  parser.feed("Hi" + kEos + "x", events);
  REQUIRE(events.back().kind == Kind::kFailed);
  CHECK(events.back().text == "Unexpected content at end");
  CHECK(parser.done());
  size_t count = events.size();
  parser.feed("more", events);
  parser.finish(events);
  CHECK(events.size() == count);
  CHECK(parser.result().message() == "Unexpected content at end");
}

TEST_CASE("a string=false value that is not JSON is reported with the call", "[dsml]") {
  const std::string completion = kOpen +
                                 "<｜DSML｜invoke name=\"run_shell\">\n<｜DSML｜parameter name=\"timeout_s\" "
                                 "string=\"false\">thirty seconds</｜DSML｜parameter>\n</｜DSML｜invoke>\n" +
                                 kClose + kEos;
  auto parsed = parse_completion(completion, ThinkingMode::kChat);
  REQUIRE(parsed.ok());  // the reference accepts it and passes the text through
  CHECK(parsed->tool_calls[0].arguments == "{\"timeout_s\": thirty seconds}");
  CHECK_THAT(parsed->tool_calls[0].arguments_error,
             Contains("tool call 1 (\"run_shell\")") && Contains("\"timeout_s\"") && Contains("thirty seconds"));
  Status status = check_tool_calls(*parsed);
  REQUIRE_FALSE(status.ok());
  CHECK(status.message() == parsed->tool_calls[0].arguments_error);
  // NaN is Python JSON but not JSON.
  auto nan = parse_completion(kOpen + "<｜DSML｜invoke name=\"f\">\n<｜DSML｜parameter name=\"x\" string=\"false\">NaN"
                                      "</｜DSML｜parameter>\n</｜DSML｜invoke>\n" + kClose + kEos,
                              ThinkingMode::kChat);
  REQUIRE(nan.ok());
  CHECK_FALSE(check_tool_calls(*nan).ok());
}

TEST_CASE("a call cut off before its closing tag is kept but refused for execution", "[dsml]") {
  auto parsed = parse_completion(kOpen + "<｜DSML｜invoke name=\"get_weather\">\n<｜DSML｜parameter name=\"city\" "
                                         "string=\"true\">Paris</｜DSML｜parameter>\n",
                                 ThinkingMode::kChat);
  REQUIRE(parsed.ok());
  REQUIRE(parsed->tool_calls.size() == 1);
  CHECK_FALSE(parsed->tool_calls[0].closed);
  CHECK_FALSE(parsed->ended_with_eos);
  CHECK_THAT(check_tool_calls(*parsed).message(), Contains("tool call 1 (\"get_weather\") was cut off"));

  auto complete = parse_completion(kOpen + "<｜DSML｜invoke name=\"f\">\n<｜DSML｜parameter name=\"n\" string=\"false\">"
                                           "[1, {\"a\": null}]</｜DSML｜parameter>\n</｜DSML｜invoke>\n" + kClose + kEos,
                                   ThinkingMode::kChat);
  REQUIRE(complete.ok());
  CHECK(check_tool_calls(*complete).ok());
  CHECK(parse_json(complete->tool_calls[0].arguments).ok());
}

TEST_CASE("long offending text is elided in error messages", "[dsml]") {
  std::string junk(100000, 'x');
  auto parsed = parse_completion(kOpen + junk, ThinkingMode::kChat);
  REQUIRE_FALSE(parsed.ok());
  CHECK_THAT(parsed.message(), Contains("Tool call format error: expected '>\\n' but got '>\nxxx") &&
                                   Contains("bytes omitted"));
  CHECK(parsed.message().size() < 5000);
}

TEST_CASE("a long completion streams in linear time", "[dsml]") {
  std::string value;
  for (int k = 0; k < 20000; ++k) value += "line " + std::to_string(k) + " <b>&amp;\n";
  std::string completion = std::string(200000, 'r') + "</think>" + std::string(200000, 'c') + kOpen +
                           "<｜DSML｜invoke name=\"write\">\n<｜DSML｜parameter name=\"text\" string=\"true\">" + value +
                           "</｜DSML｜parameter>\n</｜DSML｜invoke>\n" + kClose + kEos;
  DsmlStreamParser parser(ThinkingMode::kThinking);
  std::vector<DsmlEvent> events;
  for (size_t at = 0; at < completion.size(); at += 7) {
    parser.feed(std::string_view(completion).substr(at, 7), events);
    events.clear();
  }
  parser.finish(events);
  REQUIRE(parser.result().ok());
  CHECK(parser.result()->tool_calls[0].parameters[0].value == value);
  CHECK(parser.result()->content.size() == 200000);
}

}  // namespace
}  // namespace beluga
