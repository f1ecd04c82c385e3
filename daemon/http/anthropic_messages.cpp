#include "daemon/http/anthropic_messages.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "daemon/http/format_support.h"

namespace beluga::daemon::http {
namespace {

using nlohmann::json;

std::string at(const std::string& path, size_t index) { return path + "[" + std::to_string(index) + "]"; }

// A user message's content: text, tool results and unsupported media, each
// its own Message (V4's encoder merges consecutive user and tool messages
// into one user turn, results ordered by the calls they answer).
Status read_user_blocks(const json& blocks, const std::string& path, std::vector<Message>& out) {
  for (size_t i = 0; i < blocks.size(); ++i) {
    const json& block = blocks[i];
    const std::string block_path = at(path, i);
    if (!block.is_object()) return make_error(block_path + ": expected an object, got " + std::string(json_type_name(block)));
    auto type = optional_string(block, "type", block_path);
    if (!type.ok()) return type.error();
    if (!type->has_value()) return make_error(block_path + ": missing \"type\"");
    const std::string& kind = **type;
    if (kind == "text") {
      auto text = optional_string(block, "text", block_path);
      if (!text.ok()) return text.error();
      Message message;
      message.role = Role::kUser;
      message.content = text->value_or("");
      out.push_back(std::move(message));
    } else if (kind == "image" || kind == "document") {
      Message message;
      message.role = Role::kUser;
      message.content = "[Unsupported " + kind + "]";
      out.push_back(std::move(message));
    } else if (kind == "tool_result") {
      auto id = optional_string(block, "tool_use_id", block_path);
      if (!id.ok()) return id.error();
      if (!id->has_value()) return make_error(block_path + ": a tool_result needs \"tool_use_id\"");
      auto is_error = optional_bool(block, "is_error", block_path);
      if (!is_error.ok()) return is_error.error();
      Message message;
      message.role = Role::kTool;
      message.tool_call_id = **id;
      // V4 has no error flag on tool results: an error says so in its text.
      const std::string error_prefix = is_error->value_or(false) ? "Error: " : "";
      const json* content = member(block, "content");
      if (content == nullptr) {
        message.content = error_prefix;
      } else if (content->is_string()) {
        message.content = error_prefix + content->get<std::string>();
      } else if (content->is_array()) {
        if (!error_prefix.empty()) message.content_blocks.push_back({std::string("text"), error_prefix});
        for (size_t j = 0; j < content->size(); ++j) {
          const json& part = (*content)[j];
          const std::string part_path = at(block_path + ".content", j);
          if (!part.is_object()) return make_error(part_path + ": expected an object, got " + std::string(json_type_name(part)));
          auto part_type = optional_string(part, "type", part_path);
          if (!part_type.ok()) return part_type.error();
          if (!part_type->has_value()) return make_error(part_path + ": missing \"type\"");
          ContentBlock converted;
          converted.type = **part_type;
          if (**part_type == "text") {
            auto text = optional_string(part, "text", part_path);
            if (!text.ok()) return text.error();
            converted.text = text->value_or("");
          }
          message.content_blocks.push_back(std::move(converted));
        }
        // An empty list renders as the (empty) text content.
        if (message.content_blocks.empty()) message.content = error_prefix;
      } else {
        return make_error(block_path + ".content: expected a string or an array of blocks, got " +
                          std::string(json_type_name(*content)));
      }
      out.push_back(std::move(message));
    } else if (kind == "tool_use" || kind == "thinking" || kind == "redacted_thinking") {
      return make_error(block_path + ": a " + kind + " block belongs in an assistant message");
    } else {
      return make_error(block_path + ": unsupported content block type \"" + kind + "\"");
    }
  }
  if (blocks.empty()) {
    Message message;
    message.role = Role::kUser;
    message.content = "";
    out.push_back(std::move(message));
  }
  return {};
}

// An assistant message's blocks: one Message with its text, reasoning and calls.
Result<Message> read_assistant_blocks(const json& blocks, const std::string& path) {
  Message message;
  message.role = Role::kAssistant;
  std::string text;
  std::optional<std::string> reasoning;
  for (size_t i = 0; i < blocks.size(); ++i) {
    const json& block = blocks[i];
    const std::string block_path = at(path, i);
    if (!block.is_object()) return make_error(block_path + ": expected an object, got " + std::string(json_type_name(block)));
    auto type = optional_string(block, "type", block_path);
    if (!type.ok()) return type.error();
    if (!type->has_value()) return make_error(block_path + ": missing \"type\"");
    const std::string& kind = **type;
    if (kind == "text") {
      auto part = optional_string(block, "text", block_path);
      if (!part.ok()) return part.error();
      text += part->value_or("");
    } else if (kind == "thinking") {
      auto part = optional_string(block, "thinking", block_path);
      if (!part.ok()) return part.error();
      reasoning = reasoning.value_or("") + part->value_or("");
    } else if (kind == "redacted_thinking") {
      // Encrypted reasoning of another model: nothing V4 can read.
    } else if (kind == "tool_use") {
      auto id = optional_string(block, "id", block_path);
      if (!id.ok()) return id.error();
      auto name = optional_string(block, "name", block_path);
      if (!name.ok()) return name.error();
      if (!id->has_value() || !name->has_value()) {
        return make_error(block_path + ": a tool_use block needs \"id\" and \"name\"");
      }
      const json* input = member(block, "input");
      if (input != nullptr && !input->is_object()) {
        return make_error(block_path + ".input: expected an object, got " + std::string(json_type_name(*input)));
      }
      ToolCall call;
      call.id = **id;
      call.name = **name;
      call.arguments = input == nullptr ? "{}" : input->dump();
      message.tool_calls.push_back(std::move(call));
    } else {
      return make_error(block_path + ": unsupported content block type \"" + kind + "\" in an assistant message");
    }
  }
  message.content = std::move(text);
  message.reasoning_content = std::move(reasoning);
  return message;
}

Status read_messages(const json& body, std::vector<Message>& out) {
  const json* messages = member(body, "messages");
  if (messages == nullptr) return make_error("messages: required");
  if (!messages->is_array()) return make_error("messages: expected an array, got " + std::string(json_type_name(*messages)));
  if (messages->empty()) return make_error("messages: at least one message is required");
  for (size_t i = 0; i < messages->size(); ++i) {
    const json& message = (*messages)[i];
    const std::string path = at("messages", i);
    if (!message.is_object()) return make_error(path + ": expected an object, got " + std::string(json_type_name(message)));
    auto role = optional_string(message, "role", path);
    if (!role.ok()) return role.error();
    if (!role->has_value() || (**role != "user" && **role != "assistant")) {
      return make_error(path + ".role: expected \"user\" or \"assistant\" (the system prompt goes in \"system\")");
    }
    const json* content = member(message, "content");
    if (content == nullptr) return make_error(path + ".content: required");
    const bool user = **role == "user";
    if (content->is_string()) {
      Message converted;
      converted.role = user ? Role::kUser : Role::kAssistant;
      converted.content = content->get<std::string>();
      out.push_back(std::move(converted));
    } else if (content->is_array()) {
      if (user) {
        Status status = read_user_blocks(*content, path + ".content", out);
        if (!status.ok()) return status;
      } else {
        auto converted = read_assistant_blocks(*content, path + ".content");
        if (!converted.ok()) return converted.error();
        out.push_back(std::move(converted).value());
      }
    } else {
      return make_error(path + ".content: expected a string or an array of blocks, got " +
                        std::string(json_type_name(*content)));
    }
  }
  // A last assistant message is a prefill: the model continues it.
  if (out.back().role == Role::kAssistant) {
    if (!out.back().tool_calls.empty()) {
      return make_error("messages: the tool_use \"" + out.back().tool_calls.back().id +
                        "\" in the last assistant message has no tool_result after it");
    }
    out.back().wo_eos = true;
  }
  return {};
}

Result<std::optional<std::string>> read_system(const json& body) {
  const json* system = member(body, "system");
  if (system == nullptr) return std::optional<std::string>();
  if (system->is_string()) return std::optional<std::string>(system->get<std::string>());
  if (!system->is_array()) {
    return make_error("system: expected a string or an array of text blocks, got " + std::string(json_type_name(*system)));
  }
  std::string joined;
  for (size_t i = 0; i < system->size(); ++i) {
    const json& block = (*system)[i];
    const std::string path = at("system", i);
    auto type = optional_string(block, "type", path);
    if (!type.ok()) return type.error();
    if (!block.is_object() || type->value_or("") != "text") {
      return make_error(path + ": expected a {\"type\": \"text\", \"text\": ...} block");
    }
    auto text = optional_string(block, "text", path);
    if (!text.ok()) return text.error();
    if (i > 0) joined += "\n\n";
    joined += text->value_or("");
  }
  return std::optional<std::string>(std::move(joined));
}

Result<std::vector<ToolDeclaration>> read_tools(const json& body) {
  std::vector<ToolDeclaration> tools;
  const json* list = member(body, "tools");
  if (list == nullptr) return tools;
  if (!list->is_array()) return make_error("tools: expected an array, got " + std::string(json_type_name(*list)));
  for (size_t i = 0; i < list->size(); ++i) {
    const json& tool = (*list)[i];
    const std::string path = at("tools", i);
    if (!tool.is_object()) return make_error(path + ": expected an object, got " + std::string(json_type_name(tool)));
    auto type = optional_string(tool, "type", path);
    if (!type.ok()) return type.error();
    if (type->has_value() && **type != "custom") {
      return make_error(path + ": tool type \"" + **type +
                        "\" is a server tool beluga cannot run; declare tools with name, description and input_schema");
    }
    auto name = optional_string(tool, "name", path);
    if (!name.ok()) return name.error();
    if (!name->has_value() || (*name)->empty()) return make_error(path + ".name: required");
    auto description = optional_string(tool, "description", path);
    if (!description.ok()) return description.error();
    const json* schema = member(tool, "input_schema");
    if (schema == nullptr) return make_error(path + ".input_schema: required");
    if (!schema->is_object()) {
      return make_error(path + ".input_schema: expected an object, got " + std::string(json_type_name(*schema)));
    }
    ToolDeclaration declaration;
    declaration.name = **name;
    declaration.description = *description;
    declaration.parameters_json = schema->dump();
    tools.push_back(std::move(declaration));
  }
  return tools;
}

Result<std::string> read_tool_choice(const json& body) {
  const json* choice = member(body, "tool_choice");
  if (choice == nullptr) return std::string("auto");
  if (!choice->is_object()) return make_error("tool_choice: expected an object such as {\"type\": \"auto\"}");
  auto type = optional_string(*choice, "type", "tool_choice");
  if (!type.ok()) return type.error();
  const std::string kind = type->value_or("");
  if (kind == "auto") return std::string("auto");
  if (kind == "any") return std::string("required");
  if (kind == "none") return std::string("none");
  if (kind == "tool") {
    auto name = optional_string(*choice, "name", "tool_choice");
    if (!name.ok()) return name.error();
    if (!name->has_value() || (*name)->empty()) return make_error("tool_choice.name: required when type is \"tool\"");
    return **name;
  }
  return make_error("tool_choice.type: expected \"auto\", \"any\", \"tool\" or \"none\"");
}

Result<ThinkingMode> read_thinking(const json& body) {
  const json* thinking = member(body, "thinking");
  if (thinking == nullptr) return ThinkingMode::kChat;
  if (!thinking->is_object()) return make_error("thinking: expected an object such as {\"type\": \"enabled\", \"budget_tokens\": 2048}");
  auto type = optional_string(*thinking, "type", "thinking");
  if (!type.ok()) return type.error();
  const std::string kind = type->value_or("");
  if (kind == "enabled" || kind == "adaptive") {
    auto budget = optional_integer(*thinking, "budget_tokens", "thinking");
    if (!budget.ok()) return budget.error();
    if (budget->has_value() && **budget < 1) return make_error("thinking.budget_tokens: must be at least 1");
    return ThinkingMode::kThinking;
  }
  if (kind == "disabled") return ThinkingMode::kChat;
  return make_error("thinking.type: expected \"enabled\", \"adaptive\" or \"disabled\"");
}

json usage_json(const ChatUsage& usage) {
  const int64_t cached = std::clamp<int64_t>(usage.cached_prompt_tokens, 0, usage.prompt_tokens);
  return json{{"input_tokens", usage.prompt_tokens - cached},
              {"output_tokens", usage.completion_tokens},
              {"cache_read_input_tokens", cached},
              {"cache_creation_input_tokens", 0}};
}

json stop_reason(const ChatOutcome& outcome) {
  switch (outcome.finish) {
    case FinishReason::kToolCalls: return "tool_use";
    case FinishReason::kLength: return "max_tokens";
    case FinishReason::kStop:
    case FinishReason::kCancelled: break;
  }
  return outcome.stop_sequence.empty() ? "end_turn" : "stop_sequence";
}

json stop_sequence(const ChatOutcome& outcome) {
  if (outcome.finish != FinishReason::kStop || outcome.stop_sequence.empty()) return nullptr;
  return outcome.stop_sequence;
}

// Anthropic's error types; another type is mapped from the HTTP status.
std::string anthropic_error_type(const ApiError& error) {
  static const char* const kKnown[] = {"invalid_request_error", "authentication_error", "permission_error",
                                       "not_found_error",       "request_too_large",    "rate_limit_error",
                                       "api_error",             "overloaded_error",     "timeout_error"};
  for (const char* known : kKnown) {
    if (error.type == known) return error.type;
  }
  switch (error.status) {
    case 400: return "invalid_request_error";
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 503:
    case 529: return "overloaded_error";
    default: return error.status >= 400 && error.status < 500 ? "invalid_request_error" : "api_error";
  }
}

json error_json(const ApiError& error) {
  return json{{"type", "error"}, {"error", {{"type", anthropic_error_type(error)}, {"message", error.message}}}};
}

// Content blocks of the streamed message, opened and closed as the events
// change kind (thinking → text → tool_use ...), each with its index.
class AnthropicStream final : public StreamEncoder {
 public:
  std::string begin(const ChatOutcome& head) override {
    json message{{"id", head.id},         {"type", "message"},        {"role", "assistant"},
                 {"model", head.model},    {"content", json::array()}, {"stop_reason", nullptr},
                 {"stop_sequence", nullptr}, {"usage", usage_json(head.usage)}};
    return sse_event("message_start", json{{"type", "message_start"}, {"message", message}}) +
           sse_event("ping", json{{"type", "ping"}});
  }

