#include "agent/transcript.h"

#include <nlohmann/json.hpp>

namespace beluga::agent {

using nlohmann::json;

namespace {

Result<Role> role_from_name(const std::string& name) {
  for (Role r : {Role::kSystem, Role::kUser, Role::kDeveloper, Role::kAssistant, Role::kTool, Role::kLatestReminder})
    if (role_name(r) == name) return r;
  return make_error("unknown role '" + name + "'");
}

json optional_text(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }

Status read_optional(const json& j, const char* key, std::optional<std::string>& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  if (!it->is_string()) return make_error(std::string("stored message: '") + key + "' must be a string or null");
  out = it->get<std::string>();
  return {};
}

Status read_string(const json& j, const char* key, std::string& out) {
  auto it = j.find(key);
  if (it == j.end()) return {};
  if (!it->is_string()) return make_error(std::string("stored message: '") + key + "' must be a string");
  out = it->get<std::string>();
  return {};
}

}  // namespace

std::string message_to_json_text(const Message& m) {
  json j = {{"role", std::string(role_name(m.role))}, {"content", optional_text(m.content)}};
  if (m.reasoning_content) j["reasoning_content"] = *m.reasoning_content;
  if (m.raw_completion) j["raw_completion"] = *m.raw_completion;
  if (!m.tool_calls.empty()) {
    json calls = json::array();
    for (const ToolCall& c : m.tool_calls) calls.push_back({{"id", c.id}, {"name", c.name}, {"arguments", c.arguments}});
    j["tool_calls"] = std::move(calls);
  }
  if (!m.tool_call_id.empty()) j["tool_call_id"] = m.tool_call_id;
  if (!m.name.empty()) j["name"] = m.name;
  // Model text may hold invalid UTF-8 (a character cut by a token limit):
  // it is stored with replacement characters rather than refused.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<Message> message_from_json_text(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error("stored message is not a JSON object");
  Message m;
  std::string role;
  if (Status s = read_string(j, "role", role); !s) return s.error();
  auto r = role_from_name(role);
  if (!r) return make_error("stored message: " + r.message());
  m.role = *r;
  for (auto [key, field] : {std::pair{"content", &m.content}, std::pair{"reasoning_content", &m.reasoning_content},
                            std::pair{"raw_completion", &m.raw_completion}})
    if (Status s = read_optional(j, key, *field); !s) return s.error();
  if (Status s = read_string(j, "tool_call_id", m.tool_call_id); !s) return s.error();
  if (Status s = read_string(j, "name", m.name); !s) return s.error();
  if (auto it = j.find("tool_calls"); it != j.end()) {
    if (!it->is_array()) return make_error("stored message: 'tool_calls' must be an array");
    for (const json& c : *it) {
      if (!c.is_object()) return make_error("stored message: a tool call must be an object");
      ToolCall call;
      if (Status s = read_string(c, "id", call.id); !s) return s.error();
      if (Status s = read_string(c, "name", call.name); !s) return s.error();
      if (Status s = read_string(c, "arguments", call.arguments); !s) return s.error();
      m.tool_calls.push_back(std::move(call));
    }
  }
  return m;
}

}  // namespace beluga::agent
