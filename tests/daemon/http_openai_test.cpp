// The OpenAI chat completions format alone (JSON in, ChatRequest out;
// outcomes and events in, JSON and SSE text out), the pieces the formats
// share, the stop-string filter and the reuse store.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "daemon/http/generation.h"
#include "daemon/http/openai_chat.h"
#include "daemon/http/reuse_store.h"
#include "daemon/http/wire_json.h"
#include "daemon/model_queue.h"
#include "tests/agent/agent_test_support.h"
#include "tests/daemon/http_test_client.h"

using namespace beluga;
using namespace beluga::daemon::http;
using nlohmann::json;

namespace {

ChatRequest parse_ok(const json& body) {
  auto format = make_openai_chat_format();
  auto parsed = format->parse(body);
  INFO((parsed.ok() ? std::string() : parsed.message()));
  REQUIRE(parsed.ok());
  return std::move(parsed).value();
}

ChatEvent make_event(ChatEvent::Kind kind, std::string text = {}) {
  ChatEvent e;
  e.kind = kind;
  e.text = std::move(text);
  return e;
}

std::string parse_error(const json& body) {
  auto parsed = make_openai_chat_format()->parse(body);
  REQUIRE_FALSE(parsed.ok());
  return parsed.message();
}

}  // namespace

TEST_CASE("OpenAI chat requests become conversations with tools on the system message") {
  json body = {
      {"model", "deepseek-v4"},
      {"messages",
       {{{"role", "developer"}, {"content", "Be brief."}},
        {{"role", "user"}, {"content", {{{"type", "text"}, {"text", "Hello"}}, {{"type", "text"}, {"text", "there"}}}}},
        {{"role", "assistant"},
         {"content", nullptr},
         {"reasoning_content", "thought"},
         {"tool_calls",
          {{{"id", "call_1"}, {"type", "function"}, {"function", {{"name", "get"}, {"arguments", "{\"a\": 1}"}}}}}}},
        {{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "42"}}}},
      {"tools",
       {{{"type", "function"},
         {"function",
          {{"name", "get"}, {"description", "Gets."}, {"parameters", {{"type", "object"}}}, {"strict", true}}}}}},
      {"max_completion_tokens", 77},
      {"stop", "END"},
      {"temperature", 0.5},
      {"stream", true},
      {"stream_options", {{"include_usage", true}}},
  };
  ChatRequest r = parse_ok(body);
  CHECK(r.model == "deepseek-v4");
  REQUIRE(r.conversation.messages.size() == 4);
  const Message& system = r.conversation.messages[0];
  CHECK(system.role == Role::kSystem);
  CHECK(system.content == "Be brief.");
  REQUIRE(system.tools.size() == 1);
  CHECK(system.tools[0].name == "get");
  CHECK(system.tools[0].description == "Gets.");
  CHECK(system.tools[0].parameters_json == "{\"type\":\"object\"}");
  REQUIRE(system.tools[0].other_members_json.size() == 1);
  CHECK(system.tools[0].other_members_json[0].first == "strict");
  CHECK(r.conversation.messages[1].content == "Hello\nthere");
  const Message& assistant = r.conversation.messages[2];
  CHECK_FALSE(assistant.content.has_value());
  CHECK(assistant.reasoning_content == "thought");
  REQUIRE(assistant.tool_calls.size() == 1);
  CHECK(assistant.tool_calls[0].id == "call_1");
  CHECK(assistant.tool_calls[0].arguments == "{\"a\": 1}");
  CHECK(r.conversation.messages[3].role == Role::kTool);
  CHECK(r.conversation.messages[3].tool_call_id == "call_1");
  CHECK(r.max_tokens == 77);
  CHECK(r.stop == std::vector<std::string>{"END"});
  CHECK(r.temperature == Approx(0.5));
  CHECK(r.stream);
  CHECK(r.stream_usage);
  CHECK(r.render.thinking_mode == ThinkingMode::kThinking);

  // No system message: one is inserted for the tools.
  json plain = {{"messages", {{{"role", "user"}, {"content", "hi"}}}},
                {"tools", {{{"type", "function"}, {"function", {{"name", "f"}}}}}}};
  ChatRequest p = parse_ok(plain);
  REQUIRE(p.conversation.messages.size() == 2);
  CHECK(p.conversation.messages[0].role == Role::kSystem);
  CHECK(p.conversation.messages[0].content == "");
  CHECK(p.conversation.messages[0].tools.size() == 1);
  CHECK(render_prompt(p.conversation, p.render).ok());
}

