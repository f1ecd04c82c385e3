// daemon/http/openai_responses: request JSON → ChatRequest, outcomes →
// response objects, event sequences → the SSE text the OpenAI SDK and
// Codex read.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "daemon/http/openai_responses.h"
#include "engine/model/chat_template.h"
#include "tests/daemon/sse_events.h"

namespace beluga::daemon::http {
namespace {

using nlohmann::json;
using test::event_names;
using test::parse_sse;

Result<ChatRequest> parse(const json& body) { return openai_responses_format()->parse(body); }

std::string parse_error(const json& body) {
  auto request = parse(body);
  REQUIRE_FALSE(request.ok());
  return request.message();
}

json base_body() { return json{{"model", "beluga"}, {"input", "hello"}}; }

// The shape Codex sends: instructions, a developer preamble, the history
// with reasoning, a call and its output, tools, store false.
json codex_body() {
  return json::parse(R"({
    "model": "deepseek-v4", "instructions": "You are Codex.", "store": false, "stream": true,
    "include": ["reasoning.encrypted_content"], "parallel_tool_calls": false, "prompt_cache_key": "k",
    "reasoning": {"effort": "high", "summary": "auto"},
    "tools": [{"type": "function", "name": "shell", "description": "Run a command", "strict": false,
               "parameters": {"type": "object", "properties": {"command": {"type": "array", "items": {"type": "string"}}}}}],
    "tool_choice": "auto", "max_output_tokens": 4096, "temperature": 0.2,
    "input": [
      {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "Sandbox: read-only."}]},
      {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "List files"}]},
      {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "beluga-reasoning:I should run ls."},
      {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Running ls."}]},
      {"type": "function_call", "call_id": "call_1", "name": "shell", "arguments": "{\"command\":[\"ls\"]}"},
      {"type": "function_call_output", "call_id": "call_1", "output": "a.txt\nb.txt"},
      {"role": "user", "content": "Thanks"}
    ]})");
}

TEST_CASE("responses string input is one user message") {
  auto request = parse(base_body());
  REQUIRE(request.ok());
  REQUIRE(request->conversation.messages.size() == 1);
  CHECK(request->conversation.messages[0].role == Role::kUser);
  CHECK(request->conversation.messages[0].content == "hello");
  CHECK(request->render.thinking_mode == ThinkingMode::kThinking);
  CHECK_FALSE(request->max_tokens.has_value());
  CHECK_FALSE(request->stream);
}

TEST_CASE("responses instructions and a leading developer message share the system message with the tools") {
  auto request = parse(codex_body());
  REQUIRE(request.ok());
  CHECK(request->model == "deepseek-v4");
  CHECK(request->stream);
  CHECK(request->max_tokens == 4096);
  CHECK(request->temperature == Approx(0.2));
  CHECK(request->render.reasoning_effort == ReasoningEffort::kHigh);
  const auto& messages = request->conversation.messages;
  REQUIRE(messages.size() == 5);
  CHECK(messages[0].role == Role::kSystem);
  CHECK(messages[0].content == "You are Codex.\n\nSandbox: read-only.");
  REQUIRE(messages[0].tools.size() == 1);
  CHECK(messages[0].tools[0].name == "shell");
  CHECK(messages[0].tools[0].description == "Run a command");
  CHECK(messages[0].tools[0].other_members_json == std::vector<std::pair<std::string, std::string>>{{"strict", "false"}});
  CHECK(json::parse(*messages[0].tools[0].parameters_json)["properties"]["command"]["type"] == "array");
}

