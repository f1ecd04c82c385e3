#include "daemon/http/wire_json.h"

#include <nlohmann/json.hpp>

namespace beluga::daemon::http {

using nlohmann::json;

Result<ToolDeclaration> tool_declaration_of(const json& function, const std::string& where) {
  if (!function.is_object()) return make_error(where + ": expected an object");
  if (!function.contains("name") || !function["name"].is_string() || function["name"].get<std::string>().empty())
    return make_error(where + ".name: expected a non-empty string");
  ToolDeclaration out;
  // member_order stays empty: name, description, parameters, then the rest
  // (the order of OpenAI's own documentation; the client's order is not
  // known once the body is parsed, and any fixed order renders the same
  // prompt every turn, which is what KV reuse needs).
  for (const auto& [key, value] : function.items()) {
    if (key == "name") {
      out.name = value.get<std::string>();
    } else if (key == "description" && value.is_string()) {
      out.description = value.get<std::string>();
    } else if (key == "parameters") {
      if (!value.is_object() && !value.is_null()) return make_error(where + ".parameters: expected a JSON schema object");
      if (value.is_object()) out.parameters_json = value.dump();
    } else {
      out.other_members_json.emplace_back(key, value.dump(-1, ' ', false, json::error_handler_t::replace));
    }
  }
  return out;
}

void attach_tools(Conversation& conversation, std::vector<ToolDeclaration> tools) {
  if (tools.empty()) return;
  auto& messages = conversation.messages;
  if (messages.empty() || messages.front().role != Role::kSystem) {
    Message system;
    system.role = Role::kSystem;
    system.content = "";
    messages.insert(messages.begin(), std::move(system));
  }
  for (ToolDeclaration& t : tools) messages.front().tools.push_back(std::move(t));
}

Result<std::vector<std::string>> stop_strings_of(const json& stop, const std::string& name) {
  std::vector<std::string> out;
  if (stop.is_null()) return out;
  if (stop.is_string()) {
    if (!stop.get<std::string>().empty()) out.push_back(stop.get<std::string>());
    return out;
  }
  if (!stop.is_array() || stop.size() > 16) return make_error(name + ": expected a string or an array of at most 16 strings");
  for (const json& s : stop) {
    if (!s.is_string()) return make_error(name + ": expected strings");
    if (!s.get<std::string>().empty()) out.push_back(s.get<std::string>());
  }
  return out;
}

Result<float> temperature_of(const json& value, double max) {
  if (value.is_null()) return 0.0f;
  if (!value.is_number() || value.get<double>() < 0 || value.get<double>() > max)
    return make_error("temperature: expected a number from 0 to " + json(max).dump());
  return static_cast<float>(value.get<double>());
}

Status apply_reasoning_effort(const std::string& effort, RenderOptions& render) {
  if (effort == "none" || effort == "minimal") {
    render.thinking_mode = ThinkingMode::kChat;
  } else if (effort == "low") {
    render.reasoning_effort = render.revision == EncodingRevision::kV4 ? ReasoningEffort::kDefault : ReasoningEffort::kLow;
  } else if (effort == "medium") {
    render.reasoning_effort = ReasoningEffort::kDefault;
  } else if (effort == "high") {
    render.reasoning_effort = ReasoningEffort::kHigh;
  } else if (effort == "max" || effort == "xhigh") {
    render.reasoning_effort = ReasoningEffort::kMax;
  } else {
    return make_error("reasoning_effort: \"" + effort + "\" is not one of none, minimal, low, medium, high, max");
  }
  return {};
}

std::string sse_data(const json& data, const std::string& event) {
  std::string out;
  if (!event.empty()) out = "event: " + event + "\n";
  return out + "data: " + data.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
}

json openai_error_body(const ApiError& error) {
  return {{"error", {{"message", error.message}, {"type", error.type}, {"param", nullptr}, {"code", nullptr}}}};
}

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    size_t need = 0;
    uint32_t min = 0;
    if (c < 0x80) need = 1;
    else if ((c & 0xE0) == 0xC0) need = 2, min = 0x80;
    else if ((c & 0xF0) == 0xE0) need = 3, min = 0x800;
    else if ((c & 0xF8) == 0xF0) need = 4, min = 0x10000;
    bool ok = need > 0 && i + need <= text.size();
    uint32_t cp = need == 1 ? c : need == 2 ? (c & 0x1F) : need == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; ok && k < need; ++k) {
      const unsigned char n = static_cast<unsigned char>(text[i + k]);
      if ((n & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (n & 0x3F);
    }
    if (ok && need > 1 && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
    if (!ok) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    out.append(text.substr(i, need));
    i += need;
  }
  return out;
}

}  // namespace beluga::daemon::http