  std::string event(const ChatEvent& event) override {
    std::string out;
    switch (event.kind) {
      case ChatEvent::Kind::kReasoningDelta:
        if (event.text.empty()) break;
        if (open_ != Block::kThinking) {
          out += close();
          out += open(Block::kThinking, json{{"type", "thinking"}, {"thinking", ""}, {"signature", ""}});
        }
        thinking_ += event.text;
        out += delta(json{{"type", "thinking_delta"}, {"thinking", event.text}});
        break;
      case ChatEvent::Kind::kContentDelta:
        if (event.text.empty()) break;
        if (open_ != Block::kText) {
          out += close();
          out += open(Block::kText, json{{"type", "text"}, {"text", ""}});
        }
        out += delta(json{{"type", "text_delta"}, {"text", event.text}});
        break;
      case ChatEvent::Kind::kToolCallStarted:
        out += close();
        out += open(Block::kToolUse,
                    json{{"type", "tool_use"}, {"id", event.call_id}, {"name", event.name}, {"input", json::object()}});
        call_index_ = event.call_index;
        arguments_sent_.clear();
        break;
      case ChatEvent::Kind::kArgumentsDelta:
        // Pieces of another call than the open one cannot be placed: the
        // generation sends a call's pieces between its start and done.
        if (open_ != Block::kToolUse || event.call_index != call_index_ || event.text.empty()) break;
        arguments_sent_ += event.text;
        out += delta(json{{"type", "input_json_delta"}, {"partial_json", event.text}});
        break;
      case ChatEvent::Kind::kToolCallDone:
        if (open_ != Block::kToolUse || event.call_index != call_index_) break;
        // Whatever of the whole arguments text the deltas did not carry.
        if (event.text.size() > arguments_sent_.size() && event.text.compare(0, arguments_sent_.size(), arguments_sent_) == 0) {
          out += delta(json{{"type", "input_json_delta"}, {"partial_json", event.text.substr(arguments_sent_.size())}});
        }
        out += close();
        break;
    }
    return out;
  }

