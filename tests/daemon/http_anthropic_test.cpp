// daemon/http/anthropic_messages: request JSON → ChatRequest, outcomes →
// message JSON, event sequences → the SSE text the Anthropic SDKs read.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "daemon/http/anthropic_messages.h"
#include "engine/model/chat_template.h"
#include "tests/daemon/sse_events.h"

namespace beluga::daemon::http {
namespace {

using nlohmann::json;
using test::event_names;
using test::parse_sse;

Result<ChatRequest> parse(const json& body) { return anthropic_messages_format()->parse(body); }

json base_body() { return json{{"model", "beluga"}, {"max_tokens", 256}, {"messages", json::array({{{"role", "user"}, {"content", "hi"}}})}}; }

std::string parse_error(const json& body) {
  auto request = parse(body);
  REQUIRE_FALSE(request.ok());
  return request.message();
}

// A tool-using conversation as Claude Code sends it: system blocks, tools,
// a turn with thinking and a call, results as string and as blocks.
json agent_body() {
  return json::parse(R"({
    "model": "claude-sonnet-4-5", "max_tokens": 1024, "stream": true, "temperature": 0.5,
    "stop_sequences": ["END"], "metadata": {"user_id": "u-1"},
    "thinking": {"type": "enabled", "budget_tokens": 2048},
    "system": [{"type": "text", "text": "You are a coder."}, {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
    "tools": [{"name": "read_file", "description": "Read a file",
               "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}}],
    "tool_choice": {"type": "auto"},
    "messages": [
      {"role": "user", "content": "Read a.txt and b.txt"},
      {"role": "assistant", "content": [
        {"type": "thinking", "thinking": "Two files.", "signature": "sig-from-client"},
        {"type": "text", "text": "Reading both."},
        {"type": "tool_use", "id": "toolu_1", "name": "read_file", "input": {"path": "a.txt"}},
        {"type": "tool_use", "id": "toolu_2", "name": "read_file", "input": {"path": "b.txt"}}]},
      {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_2", "content": [{"type": "text", "text": "B body"}, {"type": "image", "source": {}}]},
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "no such file", "is_error": true},
        {"type": "text", "text": "Now summarise."}]}
    ]})");
}

TEST_CASE("anthropic request puts the system blocks and tools on one system message") {
  auto request = parse(agent_body());
  REQUIRE(request.ok());
  CHECK(request->model == "claude-sonnet-4-5");
  CHECK(request->max_tokens == 1024);
  CHECK(request->stream);
  CHECK(request->temperature == Approx(0.5));
  CHECK(request->stop == std::vector<std::string>{"END"});
  CHECK(request->user == "u-1");
  CHECK(request->tool_choice == "auto");
  CHECK(request->render.thinking_mode == ThinkingMode::kThinking);
  const auto& messages = request->conversation.messages;
  REQUIRE(messages.size() == 6);
  CHECK(messages[0].role == Role::kSystem);
  CHECK(messages[0].content == "You are a coder.\n\nBe brief.");
  REQUIRE(messages[0].tools.size() == 1);
  CHECK(messages[0].tools[0].name == "read_file");
  CHECK(messages[0].tools[0].description == "Read a file");
  REQUIRE(messages[0].tools[0].parameters_json.has_value());
  CHECK(json::parse(*messages[0].tools[0].parameters_json) ==
        json::parse(R"({"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]})"));
  CHECK(request->conversation.context.empty());
}

TEST_CASE("anthropic assistant blocks become one turn with reasoning content and calls") {
  auto request = parse(agent_body());
  REQUIRE(request.ok());
  const Message& turn = request->conversation.messages[2];
  CHECK(turn.role == Role::kAssistant);
  CHECK(turn.reasoning_content == "Two files.");
  CHECK(turn.content == "Reading both.");
  REQUIRE(turn.tool_calls.size() == 2);
  CHECK(turn.tool_calls[0].id == "toolu_1");
  CHECK(turn.tool_calls[0].name == "read_file");
  CHECK(json::parse(turn.tool_calls[0].arguments) == json{{"path", "a.txt"}});
  CHECK(turn.tool_calls[1].id == "toolu_2");
  CHECK_FALSE(turn.wo_eos);
}

TEST_CASE("anthropic tool results keep their ids and become tool messages in order") {
  auto request = parse(agent_body());
  REQUIRE(request.ok());
  const auto& messages = request->conversation.messages;
  CHECK(messages[3].role == Role::kTool);
  CHECK(messages[3].tool_call_id == "toolu_2");
  REQUIRE(messages[3].content_blocks.size() == 2);
  CHECK(messages[3].content_blocks[0].type == "text");
  CHECK(messages[3].content_blocks[0].text == "B body");
  CHECK(messages[3].content_blocks[1].type == "image");
  CHECK(messages[4].role == Role::kTool);
  CHECK(messages[4].tool_call_id == "toolu_1");
  CHECK(messages[4].content == "Error: no such file");
  CHECK(messages[5].role == Role::kUser);
  CHECK(messages[5].content == "Now summarise.");
  CHECK(check_tool_results(request->conversation).ok());
}

TEST_CASE("anthropic agent conversation renders to a V4 prompt with results in call order") {
  auto request = parse(agent_body());
  REQUIRE(request.ok());
  auto prompt = render_prompt(request->conversation, request->render);
  REQUIRE(prompt.ok());
  CHECK(prompt->find("read_file") != std::string::npos);
  size_t a = prompt->find("Error: no such file");
  size_t b = prompt->find("B body");
  REQUIRE(a != std::string::npos);
  REQUIRE(b != std::string::npos);
  CHECK(a < b);  // toolu_1 was called first
  CHECK(prompt->find("[Unsupported image]") != std::string::npos);
  CHECK(prompt->find("Now summarise.") != std::string::npos);
}

TEST_CASE("anthropic thinking switch chooses the V4 mode") {
  json body = base_body();
  CHECK(parse(body)->render.thinking_mode == ThinkingMode::kChat);
  body["thinking"] = {{"type", "enabled"}, {"budget_tokens", 1024}};
  CHECK(parse(body)->render.thinking_mode == ThinkingMode::kThinking);
  body["thinking"] = {{"type", "adaptive"}};
  CHECK(parse(body)->render.thinking_mode == ThinkingMode::kThinking);
  body["thinking"] = {{"type", "disabled"}};
  CHECK(parse(body)->render.thinking_mode == ThinkingMode::kChat);
  body["thinking"] = {{"type", "sometimes"}};
  CHECK(parse_error(body).find("thinking.type") != std::string::npos);
}

TEST_CASE("anthropic tool_choice maps to the request's names") {
  json body = base_body();
  CHECK(parse(body)->tool_choice == "auto");
  body["tool_choice"] = {{"type", "any"}};
  CHECK(parse(body)->tool_choice == "required");
  body["tool_choice"] = {{"type", "none"}};
  CHECK(parse(body)->tool_choice == "none");
  body["tool_choice"] = {{"type", "tool"}, {"name", "read_file"}};
  CHECK(parse(body)->tool_choice == "read_file");
  body["tool_choice"] = {{"type", "tool"}};
  CHECK(parse_error(body).find("tool_choice.name") != std::string::npos);
}

TEST_CASE("anthropic system string and a last assistant prefill") {
  json body = base_body();
  body["system"] = "Be terse.";
  body["messages"].push_back({{"role", "assistant"}, {"content", "The answer is"}});
  auto request = parse(body);
  REQUIRE(request.ok());
  const auto& messages = request->conversation.messages;
  REQUIRE(messages.size() == 3);
  CHECK(messages[0].role == Role::kSystem);
  CHECK(messages[0].content == "Be terse.");
  CHECK(messages[0].tools.empty());
  CHECK(messages[2].wo_eos);
}

TEST_CASE("anthropic tools without a system prompt get an empty system message first") {
  json body = base_body();
  body["tools"] = json::array({{{"name", "ls"}, {"input_schema", {{"type", "object"}}}}});
  auto request = parse(body);
  REQUIRE(request.ok());
  const auto& messages = request->conversation.messages;
  REQUIRE(messages.size() == 2);
  CHECK(messages[0].role == Role::kSystem);
  CHECK(messages[0].content == "");
  REQUIRE(messages[0].tools.size() == 1);
  CHECK_FALSE(messages[0].tools[0].description.has_value());
}

TEST_CASE("anthropic images in a user message become unsupported text") {
  json body = base_body();
  body["messages"][0]["content"] = json::array({{{"type", "image"}, {"source", json::object()}}, {{"type", "text"}, {"text", "what is it"}}});
  auto request = parse(body);
  REQUIRE(request.ok());
  const auto& messages = request->conversation.messages;
  REQUIRE(messages.size() == 2);
  CHECK(messages[0].content == "[Unsupported image]");
  CHECK(messages[1].content == "what is it");
}

TEST_CASE("anthropic bad requests name the member at fault") {
  json body = base_body();
  body.erase("max_tokens");
  CHECK(parse_error(body) == "max_tokens: required");
  body = base_body();
  body["max_tokens"] = 0;
  CHECK(parse_error(body) == "max_tokens: must be at least 1");
  body = base_body();
  body.erase("model");
  CHECK(parse_error(body) == "model: required");
  body = base_body();
  body["messages"] = json::array();
  CHECK(parse_error(body) == "messages: at least one message is required");
  body = base_body();
  body["messages"][0]["role"] = "system";
  CHECK(parse_error(body).find("messages[0].role") != std::string::npos);
  body = base_body();
  body["messages"][0]["content"] = json::array({{{"type", "tool_use"}, {"id", "x"}, {"name", "y"}, {"input", json::object()}}});
  CHECK(parse_error(body) == "messages[0].content[0]: a tool_use block belongs in an assistant message");
  body = base_body();
  body["messages"][0]["content"] = json::array({{{"type", "tool_result"}}});
  CHECK(parse_error(body) == "messages[0].content[0]: a tool_result needs \"tool_use_id\"");
  body = base_body();
  body["messages"][0]["content"] = 5;
  CHECK(parse_error(body) == "messages[0].content: expected a string or an array of blocks, got number");
  body = base_body();
  body["tools"] = json::array({{{"type", "web_search_20250305"}, {"name", "web_search"}}});
  CHECK(parse_error(body).find("tools[0]: tool type \"web_search_20250305\" is a server tool") == 0);
  body = base_body();
  body["tools"] = json::array({{{"name", "ls"}}});
  CHECK(parse_error(body) == "tools[0].input_schema: required");
  body = base_body();
  body["temperature"] = "hot";
  CHECK(parse_error(body) == "temperature: expected a number, got string");
  body = base_body();
  body["messages"].push_back({{"role", "assistant"},
                              {"content", json::array({{{"type", "tool_use"}, {"id", "toolu_9"}, {"name", "ls"}, {"input", json::object()}}})}});
  CHECK(parse_error(body).find("\"toolu_9\"") != std::string::npos);
  CHECK(parse_error(json::array()) == "the request body must be a JSON object");
}

TEST_CASE("anthropic parse answers any member of any type with a value or an error") {
  // Each member of a full request swapped for each JSON type: never an
  // exception, and every error names a member or says what is wrong.
  const json body = agent_body();
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
  outcome.id = "msg_abc";
  outcome.created = 1700000000;
  outcome.model = "beluga";
  outcome.reasoning = "Need the file.";
  outcome.content = "Let me look.";
  outcome.tool_calls.push_back({"toolu_x1", "read_file", R"({"path": "a.txt"})"});
  outcome.finish = FinishReason::kToolCalls;
  outcome.usage = {100, 60, 25, 10};
  return outcome;
}

TEST_CASE("anthropic response carries thinking text and tool_use blocks with split usage") {
  json response = anthropic_messages_format()->response(tool_outcome());
  CHECK(response["id"] == "msg_abc");
  CHECK(response["type"] == "message");
  CHECK(response["role"] == "assistant");
  CHECK(response["model"] == "beluga");
  REQUIRE(response["content"].size() == 3);
  CHECK(response["content"][0] == json{{"type", "thinking"}, {"thinking", "Need the file."},
                                       {"signature", thinking_signature("Need the file.")}});
  CHECK(response["content"][1] == json{{"type", "text"}, {"text", "Let me look."}});
  CHECK(response["content"][2] ==
        json{{"type", "tool_use"}, {"id", "toolu_x1"}, {"name", "read_file"}, {"input", {{"path", "a.txt"}}}});
  CHECK(response["stop_reason"] == "tool_use");
  CHECK(response["stop_sequence"].is_null());
  // input_tokens + cache_read_input_tokens is the whole prompt.
  CHECK(response["usage"] == json{{"input_tokens", 40}, {"output_tokens", 25}, {"cache_read_input_tokens", 60},
                                  {"cache_creation_input_tokens", 0}});
}

TEST_CASE("anthropic stop reasons for length and stop strings") {
  ChatOutcome outcome;
  outcome.id = "msg_1";
  outcome.content = "partial";
  outcome.finish = FinishReason::kLength;
  json response = anthropic_messages_format()->response(outcome);
  CHECK(response["stop_reason"] == "max_tokens");
  CHECK(response["content"].size() == 1);
  outcome.finish = FinishReason::kStop;
  CHECK(anthropic_messages_format()->response(outcome)["stop_reason"] == "end_turn");
  outcome.stop_sequence = "END";
  response = anthropic_messages_format()->response(outcome);
  CHECK(response["stop_reason"] == "stop_sequence");
  CHECK(response["stop_sequence"] == "END");
}

TEST_CASE("anthropic tool arguments that are not an object are kept whole") {
  ChatOutcome outcome = tool_outcome();
  outcome.tool_calls[0].arguments = "{\"path\": ";
  json response = anthropic_messages_format()->response(outcome);
  CHECK(response["content"][2]["input"] == json{{"arguments", "{\"path\": "}});
}

TEST_CASE("anthropic thinking signatures are a digest of the text") {
  CHECK(thinking_signature("") == "beluga-fnv1a64:cbf29ce484222325");
  CHECK(thinking_signature("a") == "beluga-fnv1a64:af63dc4c8601ec8c");
  CHECK(thinking_signature("Need the file.") != thinking_signature("Need the file"));
}

TEST_CASE("anthropic stream of a text answer is the exact event text") {
  auto encoder = anthropic_messages_format()->stream();
  ChatOutcome head;
  head.id = "msg_1";
  head.model = "m";
  std::string text = encoder->begin(head);
  text += encoder->event({ChatEvent::Kind::kContentDelta, "Hel", 0, "", ""});
  text += encoder->event({ChatEvent::Kind::kContentDelta, "lo", 0, "", ""});
  ChatOutcome outcome = head;
  outcome.content = "Hello";
  outcome.usage = {7, 0, 2, 0};
  text += encoder->end(outcome);
  CHECK(text ==
        "event: message_start\n"
        "data: {\"message\":{\"content\":[],\"id\":\"msg_1\",\"model\":\"m\",\"role\":\"assistant\",\"stop_reason\":null,"
        "\"stop_sequence\":null,\"type\":\"message\",\"usage\":{\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,"
        "\"input_tokens\":0,\"output_tokens\":0}},\"type\":\"message_start\"}\n\n"
        "event: ping\ndata: {\"type\":\"ping\"}\n\n"
        "event: content_block_start\n"
        "data: {\"content_block\":{\"text\":\"\",\"type\":\"text\"},\"index\":0,\"type\":\"content_block_start\"}\n\n"
        "event: content_block_delta\n"
        "data: {\"delta\":{\"text\":\"Hel\",\"type\":\"text_delta\"},\"index\":0,\"type\":\"content_block_delta\"}\n\n"
        "event: content_block_delta\n"
        "data: {\"delta\":{\"text\":\"lo\",\"type\":\"text_delta\"},\"index\":0,\"type\":\"content_block_delta\"}\n\n"
        "event: content_block_stop\n"
        "data: {\"index\":0,\"type\":\"content_block_stop\"}\n\n"
        "event: message_delta\n"
        "data: {\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"type\":\"message_delta\","
        "\"usage\":{\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"input_tokens\":7,\"output_tokens\":2}}\n\n"
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
}

TEST_CASE("anthropic stream of thinking then text then calls opens one block each") {
  auto encoder = anthropic_messages_format()->stream();
  ChatOutcome head;
  head.id = "msg_2";
  head.model = "m";
  std::string text = encoder->begin(head);
  using K = ChatEvent::Kind;
  text += encoder->event({K::kReasoningDelta, "Need ", 0, "", ""});
  text += encoder->event({K::kReasoningDelta, "files.", 0, "", ""});
  text += encoder->event({K::kContentDelta, "Reading.", 0, "", ""});
  text += encoder->event({K::kToolCallStarted, "", 0, "toolu_a", "read_file"});
  text += encoder->event({K::kArgumentsDelta, "{\"path\": ", 0, "", ""});
  text += encoder->event({K::kArgumentsDelta, "\"a.txt\"", 0, "", ""});
  text += encoder->event({K::kToolCallDone, "{\"path\": \"a.txt\"}", 0, "", ""});  // "}" comes with done
  text += encoder->event({K::kToolCallStarted, "", 1, "toolu_b", "list"});
  text += encoder->event({K::kToolCallDone, "{}", 1, "", ""});  // no deltas at all
  ChatOutcome outcome = head;
  outcome.finish = FinishReason::kToolCalls;
  outcome.usage = {50, 20, 30, 5};
  text += encoder->end(outcome);

  auto events = parse_sse(text);
  CHECK(event_names(events) ==
        std::vector<std::string>{"message_start", "ping",
                                 "content_block_start", "content_block_delta", "content_block_delta", "content_block_delta",
                                 "content_block_stop",
                                 "content_block_start", "content_block_delta", "content_block_stop",
                                 "content_block_start", "content_block_delta", "content_block_delta", "content_block_delta",
                                 "content_block_stop",
                                 "content_block_start", "content_block_delta", "content_block_stop",
                                 "message_delta", "message_stop"});
  for (const auto& event : events) CHECK(event.data["type"] == event.name);
  // Block 0: thinking, closed by its signature.
  CHECK(events[2].data["content_block"] == json{{"type", "thinking"}, {"thinking", ""}, {"signature", ""}});
  CHECK(events[3].data["delta"] == json{{"type", "thinking_delta"}, {"thinking", "Need "}});
  CHECK(events[5].data["delta"] == json{{"type", "signature_delta"}, {"signature", thinking_signature("Need files.")}});
  CHECK(events[6].data["index"] == 0);
  // Block 1: text.
  CHECK(events[7].data["index"] == 1);
  CHECK(events[8].data["delta"] == json{{"type", "text_delta"}, {"text", "Reading."}});
  // Block 2: the first call; its partial_json pieces make the arguments.
  CHECK(events[10].data["content_block"] ==
        json{{"type", "tool_use"}, {"id", "toolu_a"}, {"name", "read_file"}, {"input", json::object()}});
  std::string partial;
  for (int i = 11; i <= 13; ++i) {
    CHECK(events[i].data["index"] == 2);
    CHECK(events[i].data["delta"]["type"] == "input_json_delta");
    partial += events[i].data["delta"]["partial_json"].get<std::string>();
  }
  CHECK(json::parse(partial) == json{{"path", "a.txt"}});
  // Block 3: the second call's whole arguments in one piece.
  CHECK(events[15].data["index"] == 3);
  CHECK(events[16].data["delta"]["partial_json"] == "{}");
  CHECK(events[18].data["delta"] == json{{"stop_reason", "tool_use"}, {"stop_sequence", nullptr}});
  CHECK(events[18].data["usage"]["input_tokens"] == 30);
  CHECK(events[18].data["usage"]["cache_read_input_tokens"] == 20);
  CHECK(events[18].data["usage"]["output_tokens"] == 30);
}

TEST_CASE("anthropic stream errors and cancellations") {
  auto format = anthropic_messages_format();
  auto encoder = format->stream();
  ChatOutcome head;
  head.id = "msg_3";
  encoder->begin(head);
  encoder->event({ChatEvent::Kind::kContentDelta, "par", 0, "", ""});
  auto events = parse_sse(encoder->error({500, "api_error", "the model failed"}));
  REQUIRE(events.size() == 2);
  CHECK(events[0].name == "content_block_stop");
  CHECK(events[1].name == "error");
  CHECK(events[1].data == json{{"type", "error"}, {"error", {{"type", "api_error"}, {"message", "the model failed"}}}});

  ChatOutcome cancelled;
  cancelled.finish = FinishReason::kCancelled;
  CHECK(format->stream()->end(cancelled).empty());

  CHECK(format->error_body({401, "", "bad token"}) ==
        json{{"type", "error"}, {"error", {{"type", "authentication_error"}, {"message", "bad token"}}}});
  CHECK(format->error_body({413, "request_too_large", "too big"})["error"]["type"] == "request_too_large");
  CHECK(format->error_body({503, "server_busy", "busy"})["error"]["type"] == "overloaded_error");
  CHECK(format->path() == "/v1/messages");
  CHECK(format->id_prefix() == "msg_");
  CHECK(format->call_id_prefix() == "toolu_");
}

}  // namespace
}  // namespace beluga::daemon::http
