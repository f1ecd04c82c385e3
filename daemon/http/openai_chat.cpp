#include "daemon/http/openai_chat.h"

#include <nlohmann/json.hpp>

#include "daemon/http/wire_json.h"

namespace beluga::daemon::http {
namespace {

using nlohmann::json;

// Text of a content value: a string, null (absent) or a list of text parts.
Result<std::optional<std::string>> content_text(const json& content, const std::string& where) {
  if (content.is_null()) return std::optional<std::string>();
  if (content.is_string()) return std::optional<std::string>(content.get<std::string>());
  if (!content.is_array()) return make_error(where + ": expected a string, null or an array of content parts");
  std::string out;
  for (size_t i = 0; i < content.size(); ++i) {
    const json& part = content[i];
    const std::string at = where + "[" + std::to_string(i) + "]";
    if (!part.is_object()) return make_error(at + ": expected a content part object");
    const std::string type = part.value("type", std::string());
    if (type != "text") return make_error(at + ": content parts of type \"" + type + "\" are not supported (text only)");
    if (!part.contains("text") || !part["text"].is_string()) return make_error(at + ".text: expected a string");
    if (!out.empty()) out += "\n";
    out += part["text"].get<std::string>();
  }
  return std::optional<std::string>(std::move(out));
}

Result<std::vector<ToolCall>> tool_calls_of(const json& calls, const std::string& where) {
  std::vector<ToolCall> out;
  if (calls.is_null()) return out;
  if (!calls.is_array()) return make_error(where + ": expected an array");
  for (size_t i = 0; i < calls.size(); ++i) {
    const json& c = calls[i];
    const std::string at = where + "[" + std::to_string(i) + "]";
    if (!c.is_object() || !c.contains("function") || !c["function"].is_object())
      return make_error(at + ": expected {\"id\", \"type\": \"function\", \"function\": {\"name\", \"arguments\"}}");
    const json& f = c["function"];
    if (!f.contains("name") || !f["name"].is_string()) return make_error(at + ".function.name: expected a string");
    ToolCall call;
    call.id = c.contains("id") && c["id"].is_string() ? c["id"].get<std::string>() : "";
    call.name = f["name"].get<std::string>();
    if (f.contains("arguments") && f["arguments"].is_string()) call.arguments = f["arguments"].get<std::string>();
    else if (f.contains("arguments") && f["arguments"].is_object()) call.arguments = f["arguments"].dump();
    else call.arguments = "{}";
    out.push_back(std::move(call));
  }
  return out;
}

Result<Message> message_of(const json& m, size_t index) {
  const std::string where = "messages[" + std::to_string(index) + "]";
  if (!m.is_object()) return make_error(where + ": expected an object");
  if (!m.contains("role") || !m["role"].is_string()) return make_error(where + ".role: expected a string");
  const std::string role = m["role"].get<std::string>();
  Message out;
  auto text = content_text(m.contains("content") ? m["content"] : json(), where + ".content");
  if (!text) return text.error();
  out.content = *text;
  if (role == "system" || role == "developer") {
    out.role = Role::kSystem;
    if (!out.content) out.content = "";
  } else if (role == "user") {
    out.role = Role::kUser;
    if (!out.content) return make_error(where + ".content: a user message needs content");
  } else if (role == "assistant") {
    out.role = Role::kAssistant;
    if (m.contains("reasoning_content") && m["reasoning_content"].is_string())
      out.reasoning_content = m["reasoning_content"].get<std::string>();
    auto calls = tool_calls_of(m.contains("tool_calls") ? m["tool_calls"] : json(), where + ".tool_calls");
    if (!calls) return calls.error();
    out.tool_calls = std::move(calls).value();
  } else if (role == "tool") {
    out.role = Role::kTool;
    if (!m.contains("tool_call_id") || !m["tool_call_id"].is_string())
      return make_error(where + ".tool_call_id: a tool message needs the id of the call it answers");
    out.tool_call_id = m["tool_call_id"].get<std::string>();
    if (!out.content) out.content = "";
  } else {
    return make_error(where + ".role: \"" + role + "\" is not one of system, developer, user, assistant, tool");
  }
  return out;
}

Result<std::vector<ToolDeclaration>> tools_of(const json& tools) {
  std::vector<ToolDeclaration> out;
  if (tools.is_null()) return out;
  if (!tools.is_array()) return make_error("tools: expected an array");
  for (size_t i = 0; i < tools.size(); ++i) {
    const json& t = tools[i];
    const std::string at = "tools[" + std::to_string(i) + "]";
    if (!t.is_object() || t.value("type", std::string("function")) != "function" || !t.contains("function") ||
        !t["function"].is_object())
      return make_error(at + ": expected {\"type\": \"function\", \"function\": {\"name\", ...}}");
    auto declaration = tool_declaration_of(t["function"], at + ".function");
    if (!declaration) return declaration.error();
    out.push_back(std::move(declaration).value());
  }
  return out;
}

Result<ChatRequest> parse_request(const json& body) {
  if (!body.is_object()) return make_error("the request body must be a JSON object");
  ChatRequest out;
  if (body.contains("model") && body["model"].is_string()) out.model = body["model"].get<std::string>();
  if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty())
    return make_error("messages: expected a non-empty array");
  for (size_t i = 0; i < body["messages"].size(); ++i) {
    auto m = message_of(body["messages"][i], i);
    if (!m) return m.error();
    out.conversation.messages.push_back(std::move(m).value());
  }
  auto tools = tools_of(body.contains("tools") ? body["tools"] : json());
  if (!tools) return tools.error();
  attach_tools(out.conversation, std::move(tools).value());
  if (body.contains("tool_choice")) {
    const json& choice = body["tool_choice"];
    if (choice.is_string()) out.tool_choice = choice.get<std::string>();
    else if (choice.is_object() && choice.contains("function") && choice["function"].is_object() &&
             choice["function"].value("name", std::string()) != "")
      out.tool_choice = choice["function"]["name"].get<std::string>();
    else if (!choice.is_null()) return make_error("tool_choice: expected \"none\", \"auto\", \"required\" or a function");
  }
  for (const char* key : {"max_completion_tokens", "max_tokens"}) {
    if (!body.contains(key) || body[key].is_null()) continue;
    if (!body[key].is_number_integer() || body[key].get<int64_t>() < 1)
      return make_error(std::string(key) + ": expected a positive integer");
    out.max_tokens = body[key].get<int64_t>();
    break;
  }
  if (auto stop = stop_strings_of(body.contains("stop") ? body["stop"] : json(), "stop"); !stop) return stop.error();
  else out.stop = std::move(stop).value();
  if (auto t = temperature_of(body.contains("temperature") ? body["temperature"] : json(), 2.0); !t) return t.error();
  else out.temperature = *t;
  if (body.contains("n") && !body["n"].is_null() && body["n"] != 1) return make_error("n: only 1 choice is served");
  if (body.contains("stream") && !body["stream"].is_null()) {
    if (!body["stream"].is_boolean()) return make_error("stream: expected a boolean");
    out.stream = body["stream"].get<bool>();
  }
  if (body.contains("stream_options") && body["stream_options"].is_object())
    out.stream_usage = body["stream_options"].value("include_usage", false);
  if (body.contains("user") && body["user"].is_string()) out.user = body["user"].get<std::string>();

