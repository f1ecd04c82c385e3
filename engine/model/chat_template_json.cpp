// JSON messages and render options into chat_template.h's types. The
// accepted shapes are those encoding_dsv4.py accepts without raising;
// where Python would silently stringify an odd value (a number as a tool
// name, a dict as arguments) we refuse it with a message instead.
#include "engine/model/chat_template_json.h"

#include <string_view>

namespace beluga {
namespace {

Error type_error(const std::string& path, std::string_view expected, const JsonValue& got) {
  return make_error(path + ": expected " + std::string(expected) + ", got a JSON " +
                    std::string(python_type_name(got)));
}

// Optional string member: absent or null gives nullopt.
Result<std::optional<std::string>> optional_string(const JsonValue& object, std::string_view key,
                                                   const std::string& path) {
  const JsonValue* v = object.find(key);
  if (!v || v->is_null()) return std::optional<std::string>{};
  if (!v->is_string()) return type_error(path + "." + std::string(key), "a string or null", *v);
  return std::optional<std::string>{v->text};
}

Result<Role> role_from_json(const JsonValue& message, const std::string& path) {
  constexpr std::string_view kExpected = " (expected system, user, developer, assistant, tool or latest_reminder)";
  const JsonValue* role = message.find("role");
  if (!role) return make_error(path + ": missing \"role\"" + std::string(kExpected));
  if (role->is_string()) {
    for (Role r : {Role::kSystem, Role::kUser, Role::kDeveloper, Role::kAssistant, Role::kTool,
                   Role::kLatestReminder})
      if (role_name(r) == role->text) return r;
  }
  return make_error(path + ".role: unknown role " + to_python_json(*role) + std::string(kExpected));
}

Result<ChatTask> task_from_json(const JsonValue& message, const std::string& path) {
  const JsonValue* task = message.find("task");
  if (!task || task->is_null()) return ChatTask::kNone;
  if (task->is_string()) {
    for (ChatTask t : {ChatTask::kAction, ChatTask::kQuery, ChatTask::kAuthority, ChatTask::kDomain,
                       ChatTask::kTitle, ChatTask::kReadUrl})
      if (chat_task_name(t) == task->text) return t;
  }
  return make_error(path + ".task: unknown task " + to_python_json(*task) +
                    " (expected action, query, authority, domain, title, read_url or null)");
}

Result<ToolDeclaration> tool_from_json(const JsonValue& tool, const std::string& path) {
  if (!tool.is_object()) return type_error(path, "an object {\"type\": \"function\", \"function\": {...}}", tool);
  const JsonValue* function = tool.find("function");
  if (!function) return make_error(path + ": missing \"function\"");
  if (!function->is_object()) return type_error(path + ".function", "an object", *function);
  ToolDeclaration out;
  bool has_name = false;
  for (const auto& [key, value] : function->members) {
    out.member_order.push_back(key);
    if (key == "name") {
      if (!value.is_string()) return type_error(path + ".function.name", "a string", value);
      out.name = value.text;
      has_name = true;
    } else if (key == "description" && value.is_string()) {
      out.description = value.text;
    } else if (key == "parameters") {
      out.parameters_json = to_python_json(value);
    } else {
      out.other_members_json.emplace_back(key, to_python_json(value));
    }
  }
  if (!has_name) return make_error(path + ".function: missing \"name\"");
  return out;
}

Result<ToolCall> tool_call_from_json(const JsonValue& call, const std::string& path) {
  if (!call.is_object()) return type_error(path, "an object {\"id\", \"type\", \"function\"}", call);
  const JsonValue* function = call.find("function");
  if (!function) return make_error(path + ": missing \"function\"");
  if (!function->is_object()) return type_error(path + ".function", "an object {\"name\", \"arguments\"}", *function);
  ToolCall out;
  const JsonValue* name = function->find("name");
  if (!name) return make_error(path + ".function: missing \"name\"");
  if (!name->is_string()) return type_error(path + ".function.name", "a string", *name);
  out.name = name->text;
  const JsonValue* arguments = function->find("arguments");
  if (!arguments) return make_error(path + ".function: missing \"arguments\"");
  if (!arguments->is_string())
    return type_error(path + ".function.arguments", "a string holding a JSON object (encode it first)", *arguments);
  out.arguments = arguments->text;
  // tc.get("id") or tc["function"].get("id", "")
  auto id = optional_string(call, "id", path);
  if (!id) return id.error();
  if (id->has_value() && !(*id)->empty()) {
    out.id = **id;
  } else {
    auto function_id = optional_string(*function, "id", path + ".function");
    if (!function_id) return function_id.error();
    out.id = function_id->value_or("");
  }
  return out;
}

Status content_from_json(const JsonValue& message, Role role, const std::string& path, Message& out) {
  const JsonValue* content = message.find("content");
  if (!content) {
    if (role == Role::kUser || role == Role::kTool) out.content = "";
    return {};
  }
  if (content->is_null()) return {};
  if (content->is_string()) {
    out.content = content->text;
    return {};
  }
  if (role != Role::kTool || !content->is_array())
    return type_error(path + ".content",
                      role == Role::kTool ? "a string, null or a list of content blocks" : "a string or null",
                      *content);
  out.content = "";  // an empty list renders as ""
  for (size_t k = 0; k < content->items.size(); ++k) {
    const JsonValue& block = content->items[k];
    std::string block_path = path + ".content[" + std::to_string(k) + "]";
    if (!block.is_object()) return type_error(block_path, "an object {\"type\", ...}", block);
    ContentBlock b;
    auto type = optional_string(block, "type", block_path);
    if (!type) return type.error();
    b.type = *type;
    if (b.type == "text") {
      const JsonValue* text = block.find("text");
      if (text && !text->is_string()) return type_error(block_path + ".text", "a string", *text);
      if (text) b.text = text->text;
    }
    out.content_blocks.push_back(std::move(b));
  }
  return {};
}

}  // namespace

Result<Message> message_from_json(const JsonValue& message, const std::string& path) {
  if (!message.is_object()) return type_error(path, "a message object {\"role\", \"content\", ...}", message);
  Message out;
  auto role = role_from_json(message, path);
  if (!role) return role.error();
  out.role = *role;
  if (Status s = content_from_json(message, out.role, path, out); !s) return s.error();

  auto reasoning = optional_string(message, "reasoning_content", path);
  if (!reasoning) return reasoning.error();
  out.reasoning_content = *reasoning;

  if (const JsonValue* calls = message.find("tool_calls"); calls && !calls->is_null()) {
    if (!calls->is_array()) return type_error(path + ".tool_calls", "a list", *calls);
    for (size_t k = 0; k < calls->items.size(); ++k) {
      auto call = tool_call_from_json(calls->items[k], path + ".tool_calls[" + std::to_string(k) + "]");
      if (!call) return call.error();
      out.tool_calls.push_back(std::move(call).value());
    }
  }

  auto tool_call_id = optional_string(message, "tool_call_id", path);
  if (!tool_call_id) return tool_call_id.error();
  out.tool_call_id = tool_call_id->value_or("");
  if (const JsonValue* name = message.find("name"); name && name->is_string()) out.name = name->text;

  if (const JsonValue* tools = message.find("tools"); tools && !tools->is_null()) {
    if (!tools->is_array()) return type_error(path + ".tools", "a list", *tools);
    for (size_t k = 0; k < tools->items.size(); ++k) {
      auto tool = tool_from_json(tools->items[k], path + ".tools[" + std::to_string(k) + "]");
      if (!tool) return tool.error();
      out.tools.push_back(std::move(tool).value());
    }
  }
  if (const JsonValue* format = message.find("response_format"); format && !format->is_null())
    out.response_format_json = to_python_json(*format);

  if (const JsonValue* wo_eos = message.find("wo_eos")) out.wo_eos = is_truthy(*wo_eos);
  auto task = task_from_json(message, path);
  if (!task) return task.error();
  out.task = *task;

  auto raw = optional_string(message, "raw_completion", path);
  if (!raw) return raw.error();
  out.raw_completion = *raw;
  return out;
}

namespace {

Result<std::vector<Message>> message_list(const JsonValue& list, const std::string& path) {
  if (!list.is_array()) return type_error(path, "a list of messages", list);
  std::vector<Message> out;
  for (size_t k = 0; k < list.items.size(); ++k) {
    auto m = message_from_json(list.items[k], path + "[" + std::to_string(k) + "]");
    if (!m) return m.error();
    out.push_back(std::move(m).value());
  }
  return out;
}

}  // namespace

Result<Conversation> conversation_from_json(const JsonValue& messages, const JsonValue* context) {
  Conversation out;
  auto list = message_list(messages, "messages");
  if (!list) return list.error();
  out.messages = std::move(list).value();
  if (context && !context->is_null()) {
    auto prefix = message_list(*context, "context");
    if (!prefix) return prefix.error();
    out.context = std::move(prefix).value();
  }
  return out;
}

Result<RenderOptions> render_options_from_json(const JsonValue& options, const JsonValue** context_out) {
  if (!options.is_object()) return type_error("options", "an object", options);
  RenderOptions out;
  bool has_mode = false;
  for (const auto& [key, value] : options.members) {
    std::string path = "options." + key;
    if (key == "thinking_mode") {
      if (value.is_string() && value.text == "chat") out.thinking_mode = ThinkingMode::kChat;
      else if (value.is_string() && value.text == "thinking") out.thinking_mode = ThinkingMode::kThinking;
      else return make_error(path + ": invalid thinking_mode " + to_python_json(value) + " (expected \"chat\" or \"thinking\")");
      has_mode = true;
    } else if (key == "drop_thinking" || key == "add_default_bos_token") {
      if (value.kind != JsonValue::Kind::kBool) return type_error(path, "true or false", value);
      (key == "drop_thinking" ? out.drop_thinking : out.add_bos) = value.boolean;
    } else if (key == "reasoning_effort") {
      if (value.is_null()) out.reasoning_effort = ReasoningEffort::kDefault;
      else if (value.is_string() && value.text == "low") out.reasoning_effort = ReasoningEffort::kLow;
      else if (value.is_string() && value.text == "high") out.reasoning_effort = ReasoningEffort::kHigh;
      else if (value.is_string() && value.text == "max") out.reasoning_effort = ReasoningEffort::kMax;
      else return make_error(path + ": invalid reasoning effort " + to_python_json(value) +
                             " (expected null, \"low\", \"high\" or \"max\")");
    } else if (key == "encoding_revision") {
      if (value.is_string() && value.text == "v4") out.revision = EncodingRevision::kV4;
      else if (value.is_string() && value.text == "v4-0731") out.revision = EncodingRevision::kV4_0731;
      else return make_error(path + ": unknown encoding revision " + to_python_json(value) +
                             " (expected \"v4\" or \"v4-0731\")");
    } else if (key == "context") {
      if (context_out) *context_out = &value;
    } else {
      return make_error(path + ": unknown option (expected thinking_mode, drop_thinking, add_default_bos_token, "
                        "reasoning_effort, context or encoding_revision)");
    }
  }
  if (!has_mode) return make_error("options: missing \"thinking_mode\" (\"chat\" or \"thinking\")");
  return out;
}

Result<RenderRequest> render_request_from_json(const JsonValue& request) {
  if (!request.is_object()) return type_error("request", "an object {\"messages\": [...], \"options\": {...}}", request);
  const JsonValue* messages = request.find("messages");
  if (!messages) return make_error("request: missing \"messages\"");
  const JsonValue* options = request.find("options");
  if (!options) return make_error("request: missing \"options\" (at least {\"thinking_mode\": \"chat\"|\"thinking\"})");
  const JsonValue* context = nullptr;
  auto parsed_options = render_options_from_json(*options, &context);
  if (!parsed_options) return parsed_options.error();
  auto conversation = conversation_from_json(*messages, context);
  if (!conversation) return conversation.error();
  return RenderRequest{std::move(conversation).value(), *parsed_options};
}

}  // namespace beluga