TEST_CASE("OpenAI chat thinking switches and reasoning efforts") {
  json base = {{"messages", {{{"role", "user"}, {"content", "hi"}}}}};
  json disabled = base;
  disabled["thinking"] = {{"type", "disabled"}};
  CHECK(parse_ok(disabled).render.thinking_mode == ThinkingMode::kChat);
  json none = base;
  none["reasoning_effort"] = "none";
  CHECK(parse_ok(none).render.thinking_mode == ThinkingMode::kChat);
  json high = base;
  high["reasoning_effort"] = "high";
  CHECK(parse_ok(high).render.reasoning_effort == ReasoningEffort::kHigh);
  json max = base;
  max["reasoning_effort"] = "max";
  CHECK(parse_ok(max).render.reasoning_effort == ReasoningEffort::kMax);
  json low = base;
  low["reasoning_effort"] = "low";
  ChatRequest l = parse_ok(low);
  CHECK(l.render.reasoning_effort == ReasoningEffort::kDefault);  // the April release has no "low"
  CHECK(render_prompt(l.conversation, l.render).ok());
  json odd = base;
  odd["reasoning_effort"] = "extreme";
  CHECK(parse_error(odd).find("reasoning_effort") != std::string::npos);
}

TEST_CASE("OpenAI chat requests that cannot be served are refused with a reason") {
  CHECK(parse_error(json::array()).find("JSON object") != std::string::npos);
  CHECK(parse_error({{"messages", json::array()}}).find("messages") != std::string::npos);
  CHECK(parse_error({{"messages", {{{"role", "wizard"}, {"content", "x"}}}}}).find("wizard") != std::string::npos);
  CHECK(parse_error({{"messages", {{{"role", "user"}, {"content", {{{"type", "image_url"}}}}}}}}).find("image_url") !=
        std::string::npos);
  CHECK(parse_error({{"messages", {{{"role", "tool"}, {"content", "x"}}}}}).find("tool_call_id") != std::string::npos);
  CHECK(parse_error({{"messages", {{{"role", "user"}, {"content", "x"}}}}, {"max_tokens", 0}}).find("max_tokens") !=
        std::string::npos);
  CHECK(parse_error({{"messages", {{{"role", "user"}, {"content", "x"}}}}, {"temperature", 3}}).find("temperature") !=
        std::string::npos);
  CHECK(parse_error({{"messages", {{{"role", "user"}, {"content", "x"}}}}, {"n", 2}}).find("n:") != std::string::npos);
  CHECK(parse_error({{"messages", {{{"role", "user"}, {"content", "x"}}}}, {"stop", {1, 2}}}).find("stop") !=
        std::string::npos);
}

TEST_CASE("OpenAI chat responses and error bodies") {
  auto format = make_openai_chat_format();
  ChatOutcome o;
  o.id = "chatcmpl-x";
  o.created = 1700000000;
  o.model = "m";
  o.reasoning = "why";
  o.tool_calls = {{"call_a", "get", "{\"a\": 1}"}};
  o.finish = FinishReason::kToolCalls;
  o.usage = {100, 60, 20, 5};
  json r = format->response(o);
  CHECK(r["object"] == "chat.completion");
  CHECK(r["id"] == "chatcmpl-x");
  const json& message = r["choices"][0]["message"];
  CHECK(message["content"].is_null());
  CHECK(message["reasoning_content"] == "why");
  CHECK(message["tool_calls"][0] ==
        json({{"id", "call_a"}, {"type", "function"}, {"function", {{"name", "get"}, {"arguments", "{\"a\": 1}"}}}}));
  CHECK(r["choices"][0]["finish_reason"] == "tool_calls");
  CHECK(r["usage"]["prompt_tokens"] == 100);
  CHECK(r["usage"]["total_tokens"] == 120);
  CHECK(r["usage"]["prompt_tokens_details"]["cached_tokens"] == 60);
  CHECK(r["usage"]["completion_tokens_details"]["reasoning_tokens"] == 5);
  o.tool_calls.clear();
  o.content = "fine";
  o.finish = FinishReason::kLength;
  r = format->response(o);
  CHECK(r["choices"][0]["message"]["content"] == "fine");
  CHECK_FALSE(r["choices"][0]["message"].contains("tool_calls"));
  CHECK(r["choices"][0]["finish_reason"] == "length");
  CHECK(format->error_body(ApiError{400, "invalid_request_error", "bad"}) ==
        json({{"error", {{"message", "bad"}, {"type", "invalid_request_error"}, {"param", nullptr}, {"code", nullptr}}}}));
}