  if (body.contains("thinking") && body["thinking"].is_object() &&
      body["thinking"].value("type", std::string()) == "disabled")
    out.render.thinking_mode = ThinkingMode::kChat;
  if (body.contains("reasoning_effort") && body["reasoning_effort"].is_string()) {
    auto effort = apply_reasoning_effort(body["reasoning_effort"].get<std::string>(), out.render);
    if (!effort) return effort.error();
  }
  return out;
}

const char* finish_name(FinishReason finish) {
  switch (finish) {
    case FinishReason::kToolCalls: return "tool_calls";
    case FinishReason::kLength: return "length";
    case FinishReason::kStop:
    case FinishReason::kCancelled: break;
  }
  return "stop";
}

json usage_json(const ChatUsage& u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", u.cached_prompt_tokens}}},
          {"completion_tokens_details", {{"reasoning_tokens", u.reasoning_tokens}}}};
}

json chunk(const ChatOutcome& head, json delta, const json& finish) {
  return {{"id", head.id},
          {"object", "chat.completion.chunk"},
          {"created", head.created},
          {"model", head.model},
          {"system_fingerprint", nullptr},
          {"choices", json::array({{{"index", 0}, {"delta", std::move(delta)}, {"logprobs", nullptr},
                                    {"finish_reason", finish}}})}};
}

