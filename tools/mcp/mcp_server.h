// One configured MCP server kept running: connect (probe the era, shake
// hands, list the tools), serve tool calls, and restart it when it dies.
//
// A supervisor thread owns the lifecycle:
//   start → connect → ready ─┬─ notifications/tools/list_changed → list again
//                            ├─ a call timed out → health check (ping, or
//                            │  server/discover in the modern era); no
//                            │  answer → the process group is killed
//                            └─ the process exits → restarting: wait the
//                               backoff (0.5 s doubling to 30 s, reset
//                               once a connection succeeds), connect again
// While a server is not ready its tools stay declared (so the model's
// prompt does not change) but calls answer at once that the server is
// unavailable and being restarted. A call in flight when the server dies
// returns a tool error; a call with no answer within the server's timeout
// is cancelled (notifications/cancelled) and returns a tool error, so a
// hung server never blocks a session beyond its timeout.
//
// The era found by the probe is cached across restarts (the specification
// allows it) and probed again when a handshake under it fails.
//
// Thread contract: every public method may be called from any thread.
// `on_tools_changed` and `log` run on the supervisor or connection threads.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tools/mcp/mcp_protocol.h"
#include "tools/tool.h"

namespace beluga::tools::mcp {

class McpConnection;

struct McpServerConfig {
  std::string name;                        // check_server_name rules
  std::string command;                     // stdio servers
  std::vector<std::string> args;
  std::map<std::string, std::string> env;
  std::string url;                         // HTTP servers: not supported yet
  std::filesystem::path cwd;               // empty: beluga's (the workspace for sessions)
  std::chrono::milliseconds call_timeout{60000};
  std::chrono::milliseconds startup_timeout{30000};  // the handshake and the tool list
  bool enabled = true;
  std::string source;                      // where it was configured, for messages
};

struct McpOptions {
  std::chrono::milliseconds probe_timeout{5000};    // server/discover before falling back
  std::chrono::milliseconds health_timeout{5000};   // the check after a timed-out call
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{30000};
  std::function<void(const std::string& line)> log;  // server stderr and lifecycle lines
};

enum class ServerState { kStarting, kReady, kRestarting, kStopped };
std::string_view server_state_name(ServerState state);  // "starting", "ready", "restarting", "stopped"

struct ServerSnapshot {
  ServerState state = ServerState::kStarting;
  std::vector<McpTool> tools;   // the last list (kept while restarting)
  std::string protocol;         // "2025-11-25", "2026-07-28", "" before the first connection
  std::string last_error;       // why the last connection failed or ended
  int64_t restarts = 0;         // connections started after the first
  int64_t connections = 0;      // successful handshakes so far
  pid_t pid = -1;               // the running process (-1 when none)
};

class McpServer {
 public:
  McpServer(McpServerConfig config, McpOptions options, std::function<void()> on_tools_changed);
  ~McpServer();
  McpServer(const McpServer&) = delete;
  McpServer& operator=(const McpServer&) = delete;

  const McpServerConfig& config() const { return config_; }
  void start();
  void stop();
  // Waits until the first connection attempt ends (ready or failed) or `deadline`.
  void wait_first_attempt(std::chrono::steady_clock::time_point deadline);
  // Waits until the server is ready with at least `min_connections`
  // successful handshakes; false at `deadline`.
  bool wait_ready(int64_t min_connections, std::chrono::steady_clock::time_point deadline);
  ServerSnapshot snapshot() const;

  // tools/call; never throws; `keep_going` (may be empty) cancels it.
  ToolResult call(const std::string& tool, const Json& arguments, const std::function<bool()>& keep_going,
                  const std::string& label);

 private:
  void supervise();
  // One connection attempt: spawn, era, handshake, tool list.
  Status connect(std::shared_ptr<McpConnection>& out);
  Result<std::shared_ptr<McpConnection>> spawn();
  Result<std::vector<McpTool>> list_tools(McpConnection& connection);
  RpcOutcome request(McpConnection& connection, const std::string& method, Json params,
                     std::chrono::milliseconds timeout, const std::function<bool()>& keep_going = {});
  void log(const std::string& line) const;
  void set_tools(std::vector<McpTool> tools);

  const McpServerConfig config_;
  const McpOptions options_;
  const std::function<void()> on_tools_changed_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::shared_ptr<McpConnection> connection_;  // set while ready
  ServerSnapshot state_;
  std::optional<Era> era_;                     // cached probe result
  std::string modern_version_;
  bool tools_list_changed_ = true;             // server capability (legacy) / subscription (modern)
  bool first_attempt_done_ = false;
  bool relist_ = false;                        // list_changed arrived
  bool suspect_hung_ = false;                  // a call timed out
  bool stopping_ = false;
  std::thread supervisor_;
};

}  // namespace beluga::tools::mcp
