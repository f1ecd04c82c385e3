// Tests of engine/model/chat_template.h, chat_template_json.h and py_json.h.
//
// Oracles: ../shared/golden/chat-encoding (render.jsonl and
// render-0731.jsonl, produced by DeepSeek's own encoding_dsv4.py: every case
// must match byte for byte, every error case must be refused), Python's
// json/float behaviour as documented (values below were printed by CPython
// 3.11), and for the round trip the golden prompts themselves: rendering a
// conversation without its final assistant turn gives a prefix P of the
// full prompt Q; Q minus P is what the model produced, and parsing it back
// and appending it must give Q again.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine/model/chat_template.h"
#include "engine/model/chat_template_json.h"
#include "engine/model/dsml_parser.h"
#include "engine/model/py_json.h"
#include "tests/test_support.h"

namespace beluga {
namespace {

using Catch::Matchers::Contains;

struct GoldenCase {
  std::string name;
  JsonValue line;
};

std::vector<GoldenCase> load_cases(const std::string& file) {
  std::string text = testing::read_text(testing::golden_path("chat-encoding/" + file));
  std::vector<GoldenCase> cases;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    auto value = parse_json(line);
    REQUIRE(value.ok());
    const JsonValue* name = value->find("name");
    REQUIRE(name);
    cases.push_back(GoldenCase{name->text, std::move(value).value()});
  }
  return cases;
}

// Converts and renders one golden line; the error of either step.
Result<std::string> render_line(const JsonValue& line, EncodingRevision revision) {
  auto request = render_request_from_json(line);
  if (!request) return request.error();
  request->options.revision = revision;
  return render_prompt(request->conversation, request->options);
}

void check_golden_file(const std::string& file, EncodingRevision revision, size_t expected_prompts,
                       size_t expected_errors) {
  auto cases = load_cases(file);
  REQUIRE(cases.size() == expected_prompts + expected_errors);
  size_t prompts = 0, errors = 0;
  for (const GoldenCase& c : cases) {
    INFO(file << ": " << c.name);
    auto prompt = render_line(c.line, revision);
    if (const JsonValue* expected = c.line.find("prompt")) {
      INFO((prompt.ok() ? std::string() : prompt.message()));
      REQUIRE(prompt.ok());
      CHECK(*prompt == expected->text);
      prompts += *prompt == expected->text;
    } else {
      REQUIRE(c.line.find("error"));
      CHECK_FALSE(prompt.ok());
      errors += !prompt.ok();
    }
  }
  CHECK(prompts == expected_prompts);  // byte for byte
  CHECK(errors == expected_errors);
}

Message user(std::string text) {
  Message m;
  m.role = Role::kUser;
  m.content = std::move(text);
  return m;
}

Message assistant(std::string text, std::string reasoning = "") {
  Message m;
  m.role = Role::kAssistant;
  m.content = std::move(text);
  m.reasoning_content = std::move(reasoning);
  return m;
}

RenderOptions chat_options() {
  RenderOptions o;
  o.thinking_mode = ThinkingMode::kChat;
  return o;
}

TEST_CASE("every render.jsonl case renders byte for byte or is refused", "[template]") {
  check_golden_file("render.jsonl", EncodingRevision::kV4, 75, 6);
}

TEST_CASE("every render-0731.jsonl case renders byte for byte under the 0731 revision", "[template]") {
  check_golden_file("render-0731.jsonl", EncodingRevision::kV4_0731, 7, 1);
}

TEST_CASE("the two revisions differ only in the reasoning-effort paragraph", "[template]") {
  // As the golden README states: rendering render.jsonl with the 0731 rule
  // changes only the cases with a thinking-mode effort.
  for (const GoldenCase& c : load_cases("render.jsonl")) {
    INFO(c.name);
    auto april = render_line(c.line, EncodingRevision::kV4);
    auto later = render_line(c.line, EncodingRevision::kV4_0731);
    const JsonValue* effort = c.line.find("options")->find("reasoning_effort");
    bool thinking = c.line.find("options")->find("thinking_mode")->text == "thinking";
    if (!effort->is_null() && thinking) continue;
    REQUIRE(april.ok() == later.ok());
    if (april.ok()) CHECK(*april == *later);
  }
}

TEST_CASE("a user turn renders with BOS and opens the thinking block at the generation point", "[template]") {
  Conversation conversation;
  conversation.messages = {user("Hi")};
  RenderOptions thinking;
  CHECK(render_prompt(conversation, thinking).value() == "<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜><think>");
  CHECK(render_prompt(conversation, chat_options()).value() ==
        "<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜></think>");
  thinking.add_bos = false;
  CHECK(render_prompt(conversation, thinking).value() == "<｜User｜>Hi<｜Assistant｜><think>");
}

TEST_CASE("reasoning before the last user turn is dropped unless tools are declared", "[template]") {
  Conversation conversation;
  conversation.messages = {user("2+2?"), assistant("4", "easy"), user("3+3?")};
  RenderOptions options;
  CHECK(render_prompt(conversation, options).value() ==
        "<｜begin▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜></think>4<｜end▁of▁sentence｜><｜User｜>3+3?<｜Assistant｜><think>");
  Message system;
  system.role = Role::kSystem;
  system.content = "S";
  ToolDeclaration tool;
  tool.name = "f";
  tool.parameters_json = R"({"type":"object","properties":{}})";
  system.tools = {tool};
  conversation.messages.insert(conversation.messages.begin(), system);
  std::string prompt = render_prompt(conversation, options).value();
  CHECK_THAT(prompt, Contains("<｜Assistant｜><think>easy</think>4<｜end▁of▁sentence｜>"));
  CHECK_THAT(prompt, Contains("\n{\"name\": \"f\", \"parameters\": {\"type\": \"object\", \"properties\": {}}}\n\n"));
}

TEST_CASE("tool results merge into one user turn in the order of the calls", "[template]") {
  Conversation conversation;
  Message call = assistant("");
  call.tool_calls = {ToolCall{"a", "f", R"({"x": 1})"}, ToolCall{"b", "g", "{}"}};
  Message result_b;
  result_b.role = Role::kTool;
  result_b.tool_call_id = "b";
  result_b.content = "B";
  Message result_a = result_b;
  result_a.tool_call_id = "a";
  result_a.content = "A";
  conversation.messages = {user("go"), call, result_b, result_a};
  std::string prompt = render_prompt(conversation, chat_options()).value();
  CHECK_THAT(prompt, Contains("<｜DSML｜invoke name=\"f\">\n<｜DSML｜parameter name=\"x\" string=\"false\">1</｜DSML｜parameter>\n"
                              "</｜DSML｜invoke>\n<｜DSML｜invoke name=\"g\">\n\n</｜DSML｜invoke>"));
  CHECK_THAT(prompt, Contains("<｜User｜><tool_result>A</tool_result>\n\n<tool_result>B</tool_result><｜Assistant｜></think>"));
  CHECK(check_tool_results(conversation).ok());
}

TEST_CASE("check_tool_results refuses a result that answers no call", "[template]") {
  Conversation conversation;
  Message call = assistant("");
  call.tool_calls = {ToolCall{"a", "f", "{}"}};
  Message result;
  result.role = Role::kTool;
  result.tool_call_id = "zzz";
  result.content = "?";
  conversation.messages = {user("go"), call, result};
  Status status = check_tool_results(conversation);
  REQUIRE_FALSE(status.ok());
  CHECK_THAT(status.message(), Contains("messages[2]") && Contains("zzz"));
  conversation.messages = {user("go"), result};
  CHECK_THAT(check_tool_results(conversation).message(), Contains("without a preceding assistant tool call"));
  // The encoder itself accepts it, as the reference does.
  CHECK(render_prompt(conversation, chat_options()).ok());
}

TEST_CASE("rendering errors name the message and the reason", "[template]") {
  Conversation conversation;
  Message developer = user("");
  developer.role = Role::kDeveloper;
  conversation.messages = {user("a"), developer};
  CHECK_THAT(render_prompt(conversation, chat_options()).message(), Contains("messages[1]") && Contains("developer"));

  Message null_user;
  null_user.role = Role::kUser;
  conversation.messages = {null_user};
  CHECK_THAT(render_prompt(conversation, chat_options()).message(), Contains("messages[0]") && Contains("null"));

  Message call = assistant("");
  call.tool_calls = {ToolCall{"a", "f", "[1, 2]"}};
  conversation.messages = {user("a"), call};
  CHECK_THAT(render_prompt(conversation, chat_options()).message(),
             Contains("messages[1].tool_calls[0]") && Contains("JSON object") && Contains("list"));

  RenderOptions low;
  low.reasoning_effort = ReasoningEffort::kLow;
  conversation.messages = {user("a")};
  CHECK_THAT(render_prompt(conversation, low).message(), Contains("low"));
  low.revision = EncodingRevision::kV4_0731;
  CHECK(render_prompt(conversation, low).ok());
}

TEST_CASE("conversion from JSON gives clear errors for malformed messages", "[template]") {
  struct Bad {
    const char* messages;
    const char* fragment;
  };
  const Bad cases[] = {
      {R"([{"role": "function", "content": "x"}])", "messages[0].role: unknown role \"function\""},
      {R"([{"content": "x"}])", "messages[0]: missing \"role\""},
      {R"([{"role": 3}])", "messages[0].role: unknown role 3"},
      {R"([{"role": "user", "content": 5}])", "messages[0].content: expected a string or null, got a JSON int"},
      {R"([{"role": "user", "content": [{"type": "text", "text": "x"}]}])", "messages[0].content"},
      {R"([{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1}}}]}])",
       "messages[0].tool_calls[0].function.arguments: expected a string holding a JSON object"},
      {R"([{"role": "assistant", "tool_calls": [{"function": {"arguments": "{}"}}]}])",
       "messages[0].tool_calls[0].function: missing \"name\""},
      {R"([{"role": "assistant", "tool_calls": {}}])", "messages[0].tool_calls: expected a list"},
      {R"([{"role": "system", "tools": [{"type": "function"}]}])", "messages[0].tools[0]: missing \"function\""},
      {R"([{"role": "user", "content": "x", "task": "summarise"}])", "messages[0].task: unknown task \"summarise\""},
      {R"([{"role": "tool", "content": [{"type": "text", "text": null}]}])", "messages[0].content[0].text"},
      {R"({"role": "user"})", "messages: expected a list of messages"},
  };
  for (const Bad& bad : cases) {
    INFO(bad.messages);
    auto messages = parse_json(bad.messages);
    REQUIRE(messages.ok());
    auto conversation = conversation_from_json(*messages);
    REQUIRE_FALSE(conversation.ok());
    CHECK_THAT(conversation.message(), Contains(bad.fragment));
  }
}

TEST_CASE("render options from JSON are checked", "[template]") {
  auto options = [](const char* text) { return render_options_from_json(parse_json(text).value()); };
  CHECK_THAT(options(R"({"thinking_mode": "auto"})").message(), Contains("invalid thinking_mode \"auto\""));
  CHECK_THAT(options(R"({})").message(), Contains("missing \"thinking_mode\""));
  CHECK_THAT(options(R"({"thinking_mode": "chat", "reasoning_effort": "medium"})").message(),
             Contains("invalid reasoning effort \"medium\""));
  CHECK_THAT(options(R"({"thinking_mode": "chat", "drop_thinking": 1})").message(), Contains("options.drop_thinking"));
  CHECK_THAT(options(R"({"thinking_mode": "chat", "add_bos": true})").message(), Contains("options.add_bos: unknown option"));
  auto ok = options(R"({"thinking_mode": "chat", "encoding_revision": "v4-0731", "reasoning_effort": "max",
                       "drop_thinking": false, "add_default_bos_token": false})");
  REQUIRE(ok.ok());
  CHECK(ok->revision == EncodingRevision::kV4_0731);
  CHECK(ok->reasoning_effort == ReasoningEffort::kMax);
  CHECK_FALSE(ok->drop_thinking);
  CHECK_FALSE(ok->add_bos);
}

