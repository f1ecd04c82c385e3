#include "agent/openai_chat.h"

#include <nlohmann/json.hpp>

namespace beluga::agent {

using ojson = nlohmann::ordered_json;

namespace {

Result<ojson> parse_member(const std::string& text, const std::string& what) {
  auto parsed = ojson::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return make_error(what + " is not valid JSON");
  return parsed;
}

Result<ojson> tool_json(const ToolDeclaration& tool) {
  ojson function = ojson::object();
  std::vector<std::string> order = tool.member_order;
  if (order.empty()) {
    order = {"name", "description", "parameters"};
    for (const auto& [key, value] : tool.other_members_json) order.push_back(key);
  }
  for (const std::string& key : order) {
    if (key == "name") {
      function["name"] = tool.name;
    } else if (key == "description") {
      if (tool.description) function["description"] = *tool.description;
    } else if (key == "parameters") {
      if (!tool.parameters_json) continue;
      auto parameters = parse_member(*tool.parameters_json, "the parameters of tool '" + tool.name + "'");
      if (!parameters) return parameters.error();
      function["parameters"] = std::move(parameters).value();
    } else {
      for (const auto& [other, text] : tool.other_members_json) {
        if (other != key) continue;
        auto value = parse_member(text, "member '" + other + "' of tool '" + tool.name + "'");
        if (!value) return value.error();
        function[other] = std::move(value).value();
      }
    }
  }
  return ojson{{"type", "function"}, {"function", std::move(function)}};
}

std::string tool_result_text(const Message& m) {
  if (m.content_blocks.empty()) return m.content.value_or("None");
  std::string text;
  for (size_t i = 0; i < m.content_blocks.size(); ++i) {
    if (i) text += "\n\n";
    const ContentBlock& block = m.content_blocks[i];
    if (block.type && *block.type == "text") text += block.text;
    else text += "[Unsupported " + block.type.value_or("None") + "]";
  }
  return text;
}

ojson assistant_json(const Message& m, bool thinking) {
  ojson out = {{"role", "assistant"}};
  const bool structured = m.content || m.reasoning_content || !m.tool_calls.empty();
  if (!structured && m.raw_completion) {
    // Kept only as text: split it where V4 would.
    std::string_view raw = *m.raw_completion;
    std::string_view reasoning;
    if (raw.starts_with(dsv4::kThinkStart)) {
      raw.remove_prefix(dsv4::kThinkStart.size());
      const size_t end = raw.find(dsv4::kThinkEnd);
      reasoning = raw.substr(0, end);
      raw = end == std::string_view::npos ? std::string_view() : raw.substr(end + dsv4::kThinkEnd.size());
    } else if (raw.starts_with(dsv4::kThinkEnd)) {
      raw.remove_prefix(dsv4::kThinkEnd.size());
    }
    if (raw.ends_with(dsv4::kEos)) raw.remove_suffix(dsv4::kEos.size());
    out["content"] = std::string(raw);
    if (thinking && !reasoning.empty()) out["reasoning_content"] = std::string(reasoning);
    return out;
  }
  out["content"] = m.content.value_or("");
  if (thinking && m.reasoning_content) out["reasoning_content"] = *m.reasoning_content;
  if (!m.tool_calls.empty()) {
    ojson calls = ojson::array();
    for (const ToolCall& call : m.tool_calls)
      calls.push_back({{"id", call.id}, {"type", "function"}, {"function", {{"name", call.name}, {"arguments", call.arguments}}}});
    out["tool_calls"] = std::move(calls);
  }
  return out;
}

}  // namespace

Result<std::string> chat_request_body(const Conversation& conversation, const RenderOptions& render,
                                      const ChatRequestOptions& options) {
  const bool thinking = render.thinking_mode == ThinkingMode::kThinking;
  ojson messages = ojson::array();
  ojson tools = ojson::array();
  auto add = [&](const Message& m) -> Status {
    if ((m.role == Role::kSystem || m.role == Role::kDeveloper))
      for (const ToolDeclaration& tool : m.tools) {
        auto t = tool_json(tool);
        if (!t) return t.error();
        tools.push_back(std::move(t).value());
      }
    switch (m.role) {
      case Role::kSystem: messages.push_back({{"role", "system"}, {"content", m.content.value_or("")}}); break;
      case Role::kUser:
      case Role::kDeveloper:
      case Role::kLatestReminder: messages.push_back({{"role", "user"}, {"content", m.content.value_or("")}}); break;
      case Role::kTool:
        messages.push_back({{"role", "tool"}, {"tool_call_id", m.tool_call_id}, {"content", tool_result_text(m)}});
        break;
      case Role::kAssistant: messages.push_back(assistant_json(m, thinking)); break;
    }
    return {};
  };
  for (const Message& m : conversation.context)
    if (Status s = add(m); !s) return s.error();
  for (const Message& m : conversation.messages)
    if (Status s = add(m); !s) return s.error();

  ojson body = {{"model", options.model}, {"messages", std::move(messages)}};
  if (!tools.empty()) body["tools"] = std::move(tools);
  body["thinking"] = {{"type", thinking ? "enabled" : "disabled"}};
  const bool effort = render.reasoning_effort != ReasoningEffort::kDefault;
  if (options.template_kwargs) {
    body["chat_template_kwargs"] = {{"thinking", thinking}};
    // vLLM's DeepSeek V4 template reads the effort here ("max" is not an
    // OpenAI value).
    if (effort) body["chat_template_kwargs"]["reasoning_effort"] = std::string(reasoning_effort_name(render.reasoning_effort));
  }
  if (effort) body["reasoning_effort"] = std::string(reasoning_effort_name(render.reasoning_effort));
  body["max_tokens"] = options.max_tokens;
  body["temperature"] = options.temperature;
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string error_body_message(std::string_view body, std::string* code) {
  auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  auto text_of = [](const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
  std::string message;
  if (parsed.is_object()) {
    const nlohmann::json* error = parsed.contains("error") ? &parsed["error"] : nullptr;
    if (error && error->is_object()) {
      if (error->contains("message")) message = text_of((*error)["message"]);
      if (code) {
        if (error->contains("code") && !(*error)["code"].is_null()) *code = text_of((*error)["code"]);
        else if (error->contains("type")) *code = text_of((*error)["type"]);
      }
    } else if (error && error->is_string()) {
      message = error->get<std::string>();
    }
    if (message.empty() && parsed.contains("message")) message = text_of(parsed["message"]);
    if (message.empty() && parsed.contains("detail")) message = text_of(parsed["detail"]);
    if (code && code->empty() && parsed.contains("type") && parsed["type"].is_string()) *code = parsed["type"];
  }
  if (message.empty()) message = std::string(body);
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r' || message.back() == ' ')) message.pop_back();
  constexpr size_t kMax = 300;
  if (message.size() > kMax) {
    size_t cut = kMax;
    while (cut > 0 && (static_cast<unsigned char>(message[cut]) & 0xC0) == 0x80) --cut;
    message = message.substr(0, cut) + "…";
  }
  return message;
}

bool ChatStreamDecoder::out(std::string_view piece) {
  if (piece.empty() || stopped_) return !stopped_;
  text_.append(piece);
  if (emit_ && !emit_(piece)) stopped_ = true;
  return !stopped_;
}

bool ChatStreamDecoder::close_reasoning() {
  if (reasoning_closed_ || mode_ != ThinkingMode::kThinking) {
    reasoning_closed_ = true;
    return !stopped_;
  }
  reasoning_closed_ = true;
  return out(dsv4::kThinkEnd);
}

Status ChatStreamDecoder::feed(std::string_view data) {
  if (stopped_) return {};
  if (data == "[DONE]") {
    done_seen_ = true;
    return {};
  }
  auto chunk = nlohmann::json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (chunk.is_discarded()) return make_error("malformed event stream: an event is not JSON");
  if (!chunk.is_object()) return make_error("malformed event stream: an event is not a JSON object");
  if (chunk.contains("error")) return make_error("the server reported an error in the stream: " + error_body_message(data));
  if (auto usage = chunk.find("usage"); usage != chunk.end() && usage->is_object()) {
    if (auto p = usage->find("prompt_tokens"); p != usage->end() && p->is_number_integer()) prompt_tokens_ = p->get<int64_t>();
    if (auto g = usage->find("completion_tokens"); g != usage->end() && g->is_number_integer())
      completion_tokens_ = g->get<int64_t>();
    if (auto d = usage->find("prompt_tokens_details"); d != usage->end() && d->is_object())
      if (auto c = d->find("cached_tokens"); c != d->end() && c->is_number_integer()) cached_tokens_ = c->get<int64_t>();
    if (auto c = usage->find("prompt_cache_hit_tokens"); c != usage->end() && c->is_number_integer())
      cached_tokens_ = c->get<int64_t>();  // the DeepSeek API's name
  }
  auto choices = chunk.find("choices");
  if (choices == chunk.end() || !choices->is_array()) return {};
  for (const auto& choice : *choices) {
    if (!choice.is_object()) return make_error("malformed event stream: a choice is not a JSON object");
    if (choice.contains("index") && choice["index"] != 0) continue;  // only one choice is asked for
    if (auto delta = choice.find("delta"); delta != choice.end() && delta->is_object()) {
      auto text = [&](const char* key) -> std::string_view {
        auto it = delta->find(key);
        return it != delta->end() && it->is_string() ? std::string_view(it->get_ref<const std::string&>()) : std::string_view();
      };
      // vLLM calls the reasoning field "reasoning" in newer releases.
      std::string_view reasoning = text("reasoning_content");
      if (reasoning.empty()) reasoning = text("reasoning");
      if (!reasoning.empty() && mode_ == ThinkingMode::kThinking) {
        if (reasoning_closed_)
          return make_error("malformed event stream: reasoning arrived after the answer had started");
        if (!out(reasoning)) return {};
      }
      if (std::string_view content = text("content"); !content.empty()) {
        if (!close_reasoning() || !out(content)) return {};
      }
      if (auto calls = delta->find("tool_calls"); calls != delta->end() && calls->is_array()) {
        for (const auto& call : *calls) {
          if (!call.is_object()) return make_error("malformed event stream: a tool call delta is not an object");
          size_t index = calls_.size() ? calls_.size() - 1 : 0;
          if (auto i = call.find("index"); i != call.end()) {
            if (!i->is_number_unsigned() || i->get<uint64_t>() > 1024)
              return make_error("malformed event stream: a tool call index is not a small number");
            index = i->get<size_t>();
          }
          if (index >= calls_.size()) calls_.resize(index + 1);
          PendingCall& pending = calls_[index];
          if (auto id = call.find("id"); id != call.end() && id->is_string()) pending.id = *id;
          if (auto f = call.find("function"); f != call.end() && f->is_object()) {
            if (auto name = f->find("name"); name != f->end() && name->is_string()) pending.name += name->get<std::string>();
            if (auto args = f->find("arguments"); args != f->end() && args->is_string())
              pending.arguments += args->get<std::string>();
          }
        }
      }
    }
    if (auto reason = choice.find("finish_reason"); reason != choice.end() && reason->is_string())
      finish_ = *reason == "length" ? ChatFinish::kLength : ChatFinish::kStop;
  }
  return {};
}

std::vector<std::string> ChatStreamDecoder::tool_call_ids() const {
  std::vector<std::string> ids;
  for (const PendingCall& call : calls_) ids.push_back(call.id);
  return ids;
}

Status ChatStreamDecoder::finish() {
  if (stopped_) return {};
  if (finish_ == ChatFinish::kNone)
    return make_error("the server's event stream ended before the answer finished (no finish_reason)");
  if (!close_reasoning()) return {};
  Message turn;
  turn.role = Role::kAssistant;
  for (size_t i = 0; i < calls_.size(); ++i) {
    if (calls_[i].name.empty())
      return make_error("malformed event stream: tool call " + std::to_string(i) + " has no function name");
    turn.tool_calls.push_back({calls_[i].id, calls_[i].name, calls_[i].arguments});
  }
  auto block = render_assistant_completion(turn, ThinkingMode::kChat);
  if (!block) return make_error("the server's tool call cannot be written as V4 text: " + block.message());
  out(*block);
  return {};
}

}  // namespace beluga::agent
