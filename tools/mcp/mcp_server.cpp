// A configured MCP server's lifecycle: era probe, handshake, tool list,
// calls, restarts (see mcp_server.h).
#include "tools/mcp/mcp_server.h"

#include <algorithm>
#include <set>

#include "tools/mcp/mcp_connection.h"

namespace beluga::tools::mcp {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr int kMaxToolPages = 100;
constexpr size_t kMaxTools = 1000;
constexpr milliseconds kWatchStep{100};

std::string seconds(milliseconds ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", static_cast<double>(ms.count()) / 1000.0);
  return text;
}

std::string describe(const RpcOutcome& o) {
  switch (o.kind) {
    case RpcOutcome::Kind::kResult: return "an answer";
    case RpcOutcome::Kind::kError: return o.message + " (code " + std::to_string(o.code) + ")";
    case RpcOutcome::Kind::kTimeout:
    case RpcOutcome::Kind::kCancelled:
    case RpcOutcome::Kind::kClosed: return o.message;
  }
  return o.message;
}

}  // namespace

std::string_view server_state_name(ServerState state) {
  switch (state) {
    case ServerState::kStarting: return "starting";
    case ServerState::kReady: return "ready";
    case ServerState::kRestarting: return "restarting";
    case ServerState::kStopped: return "stopped";
  }
  return "?";
}

McpServer::McpServer(McpServerConfig config, McpOptions options, std::function<void()> on_tools_changed)
    : config_(std::move(config)), options_(std::move(options)), on_tools_changed_(std::move(on_tools_changed)) {}

McpServer::~McpServer() { stop(); }

void McpServer::start() {
  std::lock_guard lock(mutex_);
  if (supervisor_.joinable() || stopping_) return;
  supervisor_ = std::thread([this] { supervise(); });
}

void McpServer::stop() {
  std::shared_ptr<McpConnection> connection;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    connection = connection_;
    wake_.notify_all();
  }
  if (connection) connection->kill();
  if (supervisor_.joinable()) supervisor_.join();
  std::lock_guard lock(mutex_);
  connection_.reset();
  state_.state = ServerState::kStopped;
  state_.pid = -1;
}

void McpServer::log(const std::string& line) const {
  if (options_.log) options_.log("mcp " + config_.name + ": " + line);
}

void McpServer::wait_first_attempt(Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  wake_.wait_until(lock, deadline, [&] { return first_attempt_done_ || stopping_; });
}

bool McpServer::wait_ready(int64_t min_connections, Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return wake_.wait_until(lock, deadline, [&] {
    return state_.state == ServerState::kReady && state_.connections >= min_connections;
  });
}

ServerSnapshot McpServer::snapshot() const {
  std::lock_guard lock(mutex_);
  return state_;
}

void McpServer::set_tools(std::vector<McpTool> tools) {
  bool changed;
  {
    std::lock_guard lock(mutex_);
    auto key = [](const std::vector<McpTool>& list) {
      std::vector<std::string> out;
      for (const McpTool& t : list) out.push_back(t.name + "\n" + t.description + "\n" + t.input_schema.dump());
      return out;
    };
    changed = key(tools) != key(state_.tools);
    state_.tools = std::move(tools);
  }
  if (changed && on_tools_changed_) on_tools_changed_();
}

RpcOutcome McpServer::request(McpConnection& connection, const std::string& method, Json params,
                              milliseconds timeout, const std::function<bool()>& keep_going) {
  std::string version;
  {
    std::lock_guard lock(mutex_);
    if (era_ == Era::kModern) version = modern_version_;
  }
  if (!version.empty()) params = with_modern_meta(std::move(params), version);
  return connection.request(method, std::move(params), timeout, keep_going);
}

Result<std::shared_ptr<McpConnection>> McpServer::spawn() {
  McpLaunch launch{config_.command, config_.args, config_.env, config_.cwd};
  ConnectionHandlers handlers;
  handlers.on_stderr = [this](const std::string& line) { log(line); };
  handlers.on_notification = [this](const std::string& method, const Json& params) {
    if (method == "notifications/tools/list_changed") {
      std::lock_guard lock(mutex_);
      relist_ = true;
      wake_.notify_all();
    } else if (method == "notifications/message" && params.is_object()) {
      log("[" + params.value("level", std::string("log")) + "] " +
          params.value("data", Json()).dump(-1, ' ', false, Json::error_handler_t::replace).substr(0, 2000));
    }
  };
  auto connection = McpConnection::start(launch, std::move(handlers));
  if (!connection) return connection.error();
  return std::shared_ptr<McpConnection>(std::move(connection).value());
}