TEST_CASE("JSON is re-serialised exactly as Python's json.dumps does", "[template]") {
  struct Case {
    const char* in;
    const char* out;
  };
  const Case cases[] = {
      {R"({"b": 1, "a": [true, false, null], "c": {}})", R"({"b": 1, "a": [true, false, null], "c": {}})"},
      {R"({"a":1,"b":2,"a":3})", R"({"a": 3, "b": 2})"},
      {"[1e-7, 3.0, 1E16, -0.5, 2.50, -0, 1.0e2, 0.1, 1e15, 1e16, 0.0001, 0.00001, -0.0, 5e-324, 1e400, -1e400]",
       "[1e-07, 3.0, 1e+16, -0.5, 2.5, 0, 100.0, 0.1, 1000000000000000.0, 1e+16, 0.0001, 1e-05, -0.0, 5e-324, "
       "Infinity, -Infinity]"},
      {"[12345678901234567890123456789, -7, 1.5e300, 123456789.123456789]",
       "[12345678901234567890123456789, -7, 1.5e+300, 123456789.12345679]"},
      {R"(["caf\u00e9 \ud83d\ude80", "\/", "\"q\" \\ \n\t\r\b\f", "\u0001\u001f\u007f"])",
       "[\"café 🚀\", \"/\", \"\\\"q\\\" \\\\ \\n\\t\\r\\b\\f\", \"\\u0001\\u001f\x7f\"]"},
      {" \n[NaN, Infinity, -Infinity]\t", "[NaN, Infinity, -Infinity]"},
      {R"("\ud800x")", "\"\xEF\xBF\xBDx\""},
  };
  for (const Case& c : cases) {
    INFO(c.in);
    auto value = parse_json(c.in);
    REQUIRE(value.ok());
    CHECK(to_python_json(*value) == c.out);
  }
  for (const char* bad : {"", "{", "[1,]", "{\"a\" 1}", "01", "1.", "\"\n\"", "\"\\x\"", "[1] 2", "{'a': 1}",
                          "\"\xC3\"", "tru"}) {
    INFO(bad);
    CHECK_FALSE(parse_json(bad).ok());
  }
  CHECK_FALSE(parse_json("NaN", JsonParseOptions{.allow_non_finite = false}).ok());
  CHECK_FALSE(parse_json(std::string(600, '[') + std::string(600, ']')).ok());
  CHECK(parse_json(std::string(100, '[') + std::string(100, ']')).ok());
  CHECK_FALSE(parse_json(std::string(4301, '7')).ok());  // Python 3.11's int digit limit
}

