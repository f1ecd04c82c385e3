// The request side of openai_responses.h: a /v1/responses body into a
// ChatRequest (the mapping is documented in the header).
#include "daemon/http/openai_responses_input.h"

#include <nlohmann/json.hpp>

#include "daemon/http/format_support.h"

namespace beluga::daemon::http {
namespace {

using nlohmann::json;

constexpr std::string_view kReasoningPrefix = "beluga-reasoning:";

std::string at(const std::string& path, size_t index) { return path + "[" + std::to_string(index) + "]"; }

Error type_error(const std::string& path, std::string_view expected, const json& got) {
  return make_error(path + ": expected " + std::string(expected) + ", got " + std::string(json_type_name(got)));
}

// Message content: a string, or parts joined by `separator`.
Result<std::string> read_content(const json& content, const std::string& path, std::string_view separator) {
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) return type_error(path, "a string or an array of content parts", content);
  std::string joined;
  for (size_t i = 0; i < content.size(); ++i) {
    const json& part = content[i];
    const std::string part_path = at(path, i);
    if (!part.is_object()) return type_error(part_path, "an object", part);
    auto type = optional_string(part, "type", part_path);
    if (!type.ok()) return type.error();
    const std::string kind = type->value_or("");
    std::string text;
    if (kind == "input_text" || kind == "output_text" || kind == "text") {
      auto value = optional_string(part, "text", part_path);
      if (!value.ok()) return value.error();
      text = value->value_or("");
    } else if (kind == "refusal") {
      auto value = optional_string(part, "refusal", part_path);
      if (!value.ok()) return value.error();
      text = value->value_or("");
    } else if (kind == "input_image") {
      text = "[Unsupported image]";
    } else if (kind == "input_file") {
      text = "[Unsupported file]";
    } else {
      return make_error(part_path + ": unsupported content part type \"" + kind + "\"");
    }
    if (i > 0) joined += separator;
    joined += text;
  }
  return joined;
}

// The reasoning text of a reasoning item: its reasoning_text content, else
// the text beluga put in encrypted_content. Another server's encrypted
// reasoning cannot be read and is dropped.
Result<std::string> read_reasoning(const json& item, const std::string& path) {
  std::string text;
  if (const json* content = member(item, "content")) {
    if (!content->is_array()) return type_error(path + ".content", "an array", *content);
    for (size_t i = 0; i < content->size(); ++i) {
      const json& part = (*content)[i];
      auto value = optional_string(part, "text", at(path + ".content", i));
      if (!value.ok()) return value.error();
      text += value->value_or("");
    }
    if (!content->empty()) return text;
  }
  auto encrypted = optional_string(item, "encrypted_content", path);
  if (!encrypted.ok()) return encrypted.error();
  if (encrypted->has_value() && (*encrypted)->compare(0, kReasoningPrefix.size(), kReasoningPrefix) == 0) {
    return (*encrypted)->substr(kReasoningPrefix.size());
  }
  return text;
}

// Builds the conversation from input items. An assistant turn collects a
// reasoning item, message text and function calls until a user, system or
// tool item ends it.
class InputReader {
 public:
  Status read(const json& input) {
    if (input.is_string()) {
      Message message;
      message.role = Role::kUser;
      message.content = input.get<std::string>();
      messages_.push_back(std::move(message));
      return {};
    }
    if (!input.is_array()) return type_error("input", "a string or an array of items", input);
    for (size_t i = 0; i < input.size(); ++i) {
      Status status = read_item(input[i], at("input", i));
      if (!status.ok()) return status;
    }
    return {};
  }

  std::vector<std::string>& preamble() { return preamble_; }
  std::vector<Message>& messages() { return messages_; }

 private:
  Status read_item(const json& item, const std::string& path) {
    if (!item.is_object()) return type_error(path, "an object", item);
    auto type = optional_string(item, "type", path);
    if (!type.ok()) return type.error();
    const std::string kind = type->value_or("message");
    if (kind == "message") return read_message(item, path);
    if (kind == "reasoning") {
      auto text = read_reasoning(item, path);
      if (!text.ok()) return text.error();
      pending_reasoning_ = pending_reasoning_.value_or("") + *text;
      return {};
    }
    if (kind == "function_call") {
      auto call_id = optional_string(item, "call_id", path);
      if (!call_id.ok()) return call_id.error();
      auto name = optional_string(item, "name", path);
      if (!name.ok()) return name.error();
      auto arguments = optional_string(item, "arguments", path);
      if (!arguments.ok()) return arguments.error();
      if (!call_id->has_value() || !name->has_value()) {
        return make_error(path + ": a function_call needs \"call_id\" and \"name\"");
      }
      ToolCall call;
      call.id = **call_id;
      call.name = **name;
      call.arguments = arguments->value_or("{}");
      assistant_turn().tool_calls.push_back(std::move(call));
      return {};
    }
    if (kind == "function_call_output") {
      auto call_id = optional_string(item, "call_id", path);
      if (!call_id.ok()) return call_id.error();
      if (!call_id->has_value()) return make_error(path + ": a function_call_output needs \"call_id\"");
      const json* output = member(item, "output");
      Message message;
      message.role = Role::kTool;
      message.tool_call_id = **call_id;
      if (output == nullptr) {
        message.content = "";
      } else {
        auto text = read_content(*output, path + ".output", "\n\n");
        if (!text.ok()) return text.error();
        message.content = std::move(text).value();
      }
      end_turn();
      messages_.push_back(std::move(message));
      return {};
    }
    if (kind == "item_reference") {
      return make_error(path + ": item_reference needs stored responses; beluga stores none, so send the items themselves");
    }
    return make_error(path + ": unsupported input item type \"" + kind + "\"");
  }

