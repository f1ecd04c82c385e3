// The remote provider against a real HTTP server on loopback that the test
// scripts (scripted_http_server.h): the request it sends (messages, tools,
// thinking switch, the key only in the Authorization header), the V4 text
// it rebuilds from streamed deltas (byte-identical to render_prompt's),
// usage, retries, timeouts, cancellation and its error messages.
#include <catch2/catch.hpp>

#define BELUGA_HTTP_TLS  // this test's server speaks TLS (before scripted_http_server.h's include)
#include <map>
#include <random>

#include "agent/agent_config.h"
#include "agent/openai_chat.h"
#include "agent/remote_provider.h"
#include "engine/model/dsml_parser.h"
#include "tests/agent/scripted_http_server.h"
#include "tests/test_support.h"
#include "tools/http/sse_reader.h"

namespace {

using namespace beluga;
using namespace beluga::agent;
using beluga::testing::answer_status;
using beluga::testing::CapturedRequest;
using beluga::testing::delta_event;
using beluga::testing::done_event;
using beluga::testing::ScriptedConnection;
using beluga::testing::ScriptedHttpServer;
using beluga::testing::stream_events;
using beluga::testing::usage_event;
using Catch::Matchers::Contains;
using nlohmann::json;

const std::string kKey = "sk-test-SECRET-4242";

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

RemoteSettings settings_for(const std::string& url, int attempts = 3) {
  RemoteConfig config;
  config.model = "test-model";
  config.max_attempts = attempts;
  auto settings = resolve_remote_settings(url, config, env_of({{"BELUGA_REMOTE_API_KEY", kKey}}));
  REQUIRE(settings.ok());
  settings->backoff_first = std::chrono::milliseconds(10);
  return std::move(settings).value();
}

std::unique_ptr<ModelProvider> open(RemoteSettings& settings) {
  auto provider = open_remote_provider(settings);
  REQUIRE(provider.ok());
  return std::move(provider).value();
}

ToolDeclaration read_tool() {
  ToolDeclaration t;
  t.name = "read";
  t.description = "Read a file";
  t.parameters_json = R"({"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]})";
  return t;
}

Conversation base_conversation() {
  Conversation c;
  Message system;
  system.role = Role::kSystem;
  system.content = "You are a test.";
  system.tools = {read_tool()};
  Message user;
  user.role = Role::kUser;
  user.content = "Read a.txt";
  c.messages = {system, user};
  return c;
}

// A request for `conversation`, its prompt rendered as the agent does.
CompletionRequest request_for(const Conversation& conversation, ThinkingMode mode, std::string* streamed) {
  CompletionRequest request;
  request.render_options.thinking_mode = mode;
  auto prompt = render_prompt(conversation, request.render_options);
  REQUIRE(prompt.ok());
  request.prompt = *prompt;
  request.conversation = std::make_shared<Conversation>(conversation);
  request.max_tokens = 1000;
  request.on_text = [streamed](std::string_view piece) {
    streamed->append(piece);
    return true;
  };
  return request;
}

}  // namespace

