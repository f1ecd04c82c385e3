// One running MCP server process and JSON-RPC 2.0 over its stdio:
// newline-delimited JSON on stdin/stdout, stderr forwarded line by line to
// a log callback (never parsed).
//
// The process runs in its own process group (so `npx`-style launchers and
// their children die together) with beluga's environment plus the
// configured variables. A reader thread reads stdout: answers go to the
// request waiting for them, notifications to a callback, and requests from
// the server are answered at once (ping → {}, anything else → method not
// found, since beluga declares no client capabilities). Writes are
// non-blocking with a deadline, so a server that stopped reading (hung,
// SIGSTOPped) cannot block the caller: the write times out like the
// request would.
//
// Lines longer than 16 MiB or a broken write close the connection (the
// stream can no longer be trusted); a line that is not JSON is logged and
// skipped.
//
// Thread contract: request() and notify() may be called from any thread,
// concurrently; callbacks run on the connection's reader and stderr threads
// and must not call back into this connection's destructor. The destructor
// kills the process group and joins both threads.
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
#include <string>
#include <thread>
#include <vector>

#include "engine/base/result.h"
#include "tools/mcp/mcp_protocol.h"

namespace beluga::tools::mcp {

struct McpLaunch {
  std::string command;  // a path, or a name looked up in PATH
  std::vector<std::string> args;
  std::map<std::string, std::string> env;  // added to beluga's environment
  std::filesystem::path cwd;               // empty: beluga's
};

struct ConnectionHandlers {
  std::function<void(const std::string& method, const Json& params)> on_notification;
  std::function<void(const std::string& line)> on_stderr;
};

class McpConnection {
 public:
  static Result<std::unique_ptr<McpConnection>> start(const McpLaunch& launch, ConnectionHandlers handlers);
  ~McpConnection();
  McpConnection(const McpConnection&) = delete;
  McpConnection& operator=(const McpConnection&) = delete;

  // Sends a request and waits for its answer, at most `timeout` (zero: no
  // limit) and while `keep_going` (polled) returns true. On a timeout or a
  // cancel the server is sent notifications/cancelled for the request.
  RpcOutcome request(const std::string& method, Json params, std::chrono::milliseconds timeout,
                     const std::function<bool()>& keep_going = {});
  // A request whose answer nobody waits for (subscriptions/listen); its id.
  Result<int64_t> send_request(const std::string& method, Json params);
  Status notify(const std::string& method, Json params);

  bool closed() const { return closed_.load(); }
  pid_t pid() const { return pid_; }
  // Why the connection closed ("" while open).
  std::string close_reason() const;
  // SIGKILL to the server's process group; the reader then sees EOF.
  void kill();

 private:
  McpConnection() = default;
  Status write_line(const std::string& line, std::chrono::steady_clock::time_point deadline);
  void read_loop();
  void stderr_loop();
  void handle_line(const std::string& line);
  void handle_message(const Json& message);
  void close_with(const std::string& reason);

  struct Pending {
    bool done = false;
    RpcOutcome outcome;
  };

  struct Process;  // Boost.Process's child (kept out of this header)
  std::unique_ptr<Process> process_;
  pid_t pid_ = -1;
  int stdin_fd_ = -1, stdout_fd_ = -1, stderr_fd_ = -1;
  ConnectionHandlers handlers_;

  std::mutex write_mutex_;  // one line at a time on stdin
  mutable std::mutex mutex_;  // pending_, next_id_, close_reason_
  std::condition_variable answered_;
  std::map<int64_t, std::shared_ptr<Pending>> pending_;
  int64_t next_id_ = 1;
  std::string close_reason_;
  std::atomic<bool> closed_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> reaped_{false};  // the process is gone and waited for: its pid may be reused
  std::thread reader_, stderr_reader_;
};

}  // namespace beluga::tools::mcp