TEST_CASE("responses reasoning message and function call items make one assistant turn") {
  auto request = parse(codex_body());
  REQUIRE(request.ok());
  const auto& messages = request->conversation.messages;
  CHECK(messages[1].role == Role::kUser);
  CHECK(messages[1].content == "List files");
  const Message& turn = messages[2];
  CHECK(turn.role == Role::kAssistant);
  CHECK(turn.reasoning_content == "I should run ls.");
  CHECK(turn.content == "Running ls.");
  REQUIRE(turn.tool_calls.size() == 1);
  CHECK(turn.tool_calls[0].id == "call_1");
  CHECK(turn.tool_calls[0].name == "shell");
  CHECK(turn.tool_calls[0].arguments == "{\"command\":[\"ls\"]}");
  CHECK(messages[3].role == Role::kTool);
  CHECK(messages[3].tool_call_id == "call_1");
  CHECK(messages[3].content == "a.txt\nb.txt");
  CHECK(messages[4].role == Role::kUser);
  CHECK(messages[4].content == "Thanks");
  CHECK(check_tool_results(request->conversation).ok());
  auto prompt = render_prompt(request->conversation, request->render);
  REQUIRE(prompt.ok());
  CHECK(prompt->find("I should run ls.") != std::string::npos);  // tools keep the history's reasoning
  CHECK(prompt->find("a.txt\nb.txt") != std::string::npos);
}

TEST_CASE("responses reasoning text content wins and foreign encrypted reasoning is dropped") {
  json body = base_body();
  body["input"] = json::parse(R"([
    {"role": "user", "content": "q1"},
    {"type": "reasoning", "id": "rs_a", "summary": [], "content": [{"type": "reasoning_text", "text": "plain"}],
     "encrypted_content": "beluga-reasoning:other"},
    {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "a1"}]},
    {"role": "user", "content": "q2"},
    {"type": "reasoning", "id": "rs_b", "summary": [], "encrypted_content": "gAAAAB-opaque"},
    {"type": "function_call", "call_id": "c2", "name": "f", "arguments": "{}"},
    {"type": "function_call", "call_id": "c3", "name": "g", "arguments": "{}"},
    {"type": "function_call_output", "call_id": "c3", "output": [{"type": "input_text", "text": "r3"}, {"type": "input_image"}]},
    {"type": "function_call_output", "call_id": "c2", "output": "r2"}
  ])");
  auto request = parse(body);
  REQUIRE(request.ok());
  const auto& messages = request->conversation.messages;
  REQUIRE(messages.size() == 6);
  CHECK(messages[1].reasoning_content == "plain");
  CHECK(messages[1].content == "a1");
  CHECK(messages[3].reasoning_content == "");
  REQUIRE(messages[3].tool_calls.size() == 2);  // both calls in one turn
  CHECK(messages[4].content == "r3\n\n[Unsupported image]");
  CHECK(messages[5].tool_call_id == "c2");
}

TEST_CASE("responses later developer messages stay developer messages") {
  json body = base_body();
  body["input"] = json::parse(R"([{"role": "user", "content": "q"}, {"role": "developer", "content": "late rule"}])");
  auto request = parse(body);
  REQUIRE(request.ok());
  REQUIRE(request->conversation.messages.size() == 2);
  CHECK(request->conversation.messages[1].role == Role::kDeveloper);
  CHECK(request->conversation.messages[1].content == "late rule");
}

TEST_CASE("responses reasoning effort chooses the V4 mode and effort") {
  json body = base_body();
  auto effort = [&](const char* value) {
    body["reasoning"] = {{"effort", value}};
    auto request = parse(body);
    REQUIRE(request.ok());
    return *request;
  };
  CHECK(effort("none").render.thinking_mode == ThinkingMode::kChat);
  CHECK(effort("minimal").render.thinking_mode == ThinkingMode::kChat);
  CHECK(effort("low").render.thinking_mode == ThinkingMode::kThinking);
  CHECK(effort("low").render.reasoning_effort == ReasoningEffort::kDefault);
  CHECK(effort("medium").render.reasoning_effort == ReasoningEffort::kDefault);
  CHECK(effort("high").render.reasoning_effort == ReasoningEffort::kHigh);
  CHECK(effort("xhigh").render.reasoning_effort == ReasoningEffort::kMax);
  body["reasoning"] = {{"effort", "extreme"}};
  CHECK(parse_error(body).find("reasoning.effort") == 0);
}

TEST_CASE("responses tool_choice forms") {
  json body = base_body();
  body["tool_choice"] = "required";
  CHECK(parse(body)->tool_choice == "required");
  body["tool_choice"] = {{"type", "function"}, {"name", "shell"}};
  CHECK(parse(body)->tool_choice == "shell");
  body["tool_choice"] = {{"type", "allowed_tools"}, {"mode", "auto"}, {"tools", json::array()}};
  CHECK(parse(body)->tool_choice == "auto");
  body["tool_choice"] = "sometimes";
  CHECK(parse_error(body).find("tool_choice") == 0);
}