  Status read_message(const json& item, const std::string& path) {
    auto role = optional_string(item, "role", path);
    if (!role.ok()) return role.error();
    const std::string who = role->value_or("");
    const json* content = member(item, "content");
    if (content == nullptr) return make_error(path + ".content: required");
    if (who == "assistant") {
      auto text = read_content(*content, path + ".content", "");
      if (!text.ok()) return text.error();
      Message& turn = assistant_turn(/*text_follows=*/true);
      turn.content = turn.content.value_or("") + *text;
      return {};
    }
    auto text = read_content(*content, path + ".content", "\n\n");
    if (!text.ok()) return text.error();
    if (who == "user") {
      end_turn();
      Message message;
      message.role = Role::kUser;
      message.content = std::move(text).value();
      messages_.push_back(std::move(message));
      return {};
    }
    if (who == "system" || who == "developer") {
      end_turn();
      if (messages_.empty()) {
        preamble_.push_back(std::move(text).value());
      } else {
        Message message;
        message.role = Role::kDeveloper;
        message.content = std::move(text).value();
        messages_.push_back(std::move(message));
      }
      return {};
    }
    return make_error(path + ".role: expected \"user\", \"assistant\", \"system\" or \"developer\"");
  }

  // The assistant message the current item belongs to: the open turn, or a
  // new one when a reasoning item started a turn, the last message is not
  // an assistant's, or message text follows that turn's calls.
  Message& assistant_turn(bool text_follows = false) {
    const bool reuse = !pending_reasoning_ && !messages_.empty() && messages_.back().role == Role::kAssistant &&
                       turn_open_ && !(text_follows && !messages_.back().tool_calls.empty());
    if (!reuse) {
      Message message;
      message.role = Role::kAssistant;
      message.reasoning_content = std::move(pending_reasoning_);
      pending_reasoning_.reset();
      messages_.push_back(std::move(message));
      turn_open_ = true;
    }
    return messages_.back();
  }

  // A reasoning item with no assistant output after it has nothing to attach to.
  void end_turn() {
    pending_reasoning_.reset();
    turn_open_ = false;
  }

