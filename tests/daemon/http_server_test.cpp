// HTTP serving end to end over loopback: the server on a replayed model
// (DSML tool-call mapping, streaming and not, errors, the token, limits)
// and on the embedded engine with a synthetic checkpoint (KV reuse across
// turns, cancellation when the client goes away), driven by the client in
// http_test_client.h.
#include <catch2/catch.hpp>

#include <algorithm>
#include <thread>

#include "daemon/http/chat_service.h"
#include "daemon/model_queue.h"
#include "tests/agent/agent_test_support.h"
#include "tests/daemon/http_test_client.h"
#include "tests/daemon/synthetic_model.h"
#include "tests/daemon/test_client.h"

using namespace beluga;
using namespace beluga::testing;
using nlohmann::json;

namespace {

class Serving {
 public:
  explicit Serving(const std::string& spec, daemon::http::HttpOptions http = {}) {
    auto model = daemon::SharedModel::open(spec);
    if (!model) throw std::runtime_error(model.message());
    model_ = std::move(model).value();
    daemon::http::ServingOptions options;
    options.http = http;
    auto serving = daemon::http::HttpServing::start(*model_, options);
    if (!serving) throw std::runtime_error(serving.message());
    serving_ = std::move(serving).value();
  }
  static Serving replay(ScratchDir& dir, const std::vector<std::string>& completions,
                        daemon::http::HttpOptions http = {}) {
    write_replay(dir.file("model.jsonl"), completions);
    return Serving("replay:" + dir.file("model.jsonl"), http);
  }
  ~Serving() {
    if (serving_) serving_->stop();
  }
  Serving(Serving&&) = default;