TEST_CASE("a tool declaration keeps the order of its members", "[template]") {
  auto messages = parse_json(R"([{"role": "system", "content": "", "tools": [{"type": "function", "function":
      {"parameters": {"type": "object"}, "name": "f", "strict": true, "description": "d"}}]}, {"role": "user", "content": "x"}])");
  auto conversation = conversation_from_json(messages.value());
  REQUIRE(conversation.ok());
  std::string prompt = render_prompt(*conversation, chat_options()).value();
  CHECK_THAT(prompt, Contains("\n{\"parameters\": {\"type\": \"object\"}, \"name\": \"f\", \"strict\": true, \"description\": \"d\"}\n"));
}

// The golden conversations that end with an assistant turn, cut before it:
// the prompt of the cut conversation is a prefix of the full prompt and the
// rest is the completion the model produced.
struct RoundTrip {
  std::string name;
  Conversation head;  // without the final assistant turn
  Message final_turn;
  RenderOptions options;
  std::string full_prompt;
};

std::vector<RoundTrip> round_trips() {
  std::vector<RoundTrip> out;
  for (const GoldenCase& c : load_cases("render.jsonl")) {
    const JsonValue* prompt = c.line.find("prompt");
    if (!prompt) continue;
    auto request = render_request_from_json(c.line);
    REQUIRE(request.ok());
    Conversation conversation = request->conversation;
    if (conversation.messages.empty() || conversation.messages.back().role != Role::kAssistant) continue;
    if (conversation.messages.back().wo_eos) continue;
    if (conversation.messages.back().task != ChatTask::kNone) continue;  // its task token follows the turn
    RoundTrip trip{c.name, conversation, conversation.messages.back(), request->options, prompt->text};
    trip.head.messages.pop_back();
    out.push_back(std::move(trip));
  }
  return out;
}