TEST_CASE("OpenAI chat streams chunks with tool-call deltas then usage and DONE") {
  auto format = make_openai_chat_format();
  ChatRequest request;
  request.stream_usage = true;
  auto encoder = format->stream_for(request);
  ChatOutcome head;
  head.id = "chatcmpl-s";
  head.created = 5;
  head.model = "m";
  std::string text = encoder->begin(head);
  text += encoder->event(make_event(ChatEvent::Kind::kReasoningDelta, "hm"));
  text += encoder->event(make_event(ChatEvent::Kind::kContentDelta, "ok"));
  ChatEvent started = make_event(ChatEvent::Kind::kToolCallStarted);
  started.call_index = 0, started.call_id = "call_z", started.name = "get";
  text += encoder->event(started);
  ChatEvent args = make_event(ChatEvent::Kind::kArgumentsDelta, "{\"a\": ");
  text += encoder->event(args);
  args.text = "1}";
  text += encoder->event(args);
  ChatEvent done = make_event(ChatEvent::Kind::kToolCallDone, "{\"a\": 1}");
  CHECK(encoder->event(done).empty());
  ChatOutcome end = head;
  end.finish = FinishReason::kToolCalls;
  end.usage = {10, 4, 3, 1};
  text += encoder->end(end);
  auto events = testing::sse_data(text);
  REQUIRE(events.size() == 9);
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    CHECK(events[i]["object"] == "chat.completion.chunk");
    CHECK(events[i]["id"] == "chatcmpl-s");
  }
  CHECK(events[0]["choices"][0]["delta"]["role"] == "assistant");
  CHECK(events[1]["choices"][0]["delta"]["reasoning_content"] == "hm");
  CHECK(events[2]["choices"][0]["delta"]["content"] == "ok");
  CHECK(events[3]["choices"][0]["delta"]["tool_calls"][0] ==
        json({{"index", 0}, {"id", "call_z"}, {"type", "function"}, {"function", {{"name", "get"}, {"arguments", ""}}}}));
  CHECK(events[4]["choices"][0]["delta"]["tool_calls"][0] == json({{"index", 0}, {"function", {{"arguments", "{\"a\": "}}}}));
  CHECK(events[5]["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"] == "1}");
  CHECK(events[6]["choices"][0]["finish_reason"] == "tool_calls");
  CHECK(events[7]["choices"] == json::array());
  CHECK(events[7]["usage"]["prompt_tokens_details"]["cached_tokens"] == 4);
  CHECK(events[8] == "[DONE]");
  // Without include_usage, no usage chunk.
  auto plain = format->stream_for(ChatRequest{});
  plain->begin(head);
  auto tail = testing::sse_data(plain->end(end));
  REQUIRE(tail.size() == 2);
  CHECK(tail[1] == "[DONE]");
  CHECK(testing::sse_data(plain->error(ApiError{500, "api_error", "boom"}))[0]["error"]["message"] == "boom");
}

