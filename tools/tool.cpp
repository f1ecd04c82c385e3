// ToolResult helpers, the ToolRegistry, and the small JSON-schema validator
// that checks a tool's arguments before it runs.
//
// The validator covers the subset tool schemas use (see tool.h). Its
// messages are written for the model: they name the argument (a JSON path
// for nested values), say what was expected and what came instead, and list
// the accepted arguments when an unknown one is passed, so the next call can
// be fixed without guessing.
#include "tools/tool.h"

#include <exception>
#include <nlohmann/json.hpp>

namespace beluga::tools {
namespace {

using nlohmann::json;

std::string kind_of(const json& value) {
  switch (value.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a number";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    default: return "an unsupported value";
  }
}

bool has_type(const json& value, const std::string& type) {
  if (type == "string") return value.is_string();
  if (type == "integer") {
    if (value.is_number_integer()) return true;
    // 3.0 is an integer in JSON Schema.
    if (value.is_number_float()) {
      double d = value.get<double>();
      return d == static_cast<double>(static_cast<int64_t>(d)) && d > -9.2e18 && d < 9.2e18;
    }
    return false;
  }
  if (type == "number") return value.is_number();
  if (type == "boolean") return value.is_boolean();
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  if (type == "null") return value.is_null();
  return false;
}

std::string article(const std::string& type) {
  return (type == "integer" || type == "object" || type == "array") ? "an " + type : "a " + type;
}

std::string name_of(const std::string& where) { return where.empty() ? "the arguments" : "argument '" + where + "'"; }

std::string short_json(const json& value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

size_t utf8_length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string validate(const json& schema, const json& value, const std::string& where, int depth, bool lenient) {
  if (depth > 32) return name_of(where) + " is nested too deeply";
  if (!schema.is_object()) return "";
  if (auto it = schema.find("type"); it != schema.end()) {
    bool ok = false;
    std::string expected;
    if (it->is_string()) {
      ok = has_type(value, it->get<std::string>());
      expected = article(it->get<std::string>());
    } else if (it->is_array()) {
      for (const json& t : *it)
        if (t.is_string()) {
          ok = ok || has_type(value, t.get<std::string>());
          expected += (expected.empty() ? "" : " or ") + article(t.get<std::string>());
        }
    }
    if (!ok) return name_of(where) + " must be " + expected + ", got " + kind_of(value);
  }
  if (auto it = schema.find("enum"); it != schema.end() && it->is_array()) {
    bool found = false;
    std::string choices;
    for (const json& choice : *it) {
      found = found || choice == value;
      choices += (choices.empty() ? "" : ", ") + short_json(choice);
    }
    if (!found) return name_of(where) + " must be one of " + choices + ", got " + short_json(value);
  }
  if (value.is_number()) {
    double v = value.get<double>();
    if (auto it = schema.find("minimum"); it != schema.end() && it->is_number() && v < it->get<double>())
      return name_of(where) + " must be at least " + it->dump() + ", got " + short_json(value);
    if (auto it = schema.find("maximum"); it != schema.end() && it->is_number() && v > it->get<double>())
      return name_of(where) + " must be at most " + it->dump() + ", got " + short_json(value);
  }
  if (value.is_string()) {
    size_t length = utf8_length(value.get_ref<const std::string&>());
    if (auto it = schema.find("minLength"); it != schema.end() && it->is_number_unsigned() &&
                                            length < it->get<uint64_t>())
      return name_of(where) + " must have at least " + it->dump() + " characters";
    if (auto it = schema.find("maxLength"); it != schema.end() && it->is_number_unsigned() &&
                                            length > it->get<uint64_t>())
      return name_of(where) + " must have at most " + it->dump() + " characters, got " + std::to_string(length);
  }
  if (value.is_object()) {
    const json* properties = nullptr;
    if (auto it = schema.find("properties"); it != schema.end() && it->is_object()) properties = &*it;
    if (auto it = schema.find("required"); it != schema.end() && it->is_array())
      for (const json& key : *it)
        if (key.is_string() && !value.contains(key.get<std::string>()))
          return "missing required argument '" + (where.empty() ? "" : where + ".") + key.get<std::string>() + "'";
    bool closed = false;
    if (auto it = schema.find("additionalProperties"); !lenient && it != schema.end() && it->is_boolean())
      closed = !it->get<bool>();
    for (const auto& [key, item] : value.items()) {
      std::string path = where.empty() ? key : where + "." + key;
      if (properties && properties->contains(key)) {
        if (std::string e = validate((*properties)[key], item, path, depth + 1, lenient); !e.empty()) return e;
      } else if (closed) {
        std::string accepted;
        if (properties)
          for (const auto& [name, unused] : properties->items()) accepted += (accepted.empty() ? "" : ", ") + name;
        return "unknown argument '" + path + "'" + (accepted.empty() ? "" : "; accepted: " + accepted);
      }
    }
  }
  if (value.is_array())
    if (auto it = schema.find("items"); it != schema.end() && it->is_object())
      for (size_t i = 0; i < value.size(); ++i)
        if (std::string e = validate(*it, value[i], where + "[" + std::to_string(i) + "]", depth + 1, lenient); !e.empty())
          return e;
  return "";
}

}  // namespace

ToolResult ToolResult::error(std::string message) {
  ToolResult r;
  r.ok = false;
  r.text = std::move(message);
  return r;
}

ToolResult ToolResult::success(std::string text) {
  ToolResult r;
  r.text = std::move(text);
  return r;
}

ToolResult ToolResult::error(std::string message, nlohmann::json data) {
  ToolResult r = error(std::move(message));
  r.data = std::make_shared<json>(std::move(data));
  return r;
}

ToolResult ToolResult::success(std::string text, nlohmann::json data) {
  ToolResult r = success(std::move(text));
  r.data = std::make_shared<json>(std::move(data));
  return r;
}

std::string ToolResult::to_json_text() const {
  json out = {{"ok", ok}, {"text", text}, {"data", data ? *data : json(nullptr)}};
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string validate_against_schema(const nlohmann::json& schema, const nlohmann::json& value, bool lenient) {
  return validate(schema, value, "", 0, lenient);
}

void ToolRegistry::add(ToolSpec spec) {
  std::string name = spec.name;
  tools_[name] = std::move(spec);
}

const ToolSpec* ToolRegistry::find(const std::string& name) const {
  auto it = tools_.find(name);
  return it == tools_.end() ? nullptr : &it->second;
}

std::vector<const ToolSpec*> ToolRegistry::all() const {
  std::vector<const ToolSpec*> out;
  for (const auto& [name, spec] : tools_) out.push_back(&spec);
  return out;
}

ToolResult ToolRegistry::call(const std::string& name, const std::string& args_json, ToolContext& context) const {
  const ToolSpec* spec = find(name);
  if (!spec) {
    std::string names;
    for (const auto& [known, unused] : tools_) names += (names.empty() ? "" : ", ") + known;
    return ToolResult::error("unknown tool '" + name + "'; available tools: " + names);
  }
  json args = json::parse(args_json.empty() ? std::string("{}") : args_json, nullptr, false);
  if (args.is_discarded())
    return ToolResult::error(name + ": the arguments are not valid JSON; pass a JSON object such as {\"path\": \"src/main.cpp\"}");
  json schema = json::parse(spec->parameters_schema, nullptr, false);
  if (schema.is_discarded()) return ToolResult::error(name + ": internal error: the tool's schema is not valid JSON");
  if (std::string problem = validate_against_schema(schema, args, spec->lenient_schema); !problem.empty())
    return ToolResult::error(name + ": " + problem);
  try {
    return spec->run(args, context);
  } catch (const std::exception& e) {
    return ToolResult::error(name + ": internal error: " + e.what());
  }
}

}  // namespace beluga::tools