Result<std::vector<McpTool>> McpServer::list_tools(McpConnection& connection) {
  std::vector<McpTool> tools;
  std::set<std::string> cursors, names;
  std::optional<std::string> cursor;
  for (int page = 0; page < kMaxToolPages; ++page) {
    Json params = Json::object();
    if (cursor) params["cursor"] = *cursor;
    RpcOutcome o = request(connection, "tools/list", params, config_.startup_timeout);
    if (o.kind != RpcOutcome::Kind::kResult) return make_error("tools/list: " + describe(o));
    auto parsed = parse_tools_page(o.result);
    if (!parsed) return parsed.error();
    for (const std::string& s : parsed->skipped) log("tools/list: skipped " + s);
    for (McpTool& t : parsed->tools) {
      if (!names.insert(t.name).second) continue;  // listed twice
      if (tools.size() >= kMaxTools) return make_error("tools/list: more than 1000 tools");
      tools.push_back(std::move(t));
    }
    if (!parsed->next_cursor) return tools;
    if (!cursors.insert(*parsed->next_cursor).second)
      return make_error("tools/list: the server gave the same cursor twice");
    cursor = parsed->next_cursor;
  }
  return make_error("tools/list: more than 100 pages");
}

Status McpServer::connect(std::shared_ptr<McpConnection>& out) {
  if (!config_.url.empty()) return make_error("HTTP MCP servers are not supported yet");
  auto connection = spawn();
  if (!connection) return connection.error();
  std::shared_ptr<McpConnection> c = *connection;
  {
    std::lock_guard lock(mutex_);
    state_.pid = c->pid();
  }
  std::optional<Era> era;
  {
    std::lock_guard lock(mutex_);
    era = era_;
  }
  Json capabilities;
  if (!era || *era == Era::kModern) {
    RpcOutcome probe = c->request("server/discover", discover_params(), options_.probe_timeout);
    ProbeDecision d = classify_probe(probe);
    if (d.era == Era::kModern) {
      if (!d.error.empty()) return make_error(d.error);
      std::lock_guard lock(mutex_);
      era_ = Era::kModern;
      modern_version_ = d.version;
      capabilities = d.capabilities;
      log("speaks " + d.version + " (stateless)" + (d.server_info.empty() ? "" : ": " + d.server_info));
    } else {
      {
        std::lock_guard lock(mutex_);
        era_ = Era::kLegacy;
      }
      log("server/discover answered " + describe(probe) + ": falling back to the initialize handshake");
      if (probe.kind == RpcOutcome::Kind::kTimeout || probe.kind == RpcOutcome::Kind::kClosed) {
        // A silent server may be in any state after the unknown request:
        // start it afresh for the handshake.
        c.reset();
        auto again = spawn();
        if (!again) return again.error();
        c = *again;
        std::lock_guard lock(mutex_);
        state_.pid = c->pid();
      }
    }
  }
  std::string protocol;
  bool modern;
  {
    std::lock_guard lock(mutex_);
    modern = era_ == Era::kModern;
    protocol = modern ? modern_version_ : "";
  }
  bool list_changed = false;
  if (!modern) {
    RpcOutcome init = c->request("initialize", initialize_params(), config_.startup_timeout);
    if (init.kind != RpcOutcome::Kind::kResult) {
      std::lock_guard lock(mutex_);
      era_.reset();  // probe again next time
      return make_error("initialize: " + describe(init));
    }
    auto version = negotiated_version(init.result);
    if (!version) return version.error();
    protocol = *version;
    if (auto caps = init.result.find("capabilities"); caps != init.result.end() && caps->is_object()) capabilities = *caps;
    if (Status s = c->notify("notifications/initialized", Json()); !s) return make_error("initialized: " + s.message());
  }
  if (auto tools = capabilities.find("tools"); tools != capabilities.end() && tools->is_object())
    list_changed = tools->value("listChanged", false);
  auto tools = list_tools(*c);
  if (!tools) return tools.error();
  if (modern && list_changed) {
    // Modern servers deliver list changes on a subscription stream.
    Json params = with_modern_meta({{"notifications", {{"toolsListChanged", true}}}}, protocol);
    if (auto id = c->send_request("subscriptions/listen", params); !id)
      log("subscriptions/listen failed: " + id.message());
  }
  log("ready (protocol " + protocol + ", " + std::to_string(tools->size()) + " tools)");
  set_tools(std::move(tools).value());
  std::lock_guard lock(mutex_);
  state_.protocol = protocol;
  tools_list_changed_ = list_changed;
  out = std::move(c);
  return {};
}

