// MCP servers' tools as beluga tools (see mcp_tool_set.h).
#include "tools/mcp/mcp_tool_set.h"

#include <algorithm>
#include <set>

namespace beluga::tools::mcp {

using Clock = std::chrono::steady_clock;

McpToolSet::McpToolSet(ToolRegistry base, std::vector<McpServerConfig> servers, McpOptions options)
    : base_(std::move(base)) {
  std::set<std::string> names;
  for (McpServerConfig& config : servers) {
    ServerReport rejected{config.name, "", "", {}, ""};
    if (Status s = check_server_name(config.name); !s) {
      rejected.state = "invalid";
      rejected.error = s.message();
    } else if (!names.insert(config.name).second) {
      rejected.state = "invalid";
      rejected.error = "a second MCP server named '" + config.name + "' (" + config.source + ") was ignored";
    } else if (!config.enabled) {
      rejected.state = "disabled";
    } else if (!config.url.empty()) {
      rejected.state = "unsupported";
      rejected.error = "HTTP MCP servers (" + config.url + ") are not supported yet; only stdio servers (command)";
    } else if (config.command.empty()) {
      rejected.state = "invalid";
      rejected.error = "MCP server '" + config.name + "' has no command";
    }
    if (!rejected.state.empty()) {
      if (options.log && rejected.state != "disabled") options.log("mcp " + config.name + ": " + rejected.error);
      rejected_.push_back(std::move(rejected));
      continue;
    }
    servers_.push_back(std::make_shared<McpServer>(std::move(config), options, [this] { generation_.fetch_add(1); }));
  }
}

McpToolSet::~McpToolSet() {
  for (auto& s : servers_) s->stop();
}

void McpToolSet::start(std::chrono::milliseconds wait) {
  for (auto& s : servers_) s->start();
  const auto deadline = Clock::now() + wait;
  for (auto& s : servers_) s->wait_first_attempt(deadline);
}

std::shared_ptr<McpServer> McpToolSet::server(const std::string& name) const {
  for (const auto& s : servers_)
    if (s->config().name == name) return s;
  return nullptr;
}

std::shared_ptr<const ToolRegistry> McpToolSet::registry() {
  std::lock_guard lock(mutex_);
  const uint64_t generation = generation_.load();
  if (cached_ && cached_generation_ == generation) return cached_;
  auto registry = std::make_shared<ToolRegistry>(base_);
  std::set<std::string> taken;
  for (const ToolSpec* spec : base_.all()) taken.insert(spec->name);
  for (const auto& server : servers_) {
    ServerSnapshot snap = server->snapshot();
    std::weak_ptr<McpServer> weak = server;
    for (const McpTool& tool : snap.tools) {
      std::string name = model_tool_name(server->config().name, tool.name);
      for (int n = 2; taken.count(name); ++n) {
        std::string suffix = "_" + std::to_string(n);
        name = model_tool_name(server->config().name, tool.name).substr(0, 64 - suffix.size()) + suffix;
      }
      taken.insert(name);
      ToolSpec spec;
      spec.name = name;
      std::string what = tool.description.empty() ? tool.title : tool.description;
      spec.description = "[from MCP server '" + server->config().name + "'] " + what;
      spec.parameters_schema = tool.input_schema.dump(-1, ' ', false, Json::error_handler_t::replace);
      spec.lenient_schema = true;
      spec.run = [weak, tool_name = tool.name, label = name](const Json& args, ToolContext& context) {
        auto s = weak.lock();
        if (!s) return ToolResult::error(label + ": its MCP server has been stopped");
        return s->call(tool_name, args, context.keep_going, label);
      };
      registry->add(std::move(spec));
    }
  }
  cached_ = registry;
  cached_generation_ = generation;
  return cached_;
}

std::vector<ServerReport> McpToolSet::report() const {
  std::vector<ServerReport> out;
  for (const auto& server : servers_) {
    ServerSnapshot snap = server->snapshot();
    ServerReport r{server->config().name, std::string(server_state_name(snap.state)), snap.protocol, {}, snap.last_error};
    for (const McpTool& t : snap.tools) r.tools.push_back(model_tool_name(server->config().name, t.name));
    out.push_back(std::move(r));
  }
  out.insert(out.end(), rejected_.begin(), rejected_.end());
  return out;
}

std::unique_ptr<McpToolSet> start_mcp_servers(const ToolRegistry& base, std::vector<McpServerConfig> servers,
                                              const std::filesystem::path& workspace,
                                              std::function<void(const std::string&)> log) {
  if (servers.empty()) return nullptr;
  McpOptions options;
  options.log = std::move(log);
  std::chrono::milliseconds wait{0};
  for (McpServerConfig& s : servers) {
    if (s.cwd.empty()) s.cwd = workspace;
    wait = std::max(wait, s.startup_timeout);
  }
  wait += options.probe_timeout;
  auto set = std::make_unique<McpToolSet>(base, std::move(servers), std::move(options));
  set->start(wait);
  return set;
}

}  // namespace beluga::tools::mcp
