#include "lsp/daemon_link.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "daemon/daemon_spawn.h"
#include "daemon/rpc/json_rpc.h"
#include "daemon/socket_client.h"

#ifndef BELUGA_VERSION
#define BELUGA_VERSION "dev"
#endif

namespace beluga::lsp {
namespace {

constexpr size_t kMaxLineBytes = 64u << 20;
constexpr auto kInitializeTimeout = std::chrono::seconds(30);

Json error_object(int code, const std::string& message) { return {{"code", code}, {"message", message}}; }

}  // namespace

DaemonLink::DaemonLink(std::string model, DaemonLinkHandlers handlers)
    : model_(std::move(model)), handlers_(std::move(handlers)) {}

DaemonLink::~DaemonLink() { stop(); }

void DaemonLink::start() { thread_ = std::thread([this] { run(); }); }

void DaemonLink::stop() {
  stopping_ = true;
  {
    std::lock_guard lock(write_mutex_);
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
  }
  if (thread_.joinable()) thread_.join();
  fail_pending("the beluga lsp server is exiting");
}

int DaemonLink::connect_once(bool may_start_daemon, std::string& why) {
  auto paths = daemon::daemon_paths();
  if (!paths) {
    why = paths.message();
    return -1;
  }
  auto fd = daemon::connect_unix(paths->socket);
  if (fd) return *fd;
  why = fd.message();
  if (!may_start_daemon) return -1;
  if (handlers_.log) handlers_.log("no daemon answers on " + paths->socket + "; starting one");
  if (Status s = daemon::start_daemon_process(model_); !s) {
    why = s.message() + " (see " + paths->log_file + ")";
    return -1;
  }
  fd = daemon::connect_unix(paths->socket);
  if (fd) return *fd;
  why = fd.message();
  return -1;
}

bool DaemonLink::initialize(int fd, std::string& why) {
  // Blocking and synchronous: nothing else uses the socket before the link is published.
  daemon::LineClient client(::dup(fd));
  Json params = {{"protocolVersion", 1},
                 {"clientCapabilities", {{"fs", {{"readTextFile", true}, {"writeTextFile", true}}}}},
                 {"clientInfo", {{"name", "beluga-lsp"}, {"version", BELUGA_VERSION}}}};
  auto result = client.call("initialize", params, kInitializeTimeout);
  if (!result) {
    why = result.message();
    return false;
  }
  return true;
}

void DaemonLink::run() {
  auto pause = std::chrono::milliseconds(250);
  auto down_since = std::chrono::steady_clock::now();
  bool ever_connected = false;
  std::string last_why;
  while (!stopping_) {
    // Start a daemon at once the first time; after a loss, give a restarting one 2 s.
    const bool may_start = !ever_connected || std::chrono::steady_clock::now() - down_since > std::chrono::seconds(2);
    std::string why;
    int fd = connect_once(may_start, why);
    if (fd >= 0 && !initialize(fd, why)) {
      ::close(fd);
      fd = -1;
    }
    if (fd < 0) {
      if (why != last_why && handlers_.state)
        handlers_.state(LinkEvent::kUnreachable, "cannot reach the beluga daemon: " + why);
      last_why = why;
      expire_unsent("cannot reach the beluga daemon: " + why);
      for (auto waited = std::chrono::milliseconds(0); waited < pause && !stopping_; waited += std::chrono::milliseconds(50))
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      pause = std::min<std::chrono::milliseconds>(pause * 2, std::chrono::seconds(5));
      continue;
    }
    {
      std::lock_guard lock(write_mutex_);
      fd_ = fd;
    }
    pause = std::chrono::milliseconds(250);
    last_why.clear();
    ++generation_;
    {
      std::lock_guard lock(pending_mutex_);
      connected_ = true;
      flush_unsent();
    }
    if (handlers_.state) {
      if (ever_connected) {
        handlers_.state(LinkEvent::kReconnected, "reconnected to the beluga daemon (it restarted; running turns were lost)");
      } else {
        handlers_.state(LinkEvent::kConnected, "connected to the beluga daemon");
      }
    }
    ever_connected = true;
    read_loop(fd);
    {
      std::lock_guard lock(pending_mutex_);
      connected_ = false;
    }
    {
      std::lock_guard lock(write_mutex_);
      ::close(fd_);
      fd_ = -1;
    }
    fail_pending("the beluga daemon connection closed");
    down_since = std::chrono::steady_clock::now();
    if (!stopping_ && handlers_.state)
      handlers_.state(LinkEvent::kLost, "lost the connection to the beluga daemon; reconnecting");
  }
}

void DaemonLink::read_loop(int fd) {
  std::string buffer;
  bool skipping = false;  // inside a line longer than kMaxLineBytes
  char chunk[65536];
  while (!stopping_) {
    pollfd p{fd, POLLIN, 0};
    int ready = ::poll(&p, 1, 200);
    if (ready < 0 && errno != EINTR) return;
    if (ready <= 0) continue;
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    size_t begin = 0;
    for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
      if (chunk[i] != '\n') continue;
      if (!skipping) {
        buffer.append(chunk + begin, i - begin);
        dispatch(buffer);
      }
      buffer.clear();
      skipping = false;
      begin = i + 1;
    }
    if (!skipping) buffer.append(chunk + begin, static_cast<size_t>(n) - begin);
    if (buffer.size() > kMaxLineBytes) {
      if (handlers_.log) handlers_.log("a daemon message exceeded " + std::to_string(kMaxLineBytes) + " bytes; dropped");
      buffer.clear();
      skipping = true;
    }
  }
}

