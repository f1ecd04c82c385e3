#include "daemon/socket_client.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace beluga::daemon {
namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

}  // namespace

Result<DaemonPaths> daemon_paths() {
  const std::string home = env_or("HOME", "");
  DaemonPaths p;
  const std::string runtime = env_or("XDG_RUNTIME_DIR", "");
  p.runtime_dir = runtime.empty() ? "/tmp/beluga-" + std::to_string(::geteuid()) : runtime + "/beluga";
  p.socket = p.runtime_dir + "/beluga.sock";
  p.pid_file = p.runtime_dir + "/beluga.pid";
  std::string state = env_or("XDG_STATE_HOME", home.empty() ? "" : home + "/.local/state");
  std::string config = env_or("XDG_CONFIG_HOME", home.empty() ? "" : home + "/.config");
  if (state.empty() || config.empty()) return make_error("neither XDG_STATE_HOME/XDG_CONFIG_HOME nor HOME is set");
  p.state_dir = state + "/beluga";
  p.log_file = p.state_dir + "/daemon.log";
  p.config_file = config + "/beluga/daemon.json";
  if (p.socket.size() >= sizeof(sockaddr_un{}.sun_path))
    return make_error("the socket path " + p.socket + " is too long for a Unix socket");
  return p;
}

Result<int> connect_unix(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) return make_error("socket path too long: " + path);
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error(std::string("socket: ") + std::strerror(errno));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    std::string why = std::strerror(errno);
    ::close(fd);
    return make_error("cannot connect to " + path + ": " + why);
  }
  return fd;
}

LineClient::~LineClient() {
  if (fd_ >= 0) ::close(fd_);
}

Status LineClient::send_line(const std::string& line) {
  std::string data = line + "\n";
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return make_error(std::string("send: ") + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return {};
}

Result<std::string> LineClient::read_line(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (size_t newline = buffer_.find('\n'); newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return make_error("timed out waiting for the daemon");
    pollfd p{fd_, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char chunk[65536];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return make_error("the daemon closed the connection");
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

Result<nlohmann::json> LineClient::call(const std::string& method, const nlohmann::json& params,
                                        std::chrono::milliseconds timeout) {
  const int64_t id = next_id_++;
  nlohmann::json request = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}};
  if (Status s = send_line(request.dump()); !s) return s.error();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto line = read_line(std::max(left, std::chrono::milliseconds(1)));
    if (!line) return line.error();
    auto message = nlohmann::json::parse(*line, nullptr, false);
    if (!message.is_object() || !message.contains("id") || message["id"] != id || message.contains("method")) continue;
    if (message.contains("error"))
      return make_error(method + ": " + message["error"].value("message", std::string("error")));
    return message.value("result", nlohmann::json());
  }
}

}  // namespace beluga::daemon
