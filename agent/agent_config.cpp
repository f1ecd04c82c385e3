// The only file that includes toml++ (a heavy header): TOML is converted to
// JSON here and both formats are read by one interpreter.
#include "agent/agent_config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "tools/mcp/mcp_config.h"

namespace beluga::agent {
namespace {

using nlohmann::json;

json toml_to_json(const toml::node& node) {
  if (const auto* table = node.as_table()) {
    json out = json::object();
    for (const auto& [key, value] : *table) out[std::string(key.str())] = toml_to_json(value);
    return out;
  }
  if (const auto* array = node.as_array()) {
    json out = json::array();
    for (const auto& value : *array) out.push_back(toml_to_json(value));
    return out;
  }
  if (const auto* s = node.as_string()) return s->get();
  if (const auto* i = node.as_integer()) return i->get();
  if (const auto* f = node.as_floating_point()) return f->get();
  if (const auto* b = node.as_boolean()) return b->get();
  return "(a TOML date or time)";  // no key takes one: reported as a wrong type
}

Result<json> parse_document(const std::string& text, const std::string& label) {
  if (label.size() >= 5 && label.compare(label.size() - 5, 5, ".json") == 0) {
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) return make_error(label + ": not valid JSON");
    return j;
  }
  // Debian's toml++ is built with exceptions: parse errors are thrown.
  try {
    toml::table table = toml::parse(text, std::string_view(label));
    return toml_to_json(table);
  } catch (const toml::parse_error& e) {
    return make_error(label + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
}

Result<int64_t> positive_integer(const json& value, const std::string& where) {
  if (!value.is_number_integer() || value.get<int64_t>() < 0)
    return make_error(where + " must be a non-negative integer");
  return value.get<int64_t>();
}

}  // namespace

Result<AgentConfig> parse_agent_config(const std::string& text, const std::string& label, ConfigTrust trust) {
  auto doc = parse_document(text, label);
  if (!doc) return doc.error();
  if (!doc->is_object()) return make_error(label + ": expected a table/object at the top");
  AgentConfig config;
  config.files.push_back(label);
  const bool workspace = trust == ConfigTrust::kWorkspace;
  for (const auto& [key, value] : doc->items()) {
    const std::string where = label + ": '" + key + "'";
    if (key == "mode") {
      if (!value.is_string()) return make_error(where + " must be a string");
      auto mode = parse_permission_mode(value.get<std::string>());
      if (!mode) return make_error(where + ": " + mode.message());
      if (workspace && *mode == PermissionMode::kYolo)
        return make_error(where + ": a workspace config cannot choose yolo mode (set it in your own config or on the command line)");
      config.mode = *mode;
    } else if (key == "permissions") {
      if (!value.is_object()) return make_error(where + " must be a table");
      for (const auto& [kind, list] : value.items()) {
        const std::string list_where = label + ": 'permissions." + kind + "'";
        Decision action;
        if (kind == "allow") action = Decision::kAllow;
        else if (kind == "ask") action = Decision::kAsk;
        else if (kind == "deny") action = Decision::kDeny;
        else return make_error(list_where + ": unknown key (expected allow, ask or deny)");
        if (workspace && action == Decision::kAllow)
          return make_error(list_where + ": a workspace config may only add ask and deny rules");
        if (!list.is_array()) return make_error(list_where + " must be an array of rule strings");
        for (const json& item : list) {
          if (!item.is_string()) return make_error(list_where + " must hold strings such as \"shell(git status*)\"");
          auto rule = parse_rule(item.get<std::string>(), action, label);
          if (!rule) return make_error(label + ": " + rule.message());
          config.rules.push_back(std::move(rule).value());
        }
      }
    } else if (workspace && key == "mcp_servers") {
      return make_error(where + ": a workspace config cannot start MCP servers (a cloned repository must not run "
                        "programs); configure them in your own config.toml");
    } else if (workspace) {
      return make_error(where + ": a workspace config may only set mode and permissions.ask/deny");
    } else if (key == "mcp_servers") {
      if (!value.is_object()) return make_error(where + " must be a table of servers ([mcp_servers.NAME])");
      for (const auto& [name, entry] : value.items()) {
        auto server = tools::mcp::server_from_config(name, entry, label + ": 'mcp_servers." + name + "'");
        if (!server) return server.error();
        config.mcp_servers.push_back(std::move(server).value());
      }
    } else if (key == "max_steps" || key == "max_output_tokens" || key == "max_turn_tokens" || key == "context_tokens") {
      auto n = positive_integer(value, where);
      if (!n) return n.error();
      if (key == "max_steps") config.max_steps = *n;
      else if (key == "max_output_tokens") config.max_output_tokens = *n;
      else if (key == "max_turn_tokens") config.max_turn_tokens = *n;
      else config.context_tokens = *n;
    } else if (key == "remote") {
      if (!value.is_object()) return make_error(where + " must be a table ([remote])");
      for (const auto& [name, item] : value.items()) {
        const std::string item_where = label + ": 'remote." + name + "'";
        RemoteConfig& r = config.remote;
        if (name == "model" || name == "api_key_env" || name == "tokenizer") {
          if (!item.is_string() || item.get<std::string>().empty()) return make_error(item_where + " must be a non-empty string");
          (name == "model" ? r.model : name == "api_key_env" ? r.api_key_env : r.tokenizer) = item.get<std::string>();
        } else if (name == "context_tokens" || name == "slots" || name == "max_attempts" || name == "connect_timeout_s" ||
                   name == "first_byte_timeout_s" || name == "idle_timeout_s") {
          auto n = positive_integer(item, item_where);
          if (!n) return n.error();
          if (name == "context_tokens") r.context_tokens = *n;
          else if (name == "slots") r.slots = *n;
          else if (name == "max_attempts") r.max_attempts = *n;
          else if (name == "connect_timeout_s") r.connect_timeout_s = *n;
          else if (name == "first_byte_timeout_s") r.first_byte_timeout_s = *n;
          else r.idle_timeout_s = *n;
        } else if (name == "api_key") {
          return make_error(item_where + ": the key itself does not go in a config file; name the environment "
                            "variable holding it with remote.api_key_env");
        } else {
          return make_error(item_where + ": unknown key");
        }
      }
    } else if (key == "compact_at") {
      if (!value.is_number() || value.get<double>() <= 0.1 || value.get<double>() > 1.0)
        return make_error(where + " must be a number in (0.1, 1]");
      config.compact_at = value.get<double>();
    } else {
      return make_error(where + ": unknown key");
    }
  }
  return config;
}

namespace {

// The first of `candidates` that exists, parsed; an empty config when none.
Result<AgentConfig> load_first(const std::vector<std::filesystem::path>& candidates, ConfigTrust trust) {
  for (const auto& path : candidates) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) continue;
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error("cannot read " + path.string());
    std::stringstream text;
    text << in.rdbuf();
    return parse_agent_config(text.str(), path.string(), trust);
  }
  return AgentConfig{};
}

}  // namespace