  std::string end(const ChatOutcome& outcome) override {
    if (outcome.finish == FinishReason::kCancelled) return "";
    std::string out = close();
    out += sse_event("message_delta",
                     json{{"type", "message_delta"},
                          {"delta", {{"stop_reason", stop_reason(outcome)}, {"stop_sequence", stop_sequence(outcome)}}},
                          {"usage", usage_json(outcome.usage)}});
    out += sse_event("message_stop", json{{"type", "message_stop"}});
    return out;
  }

  std::string error(const ApiError& error) override { return close() + sse_event("error", error_json(error)); }

 private:
  enum class Block { kNone, kThinking, kText, kToolUse };

  std::string open(Block kind, json content_block) {
    open_ = kind;
    return sse_event("content_block_start",
                     json{{"type", "content_block_start"}, {"index", index_}, {"content_block", std::move(content_block)}});
  }

  std::string delta(json delta) {
    return sse_event("content_block_delta", json{{"type", "content_block_delta"}, {"index", index_}, {"delta", std::move(delta)}});
  }

  std::string close() {
    if (open_ == Block::kNone) return "";
    std::string out;
    if (open_ == Block::kThinking) {
      out += delta(json{{"type", "signature_delta"}, {"signature", thinking_signature(thinking_)}});
      thinking_.clear();
    }
    out += sse_event("content_block_stop", json{{"type", "content_block_stop"}, {"index", index_}});
    open_ = Block::kNone;
    ++index_;
    return out;
  }