TEST_CASE("a parsed completion re-renders to the same prompt", "[template]") {
  size_t checked = 0;
  for (RoundTrip& trip : round_trips()) {
    INFO(trip.name);
    auto head = render_prompt(trip.head, trip.options);
    REQUIRE(head.ok());
    if (trip.full_prompt.rfind(*head, 0) != 0) continue;  // history changes when the turn is added
    bool thinking_open = head->ends_with("<｜Assistant｜><think>");
    if (!thinking_open && !head->ends_with("<｜Assistant｜></think>")) continue;  // a task token, not a turn
    std::string completion = trip.full_prompt.substr(head->size());
    ThinkingMode mode = thinking_open ? ThinkingMode::kThinking : ThinkingMode::kChat;
    auto parsed = parse_completion(completion, mode);
    INFO(completion);
    REQUIRE(parsed.ok());
    CHECK(parsed->content == trip.final_turn.content.value_or(""));
    REQUIRE(parsed->tool_calls.size() == trip.final_turn.tool_calls.size());

    // With the raw text kept, and rebuilt from the parsed fields alone.
    Conversation again = trip.head;
    again.messages.push_back(to_assistant_message(*parsed, completion, mode));
    CHECK(render_prompt(again, trip.options).value() == trip.full_prompt);
    again.messages.back().raw_completion.reset();
    CHECK(render_prompt(again, trip.options).value() == trip.full_prompt);
    ++checked;
  }
  CHECK(checked == 12);  // the golden conversations ending in an ordinary assistant turn
}