namespace {

std::filesystem::path user_config_dir() {
  std::filesystem::path user_dir;
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg == '/')
    user_dir = std::filesystem::path(xdg) / "beluga";
  else if (const char* home = std::getenv("HOME"); home && *home)
    user_dir = std::filesystem::path(home) / ".config" / "beluga";
  return user_dir;
}

}  // namespace

Result<AgentConfig> load_user_agent_config() {
  const std::filesystem::path user_dir = user_config_dir();
  if (user_dir.empty()) return AgentConfig{};
  return load_first({user_dir / "config.toml", user_dir / "config.json"}, ConfigTrust::kUser);
}

Result<AgentConfig> load_agent_config(const std::filesystem::path& workspace) {
  const std::filesystem::path user_dir = user_config_dir();
  AgentConfig merged;
  if (!user_dir.empty()) {
    auto user = load_first({user_dir / "config.toml", user_dir / "config.json"}, ConfigTrust::kUser);
    if (!user) return user.error();
    merged = std::move(user).value();
  }
  const auto dot = workspace / ".beluga";
  auto local = load_first({dot / "config.toml", dot / "config.json", dot / "config"}, ConfigTrust::kWorkspace);
  if (!local) return local.error();
  if (local->mode) merged.mode = local->mode;
  merged.rules.insert(merged.rules.end(), local->rules.begin(), local->rules.end());
  merged.files.insert(merged.files.end(), local->files.begin(), local->files.end());
  return merged;
}

}  // namespace beluga::agent