  HttpTestClient client() { return HttpTestClient(serving_->port()); }
  daemon::SharedModel& model() { return *model_; }
  daemon::http::HttpServing& serving() { return *serving_; }
  // Waits until no model call runs or waits.
  bool queue_idle() {
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (std::chrono::steady_clock::now() < deadline) {
      auto s = model_->queue().stats();
      if (s.running == 0 && s.waiting == 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

 private:
  std::unique_ptr<daemon::SharedModel> model_;
  std::unique_ptr<daemon::http::HttpServing> serving_;
};

const std::string kToolCallCompletion =
    completion("I should read it.", "Reading.", {Call{"read_file", {Param{"path", "src/main.c"}, Param{"limit", "20", false}}}});

json read_file_tool() {
  return {{"type", "function"},
          {"function",
           {{"name", "read_file"},
            {"description", "Reads a file."},
            {"parameters",
             {{"type", "object"},
              {"properties", {{"path", {{"type", "string"}}}, {"limit", {{"type", "integer"}}}}},
              {"required", {"path"}}}}}}};
}

json chat_body(json messages, json extra = json::object()) {
  json body = {{"model", "beluga-test"}, {"messages", std::move(messages)}};
  for (auto& [k, v] : extra.items()) body[k] = v;
  return body;
}

}  // namespace

TEST_CASE("HTTP chat completions map a DSML tool call streaming and not on a replayed model") {
  ScratchDir dir;
  Serving s = Serving::replay(dir, {kToolCallCompletion, kToolCallCompletion,
                                    completion("Done thinking.", "main.c returns 0.")});
  HttpTestClient client = s.client();
  const json question = {{"role", "user"}, {"content", "What does src/main.c do?"}};
  const json tools = json::array({read_file_tool()});

  // Not streamed.
  HttpReply reply = client.post("/v1/chat/completions", chat_body({question}, {{"tools", tools}}));
  REQUIRE(reply.status == 200);
  CHECK(reply.header("content-type") == "application/json");
  json r = reply.json();
  CHECK(r["object"] == "chat.completion");
  CHECK(r["model"] == "beluga-test");
  CHECK(r["id"].get<std::string>().rfind("chatcmpl-", 0) == 0);
  const json& message = r["choices"][0]["message"];
  CHECK(message["role"] == "assistant");
  CHECK(message["reasoning_content"] == "I should read it.");
  CHECK(message["content"] == "Reading.");
  REQUIRE(message["tool_calls"].size() == 1);
  const json& call = message["tool_calls"][0];
  CHECK(call["id"].get<std::string>().rfind("call_", 0) == 0);
  CHECK(call["type"] == "function");
  CHECK(call["function"]["name"] == "read_file");
  CHECK(json::parse(call["function"]["arguments"].get<std::string>()) == json({{"path", "src/main.c"}, {"limit", 20}}));
  CHECK(r["choices"][0]["finish_reason"] == "tool_calls");
  CHECK(r["usage"]["prompt_tokens"].get<int64_t>() > 0);
  CHECK(r["usage"]["completion_tokens"].get<int64_t>() > 0);
  CHECK(r["usage"]["prompt_tokens_details"]["cached_tokens"] == 0);  // a replay prefills everything

  // Streamed, on the same (kept-alive) connection.
  reply = client.post("/v1/chat/completions",
                      chat_body({question}, {{"tools", tools}, {"stream", true}, {"stream_options", {{"include_usage", true}}}}));
  REQUIRE(reply.status == 200);
  CHECK(reply.header("content-type") == "text/event-stream");
  auto events = sse_data(reply.body);
  REQUIRE(events.size() >= 4);
  CHECK(events.back() == "[DONE]");
  std::string reasoning, content, arguments, call_id, finish;
  int starts = 0;
  json usage;
  for (const json& e : events) {
    if (!e.is_object()) continue;
    CHECK(e["object"] == "chat.completion.chunk");
    if (e.contains("usage") && e["usage"].is_object()) usage = e["usage"];
    if (e["choices"].empty()) continue;
    const json& d = e["choices"][0]["delta"];
    if (d.contains("reasoning_content")) reasoning += d["reasoning_content"].get<std::string>();
    if (d.contains("content")) content += d["content"].get<std::string>();
    if (d.contains("tool_calls")) {
      const json& t = d["tool_calls"][0];
      CHECK(t["index"] == 0);
      if (t.contains("id")) {
        ++starts;
        call_id = t["id"];
        CHECK(t["type"] == "function");
        CHECK(t["function"]["name"] == "read_file");
        CHECK(t["function"]["arguments"] == "");
        CHECK(arguments.empty());
      }
      arguments += t["function"]["arguments"].get<std::string>();
    }
    if (!e["choices"][0]["finish_reason"].is_null()) finish = e["choices"][0]["finish_reason"];
  }
  CHECK(reasoning == "I should read it.");
  CHECK(content == "Reading.");
  CHECK(starts == 1);
  CHECK(json::parse(arguments) == json({{"path", "src/main.c"}, {"limit", 20}}));
  CHECK(finish == "tool_calls");
  CHECK(usage["completion_tokens"].get<int64_t>() > 0);

  // The next turn re-sends the call and its result; the model answers.
  json history = {question,
                  {{"role", "assistant"},
                   {"content", content},
                   {"tool_calls",
                    {{{"id", call_id}, {"type", "function"}, {"function", {{"name", "read_file"}, {"arguments", arguments}}}}}}},
                  {{"role", "tool"}, {"tool_call_id", call_id}, {"content", "int main(void) { return 0; }"}}};
  reply = client.post("/v1/chat/completions", chat_body(history, {{"tools", tools}}));
  REQUIRE(reply.status == 200);
  r = reply.json();
  CHECK(r["choices"][0]["message"]["content"] == "main.c returns 0.");
  CHECK_FALSE(r["choices"][0]["message"].contains("tool_calls"));
  CHECK(r["choices"][0]["finish_reason"] == "stop");

  // The recording is used up: the model's error, in OpenAI's shape.
  reply = client.post("/v1/chat/completions", chat_body({question}));
  CHECK(reply.status == 500);
  CHECK(reply.json()["error"]["type"] == "api_error");
  CHECK(reply.json()["error"]["message"].get<std::string>().find("no recorded completion left") != std::string::npos);
}

TEST_CASE("HTTP serving answers stop strings max_tokens and the models list") {
  ScratchDir dir;
  Serving s = Serving::replay(dir, {completion("", "one two STOP three", {}, false)});
  HttpTestClient client = s.client();
  HttpReply reply = client.post("/v1/chat/completions",
                                chat_body({{{"role", "user"}, {"content", "count"}}},
                                          {{"stop", {"STOP"}}, {"thinking", {{"type", "disabled"}}}}));
  REQUIRE(reply.status == 200);
  CHECK(reply.json()["choices"][0]["message"]["content"] == "one two ");
  CHECK(reply.json()["choices"][0]["finish_reason"] == "stop");

  reply = client.request("GET", "/v1/models");
  REQUIRE(reply.status == 200);
  json models = reply.json();
  CHECK(models["object"] == "list");
  REQUIRE(models["data"].size() == 1);
  CHECK(models["data"][0]["id"] == "model");  // the replay file's name
  CHECK(models["data"][0]["object"] == "model");
  CHECK(models["data"][0]["type"] == "model");
  CHECK(models["has_more"] == false);
  CHECK(models["first_id"] == "model");
  reply = client.request("GET", "/v1/models/deepseek-v4");
  CHECK(reply.status == 200);
  CHECK(reply.json()["id"] == "deepseek-v4");
}

TEST_CASE("HTTP serving runs concurrent requests one at a time through the model queue") {
  ScratchDir dir;
  std::vector<std::string> answers;
  for (int i = 0; i < 4; ++i) answers.push_back(completion("", "answer " + std::to_string(i), {}, false));
  Serving s = Serving::replay(dir, answers);
  std::vector<std::string> got(4);
  std::vector<int> status(4, 0);
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i)
    clients.emplace_back([&, i] {
      HttpTestClient client = s.client();
      json body = chat_body({{{"role", "user"}, {"content", "question " + std::to_string(i)}}},
                            {{"thinking", {{"type", "disabled"}}}, {"stream", i % 2 == 0}});
      HttpReply reply = client.post("/v1/chat/completions", body);
      status[static_cast<size_t>(i)] = reply.status;
      if (i % 2 == 1) {
        got[static_cast<size_t>(i)] = reply.json()["choices"][0]["message"]["content"];
      } else {
        for (const json& e : sse_data(reply.body))
          if (e.is_object() && !e["choices"].empty() && e["choices"][0]["delta"].contains("content"))
            got[static_cast<size_t>(i)] += e["choices"][0]["delta"]["content"].get<std::string>();
      }
    });
  for (std::thread& t : clients) t.join();
  CHECK(status == std::vector<int>{200, 200, 200, 200});
  // Each request took one recorded answer: all four, in some order.
  std::sort(got.begin(), got.end());
  CHECK(got == std::vector<std::string>{"answer 0", "answer 1", "answer 2", "answer 3"});
  CHECK(s.model().queue().stats().served == 4);
}

TEST_CASE("HTTP serving refuses unknown paths wrong methods and bad bodies in the API error shape") {
  ScratchDir dir;
  Serving s = Serving::replay(dir, {"x"});
  HttpTestClient client = s.client();
  HttpReply reply = client.request("GET", "/v1/nothing");
  CHECK(reply.status == 404);
  CHECK(reply.json()["error"]["type"] == "not_found_error");
  reply = client.request("GET", "/v1/chat/completions");
  CHECK(reply.status == 405);
  CHECK(reply.header("allow") == "POST");
  CHECK(reply.json()["error"]["message"].is_string());
  reply = client.request("POST", "/v1/models", "{}");
  CHECK(reply.status == 405);
  reply = client.request("POST", "/v1/chat/completions", "{not json");
  CHECK(reply.status == 400);
  CHECK(reply.json()["error"]["type"] == "invalid_request_error");
  reply = client.post("/v1/chat/completions", {{"messages", {{{"role", "user"}}}}});
  CHECK(reply.status == 400);
  CHECK(reply.json()["error"]["message"].get<std::string>().find("messages[0].content") != std::string::npos);
  // The connection survived every refusal, and the model was never called.
  reply = client.request("GET", "/v1/models");
  CHECK(reply.status == 200);
  CHECK(s.model().queue().stats().served == 0);
}

TEST_CASE("HTTP serving answers Expect 100-continue and pipelined requests") {
  ScratchDir dir;
  Serving s = Serving::replay(dir, {completion("", "continued", {}, false)});
  HttpTestClient client = s.client();
  const std::string body =
      chat_body({{{"role", "user"}, {"content", std::string(2000, 'q')}}}, {{"thinking", {{"type", "disabled"}}}}).dump();
  client.write_raw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\nExpect: 100-continue\r\n\r\n");
  std::string interim;
  while (interim.find("\r\n\r\n") == std::string::npos) interim += client.read_some();
  CHECK(interim == "HTTP/1.1 100 Continue\r\n\r\n");
  client.write_raw(body);
  HttpReply reply = client.read_reply();
  REQUIRE(reply.status == 200);
  CHECK(reply.json()["choices"][0]["message"]["content"] == "continued");
  // Two requests in one write: two answers, in order.
  client.write_raw("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/nothing HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(client.read_reply().status == 200);
  CHECK(client.read_reply().status == 404);
}

TEST_CASE("HTTP serving requires the configured bearer token") {
  ScratchDir dir;
  daemon::http::HttpOptions http;
  http.token = "s3cret-token";
  Serving s = Serving::replay(dir, {"x"}, http);
  HttpTestClient client = s.client();
  HttpReply reply = client.request("GET", "/v1/models");
  CHECK(reply.status == 401);
  CHECK(reply.header("www-authenticate") == "Bearer");
  CHECK(reply.json()["error"]["type"] == "authentication_error");
  reply = client.request("GET", "/v1/models", "", {{"Authorization", "Bearer wrong-token!"}});
  CHECK(reply.status == 401);
  reply = client.post("/v1/chat/completions", chat_body({{{"role", "user"}, {"content", "hi"}}}),
                      {{"Authorization", "Bearer s3cret-tokeN"}});
  CHECK(reply.status == 401);
  CHECK(s.model().queue().stats().served == 0);
  reply = client.request("GET", "/v1/models", "", {{"Authorization", "Bearer s3cret-token"}});
  CHECK(reply.status == 200);
  reply = client.request("GET", "/v1/models", "", {{"x-api-key", "s3cret-token"}});  // Anthropic's header
  CHECK(reply.status == 200);
}

TEST_CASE("HTTP serving refuses a body over the limit with 413 and closes the connection") {
  ScratchDir dir;
  daemon::http::HttpOptions http;
  http.max_body_bytes = 2048;
  Serving s = Serving::replay(dir, {"x"}, http);
  HttpTestClient client = s.client();
  HttpReply reply = client.post("/v1/chat/completions",
                                chat_body({{{"role", "user"}, {"content", std::string(4096, 'a')}}}));
  CHECK(reply.status == 413);
  CHECK(reply.json()["error"]["message"].get<std::string>().find("2048") != std::string::npos);
  CHECK(reply.header("connection") == "close");
  CHECK(client.closed_by_server());
  // A body within the limit on a new connection is served.
  HttpTestClient again = s.client();
  reply = again.post("/v1/chat/completions", chat_body({{{"role", "user"}, {"content", "short"}}}));
  CHECK(reply.status == 200);
}

TEST_CASE("HTTP serving answers 503 past its connection limit") {
  ScratchDir dir;
  daemon::http::HttpOptions http;
  http.max_connections = 1;
  Serving s = Serving::replay(dir, {"x"}, http);
  HttpTestClient first = s.client();
  REQUIRE(first.request("GET", "/v1/models").status == 200);  // accepted and kept alive
  HttpTestClient second = s.client();
  HttpReply reply = second.request("GET", "/v1/models");
  CHECK(reply.status == 503);
  CHECK(reply.json()["error"]["message"] == "too many connections");
  CHECK(first.request("GET", "/v1/models").status == 200);
}

TEST_CASE("HTTP serving reuses a whole earlier turn from the KV cache on the embedded model") {
  Serving s(synthetic_model_dir());
  HttpTestClient client = s.client();
  const json chat_mode = {{"thinking", {{"type", "disabled"}}}, {"max_tokens", 12}};
  json messages = {{{"role", "system"}, {"content", "You are terse."}}, {{"role", "user"}, {"content", "Say something."}}};
  HttpReply reply = client.post("/v1/chat/completions", chat_body(messages, chat_mode));
  REQUIRE(reply.status == 200);
  json first = reply.json();
  const int64_t prompt1 = first["usage"]["prompt_tokens"];
  const int64_t completion1 = first["usage"]["completion_tokens"];
  CHECK(completion1 > 0);
  CHECK(completion1 <= 12);

  messages.push_back({{"role", "assistant"}, {"content", first["choices"][0]["message"]["content"]}});
  messages.push_back({{"role", "user"}, {"content", "And more?"}});
  json streamed = chat_mode;
  streamed["stream"] = true;
  streamed["stream_options"] = {{"include_usage", true}};
  reply = client.post("/v1/chat/completions", chat_body(messages, streamed));
  REQUIRE(reply.status == 200);
  json usage;
  for (const json& e : sse_data(reply.body))
    if (e.is_object() && e.contains("usage") && e["usage"].is_object()) usage = e["usage"];
  REQUIRE(usage.is_object());
  const int64_t prompt2 = usage["prompt_tokens"];
  const int64_t cached2 = usage["prompt_tokens_details"]["cached_tokens"];
  INFO("turn 1: prompt " << prompt1 << " + answer " << completion1 << "; turn 2: prompt " << prompt2 << ", cached "
                         << cached2);
  CHECK(prompt2 > prompt1 + completion1);
  CHECK(cached2 >= prompt1 + completion1);
  CHECK(cached2 < prompt2);
}

TEST_CASE("Anthropic count_tokens counts the prompt a Messages request is served with") {
  Serving s(synthetic_model_dir());
  HttpTestClient client = s.client();
  json request = {{"model", "any"},
                  {"system", "You are terse."},
                  {"messages", {{{"role", "user"}, {"content", "Count me."}}}},
                  {"tools", {{{"name", "read_file"},
                              {"description", "Reads a file."},
                              {"input_schema", {{"type", "object"}, {"properties", {{"path", {{"type", "string"}}}}}}}}}}};
  HttpReply counted = client.post("/v1/messages/count_tokens", request);
  REQUIRE(counted.status == 200);
  const int64_t input_tokens = counted.json()["input_tokens"];
  CHECK(input_tokens > 10);
  CHECK(s.model().queue().stats().served == 0);  // counting runs nothing on the model

  request["max_tokens"] = 4;
  HttpReply served = client.post("/v1/messages", request);
  REQUIRE(served.status == 200);
  const json usage = served.json()["usage"];
  CHECK(usage["input_tokens"].get<int64_t>() + usage["cache_read_input_tokens"].get<int64_t>() == input_tokens);

  HttpReply bad = client.post("/v1/messages/count_tokens", json{{"messages", "not a list"}});
  CHECK(bad.status == 400);
  CHECK(bad.json()["type"] == "error");
  CHECK(bad.json()["error"]["type"] == "invalid_request_error");
}

TEST_CASE("HTTP serving cancels the generation of a client that goes away") {
  Serving s(synthetic_model_dir());
  const size_t stored = s.serving().service().generator().store().size();
  const json long_answer = {{"thinking", {{"type", "disabled"}}}, {"max_tokens", 7000}};
  const json messages = {{{"role", "user"}, {"content", "Write a long story."}}};
  {
    // Streamed: the client reads the first chunk, then hangs up.
    HttpTestClient client = s.client();
    json body = chat_body(messages, long_answer);
    body["stream"] = true;
    client.send("POST", "/v1/chat/completions", body.dump());
    std::string got;  // the header and the first chunk may come in separate reads
    while (got.find("data: ") == std::string::npos) got += client.read_some();
    client.close();
  }
  REQUIRE(s.queue_idle());
  {
    // Not streamed: the client hangs up while the answer is generated.
    HttpTestClient client = s.client();
    client.send("POST", "/v1/chat/completions", chat_body(messages, long_answer).dump());
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (s.model().queue().stats().running == 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    client.close();
  }
  REQUIRE(s.queue_idle());
  // Neither answer finished (a finished one is kept for reuse), and the
  // model serves the next request.
  CHECK(s.serving().service().generator().store().size() == stored);
  HttpTestClient next = s.client();
  HttpReply reply = next.post("/v1/chat/completions",
                              chat_body(messages, {{"thinking", {{"type", "disabled"}}}, {"max_tokens", 3}}));
  CHECK(reply.status == 200);
}