void DaemonLink::dispatch(const std::string& line) {
  try {
    dispatch_message(rpc::parse_message(line));
  } catch (const std::exception& e) {
    if (handlers_.log) handlers_.log(std::string("error handling a daemon message: ") + e.what());
  }
}

void DaemonLink::dispatch_message(const rpc::Message& message) {
  switch (message.kind) {
    case rpc::MessageKind::kResponse: {
      if (!message.id.is_number_integer()) return;
      ReplyCallback callback;
      {
        std::lock_guard lock(pending_mutex_);
        auto it = pending_.find(message.id.get<int64_t>());
        if (it == pending_.end()) return;
        callback = std::move(it->second);
        pending_.erase(it);
      }
      if (message.error) {
        Json error = error_object(message.error->code, message.error->message);
        if (!message.error->data.is_null()) error["data"] = message.error->data;
        callback(false, error);
      } else {
        callback(true, message.result);
      }
      return;
    }
    case rpc::MessageKind::kNotification:
      if (handlers_.notification) handlers_.notification(message.method, message.params);
      return;
    case rpc::MessageKind::kRequest:
      if (handlers_.request) {
        handlers_.request(message.id, message.method, message.params);
      } else {
        respond_error(message.id, rpc::kMethodNotFound, "unknown method " + message.method);
      }
      return;
    case rpc::MessageKind::kInvalid:
      if (handlers_.log) handlers_.log("unreadable message from the daemon: " + (message.error ? message.error->message : ""));
      return;
  }
}

bool DaemonLink::send_line(const std::string& line) {
  std::lock_guard lock(write_mutex_);
  if (fd_ < 0) return false;
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::send(fd_, line.data() + done, line.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

Json DaemonLink::request(const std::string& method, const Json& params, ReplyCallback on_reply) {
  int64_t id;
  std::string line;
  {
    std::lock_guard lock(pending_mutex_);
    id = next_id_++;
    pending_[id] = std::move(on_reply);
    line = rpc::encode_request(id, method, params);
    if (!connected_ && !stopping_) {
      // Sent when the link comes up (flush_unsent), or failed by expire_unsent.
      unsent_.push_back({id, std::move(line), std::chrono::steady_clock::now() + std::chrono::seconds(60)});
      return id;
    }
  }
  if (!connected_ || !send_line(line)) {
    ReplyCallback callback;
    {
      std::lock_guard lock(pending_mutex_);
      auto it = pending_.find(id);
      if (it != pending_.end()) {
        callback = std::move(it->second);
        pending_.erase(it);
      }
    }
    if (callback) callback(false, error_object(rpc::kInternalError, "the beluga daemon is not connected"));
  }
  return id;
}

void DaemonLink::notify(const std::string& method, const Json& params) {
  if (connected_) send_line(rpc::encode_notification(method, params));
}

void DaemonLink::respond(const Json& id, const Json& result) { send_line(rpc::encode_result(id, result)); }

void DaemonLink::respond_error(const Json& id, int code, const std::string& message) {
  send_line(rpc::encode_error(id, rpc::RpcError{code, message, nullptr}));
}

void DaemonLink::flush_unsent() {
  for (auto& u : unsent_)
    if (pending_.count(u.id)) send_line(u.line);
  unsent_.clear();
}

void DaemonLink::expire_unsent(const std::string& why) {
  std::vector<ReplyCallback> expired;
  {
    std::lock_guard lock(pending_mutex_);
    const auto now = std::chrono::steady_clock::now();
    for (auto it = unsent_.begin(); it != unsent_.end();) {
      if (it->deadline > now && !stopping_) {
        ++it;
        continue;
      }
      if (auto p = pending_.find(it->id); p != pending_.end()) {
        expired.push_back(std::move(p->second));
        pending_.erase(p);
      }
      it = unsent_.erase(it);
    }
  }
  for (auto& callback : expired) callback(false, error_object(rpc::kInternalError, why));
}

void DaemonLink::fail_pending(const std::string& why) {
  std::map<int64_t, ReplyCallback> pending;
  {
    std::lock_guard lock(pending_mutex_);
    pending.swap(pending_);
    unsent_.clear();
  }
  for (auto& [id, callback] : pending) callback(false, error_object(rpc::kInternalError, why));
}

}  // namespace beluga::lsp