  Block open_ = Block::kNone;
  int index_ = 0;           // of the open block, or of the next one
  std::string thinking_;    // of the open thinking block, for its signature
  size_t call_index_ = 0;   // of the open tool_use block
  std::string arguments_sent_;
};

class AnthropicMessages final : public ApiFormat {
 public:
  std::string_view path() const override { return "/v1/messages"; }
  std::string_view id_prefix() const override { return "msg_"; }
  std::string_view call_id_prefix() const override { return "toolu_"; }

  Result<ChatRequest> parse(const json& body) const override {
    if (!body.is_object()) return make_error("the request body must be a JSON object");
    ChatRequest request;
    if (Status s = read_common_members(body, "max_tokens", /*max_tokens_required=*/true, request); !s) return s.error();

    if (const json* stops = member(body, "stop_sequences")) {
      if (!stops->is_array()) return make_error("stop_sequences: expected an array of strings");
      for (size_t i = 0; i < stops->size(); ++i) {
        const json& stop = (*stops)[i];
        if (!stop.is_string() || stop.get<std::string>().empty()) {
          return make_error(at("stop_sequences", i) + ": expected a non-empty string");
        }
        request.stop.push_back(stop.get<std::string>());
      }
    }

    if (const json* metadata = member(body, "metadata")) {
      if (!metadata->is_object()) return make_error("metadata: expected an object");
      auto user = optional_string(*metadata, "user_id", "metadata");
      if (!user.ok()) return user.error();
      request.user = user->value_or("");
    }

    auto thinking = read_thinking(body);
    if (!thinking.ok()) return thinking.error();
    request.render.thinking_mode = *thinking;

    auto choice = read_tool_choice(body);
    if (!choice.ok()) return choice.error();
    request.tool_choice = std::move(choice).value();

    auto system = read_system(body);
    if (!system.ok()) return system.error();
    auto tools = read_tools(body);
    if (!tools.ok()) return tools.error();

    std::vector<Message>& messages = request.conversation.messages;
    if (system->has_value() || !tools->empty()) {
      Message head;
      head.role = Role::kSystem;
      head.content = system->value_or("");
      head.tools = std::move(tools).value();
      messages.push_back(std::move(head));
    }
    Status read = read_messages(body, messages);
    if (!read.ok()) return read.error();
    return request;
  }