TEST_CASE("responses bad requests name the member at fault") {
  json body = base_body();
  body["previous_response_id"] = "resp_1";
  CHECK(parse_error(body).find("previous_response_id: beluga stores no responses") == 0);
  body = base_body();
  body.erase("input");
  CHECK(parse_error(body) == "input: required");
  body = base_body();
  body.erase("model");
  CHECK(parse_error(body) == "model: required");
  body = base_body();
  body["tools"] = json::array({{{"type", "web_search"}}});
  CHECK(parse_error(body).find("tools[0]: tool type \"web_search\" is not supported") == 0);
  body = base_body();
  body["input"] = json::array({{{"type", "item_reference"}, {"id", "msg_1"}}});
  CHECK(parse_error(body).find("input[0]: item_reference needs stored responses") == 0);
  body = base_body();
  body["input"] = json::array({{{"type", "message"}, {"role", "user"}, {"content", json::array({{{"type", "audio"}}})}}});
  CHECK(parse_error(body) == "input[0].content[0]: unsupported content part type \"audio\"");
  body = base_body();
  body["input"] = json::parse(R"([{"role": "user", "content": "q"}, {"type": "function_call", "call_id": "c9", "name": "f", "arguments": "{}"}])");
  CHECK(parse_error(body) == "input: the function_call \"c9\" has no function_call_output after it");
  body = base_body();
  body["input"] = json::parse(R"([{"role": "tool", "content": "q"}])");
  CHECK(parse_error(body).find("input[0].role") == 0);
  body = base_body();
  body["max_output_tokens"] = -1;
  CHECK(parse_error(body) == "max_output_tokens: must be at least 1");
  body = base_body();
  body["background"] = true;
  CHECK(parse_error(body).find("background") == 0);
  body = base_body();
  body["input"] = json::array({{{"role", "system"}, {"content", "only rules"}}});
  CHECK(parse_error(body) == "input: no message to answer");
}

TEST_CASE("responses parse answers any member of any type with a value or an error") {
  // Each member of a full request swapped for each JSON type: never an
  // exception, and every error names a member or says what is wrong.
  const json body = codex_body();
  std::vector<json::json_pointer> pointers;
  test::json_pointers(body, json::json_pointer(), pointers);
  size_t errors = 0;
  for (const auto& pointer : pointers) {
    for (const json& value : test::json_of_every_type()) {
      json changed = body;
      changed[pointer] = value;
      Result<ChatRequest> request = make_error("not run");
      REQUIRE_NOTHROW(request = parse(changed));
      if (!request.ok()) {
        ++errors;
        CHECK_FALSE(request.message().empty());
      }
    }
  }
  CHECK(errors > pointers.size());  // most swaps are refused
}

ChatOutcome tool_outcome() {
  ChatOutcome outcome;
  outcome.id = "resp_abc";
  outcome.created = 1700000000;
  outcome.model = "beluga";
  outcome.reasoning = "Need ls.";
  outcome.content = "Listing.";
  outcome.tool_calls.push_back({"call_x1", "shell", R"({"command": ["ls"]})"});
  outcome.finish = FinishReason::kToolCalls;
  outcome.usage = {100, 60, 25, 10};
  return outcome;
}