class OpenAiStream final : public StreamEncoder {
 public:
  explicit OpenAiStream(bool usage) : usage_(usage) {}
  std::string begin(const ChatOutcome& head) override {
    head_ = head;
    return sse_data(chunk(head_, {{"role", "assistant"}, {"content", ""}}, nullptr));
  }
  std::string event(const ChatEvent& e) override {
    switch (e.kind) {
      case ChatEvent::Kind::kReasoningDelta:
        return sse_data(chunk(head_, {{"reasoning_content", e.text}}, nullptr));
      case ChatEvent::Kind::kContentDelta:
        return sse_data(chunk(head_, {{"content", e.text}}, nullptr));
      case ChatEvent::Kind::kToolCallStarted:
        return sse_data(chunk(head_, {{"tool_calls", json::array({{{"index", e.call_index}, {"id", e.call_id},
                                                                   {"type", "function"},
                                                                   {"function", {{"name", e.name}, {"arguments", ""}}}}})}},
                              nullptr));
      case ChatEvent::Kind::kArgumentsDelta:
        return sse_data(chunk(
            head_, {{"tool_calls", json::array({{{"index", e.call_index}, {"function", {{"arguments", e.text}}}}})}},
            nullptr));
      case ChatEvent::Kind::kToolCallDone: break;
    }
    return "";
  }
  std::string end(const ChatOutcome& outcome) override {
    std::string out = sse_data(chunk(head_, json::object(), finish_name(outcome.finish)));
    if (usage_) {
      json last = chunk(head_, json::object(), nullptr);
      last["choices"] = json::array();
      last["usage"] = usage_json(outcome.usage);
      out += sse_data(last);
    }
    return out + "data: [DONE]\n\n";
  }
  std::string error(const ApiError& error) override {
    return sse_data({{"error", {{"message", error.message}, {"type", error.type}, {"param", nullptr}, {"code", nullptr}}}});
  }

 private:
  bool usage_;
  ChatOutcome head_;
};

class OpenAiChatFormat final : public ApiFormat {
 public:
  std::string_view path() const override { return "/v1/chat/completions"; }
  std::string_view id_prefix() const override { return "chatcmpl-"; }
  std::string_view call_id_prefix() const override { return "call_"; }
  Result<ChatRequest> parse(const json& body) const override { return parse_request(body); }
  json response(const ChatOutcome& o) const override {
    json message = {{"role", "assistant"}, {"content", nullptr}};
    if (!o.content.empty() || o.tool_calls.empty()) message["content"] = o.content;
    if (!o.reasoning.empty()) message["reasoning_content"] = o.reasoning;
    if (!o.tool_calls.empty()) {
      json calls = json::array();
      for (const OutcomeToolCall& c : o.tool_calls)
        calls.push_back({{"id", c.id}, {"type", "function"}, {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
      message["tool_calls"] = std::move(calls);
    }
    return {{"id", o.id},
            {"object", "chat.completion"},
            {"created", o.created},
            {"model", o.model},
            {"system_fingerprint", nullptr},
            {"choices", json::array({{{"index", 0}, {"message", std::move(message)}, {"logprobs", nullptr},
                                      {"finish_reason", finish_name(o.finish)}}})},
            {"usage", usage_json(o.usage)}};
  }
  std::unique_ptr<StreamEncoder> stream() const override { return std::make_unique<OpenAiStream>(false); }
  std::unique_ptr<StreamEncoder> stream_for(const ChatRequest& request) const override {
    return std::make_unique<OpenAiStream>(request.stream_usage);
  }
  json error_body(const ApiError& error) const override { return openai_error_body(error); }
};

}  // namespace

std::unique_ptr<ApiFormat> make_openai_chat_format() { return std::make_unique<OpenAiChatFormat>(); }

}  // namespace beluga::daemon::http
