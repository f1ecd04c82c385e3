// render_prompt: encode_messages of encoding_dsv4.py, step for step.
//
// The reference works in three passes, and so does this file:
//   1. merge_tool_messages: each list (context, messages) on its own, user
//      and tool messages become "user turns" made of parts;
//   2. sort_tool_results_by_call_order over context + messages: within a
//      user turn with several results, results are stably reordered by the
//      position of their id among the calls of the last assistant turn with
//      calls (unknown or missing ids count as position 0);
//   3. _drop_thinking_messages (thinking mode, dropping on, no tools
//      declared), then render_message for each item past the context.
// Index arithmetic (how many items are "context" after dropping) follows
// the reference exactly, quirks included.
#include "engine/model/chat_template.h"

#include <algorithm>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "engine/model/py_json.h"

namespace beluga {

std::string_view role_name(Role role) {
  switch (role) {
    case Role::kSystem: return "system";
    case Role::kUser: return "user";
    case Role::kDeveloper: return "developer";
    case Role::kAssistant: return "assistant";
    case Role::kTool: return "tool";
    case Role::kLatestReminder: return "latest_reminder";
  }
  return "?";
}

std::string_view chat_task_name(ChatTask task) {
  switch (task) {
    case ChatTask::kNone: return "";
    case ChatTask::kAction: return "action";
    case ChatTask::kQuery: return "query";
    case ChatTask::kAuthority: return "authority";
    case ChatTask::kDomain: return "domain";
    case ChatTask::kTitle: return "title";
    case ChatTask::kReadUrl: return "read_url";
  }
  return "";
}

std::string_view reasoning_effort_name(ReasoningEffort effort) {
  switch (effort) {
    case ReasoningEffort::kDefault: return "";
    case ReasoningEffort::kLow: return "low";
    case ReasoningEffort::kHigh: return "high";
    case ReasoningEffort::kMax: return "max";
  }
  return "";
}

namespace {

// The "## Tools" block: kToolsHead + one JSON line per function + kToolsTail.
constexpr std::string_view kToolsHead =
    R"(## Tools

You have access to a set of tools to help answer the user's question. You can invoke tools by writing a "<｜DSML｜tool_calls>" block like the following:

<｜DSML｜tool_calls>
<｜DSML｜invoke name="$TOOL_NAME">
<｜DSML｜parameter name="$PARAMETER_NAME" string="true|false">$PARAMETER_VALUE</｜DSML｜parameter>
...
</｜DSML｜invoke>
<｜DSML｜invoke name="$TOOL_NAME2">
...
</｜DSML｜invoke>
</｜DSML｜tool_calls>

String parameters should be specified as is and set `string="true"`. For all other types (numbers, booleans, arrays, objects), pass the value in JSON format and set `string="false"`.

If thinking_mode is enabled (triggered by <think>), you MUST output your complete reasoning inside <think>...</think> BEFORE any tool calls or final response.

Otherwise, output directly after </think> with tool calls or final response.

### Available Tool Schemas

)";
constexpr std::string_view kToolsTail =
    "\n\nYou MUST strictly follow the above defined tool name and parameter schemas to invoke tool calls.\n";

constexpr std::string_view kResponseFormatHead =
    "## Response Format:\n\nYou MUST strictly adhere to the following schema to reply:\n";

// April V4 "max" (and 0731 "high").
constexpr std::string_view kEffortAbsoluteMaximum =
    "Reasoning Effort: Absolute maximum with no shortcuts permitted.\n"
    "You MUST be very thorough in your thinking and comprehensively decompose the problem to resolve the root "
    "cause, rigorously stress-testing your logic against all potential paths, edge cases, and adversarial "
    "scenarios.\n"
    "Explicitly write out your entire deliberation process, documenting every intermediate step, considered "
    "alternative, and rejected hypothesis to ensure absolutely no assumption is left unchecked.\n\n";

// 0731 "max".
constexpr std::string_view kEffortBeyondMaximum =
    "Reasoning Effort: Beyond maximum — exhaustive, relentless, and uncompromising.\n"
    "You MUST reason with the utmost depth and rigor, leaving absolutely nothing to chance: exhaustively "
    "decompose the problem into its most fundamental components, trace every causal chain to its root, and "
    "resolve the underlying cause rather than any surface symptom.\n"
    "Do not stop reasoning until you have independently verified the solution from multiple angles and are "
    "certain that no assumption remains unchecked and no error remains undiscovered.\n\n";

std::string_view task_token(ChatTask task) {
  switch (task) {
    case ChatTask::kNone: return "";
    case ChatTask::kAction: return "<｜action｜>";
    case ChatTask::kQuery: return "<｜query｜>";
    case ChatTask::kAuthority: return "<｜authority｜>";
    case ChatTask::kDomain: return "<｜domain｜>";
    case ChatTask::kTitle: return "<｜title｜>";
    case ChatTask::kReadUrl: return "<｜read_url｜>";
  }
  return "";
}

// Where a message came from, for error messages.
struct Source {
  bool in_context = false;
  size_t index = 0;
};

std::string where(Source source) {
  return std::string(source.in_context ? "context[" : "messages[") + std::to_string(source.index) + "]";
}

// One part of a merged user turn: a user message's text or a tool result.
struct Part {
  const Message* message = nullptr;
  Source source;
  bool is_tool_result() const { return message->role == Role::kTool; }
};

// A message after merge_tool_messages. User turns own their parts; other
// roles point at the message unchanged.
struct Item {
  Role role = Role::kUser;
  const Message* message = nullptr;  // non-user roles
  Source source;                     // non-user roles: the message; user turns: their first part
  std::vector<Part> parts;           // user turns
  ChatTask task = ChatTask::kNone;
  bool declares_tools = false;       // "tools" survives merging (not on user turns)
};

// merge_tool_messages: a tool message joins the preceding user turn (task
// or not); a user message joins it only when that turn has no task. The
// merged turn keeps only the task of the message that started it.
std::vector<Item> merge_tool_messages(const std::vector<Message>& messages, bool in_context) {
  std::vector<Item> items;
  for (size_t k = 0; k < messages.size(); ++k) {
    const Message& m = messages[k];
    Source source{in_context, k};
    bool last_is_user = !items.empty() && items.back().role == Role::kUser;
    if (m.role == Role::kTool || m.role == Role::kUser) {
      bool joins = last_is_user && (m.role == Role::kTool || items.back().task == ChatTask::kNone);
      if (!joins) {
        Item turn;
        turn.role = Role::kUser;
        turn.source = source;
        if (m.role == Role::kUser) turn.task = m.task;
        items.push_back(std::move(turn));
      }
      items.back().parts.push_back(Part{&m, source});
    } else {
      Item item;
      item.role = m.role;
      item.message = &m;
      item.source = source;
      item.task = m.task;
      item.declares_tools = !m.tools.empty();
      items.push_back(std::move(item));
    }
  }
  return items;
}

// sort_tool_results_by_call_order, in place.
void sort_tool_results(std::vector<Item>& items) {
  std::unordered_map<std::string, size_t> call_order;
  for (Item& item : items) {
    if (item.role == Role::kAssistant && !item.message->tool_calls.empty()) {
      call_order.clear();
      const auto& calls = item.message->tool_calls;
      for (size_t k = 0; k < calls.size(); ++k)
        if (!calls[k].id.empty()) call_order[calls[k].id] = k;  // a repeated id keeps its last position
    } else if (item.role == Role::kUser) {
      std::vector<Part> results;
      for (const Part& p : item.parts)
        if (p.is_tool_result()) results.push_back(p);
      if (results.size() < 2 || call_order.empty()) continue;
      auto key = [&](const Part& p) {
        auto it = call_order.find(p.message->tool_call_id);
        return it == call_order.end() ? size_t{0} : it->second;
      };
      std::stable_sort(results.begin(), results.end(),
                       [&](const Part& a, const Part& b) { return key(a) < key(b); });
      size_t next = 0;
      for (Part& p : item.parts)
        if (p.is_tool_result()) p = results[next++];
    }
  }
}

long find_last_user_index(const std::vector<Item>& items) {
  for (long k = static_cast<long>(items.size()) - 1; k >= 0; --k)
    if (items[k].role == Role::kUser || items[k].role == Role::kDeveloper) return k;
  return -1;
}

// _drop_thinking_messages: developer messages before the last user or
// developer message are removed. (Assistant turns there also lose their
// reasoning, but render_item never writes reasoning before the last user
// turn when dropping, so nothing needs clearing here.)
std::vector<Item> drop_thinking_messages(const std::vector<Item>& items) {
  long last_user = find_last_user_index(items);
  std::vector<Item> kept;
  for (long k = 0; k < static_cast<long>(items.size()); ++k) {
    Role role = items[k].role;
    bool always_kept = role == Role::kUser || role == Role::kSystem || role == Role::kTool ||
                       role == Role::kLatestReminder || role == Role::kAssistant;
    if (always_kept || k >= last_user) kept.push_back(items[k]);
  }
  return kept;
}

// Parses JSON text held by a message field and writes it the Python way.
Status append_reserialised(std::string_view json_text, const std::string& what, std::string& out) {
  auto value = parse_json(json_text);
  if (!value) return make_error(what + " is not valid JSON: " + value.message());
  append_python_json(*value, out);
  return {};
}

// to_json(tool["function"]): the members in their given order.
Status append_tool_json(const ToolDeclaration& tool, const std::string& what, std::string& out) {
  std::vector<std::string> order = tool.member_order;
  auto add_missing = [&](const std::string& key, bool present) {
    if (present && std::find(order.begin(), order.end(), key) == order.end()) order.push_back(key);
  };
  add_missing("name", true);
  add_missing("description", tool.description.has_value());
  add_missing("parameters", tool.parameters_json.has_value());
  for (const auto& [key, json] : tool.other_members_json) add_missing(key, true);

  out += '{';
  bool first = true;
  for (size_t k = 0; k < order.size(); ++k) {
    const std::string& key = order[k];
    if (std::find(order.begin(), order.begin() + static_cast<long>(k), key) != order.begin() + static_cast<long>(k))
      continue;  // listed twice
    const std::string* other = nullptr;
    for (const auto& [other_key, json] : tool.other_members_json)
      if (other_key == key) other = &json;
    bool typed = key == "name" || (key == "description" && tool.description) ||
                 (key == "parameters" && tool.parameters_json);
    if (!typed && !other) continue;  // in member_order but not set
    if (!first) out += ", ";
    first = false;
    append_python_json_quote(key, out);
    out += ": ";
    if (key == "name") {
      append_python_json_quote(tool.name, out);
    } else if (key == "description" && tool.description) {
      append_python_json_quote(*tool.description, out);
    } else if (key == "parameters" && tool.parameters_json) {
      if (Status s = append_reserialised(*tool.parameters_json, what + " parameters", out); !s) return s;
    } else if (Status s = append_reserialised(*other, what + " member \"" + key + "\"", out); !s) {
      return s;
    }
  }
  out += '}';
  return {};
}

// render_tools + response_format_template, each after a blank line.
Status append_declarations(const Message& m, Source source, std::string& out) {
  if (!m.tools.empty()) {
    out += "\n\n";
    out += kToolsHead;
    for (size_t k = 0; k < m.tools.size(); ++k) {
      if (k) out += '\n';
      std::string what = where(source) + ".tools[" + std::to_string(k) + "] (\"" + m.tools[k].name + "\")";
      if (Status s = append_tool_json(m.tools[k], what, out); !s) return s;
    }
    out += kToolsTail;
  }
  if (m.response_format_json) {
    auto value = parse_json(*m.response_format_json);
    if (!value) return make_error(where(source) + ".response_format is not valid JSON: " + value.message());
    if (is_truthy(*value)) {
      out += "\n\n";
      out += kResponseFormatHead;
      append_python_json(*value, out);
    }
  }
  return {};
}

// encode_arguments_to_dsml: one parameter line per argument. Arguments that
// are not JSON become a single string parameter named "arguments".
Status append_dsml_arguments(const ToolCall& call, Source source, size_t call_index, std::string& out) {
  auto parsed = parse_json(call.arguments);
  JsonValue arguments;
  if (parsed) {
    arguments = std::move(parsed).value();
    if (!arguments.is_object())
      return make_error(where(source) + ".tool_calls[" + std::to_string(call_index) + "] (\"" + call.name +
                        "\"): arguments must be a JSON object, got a JSON " +
                        std::string(python_type_name(arguments)));
  } else {
    arguments = JsonValue::object();
    arguments.set("arguments", JsonValue::from_string(call.arguments));
  }
  for (size_t k = 0; k < arguments.members.size(); ++k) {
    const auto& [key, value] = arguments.members[k];
    if (k) out += '\n';
    out += "<｜DSML｜parameter name=\"";
    out += key;
    out += value.is_string() ? "\" string=\"true\">" : "\" string=\"false\">";
    if (value.is_string()) out += value.text;
    else append_python_json(value, out);
    out += "</｜DSML｜parameter>";
  }
  return {};
}

Status append_tool_calls(const Message& m, Source source, std::string& out) {
  if (m.tool_calls.empty()) return {};
  out += "\n\n";
  out += dsv4::kToolCallsOpen;
  out += '\n';
  for (size_t k = 0; k < m.tool_calls.size(); ++k) {
    if (k) out += '\n';
    out += "<｜DSML｜invoke name=\"";
    out += m.tool_calls[k].name;
    out += "\">\n";
    if (Status s = append_dsml_arguments(m.tool_calls[k], source, k, out); !s) return s;
    out += "\n</｜DSML｜invoke>";
  }
  out += '\n';
  out += dsv4::kToolCallsClose;
  return {};
}

Status append_user_turn(const Item& item, std::string& out) {
  out += dsv4::kUser;
  for (size_t k = 0; k < item.parts.size(); ++k) {
    const Part& part = item.parts[k];
    const Message& m = *part.message;
    if (k) out += "\n\n";
    if (!part.is_tool_result()) {
      if (!m.content)
        return make_error(where(part.source) + ": a user message needs text content (got null)");
      out += *m.content;
      continue;
    }
    out += dsv4::kToolResultOpen;
    if (!m.content_blocks.empty()) {
      for (size_t b = 0; b < m.content_blocks.size(); ++b) {
        const ContentBlock& block = m.content_blocks[b];
        if (b) out += "\n\n";
        if (block.type && *block.type == "text") {
          out += block.text;
        } else {
          out += "[Unsupported ";
          out += block.type ? *block.type : "None";
          out += ']';
        }
      }
    } else {
      out += m.content ? *m.content : "None";
    }
    out += dsv4::kToolResultClose;
  }
  return {};
}

struct RenderState {
  const std::vector<Item>& items;
  const RenderOptions& options;
  bool drop_thinking;  // effective: off when tools are declared
  long last_user;
};

void append_assistant_turn(const Item& item, bool thinking_part, std::string& out) {
  const Message& m = *item.message;
  if (m.raw_completion) {
    std::string_view raw = *m.raw_completion;
    std::optional<std::string_view> reasoning;  // with its "</think>", when the text has one
    std::string_view body = raw;
    if (raw.starts_with(dsv4::kThinkStart)) {
      raw.remove_prefix(dsv4::kThinkStart.size());
      size_t end = raw.find(dsv4::kThinkEnd);
      if (end == std::string_view::npos) {  // cut off while thinking
        reasoning = raw;
        body = {};
      } else {
        reasoning = raw.substr(0, end + dsv4::kThinkEnd.size());
        body = raw.substr(end + dsv4::kThinkEnd.size());
      }
    } else if (raw.starts_with(dsv4::kThinkEnd)) {
      body = raw.substr(dsv4::kThinkEnd.size());
    }
    if (thinking_part) {
      out += reasoning ? *reasoning : m.reasoning_content.value_or("");
      if (!reasoning || !reasoning->ends_with(dsv4::kThinkEnd)) out += dsv4::kThinkEnd;
    }
    if (body.ends_with(dsv4::kEos)) body.remove_suffix(dsv4::kEos.size());
    out += body;
  } else {
    if (thinking_part) {
      out += m.reasoning_content.value_or("");
      out += dsv4::kThinkEnd;
    }
    out += m.content.value_or("");
  }
}

// render_message(index, items, ...).
Status render_item(const RenderState& st, long index, std::string& out) {
  const RenderOptions& options = st.options;
  const bool thinking = options.thinking_mode == ThinkingMode::kThinking;
  const Item& item = st.items[static_cast<size_t>(index)];

  if (options.revision == EncodingRevision::kV4 && options.reasoning_effort == ReasoningEffort::kLow)
    return make_error("invalid reasoning effort \"low\" (the April V4 encoding accepts high or max)");
  if (index == 0 && thinking) {
    if (options.revision == EncodingRevision::kV4) {
      if (options.reasoning_effort == ReasoningEffort::kMax) out += kEffortAbsoluteMaximum;
    } else {
      if (options.reasoning_effort == ReasoningEffort::kHigh) out += kEffortAbsoluteMaximum;
      if (options.reasoning_effort == ReasoningEffort::kMax) out += kEffortBeyondMaximum;
    }
  }

  switch (item.role) {
    case Role::kSystem: {
      out += item.message->content.value_or("");
      if (Status s = append_declarations(*item.message, item.source, out); !s) return s;
      break;
    }
    case Role::kDeveloper: {
      const Message& m = *item.message;
      if (!m.content || m.content->empty())
        return make_error(where(item.source) + ": a developer message needs non-empty content");
      out += dsv4::kUser;
      out += *m.content;
      if (Status s = append_declarations(m, item.source, out); !s) return s;
      break;
    }
    case Role::kUser:
    case Role::kTool: {
      if (Status s = append_user_turn(item, out); !s) return s;
      break;
    }
    case Role::kLatestReminder: {
      out += dsv4::kLatestReminder;
      out += item.message->content ? *item.message->content : "None";
      break;
    }
    case Role::kAssistant: {
      const Message& m = *item.message;
      bool prev_has_task = index >= 1 && st.items[static_cast<size_t>(index - 1)].task != ChatTask::kNone;
      bool thinking_part = thinking && !prev_has_task && (!st.drop_thinking || index > st.last_user);
      append_assistant_turn(item, thinking_part, out);
      if (!m.raw_completion)
        if (Status s = append_tool_calls(m, item.source, out); !s) return s;
      if (!m.wo_eos) out += dsv4::kEos;
      break;
    }
  }

  // The generation point (or task token) after this message.
  if (index + 1 < static_cast<long>(st.items.size())) {
    Role next = st.items[static_cast<size_t>(index + 1)].role;
    if (next != Role::kAssistant && next != Role::kLatestReminder) return {};
  }
  if (item.task != ChatTask::kNone) {
    if (item.task == ChatTask::kAction) {
      out += dsv4::kAssistant;
      out += thinking ? dsv4::kThinkStart : dsv4::kThinkEnd;
    }
    out += task_token(item.task);
  } else if (item.role == Role::kUser || item.role == Role::kDeveloper) {
    out += dsv4::kAssistant;
    bool open_thinking = thinking && (!st.drop_thinking || index >= st.last_user);
    out += open_thinking ? dsv4::kThinkStart : dsv4::kThinkEnd;
  }
  return {};
}

}  // namespace