  json response(const ChatOutcome& outcome) const override {
    json content = json::array();
    if (!outcome.reasoning.empty()) {
      content.push_back(
          json{{"type", "thinking"}, {"thinking", outcome.reasoning}, {"signature", thinking_signature(outcome.reasoning)}});
    }
    if (!outcome.content.empty()) content.push_back(json{{"type", "text"}, {"text", outcome.content}});
    for (const OutcomeToolCall& call : outcome.tool_calls) {
      content.push_back(
          json{{"type", "tool_use"}, {"id", call.id}, {"name", call.name}, {"input", arguments_object(call.arguments)}});
    }
    return json{{"id", outcome.id},
                {"type", "message"},
                {"role", "assistant"},
                {"model", outcome.model},
                {"content", std::move(content)},
                {"stop_reason", stop_reason(outcome)},
                {"stop_sequence", stop_sequence(outcome)},
                {"usage", usage_json(outcome.usage)}};
  }

  std::unique_ptr<StreamEncoder> stream() const override { return std::make_unique<AnthropicStream>(); }

  json error_body(const ApiError& error) const override { return error_json(error); }
};

}  // namespace

std::string thinking_signature(std::string_view thinking) {
  uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis
  for (unsigned char c : thinking) {
    hash ^= c;
    hash *= 0x100000001b3ULL;  // FNV-1a 64 prime
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return std::string("beluga-fnv1a64:") + hex;
}

std::unique_ptr<ApiFormat> anthropic_messages_format() { return std::make_unique<AnthropicMessages>(); }

}  // namespace beluga::daemon::http