TEST_CASE("responses response has reasoning message and function call items with usage") {
  json response = openai_responses_format()->response(tool_outcome());
  CHECK(response["id"] == "resp_abc");
  CHECK(response["object"] == "response");
  CHECK(response["created_at"] == 1700000000);
  CHECK(response["status"] == "completed");
  CHECK(response["incomplete_details"].is_null());
  CHECK(response["model"] == "beluga");
  const json& output = response["output"];
  REQUIRE(output.size() == 3);
  CHECK(output[0] == json{{"id", "rs_abc_0"},
                          {"type", "reasoning"},
                          {"summary", json::array()},
                          {"content", json::array({{{"type", "reasoning_text"}, {"text", "Need ls."}}})},
                          {"encrypted_content", "beluga-reasoning:Need ls."},
                          {"status", "completed"}});
  CHECK(output[1]["id"] == "msg_abc_1");
  CHECK(output[1]["type"] == "message");
  CHECK(output[1]["role"] == "assistant");
  CHECK(output[1]["status"] == "completed");
  CHECK(output[1]["content"] == json::array({{{"type", "output_text"}, {"text", "Listing."},
                                              {"annotations", json::array()}, {"logprobs", json::array()}}}));
  CHECK(output[2] == json{{"id", "fc_abc_2"}, {"type", "function_call"}, {"call_id", "call_x1"}, {"name", "shell"},
                          {"arguments", R"({"command": ["ls"]})"}, {"status", "completed"}});
  CHECK(response["usage"] == json{{"input_tokens", 100}, {"input_tokens_details", {{"cached_tokens", 60}}},
                                  {"output_tokens", 25}, {"output_tokens_details", {{"reasoning_tokens", 10}}},
                                  {"total_tokens", 125}});
}

TEST_CASE("responses reasoning items sent back restore the reasoning the response carried") {
  json response = openai_responses_format()->response(tool_outcome());
  json body = base_body();
  body["input"] = json::array({{{"role", "user"}, {"content", "go"}}});
  for (json item : response["output"]) {
    if (item["type"] == "reasoning") item.erase("content");  // what Codex drops from reasoning items
    body["input"].push_back(item);
  }
  body["input"].push_back({{"type", "function_call_output"}, {"call_id", "call_x1"}, {"output", "ok"}});
  auto request = parse(body);
  REQUIRE(request.ok());
  const Message& turn = request->conversation.messages[1];
  CHECK(turn.reasoning_content == "Need ls.");
  CHECK(turn.content == "Listing.");
  REQUIRE(turn.tool_calls.size() == 1);
  CHECK(turn.tool_calls[0].id == "call_x1");
}

TEST_CASE("responses max tokens makes the response incomplete") {
  ChatOutcome outcome;
  outcome.id = "resp_2";
  outcome.content = "cut";
  outcome.finish = FinishReason::kLength;
  json response = openai_responses_format()->response(outcome);
  CHECK(response["status"] == "incomplete");
  CHECK(response["incomplete_details"] == json{{"reason", "max_output_tokens"}});
  REQUIRE(response["output"].size() == 1);
  CHECK(response["output"][0]["id"] == "msg_2_0");
}

std::string stream_tool_turn(StreamEncoder& encoder, const ChatOutcome& outcome) {
  using K = ChatEvent::Kind;
  ChatOutcome head;
  head.id = outcome.id;
  head.created = outcome.created;
  head.model = outcome.model;
  std::string text = encoder.begin(head);
  text += encoder.event({K::kReasoningDelta, "Need ", 0, "", ""});
  text += encoder.event({K::kReasoningDelta, "ls.", 0, "", ""});
  text += encoder.event({K::kContentDelta, "List", 0, "", ""});
  text += encoder.event({K::kContentDelta, "ing.", 0, "", ""});
  text += encoder.event({K::kToolCallStarted, "", 0, "call_x1", "shell"});
  text += encoder.event({K::kArgumentsDelta, "{\"command\": ", 0, "", ""});
  text += encoder.event({K::kArgumentsDelta, "[\"ls\"]", 0, "", ""});
  text += encoder.event({K::kToolCallDone, R"({"command": ["ls"]})", 0, "", ""});
  text += encoder.end(outcome);
  return text;
}