Result<std::string> render_prompt(const Conversation& conversation, const RenderOptions& options) {
  std::vector<Item> context = merge_tool_messages(conversation.context, true);
  std::vector<Item> messages = merge_tool_messages(conversation.messages, false);
  std::vector<Item> full = context;
  full.insert(full.end(), messages.begin(), messages.end());
  sort_tool_results(full);

  bool drop = options.drop_thinking;
  for (const Item& item : full)
    if (item.declares_tools) drop = false;

  long to_render = static_cast<long>(messages.size());
  long context_len = static_cast<long>(context.size());
  if (options.thinking_mode == ThinkingMode::kThinking && drop) {
    // As the reference: the context's share is what dropping leaves of the
    // context alone, which can differ from its share of the dropped whole.
    full = drop_thinking_messages(full);
    long context_kept = static_cast<long>(drop_thinking_messages(context).size());
    to_render = static_cast<long>(full.size()) - context_kept;
    context_len = static_cast<long>(full.size()) - to_render;
  }

  std::string prompt;
  if (options.add_bos && conversation.context.empty()) prompt += dsv4::kBos;
  RenderState state{full, options, drop, find_last_user_index(full)};
  for (long k = 0; k < to_render; ++k)
    if (Status s = render_item(state, k + context_len, prompt); !s) return s.error();
  return prompt;
}