TEST_CASE("The remote provider sends the conversation as chat messages and streams reasoning and content as V4 text", "[remote]") {
  ScriptedHttpServer server({stream_events({
      delta_event({{"role", "assistant"}, {"content", ""}}),
      delta_event({{"reasoning_content", "Let me "}}),
      delta_event({{"reasoning_content", "think."}}),
      delta_event({{"content", "Hello"}}),
      delta_event({{"content", " there"}}, "stop"),
      usage_event(120, 100),
      done_event(),
  })});
  RemoteSettings settings = settings_for(server.base_url());
  auto provider = open(settings);
  Conversation conversation = base_conversation();
  // An earlier step: an assistant turn with a call, and its result.
  Message earlier;
  earlier.role = Role::kAssistant;
  earlier.reasoning_content = "Need the file.";
  earlier.content = "";
  earlier.tool_calls = {{"call_1_1_1", "read", R"({"path": "a.txt"})"}};
  Message result;
  result.role = Role::kTool;
  result.tool_call_id = "call_1_1_1";
  result.content = "hello";
  conversation.messages.push_back(earlier);
  conversation.messages.push_back(result);
  std::string streamed;
  auto completion = provider->complete(request_for(conversation, ThinkingMode::kThinking, &streamed));
  REQUIRE(completion.ok());
  CHECK(completion->text == "Let me think.</think>Hello there");
  CHECK(streamed == completion->text);
  CHECK(completion->stop == CompletionStop::kEndOfTurn);
  CHECK(completion->prompt_tokens == 120);
  CHECK(completion->prefilled_tokens == 20);
  auto parsed = parse_completion(completion->text + std::string(dsv4::kEos), ThinkingMode::kThinking);
  REQUIRE(parsed.ok());
  CHECK(parsed->reasoning_content == "Let me think.");
  CHECK(parsed->content == "Hello there");

  auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  const CapturedRequest& r = requests[0];
  CHECK(r.method == "POST");
  CHECK(r.target == "/v1/chat/completions");
  CHECK(r.header("Authorization") == "Bearer " + kKey);
  json body = r.json();
  REQUIRE(body.is_object());
  CHECK(body["model"] == "test-model");
  CHECK(body["stream"] == true);
  CHECK(body["stream_options"]["include_usage"] == true);
  CHECK(body["thinking"]["type"] == "enabled");
  CHECK(body["chat_template_kwargs"]["thinking"] == true);
  CHECK(body["max_tokens"] == 1000);
  REQUIRE(body["tools"].size() == 1);
  CHECK(body["tools"][0]["type"] == "function");
  CHECK(body["tools"][0]["function"]["name"] == "read");
  CHECK(body["tools"][0]["function"]["parameters"]["required"][0] == "path");
  const json& messages = body["messages"];
  REQUIRE(messages.size() == 4);
  CHECK(messages[0] == json({{"role", "system"}, {"content", "You are a test."}}));
  CHECK(messages[1] == json({{"role", "user"}, {"content", "Read a.txt"}}));
  CHECK(messages[2]["role"] == "assistant");
  CHECK(messages[2]["reasoning_content"] == "Need the file.");
  CHECK(messages[2]["tool_calls"][0]["id"] == "call_1_1_1");
  CHECK(messages[2]["tool_calls"][0]["function"]["name"] == "read");
  CHECK(messages[2]["tool_calls"][0]["function"]["arguments"] == R"({"path": "a.txt"})");
  CHECK(messages[3] == json({{"role", "tool"}, {"tool_call_id", "call_1_1_1"}, {"content", "hello"}}));
  // The key is in the header and nowhere the user or a log sees.
  CHECK(provider->describe() == "remote:" + server.base_url() + " model test-model");
  CHECK(provider->describe().find(kKey) == std::string::npos);
}

TEST_CASE("Tool calls split across deltas become the DSML block render_prompt writes for that turn", "[remote]") {
  // Two calls, names and arguments in pieces, without chunked encoding.
  ScriptedHttpServer server({stream_events({
      delta_event({{"reasoning_content", "Two files."}}),
      delta_event({{"tool_calls", {{{"index", 0}, {"id", "x1"}, {"type", "function"},
                                    {"function", {{"name", "read"}, {"arguments", ""}}}}}}}),
      delta_event({{"tool_calls", {{{"index", 0}, {"function", {{"arguments", "{\"pa"}}}}}}}),
      delta_event({{"tool_calls", {{{"index", 0}, {"function", {{"arguments", "th\": \"a.txt\"}"}}}}}}}),
      delta_event({{"tool_calls", {{{"index", 1}, {"id", "x2"}, {"type", "function"},
                                    {"function", {{"name", "read"}, {"arguments", "{\"path\": \"b.txt\", "}}}}}}}),
      delta_event({{"tool_calls", {{{"index", 1}, {"function", {{"arguments", "\"limit\": 5}"}}}}}}}),
      delta_event(json::object(), "tool_calls"),
      usage_event(50, 0),
      done_event(),
  }, /*chunked=*/false)});
  RemoteSettings settings = settings_for(server.base_url());
  auto provider = open(settings);
  const Conversation conversation = base_conversation();
  std::string streamed;
  auto request = request_for(conversation, ThinkingMode::kThinking, &streamed);
  auto completion = provider->complete(request);
  REQUIRE(completion.ok());
  CHECK(streamed == completion->text);
  CHECK(completion->prefilled_tokens == 50);

  // The same turn as structured fields, rendered into the next prompt: the
  // prompt must hold exactly the text the provider returned.
  Message turn;
  turn.role = Role::kAssistant;
  turn.reasoning_content = "Two files.";
  turn.content = "";
  turn.tool_calls = {{"x1", "read", R"({"path": "a.txt"})"}, {"x2", "read", R"({"path": "b.txt", "limit": 5})"}};
  Conversation next = conversation;
  next.messages.push_back(turn);
  auto rendered = render_prompt(next, request.render_options);
  REQUIRE(rendered.ok());
  CHECK(*rendered == request.prompt + completion->text + std::string(dsv4::kEos));

  auto parsed = parse_completion(completion->text + std::string(dsv4::kEos), ThinkingMode::kThinking);
  REQUIRE(parsed.ok());
  REQUIRE(parsed->tool_calls.size() == 2);
  CHECK(parsed->tool_calls[0].arguments == R"({"path": "a.txt"})");
  CHECK(parsed->tool_calls[1].arguments == R"({"path": "b.txt", "limit": 5})");
}