TEST_CASE("the raw completion is re-rendered even where fields would render differently", "[template]") {
  // The model wrote " 42\n" and 1e3 for string="false" values and stopped
  // without EOS; rendering the parsed arguments would give 42 and 1000.0.
  const std::string completion =
      "Plan.</think>\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"f\">\n"
      "<｜DSML｜parameter name=\"n\" string=\"false\"> 42\n</｜DSML｜parameter>\n"
      "<｜DSML｜parameter name=\"t\" string=\"false\">1e3</｜DSML｜parameter>\n</｜DSML｜invoke>\n</｜DSML｜tool_calls>";
  auto parsed = parse_completion(completion, ThinkingMode::kThinking);
  REQUIRE(parsed.ok());
  CHECK(parsed->tool_calls[0].arguments == "{\"n\":  42\n, \"t\": 1e3}");
  Conversation conversation;
  conversation.messages = {user("go"), to_assistant_message(*parsed, completion, ThinkingMode::kThinking)};
  RenderOptions options;
  std::string head = "<｜begin▁of▁sentence｜><｜User｜>go<｜Assistant｜><think>";
  CHECK(render_prompt(conversation, options).value() == head + completion + "<｜end▁of▁sentence｜>");
  conversation.messages.back().raw_completion.reset();
  CHECK_THAT(render_prompt(conversation, options).value(), Contains("string=\"false\">42<") && Contains(">1000.0<"));

  // Chat mode, or a turn whose reasoning is dropped: the text after </think>.
  conversation.messages.back().raw_completion = "<think>" + completion;
  conversation.messages.push_back(user("next"));
  std::string dropped = render_prompt(conversation, options).value();
  CHECK_THAT(dropped, Contains("<｜Assistant｜></think>\n\n<｜DSML｜tool_calls>") && !Contains("Plan."));
}

TEST_CASE("a chat-mode raw completion keeps a </think> that is inside a parameter value", "[template]") {
  const std::string completion =
      "\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"write\">\n<｜DSML｜parameter name=\"text\" string=\"true\">"
      "a</think>b</｜DSML｜parameter>\n</｜DSML｜invoke>\n</｜DSML｜tool_calls><｜end▁of▁sentence｜>";
  auto parsed = parse_completion(completion, ThinkingMode::kChat);
  REQUIRE(parsed.ok());
  Conversation conversation;
  conversation.messages = {user("go"), to_assistant_message(*parsed, completion, ThinkingMode::kChat)};
  CHECK(render_prompt(conversation, chat_options()).value() ==
        "<｜begin▁of▁sentence｜><｜User｜>go<｜Assistant｜></think>" + completion);
  // Rendered in thinking mode, the turn gets an empty reasoning part.
  CHECK(render_prompt(conversation, RenderOptions{}).value() ==
        "<｜begin▁of▁sentence｜><｜User｜>go<｜Assistant｜><think></think>" + completion);
}

}  // namespace
}  // namespace beluga