void McpServer::supervise() {
  milliseconds backoff = options_.backoff_initial;
  bool first = true;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
      if (!first) ++state_.restarts;
      state_.state = first ? ServerState::kStarting : ServerState::kRestarting;
    }
    std::shared_ptr<McpConnection> connection;
    Status status = connect(connection);
    {
      std::lock_guard lock(mutex_);
      first_attempt_done_ = true;
      if (status) {
        connection_ = connection;
        state_.state = ServerState::kReady;
        state_.last_error.clear();
        ++state_.connections;
        relist_ = false;
        suspect_hung_ = false;
        backoff = options_.backoff_initial;
      } else {
        state_.last_error = status.message();
        state_.state = ServerState::kRestarting;
      }
      wake_.notify_all();
    }
    first = false;
    if (!status) {
      log("could not connect: " + status.message() + "; retrying in " + seconds(backoff));
      connection.reset();
    } else {
      // Watch the connection until it closes (or we stop).
      for (;;) {
        bool relist = false, check = false;
        {
          std::unique_lock lock(mutex_);
          wake_.wait_for(lock, kWatchStep, [&] { return stopping_ || relist_ || suspect_hung_; });
          if (stopping_) break;
          relist = std::exchange(relist_, false);
          check = std::exchange(suspect_hung_, false);
        }
        if (connection->closed()) break;
        if (relist) {
          auto tools = list_tools(*connection);
          if (tools) {
            log("tool list changed: " + std::to_string(tools->size()) + " tools");
            set_tools(std::move(tools).value());
          } else {
            log("listing the changed tools failed: " + tools.message());
          }
        }
        if (check) {
          bool modern;
          {
            std::lock_guard lock(mutex_);
            modern = era_ == Era::kModern;
          }
          RpcOutcome o = modern ? request(*connection, "server/discover", Json::object(), options_.health_timeout)
                                : connection->request("ping", Json::object(), options_.health_timeout);
          if (o.kind == RpcOutcome::Kind::kTimeout) {
            log("no answer to a health check within " + seconds(options_.health_timeout) + ": killing it");
            connection->kill();
          }
        }
      }
      std::string why = connection->closed() ? connection->close_reason() : "stopped";
      {
        std::lock_guard lock(mutex_);
        connection_.reset();
        state_.pid = -1;
        if (!stopping_) {
          state_.state = ServerState::kRestarting;
          state_.last_error = why;
        }
      }
      connection->kill();
      connection.reset();
      std::lock_guard lock(mutex_);
      if (stopping_) break;
      log(why + "; restarting in " + seconds(backoff));
    }
    std::unique_lock lock(mutex_);
    state_.pid = -1;
    wake_.wait_for(lock, backoff, [&] { return stopping_; });
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
}

ToolResult McpServer::call(const std::string& tool, const Json& arguments, const std::function<bool()>& keep_going,
                           const std::string& label) {
  std::shared_ptr<McpConnection> connection;
  ServerSnapshot snap;
  {
    std::lock_guard lock(mutex_);
    connection = connection_;
    snap = state_;
  }
  if (!connection || snap.state != ServerState::kReady) {
    std::string why = snap.state == ServerState::kStopped ? "has been stopped"
                      : snap.state == ServerState::kStarting ? "is still starting"
                                                              : "is restarting";
    return ToolResult::error(label + ": MCP server '" + config_.name + "' " + why +
                             (snap.last_error.empty() ? "" : " (" + snap.last_error + ")") +
                             "; its tools are unavailable for now. Try again later or do without it.");
  }
  Json params = {{"name", tool}, {"arguments", arguments.is_object() ? arguments : Json::object()}};
  RpcOutcome o = request(*connection, "tools/call", std::move(params), config_.call_timeout, keep_going);
  switch (o.kind) {
    case RpcOutcome::Kind::kResult:
      if (is_input_required(o.result))
        return ToolResult::error(label + ": the server asked for more input (elicitation), which beluga does not "
                                 "support; the call did not complete");
      return render_call_result(o.result, label);
    case RpcOutcome::Kind::kError:
      return ToolResult::error(label + ": the server refused the call: " + o.message + " (JSON-RPC error " +
                               std::to_string(o.code) + ")");
    case RpcOutcome::Kind::kTimeout: {
      std::lock_guard lock(mutex_);
      suspect_hung_ = true;
      wake_.notify_all();
      return ToolResult::error(label + ": no answer within " + seconds(config_.call_timeout) +
                               "; the call was cancelled (" + o.message + "). The server is being checked and "
                               "restarted if it hangs.");
    }
    case RpcOutcome::Kind::kCancelled: return ToolResult::error(label + ": cancelled");
    case RpcOutcome::Kind::kClosed:
      return ToolResult::error(label + ": the MCP server stopped during the call (" + o.message +
                               "); it is being restarted and its tools are unavailable until it is back. The call "
                               "may or may not have taken effect.");
  }
  return ToolResult::error(label + ": no result");
}

}  // namespace beluga::tools::mcp