TEST_CASE("Chat mode turns thinking off in the request and writes no reasoning", "[remote]") {
  ScriptedHttpServer server({stream_events({delta_event({{"content", "Plain."}}, "stop"), done_event()})});
  RemoteSettings settings = settings_for(server.base_url());
  auto provider = open(settings);
  std::string streamed;
  auto completion = provider->complete(request_for(base_conversation(), ThinkingMode::kChat, &streamed));
  REQUIRE(completion.ok());
  CHECK(completion->text == "Plain.");
  json body = server.requests().at(0).json();
  CHECK(body["thinking"]["type"] == "disabled");
  CHECK(body["chat_template_kwargs"]["thinking"] == false);
}

TEST_CASE("A 429 answer is retried after its Retry-After and then succeeds", "[remote]") {
  ScriptedHttpServer server({
      answer_status(429, R"({"error": {"message": "slow down"}})", "Retry-After: 0\r\n"),
      stream_events({delta_event({{"content", "ok"}}, "stop"), done_event()}),
  });
  RemoteSettings settings = settings_for(server.base_url());
  auto provider = open(settings);
  std::string streamed;
  auto completion = provider->complete(request_for(base_conversation(), ThinkingMode::kChat, &streamed));
  REQUIRE(completion.ok());
  CHECK(completion->text == "ok");
  CHECK(server.count() == 2);
}

TEST_CASE("Repeated 500 answers end in a clear error after max_attempts tries", "[remote]") {
  ScriptedHttpServer server({
      answer_status(500, R"({"error": {"message": "engine crashed"}})"),
      answer_status(502, "bad gateway"),
      answer_status(503, R"({"message": "overloaded"})"),
      stream_events({delta_event({{"content", "never reached"}}, "stop"), done_event()}),
  });
  RemoteSettings settings = settings_for(server.base_url(), 3);
  auto provider = open(settings);
  std::string streamed;
  auto completion = provider->complete(request_for(base_conversation(), ThinkingMode::kChat, &streamed));
  REQUIRE_FALSE(completion.ok());
  CHECK_THAT(completion.message(), Contains("the remote server failed (HTTP 503: overloaded)"));
  CHECK_THAT(completion.message(), Contains("gave up after 3 attempts"));
  CHECK(server.count() == 3);
  CHECK(streamed.empty());
}

TEST_CASE("A refused key is reported as such without the key even when the server echoes it", "[remote]") {
  ScriptedHttpServer server({answer_status(401, R"({"error": {"message": "Incorrect API key provided: )" + kKey +
                                                    R"(", "type": "invalid_request_error"}})")});
  RemoteSettings settings = settings_for(server.base_url());
  auto provider = open(settings);
  std::string streamed;
  auto completion = provider->complete(request_for(base_conversation(), ThinkingMode::kChat, &streamed));
  REQUIRE_FALSE(completion.ok());
  CHECK_THAT(completion.message(), Contains("the remote server refused the API key (HTTP 401"));
  CHECK_THAT(completion.message(), Contains("BELUGA_REMOTE_API_KEY"));
  CHECK_THAT(completion.message(), Contains("[redacted]"));
  CHECK(completion.message().find(kKey) == std::string::npos);
  CHECK(server.count() == 1);  // not retried
}