Result<std::string> render_assistant_completion(const Message& assistant, ThinkingMode mode) {
  std::string out;
  if (mode == ThinkingMode::kThinking) {
    out += assistant.reasoning_content.value_or("");
    out += dsv4::kThinkEnd;
  }
  out += assistant.content.value_or("");
  if (Status s = append_tool_calls(assistant, Source{}, out); !s) return s.error();
  return out;
}

Status check_tool_results(const Conversation& conversation) {
  const std::vector<Message>* lists[2] = {&conversation.context, &conversation.messages};
  const Message* last_caller = nullptr;
  for (int l = 0; l < 2; ++l) {
    for (size_t k = 0; k < lists[l]->size(); ++k) {
      const Message& m = (*lists[l])[k];
      Source source{l == 0, k};
      if (m.role == Role::kAssistant && !m.tool_calls.empty()) last_caller = &m;
      if (m.role != Role::kTool) continue;
      if (!last_caller)
        return make_error(where(source) + ": tool result without a preceding assistant tool call");
      if (m.tool_call_id.empty())
        return make_error(where(source) + ": tool result without a tool_call_id");
      bool found = std::any_of(last_caller->tool_calls.begin(), last_caller->tool_calls.end(),
                               [&](const ToolCall& c) { return c.id == m.tool_call_id; });
      if (!found)
        return make_error(where(source) + ": tool result for \"" + m.tool_call_id +
                          "\", which is not the id of a call of the last assistant turn with tool calls");
    }
  }
  return {};
}

}  // namespace beluga