TEST_CASE("responses stream of reasoning text and a call follows the event grammar") {
  auto format = openai_responses_format();
  auto encoder = format->stream();
  const ChatOutcome outcome = tool_outcome();
  auto events = parse_sse(stream_tool_turn(*encoder, outcome));
  CHECK(event_names(events) == std::vector<std::string>{
      "response.created", "response.in_progress",
      "response.output_item.added", "response.content_part.added",
      "response.reasoning_text.delta", "response.reasoning_text.delta",
      "response.reasoning_text.done", "response.content_part.done", "response.output_item.done",
      "response.output_item.added", "response.content_part.added",
      "response.output_text.delta", "response.output_text.delta",
      "response.output_text.done", "response.content_part.done", "response.output_item.done",
      "response.output_item.added",
      "response.function_call_arguments.delta", "response.function_call_arguments.delta",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done", "response.output_item.done",
      "response.completed"});
  for (size_t i = 0; i < events.size(); ++i) {
    CHECK(events[i].data["type"] == events[i].name);
    CHECK(events[i].data["sequence_number"] == i);
  }
  CHECK(events[0].data["response"]["status"] == "in_progress");
  CHECK(events[0].data["response"]["output"] == json::array());
  // Reasoning item 0.
  CHECK(events[2].data["output_index"] == 0);
  CHECK(events[2].data["item"]["type"] == "reasoning");
  CHECK(events[3].data["part"] == json{{"type", "reasoning_text"}, {"text", ""}});
  CHECK(events[4].data["item_id"] == "rs_abc_0");
  CHECK(events[4].data["delta"] == "Need ");
  CHECK(events[6].data["text"] == "Need ls.");
  // Message item 1.
  CHECK(events[9].data["item"]["id"] == "msg_abc_1");
  CHECK(events[9].data["item"]["status"] == "in_progress");
  CHECK(events[11].data["output_index"] == 1);
  CHECK(events[11].data["content_index"] == 0);
  CHECK(events[13].data["text"] == "Listing.");
  // Function call item 2: deltas add up to the whole arguments.
  CHECK(events[16].data["item"]["call_id"] == "call_x1");
  CHECK(events[16].data["item"]["arguments"] == "");
  std::string arguments;
  for (int i = 17; i <= 19; ++i) arguments += events[i].data["delta"].get<std::string>();
  CHECK(arguments == R"({"command": ["ls"]})");
  CHECK(events[20].data["arguments"] == arguments);
  CHECK(events[20].data["name"] == "shell");
  // The completed response is the non-streaming one.
  CHECK(events.back().data["response"] == format->response(outcome));
}

TEST_CASE("responses stream ends incomplete at the token limit and says nothing when cancelled") {
  auto format = openai_responses_format();
  ChatOutcome outcome = tool_outcome();
  outcome.finish = FinishReason::kLength;
  auto events = parse_sse(stream_tool_turn(*format->stream(), outcome));
  CHECK(events.back().name == "response.incomplete");
  CHECK(events.back().data["response"]["status"] == "incomplete");
  CHECK(events.back().data["response"]["incomplete_details"]["reason"] == "max_output_tokens");

  ChatOutcome cancelled;
  cancelled.finish = FinishReason::kCancelled;
  CHECK(format->stream()->end(cancelled).empty());
}

TEST_CASE("responses stream failure is an error event then response.failed") {
  auto format = openai_responses_format();
  auto encoder = format->stream();
  ChatOutcome head;
  head.id = "resp_e";
  encoder->begin(head);
  encoder->event({ChatEvent::Kind::kContentDelta, "par", 0, "", ""});
  auto events = parse_sse(encoder->error({500, "server_error", "the model failed"}));
  CHECK(event_names(events) == std::vector<std::string>{"response.output_text.done", "response.content_part.done",
                                                        "response.output_item.done", "error", "response.failed"});
  CHECK(events[3].data["message"] == "the model failed");
  CHECK(events[4].data["response"]["status"] == "failed");
  CHECK(events[4].data["response"]["error"]["message"] == "the model failed");
  CHECK(events[4].data["response"]["output"].size() == 1);
  CHECK(events[4].data["sequence_number"] == 9);  // created, in_progress, 3 for the item, 5 here

  CHECK(format->error_body({400, "invalid_request_error", "input: required"}) ==
        json{{"error", {{"message", "input: required"}, {"type", "invalid_request_error"}, {"param", nullptr}, {"code", nullptr}}}});
  CHECK(format->path() == "/v1/responses");
  CHECK(format->id_prefix() == "resp_");
  CHECK(format->call_id_prefix() == "call_");
}

}  // namespace
}  // namespace beluga::daemon::http