TEST_CASE("An unknown model is reported by name", "[remote]") {
  ScriptedHttpServer server({answer_status(
      404, R"({"error": {"message": "The model `test-model` does not exist.", "code": "model_not_found"}})")});
  RemoteSettings settings = settings_for(server.base_url());
  auto provider = open(settings);
  std::string streamed;
  auto completion = provider->complete(request_for(base_conversation(), ThinkingMode::kChat, &streamed));
  REQUIRE_FALSE(completion.ok());
  CHECK_THAT(completion.message(), Contains("does not know the model 'test-model'"));
  CHECK_THAT(completion.message(), Contains("does not exist"));
}

TEST_CASE("An unreachable server is reported with its host and port after the retries", "[remote]") {
  uint16_t port = 0;
  {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor probe(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = probe.local_endpoint().port();
  }  // closed: nothing listens there now
  RemoteSettings settings = settings_for("http://127.0.0.1:" + std::to_string(port) + "/v1", 2);
  auto provider = open(settings);
  std::string streamed;
  auto completion = provider->complete(request_for(base_conversation(), ThinkingMode::kChat, &streamed));
  REQUIRE_FALSE(completion.ok());
  CHECK_THAT(completion.message(), Contains("cannot connect to 127.0.0.1:" + std::to_string(port)));
  CHECK_THAT(completion.message(), Contains("gave up after 2 attempts"));
}

TEST_CASE("A server that stalls before answering times out with a clear message", "[remote]") {
  ScriptedHttpServer server({[](const CapturedRequest&, ScriptedConnection& c) { c.stall(); }});
  RemoteSettings settings = settings_for(server.base_url());
  settings.timeouts.first_byte = std::chrono::milliseconds(1500);
  auto provider = open(settings);
  std::string streamed;
  auto completion = provider->complete(request_for(base_conversation(), ThinkingMode::kChat, &streamed));
  REQUIRE_FALSE(completion.ok());
  CHECK_THAT(completion.message(), Contains("timed out waiting for the response from 127.0.0.1:"));
  CHECK(server.count() == 1);  // timeouts are not retried
}

TEST_CASE("A stream that stops mid-answer times out on the idle limit", "[remote]") {
  ScriptedHttpServer server({[](const CapturedRequest&, ScriptedConnection& c) {
    c.write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
    c.chunk(beluga::testing::delta_event({{"content", "partial"}}));
    c.stall();
  }});
  RemoteSettings settings = settings_for(server.base_url());
  settings.timeouts.idle = std::chrono::milliseconds(1500);
  auto provider = open(settings);
  std::string streamed;
  auto completion = provider->complete(request_for(base_conversation(), ThinkingMode::kChat, &streamed));
  REQUIRE_FALSE(completion.ok());
  CHECK_THAT(completion.message(), Contains("timed out waiting for more of the response"));
  CHECK(streamed == "partial");
  CHECK(server.count() == 1);  // output was handed on: never retried
}

TEST_CASE("keep_going turning false mid-stream cancels the call and closes the connection", "[remote]") {
  std::atomic<int> client_closed{-1};  // -1: the handler is still waiting
  ScriptedHttpServer server({[&](const CapturedRequest&, ScriptedConnection& c) {
    c.write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
    c.chunk(beluga::testing::delta_event({{"reasoning_content", "thinking..."}}));
    client_closed = c.wait_for_client_close() ? 1 : 0;
  }});
  RemoteSettings settings = settings_for(server.base_url());
  auto provider = open(settings);
  std::string streamed;
  auto request = request_for(base_conversation(), ThinkingMode::kThinking, &streamed);
  request.keep_going = [&] { return streamed.empty(); };
  auto completion = provider->complete(request);
  REQUIRE(completion.ok());
  CHECK(completion->stop == CompletionStop::kCancelled);
  CHECK(completion->text == "thinking...");
  for (int i = 0; i < 1200 && client_closed < 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(client_closed == 1);
}

TEST_CASE("Malformed event streams are errors that say so", "[remote]") {
  SECTION("an event that is not JSON") {
    ScriptedHttpServer server({stream_events({"data: {not json\n\n"})});
    RemoteSettings settings = settings_for(server.base_url());
    auto provider = open(settings);
    std::string streamed;
    auto completion = provider->complete(request_for(base_conversation(), ThinkingMode::kChat, &streamed));
    REQUIRE_FALSE(completion.ok());
    CHECK_THAT(completion.message(), Contains("malformed event stream"));
  }
  SECTION("a stream that ends without a finish_reason") {
    ScriptedHttpServer server({stream_events({delta_event({{"content", "cut"}})})});
    RemoteSettings settings = settings_for(server.base_url());
    auto provider = open(settings);
    std::string streamed;
    auto completion = provider->complete(request_for(base_conversation(), ThinkingMode::kChat, &streamed));
    REQUIRE_FALSE(completion.ok());
    CHECK_THAT(completion.message(), Contains("ended before the answer finished"));
  }
  SECTION("an error object in the stream") {
    ScriptedHttpServer server({stream_events({R"(data: {"error": {"message": "out of memory"}})" "\n\n"})});
    RemoteSettings settings = settings_for(server.base_url());
    auto provider = open(settings);
    std::string streamed;
    auto completion = provider->complete(request_for(base_conversation(), ThinkingMode::kChat, &streamed));
    REQUIRE_FALSE(completion.ok());
    CHECK_THAT(completion.message(), Contains("out of memory"));
  }
  SECTION("a JSON answer where a stream was asked for") {
    ScriptedHttpServer server({answer_status(200, R"({"choices": []})")});
    RemoteSettings settings = settings_for(server.base_url());
    auto provider = open(settings);
    std::string streamed;
    auto completion = provider->complete(request_for(base_conversation(), ThinkingMode::kChat, &streamed));
    REQUIRE_FALSE(completion.ok());
    CHECK_THAT(completion.message(), Contains("not an event stream"));
  }
}

TEST_CASE("finish_reason length is a completion cut off by the token limit", "[remote]") {
  ScriptedHttpServer server({stream_events({delta_event({{"content", "long"}}, "length"), done_event()})});
  RemoteSettings settings = settings_for(server.base_url());
  auto provider = open(settings);
  std::string streamed;
  auto completion = provider->complete(request_for(base_conversation(), ThinkingMode::kChat, &streamed));
  REQUIRE(completion.ok());
  CHECK(completion->stop == CompletionStop::kMaxTokens);
}

TEST_CASE("A raw prompt without a conversation is refused: fill-in-the-middle needs the embedded engine", "[remote]") {
  ScriptedHttpServer server({});
  RemoteSettings settings = settings_for(server.base_url());
  auto provider = open(settings);
  CompletionRequest request;
  request.prompt = "<｜fim▁begin｜>x";
  auto completion = provider->complete(request);
  REQUIRE_FALSE(completion.ok());
  CHECK_THAT(completion.message(), Contains("fill-in-the-middle needs the embedded engine"));
  CHECK(server.count() == 0);
}

TEST_CASE("Without a configured model name the server's only model is used", "[remote]") {
  ScriptedHttpServer server({
      answer_status(200, R"({"object": "list", "data": [{"id": "deepseek-ai/DeepSeek-V4-Flash", "object": "model"}]})"),
  });
  auto settings = resolve_remote_settings("http://127.0.0.1:" + std::to_string(server.port()), RemoteConfig{},
                                          env_of({}));
  REQUIRE(settings.ok());
  CHECK(settings->base.target == "/v1");
  auto provider = open_remote_provider(*settings);
  REQUIRE(provider.ok());
  CHECK((*provider)->describe() == "remote:http://127.0.0.1:" + std::to_string(server.port()) +
                                       "/v1 model deepseek-ai/DeepSeek-V4-Flash");
  CHECK(server.requests().at(0).target == "/v1/models");
  CHECK(server.requests().at(0).method == "GET");
  CHECK(server.requests().at(0).header("Authorization").empty());  // no key configured: none sent

  ScriptedHttpServer two({answer_status(200, R"({"data": [{"id": "a"}, {"id": "b"}]})")});
  auto many = resolve_remote_settings(two.base_url(), RemoteConfig{}, env_of({}));
  REQUIRE(many.ok());
  auto refused = open_remote_provider(*many);
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.message(), Contains("2 models (a, b)"));
  CHECK_THAT(refused.message(), Contains("BELUGA_REMOTE_MODEL"));
}

TEST_CASE("Remote settings follow the documented URL rule and precedence", "[remote]") {
  RemoteConfig config;
  config.model = "from-config";
  config.api_key_env = "MY_KEY";
  config.slots = 8;
  config.context_tokens = 65536;
  auto s = resolve_remote_settings("http://host:8000/v1/", config,
                                   env_of({{"BELUGA_REMOTE_MODEL", "from-env"}, {"MY_KEY", "k-from-my-key"}}));
  REQUIRE(s.ok());
  CHECK(s->base.target == "/v1");
  CHECK(s->model == "from-env");
  CHECK(s->api_key == "k-from-my-key");
  CHECK(s->slots == 8);
  CHECK(s->context_tokens == 65536);

  auto overridden = resolve_remote_settings("https://gw.example/deepseek/v1/chat/completions", config,
                                            env_of({{"BELUGA_REMOTE_API_KEY", "k-env"}, {"MY_KEY", "k-from-my-key"}}));
  REQUIRE(overridden.ok());
  CHECK(overridden->base.tls);
  CHECK(overridden->base.port == 443);
  CHECK(overridden->base.target == "/deepseek/v1");
  CHECK(overridden->model == "from-config");
  CHECK(overridden->api_key == "k-env");

  auto deepseek = resolve_remote_settings("https://api.deepseek.com", RemoteConfig{}, env_of({{"DEEPSEEK_API_KEY", "ds"}}));
  REQUIRE(deepseek.ok());
  CHECK(deepseek->api_key == "ds");
  CHECK(deepseek->base.target == "/v1");
  auto other = resolve_remote_settings("http://127.0.0.1:1/v1", RemoteConfig{}, env_of({{"DEEPSEEK_API_KEY", "ds"}}));
  REQUIRE(other.ok());
  CHECK(other->api_key.empty());  // the DeepSeek key goes only to DeepSeek

  auto missing = resolve_remote_settings("http://h/v1", config, env_of({}));
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.message(), Contains("MY_KEY, which is not set"));

  auto userinfo = resolve_remote_settings("http://user:hunter2@h/v1", RemoteConfig{}, env_of({}));
  REQUIRE_FALSE(userinfo.ok());
  CHECK(userinfo.message().find("hunter2") == std::string::npos);
  CHECK_FALSE(resolve_remote_settings("ftp://h/v1", RemoteConfig{}, env_of({})).ok());
  CHECK_FALSE(resolve_remote_settings("", RemoteConfig{}, env_of({})).ok());

  // The key itself never goes in a config file.
  auto keyed = parse_agent_config("[remote]\napi_key = \"sk-x\"\n", "config.toml", ConfigTrust::kUser);
  REQUIRE_FALSE(keyed.ok());
  CHECK_THAT(keyed.message(), Contains("api_key_env"));
  auto workspace = parse_agent_config("[remote]\nmodel = \"m\"\n", "ws.toml", ConfigTrust::kWorkspace);
  CHECK_FALSE(workspace.ok());
  auto user = parse_agent_config("[remote]\nmodel = \"m\"\nslots = 2\nidle_timeout_s = 9\n", "config.toml",
                                 ConfigTrust::kUser);
  REQUIRE(user.ok());
  CHECK(user->remote.model == "m");
  CHECK(user->remote.slots == 2);
  CHECK(user->remote.idle_timeout_s == 9);
}