TEST_CASE("Stop strings hold back a possible start and cut before the first match") {
  StopFilter f({"STOP", "\n\n"});
  CHECK(f.feed("abc ST") == "abc ");
  CHECK(f.feed("O") == "");
  CHECK(f.feed("x") == "STOx");
  CHECK(f.feed("y\n") == "y");
  CHECK(f.feed("\nrest") == "");
  CHECK(f.hit());
  CHECK(f.matched() == "\n\n");
  CHECK(f.feed("more") == "");
  StopFilter longest({"ab", "abc", "b"});
  CHECK(longest.feed("xabcd") == "x");
  CHECK(longest.matched() == "abc");
  StopFilter g({"END"});
  CHECK(g.feed("a E") == "a ");
  CHECK(g.flush() == "E");
  StopFilter none({});
  CHECK(none.feed("all of it") == "all of it");
  CHECK(valid_utf8("ok \xC3\xA9 \xFF x\xE2\x82") == "ok \xC3\xA9 \xEF\xBF\xBD x\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST_CASE("The reuse store finds re-sent answers by call id or content and forgets the oldest") {
  ReuseStore store(2, 1 << 20);
  store.put(SampledTurn{"<think>r</think>text\n\n<｜DSML｜tool_calls>…", {1, 2, 3}, "r", "text", {{"call_1", "get", "{\"a\": 1}"}}});
  Message m;
  m.role = Role::kAssistant;
  m.content = "text";
  m.tool_calls = {ToolCall{"call_1", "get", "{ \"a\" : 1 }"}};  // re-serialised by the client: same value
  auto found = store.find(m);
  REQUIRE(found);
  CHECK(found->tokens == std::vector<int32_t>{1, 2, 3});
  m.reasoning_content = "r";
  CHECK(store.find(m));
  m.reasoning_content = "other reasoning";
  CHECK_FALSE(store.find(m));
  m.reasoning_content.reset();
  m.tool_calls[0].arguments = "{\"a\": 2}";
  CHECK_FALSE(store.find(m));
  m.tool_calls[0].arguments = "{\"a\": 1}";
  m.content = "changed";
  CHECK_FALSE(store.find(m));

  store.put(SampledTurn{"</think>hello", {7}, "", "hello", {}});
  Message plain;
  plain.role = Role::kAssistant;
  plain.content = "hello";
  REQUIRE(store.find(plain));
  CHECK(store.find(plain)->raw_completion == "</think>hello");
  Message empty;
  empty.role = Role::kAssistant;
  empty.content = "";
  CHECK_FALSE(store.find(empty));

  // A third answer evicts the least recently used (the tool-call one: "hello" was just found).
  store.put(SampledTurn{"</think>third", {}, "", "third", {}});
  CHECK(store.size() == 2);
  m.content = "text";
  CHECK_FALSE(store.find(m));
  CHECK(store.find(plain));

  // Bytes bound: an answer larger than the limit leaves nothing behind it.
  ReuseStore tiny(100, 64);
  tiny.put(SampledTurn{"</think>" + std::string(100, 'x'), {}, "", std::string(100, 'x'), {}});
  CHECK(tiny.size() == 0);
  CHECK(tiny.bytes() == 0);
}

TEST_CASE("A re-sent answer renders as the text the model sampled") {
  beluga::testing::ScratchDir dir;
  beluga::testing::write_replay(dir.file("m.jsonl"), {"x"});
  auto model = beluga::daemon::SharedModel::open("replay:" + dir.file("m.jsonl"));
  REQUIRE(model.ok());
  ChatGenerator generator(**model);
  // What the model sampled: a tool call whose arguments the parser writes
  // as {"path": "a.c"}; the client re-sends them re-serialised.
  const std::string sampled =
      "<think>look</think>\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"read\">\n<｜DSML｜parameter name=\"path\" "
      "string=\"true\">a.c</｜DSML｜parameter>\n</｜DSML｜invoke>\n</｜DSML｜tool_calls>";
  generator.store().put(SampledTurn{sampled, {5, 6}, "look", "", {{"call_q", "read", "{\"path\": \"a.c\"}"}}});
  ChatRequest request = parse_ok(
      {{"messages",
        {{{"role", "user"}, {"content", "read a.c"}},
         {{"role", "assistant"},
          {"content", ""},
          {"tool_calls", {{{"id", "call_q"}, {"type", "function"}, {"function", {{"name", "read"}, {"arguments", "{\"path\":\"a.c\"}"}}}}}}},
         {{"role", "tool"}, {"tool_call_id", "call_q"}, {"content", "int x;"}}}},
       {"tools", {{{"type", "function"}, {"function", {{"name", "read"}}}}}}});
  auto prepared = generator.prepare(request);
  REQUIRE(prepared.ok());
  CHECK(prepared->reused_turns == 1);
  REQUIRE(prepared->known.size() == 1);
  CHECK(prepared->known[0].text == sampled.substr(std::string("<think>").size()));
  CHECK(prepared->known[0].ids == std::vector<int32_t>{5, 6});
  CHECK(prepared->prompt.find("<｜Assistant｜>" + sampled + "<｜end▁of▁sentence｜>") != std::string::npos);
  // A different call id is not reused.
  request.conversation.messages[2].tool_calls[0].id = "call_other";
  auto other = generator.prepare(request);
  REQUIRE(other.ok());
  CHECK(other->reused_turns == 0);
}
