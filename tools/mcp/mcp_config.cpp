// MCP server entries from the config file and from ACP (see mcp_config.h).
#include "tools/mcp/mcp_config.h"

namespace beluga::tools::mcp {

using nlohmann::json;

namespace {

Result<std::vector<std::string>> string_array(const json& value, const std::string& where) {
  if (!value.is_array()) return make_error(where + " must be an array of strings");
  std::vector<std::string> out;
  for (const json& item : value) {
    if (!item.is_string()) return make_error(where + " must be an array of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

Result<std::chrono::milliseconds> seconds_value(const json& value, const std::string& where) {
  if (!value.is_number() || value.get<double>() <= 0 || value.get<double>() > 86400)
    return make_error(where + " must be a number of seconds in (0, 86400]");
  return std::chrono::milliseconds(static_cast<int64_t>(value.get<double>() * 1000));
}

}  // namespace

Result<McpServerConfig> server_from_config(const std::string& name, const json& entry, const std::string& where) {
  if (!entry.is_object()) return make_error(where + " must be a table");
  if (Status s = check_server_name(name); !s) return make_error(where + ": " + s.message());
  McpServerConfig c;
  c.name = name;
  c.source = where;
  for (const auto& [key, value] : entry.items()) {
    const std::string at = where + "." + key;
    if (key == "command") {
      if (!value.is_string() || value.get<std::string>().empty()) return make_error(at + " must be a non-empty string");
      c.command = value.get<std::string>();
    } else if (key == "url") {
      if (!value.is_string() || value.get<std::string>().empty()) return make_error(at + " must be a non-empty string");
      c.url = value.get<std::string>();
    } else if (key == "args") {
      auto args = string_array(value, at);
      if (!args) return args.error();
      c.args = std::move(args).value();
    } else if (key == "env") {
      if (!value.is_object()) return make_error(at + " must be a table of strings");
      for (const auto& [var, text] : value.items()) {
        if (!text.is_string()) return make_error(at + "." + var + " must be a string");
        c.env[var] = text.get<std::string>();
      }
    } else if (key == "timeout" || key == "startup_timeout") {
      auto ms = seconds_value(value, at);
      if (!ms) return ms.error();
      (key == "timeout" ? c.call_timeout : c.startup_timeout) = *ms;
    } else if (key == "enabled") {
      if (!value.is_boolean()) return make_error(at + " must be true or false");
      c.enabled = value.get<bool>();
    } else if (key == "cwd") {
      if (!value.is_string() || value.get<std::string>().empty() || value.get<std::string>().front() != '/')
        return make_error(at + " must be an absolute path");
      c.cwd = value.get<std::string>();
    } else {
      return make_error(at + ": unknown key (expected command, args, env, url, timeout, startup_timeout, enabled, cwd)");
    }
  }
  if (c.command.empty() == c.url.empty()) return make_error(where + ": set exactly one of command and url");
  return c;
}

Result<McpServerConfig> server_from_acp(const json& entry) {
  if (!entry.is_object()) return make_error("mcpServers: each entry must be an object");
  const std::string label = entry.value("name", std::string());
  if (label.empty() || !entry["name"].is_string()) return make_error("mcpServers: an entry has no name");
  McpServerConfig c;
  for (char ch : label) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
    if (ch == '_' && !c.name.empty() && c.name.back() == '_') continue;  // "__" separates server and tool
    if (c.name.size() < 32) c.name.push_back(ok ? ch : '-');
  }
  c.source = "ACP session/new mcpServers '" + label + "'";
  const std::string where = "mcpServers '" + label + "'";
  const std::string type = entry.contains("type") && entry["type"].is_string() ? entry["type"].get<std::string>() : "";
  if (type == "http" || type == "sse") {
    if (!entry.contains("url") || !entry["url"].is_string()) return make_error(where + ": url must be a string");
    c.url = entry["url"].get<std::string>();
    return c;
  }
  if (!type.empty() && type != "stdio") return make_error(where + ": unknown transport type '" + type + "'");
  if (!entry.contains("command") || !entry["command"].is_string() || entry["command"].get<std::string>().empty())
    return make_error(where + ": command must be a non-empty string");
  c.command = entry["command"].get<std::string>();
  if (entry.contains("args")) {
    auto args = string_array(entry["args"], where + ": args");
    if (!args) return args.error();
    c.args = std::move(args).value();
  }
  if (entry.contains("env")) {
    if (!entry["env"].is_array()) return make_error(where + ": env must be an array of {name, value}");
    for (const json& var : entry["env"]) {
      if (!var.is_object() || !var.contains("name") || !var["name"].is_string() || !var.contains("value") ||
          !var["value"].is_string())
        return make_error(where + ": env entries must be {\"name\": string, \"value\": string}");
      c.env[var["name"].get<std::string>()] = var["value"].get<std::string>();
    }
  }
  return c;
}

}  // namespace beluga::tools::mcp