TEST_CASE("The event-stream reader splits events however the bytes arrive", "[remote]") {
  const std::string stream = ": comment\r\ndata: one\r\n\r\nevent: custom\ndata: two\ndata:  three\n\ndata: [DONE]\r\r";
  for (size_t piece : {size_t{1}, size_t{2}, size_t{5}, stream.size()}) {
    http::SseReader reader;
    std::vector<http::SseEvent> events;
    for (size_t i = 0; i < stream.size(); i += piece) REQUIRE(reader.feed(stream.substr(i, piece), events).ok());
    reader.finish(events);
    INFO("piece " << piece);
    REQUIRE(events.size() == 3);
    CHECK(events[0].data == "one");
    CHECK(events[0].type == "message");
    CHECK(events[1].type == "custom");
    CHECK(events[1].data == "two\n three");
    CHECK(events[2].data == "[DONE]");
  }
  http::SseReader bounded(8);
  std::vector<http::SseEvent> events;
  CHECK_FALSE(bounded.feed("data: a line that never ends", events).ok());
}

TEST_CASE("The stream decoder gives the same text however the event stream is split and survives garbage", "[remote]") {
  std::string stream;
  for (const std::string& e : std::vector<std::string>{delta_event({{"reasoning_content", "Plan: réad ✓."}}), delta_event({{"content", "Reading."}}),
                               delta_event({{"tool_calls", {{{"index", 0}, {"id", "a"}, {"function", {{"name", "read"}, {"arguments", "{\"path\""}}}}}}}),
                               delta_event({{"tool_calls", {{{"index", 0}, {"function", {{"arguments", ": \"x\"}"}}}}}}}),
                               delta_event(json::object(), "tool_calls"), usage_event(10, 4), done_event()})
    stream += e;
  auto decode = [](std::string_view bytes, size_t piece, std::string* emitted) -> Result<std::string> {
    ChatStreamDecoder decoder(ThinkingMode::kThinking, [emitted](std::string_view text) {
      emitted->append(text);
      return true;
    });
    http::SseReader sse;
    std::vector<http::SseEvent> events;
    for (size_t i = 0; i < bytes.size(); i += piece) {
      if (Status s = sse.feed(bytes.substr(i, piece), events); !s) return s.error();
      for (const auto& e : events)
        if (Status s = decoder.feed(e.data); !s) return s.error();
      events.clear();
    }
    sse.finish(events);
    for (const auto& e : events)
      if (Status s = decoder.feed(e.data); !s) return s.error();
    if (Status s = decoder.finish(); !s) return s.error();
    return decoder.text();
  };
  std::string whole_emitted;
  auto whole = decode(stream, stream.size(), &whole_emitted);
  REQUIRE(whole.ok());
  CHECK(whole_emitted == *whole);
  CHECK_THAT(*whole, Contains("Plan: réad ✓.</think>Reading.\n\n<｜DSML｜tool_calls>"));
  for (size_t piece : {size_t{1}, size_t{3}, size_t{7}, size_t{64}}) {
    std::string emitted;
    auto split = decode(stream, piece, &emitted);
    REQUIRE(split.ok());
    CHECK(*split == *whole);
    CHECK(emitted == *whole);
  }
  // Truncations and byte flips: an error or a text, never a crash; what was
  // emitted is always the decoder's text so far.
  std::mt19937 random(7);
  for (int round = 0; round < 300; ++round) {
    std::string mutated = stream.substr(0, random() % (stream.size() + 1));
    for (int flips = random() % 4; flips > 0 && !mutated.empty(); --flips)
      mutated[random() % mutated.size()] = static_cast<char>(random() % 256);
    std::string emitted;
    auto result = decode(mutated, 1 + random() % 16, &emitted);
    if (result) CHECK(emitted == *result);
  }
}

