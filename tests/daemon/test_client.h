// An ACP client written for the tests: a real socket, a reader thread,
// requests from the daemon answered on demand. Needs only the transport
// (daemon/socket_client.h), so the transport tests link nothing else.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/socket_client.h"

namespace beluga::testing {

using Json = nlohmann::json;
using namespace std::chrono_literals;

// Generous: the suite runs on a loaded two-core machine.
inline constexpr auto kWait = std::chrono::seconds(60);

// A client on one connection. Messages from the daemon are read on a
// thread: responses are matched to calls, requests from the daemon
// (session/request_permission) are answered by `on_request` (or held for
// the test to answer), notifications are kept in order.
class TestClient {
 public:
  explicit TestClient(int fd) : fd_(fd) { reader_ = std::thread([this] { read_loop(); }); }
  static std::unique_ptr<TestClient> connect(const std::string& socket_path) {
    auto fd = daemon::connect_unix(socket_path);
    if (!fd) throw std::runtime_error(fd.message());
    return std::make_unique<TestClient>(*fd);
  }
  ~TestClient() {
    hang_up();
    if (reader_.joinable()) reader_.join();
    ::close(fd_);
  }

  // Abrupt disconnect (no goodbye), as a crashed client would.
  void hang_up() { ::shutdown(fd_, SHUT_RDWR); }

  void send_raw(const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return;
      done += static_cast<size_t>(n);
    }
  }

  int64_t send_request(const std::string& method, const Json& params) {
    std::lock_guard lock(mutex_);
    const int64_t id = next_id_++;
    Json m = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}};
    send_raw(m.dump() + "\n");
    return id;
  }
  void notify(const std::string& method, const Json& params) {
    send_raw(Json{{"jsonrpc", "2.0"}, {"method", method}, {"params", params}}.dump() + "\n");
  }

  // The response (the whole message) to request `id`.
  Json wait_response(const Json& id, std::chrono::seconds timeout = kWait) {
    std::unique_lock lock(mutex_);
    const bool got = changed_.wait_for(lock, timeout, [&] {
      for (const Json& r : responses_)
        if (r.contains("id") && r["id"] == id) return true;
      return false;
    });
    if (!got) throw std::runtime_error("no response to request " + id.dump());
    for (auto it = responses_.begin(); it != responses_.end(); ++it)
      if ((*it)["id"] == id) {
        Json r = *it;
        responses_.erase(it);
        return r;
      }
    return {};
  }
  Json call(const std::string& method, const Json& params) { return wait_response(send_request(method, params)); }
  // The result, failing the test on an error response.
  Json result(const std::string& method, const Json& params) {
    Json r = call(method, params);
    if (!r.contains("result")) throw std::runtime_error(method + " failed: " + r.dump());
    return r["result"];
  }

  // What a request handler returns to answer with a JSON-RPC error.
  static constexpr const char* kErrorReply = "__error_reply";
  static Json error_reply(int code, const std::string& message) {
    return {{kErrorReply, {{"code", code}, {"message", message}}}};
  }

  // Requests from the daemon: answered by the handler if set, else held.
  void on_request(std::function<std::optional<Json>(const Json& request)> handler) {
    std::lock_guard lock(mutex_);
    handler_ = std::move(handler);
  }
  Json wait_daemon_request(std::chrono::seconds timeout = kWait) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, timeout, [&] { return !held_requests_.empty(); }))
      throw std::runtime_error("no request from the daemon");
    Json r = held_requests_.front();
    held_requests_.pop_front();
    return r;
  }
  void answer(const Json& id, const Json& result) {
    send_raw(Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", result}}.dump() + "\n");
  }

  std::vector<Json> notifications() {
    std::lock_guard lock(mutex_);
    return notifications_;
  }
  // session/update payloads ("update" objects) received so far.
  std::vector<Json> updates() {
    std::vector<Json> out;
    for (const Json& n : notifications())
      if (n.value("method", "") == "session/update") out.push_back(n["params"]["update"]);
    return out;
  }
  std::vector<Json> updates_of(const std::string& kind) {
    std::vector<Json> out;
    for (const Json& u : updates())
      if (u.value("sessionUpdate", "") == kind) out.push_back(u);
    return out;
  }
  bool wait_until(const std::function<bool()>& condition, std::chrono::seconds timeout = kWait) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (condition()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return condition();
  }
  bool closed() {
    std::lock_guard lock(mutex_);
    return closed_;
  }
  // Every message that was not valid JSON-RPC from the daemon (must stay empty).
  std::vector<std::string> garbage() {
    std::lock_guard lock(mutex_);
    return garbage_;
  }

  Json initialize() {
    return result("initialize", {{"protocolVersion", 1},
                                 {"clientCapabilities", {{"fs", {{"readTextFile", false}, {"writeTextFile", false}}}}},
                                 {"clientInfo", {{"name", "beluga-tests"}, {"version", "0"}}}});
  }
  std::string new_session(const std::string& cwd) {
    return result("session/new", {{"cwd", cwd}, {"mcpServers", Json::array()}})["sessionId"].get<std::string>();
  }
  static Json text_prompt(const std::string& session, const std::string& text) {
    return {{"sessionId", session}, {"prompt", Json::array({{{"type", "text"}, {"text", text}}})}};
  }

 private:
  void read_loop() {
    std::string buffer;
    char chunk[65536];
    for (;;) {
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) break;
      buffer.append(chunk, static_cast<size_t>(n));
      size_t newline;
      while ((newline = buffer.find('\n')) != std::string::npos) {
        std::string line = buffer.substr(0, newline);
        buffer.erase(0, newline + 1);
        handle(line);
      }
    }
    std::lock_guard lock(mutex_);
    closed_ = true;
    changed_.notify_all();
  }
  void handle(const std::string& line) {
    Json m = Json::parse(line, nullptr, false);
    std::function<std::optional<Json>(const Json&)> handler;
    {
      std::lock_guard lock(mutex_);
      if (!m.is_object() || m.value("jsonrpc", "") != "2.0") {
        garbage_.push_back(line);
        return;
      }
      if (m.contains("method") && m.contains("id")) {
        handler = handler_;
        if (!handler) {
          held_requests_.push_back(m);
          changed_.notify_all();
          return;
        }
      } else if (m.contains("method")) {
        notifications_.push_back(m);
        changed_.notify_all();
        return;
      } else {
        responses_.push_back(m);
        changed_.notify_all();
        return;
      }
    }
    std::optional<Json> answer_result = handler(m);
    if (answer_result && answer_result->contains(kErrorReply)) {
      send_raw(Json{{"jsonrpc", "2.0"}, {"id", m["id"]}, {"error", (*answer_result)[kErrorReply]}}.dump() + "\n");
    } else if (answer_result) {
      answer(m["id"], *answer_result);
    } else {
      std::lock_guard lock(mutex_);
      held_requests_.push_back(m);
      changed_.notify_all();
    }
  }

  int fd_;
  std::thread reader_;
  std::mutex mutex_;
  std::condition_variable changed_;
  int64_t next_id_ = 1;
  std::vector<Json> responses_;
  std::vector<Json> notifications_;
  std::deque<Json> held_requests_;
  std::vector<std::string> garbage_;
  std::function<std::optional<Json>(const Json&)> handler_;
  bool closed_ = false;
};

inline Json select_option(const std::string& option_id) {
  return {{"outcome", {{"outcome", "selected"}, {"optionId", option_id}}}};
}

}  // namespace beluga::testing