  std::vector<std::string> preamble_;  // system/developer text before the first turn
  std::vector<Message> messages_;
  std::optional<std::string> pending_reasoning_;
  bool turn_open_ = false;
};

Result<std::vector<ToolDeclaration>> read_tools(const json& body) {
  std::vector<ToolDeclaration> tools;
  const json* list = member(body, "tools");
  if (list == nullptr) return tools;
  if (!list->is_array()) return type_error("tools", "an array", *list);
  for (size_t i = 0; i < list->size(); ++i) {
    const json& tool = (*list)[i];
    const std::string path = at("tools", i);
    if (!tool.is_object()) return type_error(path, "an object", tool);
    auto type = optional_string(tool, "type", path);
    if (!type.ok()) return type.error();
    if (type->value_or("") != "function") {
      return make_error(path + ": tool type \"" + type->value_or("") +
                        "\" is not supported by beluga (only \"function\" tools are: the model calls them and the client runs them)");
    }
    auto name = optional_string(tool, "name", path);
    if (!name.ok()) return name.error();
    if (!name->has_value() || (*name)->empty()) return make_error(path + ".name: required");
    auto description = optional_string(tool, "description", path);
    if (!description.ok()) return description.error();
    ToolDeclaration declaration;
    declaration.name = **name;
    declaration.description = *description;
    if (const json* parameters = member(tool, "parameters")) {
      if (!parameters->is_object()) return type_error(path + ".parameters", "an object", *parameters);
      declaration.parameters_json = parameters->dump();
    }
    if (const json* strict = member(tool, "strict")) declaration.other_members_json.emplace_back("strict", strict->dump());
    tools.push_back(std::move(declaration));
  }
  return tools;
}

Result<std::string> read_tool_choice(const json& body) {
  const json* choice = member(body, "tool_choice");
  if (choice == nullptr) return std::string("auto");
  if (choice->is_string()) {
    const std::string value = choice->get<std::string>();
    if (value == "auto" || value == "none" || value == "required") return value;
    return make_error("tool_choice: expected \"auto\", \"none\", \"required\" or a function");
  }
  if (!choice->is_object()) return type_error("tool_choice", "a string or an object", *choice);
  auto type = optional_string(*choice, "type", "tool_choice");
  if (!type.ok()) return type.error();
  if (type->value_or("") == "function") {
    auto name = optional_string(*choice, "name", "tool_choice");
    if (!name.ok()) return name.error();
    if (!name->has_value() || (*name)->empty()) return make_error("tool_choice.name: required for a function");
    return **name;
  }
  if (type->value_or("") == "allowed_tools") return std::string("auto");
  return make_error("tool_choice.type: \"" + type->value_or("") + "\" is not supported (use a function or allowed_tools)");
}

Status read_reasoning_options(const json& body, RenderOptions& render) {
  render.thinking_mode = ThinkingMode::kThinking;
  const json* reasoning = member(body, "reasoning");
  if (reasoning == nullptr) return {};
  if (!reasoning->is_object()) return type_error("reasoning", "an object", *reasoning);
  auto effort = optional_string(*reasoning, "effort", "reasoning");
  if (!effort.ok()) return effort.error();
  const std::string value = effort->value_or("medium");
  if (value == "none" || value == "minimal") {
    render.thinking_mode = ThinkingMode::kChat;
  } else if (value == "low" || value == "medium") {
    render.reasoning_effort = ReasoningEffort::kDefault;
  } else if (value == "high") {
    render.reasoning_effort = ReasoningEffort::kHigh;
  } else if (value == "xhigh" || value == "max") {
    render.reasoning_effort = ReasoningEffort::kMax;
  } else {
    return make_error("reasoning.effort: expected \"none\", \"minimal\", \"low\", \"medium\", \"high\" or \"xhigh\"");
  }
  return {};
}

}  // namespace

Result<ChatRequest> parse_responses_request(const json& body) {
  if (!body.is_object()) return make_error("the request body must be a JSON object");
  if (member(body, "previous_response_id") != nullptr) {
    return make_error("previous_response_id: beluga stores no responses; send the whole conversation in \"input\" (store: false)");
  }
  if (member(body, "conversation") != nullptr) {
    return make_error("conversation: beluga stores no conversations; send the whole conversation in \"input\"");
  }
  auto background = optional_bool(body, "background", "");
  if (!background.ok()) return background.error();
  if (background->value_or(false)) return make_error("background: background responses are not supported by beluga");

  ChatRequest request;
  if (Status s = read_common_members(body, "max_output_tokens", /*max_tokens_required=*/false, request); !s)
    return s.error();
  auto store = optional_bool(body, "store", "");  // accepted; nothing is stored either way
  if (!store.ok()) return store.error();
  auto user = optional_string(body, "user", "");
  if (!user.ok()) return user.error();
  request.user = user->value_or("");

  Status reasoning = read_reasoning_options(body, request.render);
  if (!reasoning.ok()) return reasoning.error();
  auto choice = read_tool_choice(body);
  if (!choice.ok()) return choice.error();
  request.tool_choice = std::move(choice).value();
  auto instructions = optional_string(body, "instructions", "");
  if (!instructions.ok()) return instructions.error();
  auto tools = read_tools(body);
  if (!tools.ok()) return tools.error();

  const json* input = member(body, "input");
  if (input == nullptr) return make_error("input: required");
  InputReader reader;
  Status read = reader.read(*input);
  if (!read.ok()) return read.error();

  std::vector<std::string> system_parts;
  if (instructions->has_value()) system_parts.push_back(**instructions);
  for (std::string& part : reader.preamble()) system_parts.push_back(std::move(part));
  std::vector<Message>& messages = request.conversation.messages;
  if (!system_parts.empty() || !tools->empty()) {
    Message head;
    head.role = Role::kSystem;
    std::string text;
    for (size_t i = 0; i < system_parts.size(); ++i) text += (i > 0 ? "\n\n" : "") + system_parts[i];
    head.content = std::move(text);
    head.tools = std::move(tools).value();
    messages.push_back(std::move(head));
  }
  for (Message& message : reader.messages()) messages.push_back(std::move(message));
  if (messages.empty() || messages.back().role == Role::kSystem) return make_error("input: no message to answer");
  if (messages.back().role == Role::kAssistant) {
    if (!messages.back().tool_calls.empty()) {
      return make_error("input: the function_call \"" + messages.back().tool_calls.back().id +
                        "\" has no function_call_output after it");
    }
    messages.back().wo_eos = true;  // a prefill the model continues
  }
  return request;
}

}  // namespace beluga::daemon::http