TEST_CASE("https checks the server's certificate: a self-signed one is refused", "[remote]") {
  // A certificate no system authority signed, made for this test.
  beluga::testing::ScratchDir dir;
  const std::string key = dir.file("key.pem"), cert = dir.file("cert.pem");
  const std::string make = "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -days 1 -keyout '" + key +
                           "' -out '" + cert + "' >/dev/null 2>&1";
  REQUIRE(std::system(make.c_str()) == 0);
  namespace ssl = boost::asio::ssl;
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const uint16_t port = acceptor.local_endpoint().port();
  std::thread server([&] {
    ssl::context context(ssl::context::tls_server);
    context.use_certificate_chain_file(cert);
    context.use_private_key_file(key, ssl::context::pem);
    boost::asio::ip::tcp::socket socket(io);
    boost::system::error_code ec;
    acceptor.accept(socket, ec);
    if (ec) return;
    ssl::stream<boost::asio::ip::tcp::socket> stream(std::move(socket), context);
    stream.handshake(ssl::stream_base::server, ec);  // fails: the client refuses the certificate
  });
  http::Request request;
  request.method = "GET";
  auto url = http::parse_url("https://127.0.0.1:" + std::to_string(port) + "/v1/models");
  REQUIRE(url.ok());
  request.url = *url;
  http::Timeouts timeouts;
  timeouts.connect = std::chrono::seconds(60);
  auto outcome = http::send(request, timeouts, {});
  server.join();
  CHECK(outcome.failure == http::Failure::kConnect);
  CHECK_THAT(outcome.message, Contains("TLS handshake failed"));
  CHECK_THAT(outcome.message, Contains("certificate verify failed"));
}
