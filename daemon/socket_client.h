// The client side of the daemon's socket, in plain POSIX calls (no Asio):
// used by `beluga daemon status|stop`, `beluga acp` and the tests.
//
// Thread contract: a LineClient belongs to one thread.
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/base/result.h"

namespace beluga::daemon {

// The daemon's files: $XDG_RUNTIME_DIR/beluga/{beluga.sock, beluga.pid}
// (/tmp/beluga-<uid>/ when XDG_RUNTIME_DIR is unset), the log under
// $XDG_STATE_HOME/beluga/ ($HOME/.local/state when unset), and the daemon's
// own config $XDG_CONFIG_HOME/beluga/daemon.json.
struct DaemonPaths {
  std::string runtime_dir;
  std::string socket;
  std::string pid_file;
  std::string state_dir;
  std::string log_file;
  std::string config_file;
};
Result<DaemonPaths> daemon_paths();

// A connected Unix socket (fd), or why not. ENOENT/ECONNREFUSED mean "no daemon".
Result<int> connect_unix(const std::string& path);

class LineClient {
 public:
  explicit LineClient(int fd) : fd_(fd) {}
  ~LineClient();
  LineClient(const LineClient&) = delete;
  LineClient& operator=(const LineClient&) = delete;

  Status send_line(const std::string& line);  // adds the '\n'
  // The next line (without '\n'), or an error on EOF/timeout.
  Result<std::string> read_line(std::chrono::milliseconds timeout);
  // Sends a request and waits for its response (other messages are skipped).
  Result<nlohmann::json> call(const std::string& method, const nlohmann::json& params,
                              std::chrono::milliseconds timeout = std::chrono::seconds(30));
  int fd() const { return fd_; }

 private:
  int fd_;
  std::string buffer_;
  int64_t next_id_ = 1;
};

}  // namespace beluga::daemon
