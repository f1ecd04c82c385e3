// An LSP client written for the tests: runs the real `beluga lsp` as a
// child process on pipes, frames messages both ways (lsp/framing.h), reads
// on a thread, matches responses to requests, answers the server's own
// requests through a handler the test sets (applyEdit, showMessageRequest,
// workDoneProgress/create), and keeps every notification in order.
// The child's stderr (its log) goes to a file, shown when a test fails.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "lsp/framing.h"
#include "tests/test_support.h"

namespace beluga::testing {

using Json = nlohmann::json;

// Generous: the suite runs on a loaded two-core machine.
inline constexpr auto kLspWait = std::chrono::seconds(90);

class LspClient {
 public:
  // Runs `beluga lsp ARGS...`; `log_file` receives its stderr.
  LspClient(const std::vector<std::string>& args, const std::string& log_file) : log_file_(log_file) {
    int to_child[2], from_child[2];
    if (::pipe(to_child) != 0 || ::pipe(from_child) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::dup2(to_child[0], STDIN_FILENO);
      ::dup2(from_child[1], STDOUT_FILENO);
      int log = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (log >= 0) ::dup2(log, STDERR_FILENO);
      // Only 0, 1 and 2 go to the child: a pipe end left open there (and in
      // the daemon it starts) would keep the test's reads from ever ending.
      ::close(to_child[0]);
      ::close(to_child[1]);
      ::close(from_child[0]);
      ::close(from_child[1]);
      if (log >= 0) ::close(log);
      std::vector<std::string> argv_s = {BELUGA_BINARY, "lsp"};
      argv_s.insert(argv_s.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (auto& a : argv_s) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(BELUGA_BINARY, argv.data());
      _exit(127);
    }
    ::close(to_child[0]);
    ::close(from_child[1]);
    in_ = to_child[1];
    out_ = from_child[0];
    reader_ = std::thread([this] { read_loop(); });
  }

  ~LspClient() {
    close_input();
    if (pid_ > 0 && !exited_) {
      // Give it a moment to exit on end of input, then make sure.
      for (int i = 0; i < 100 && !try_reap(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (!exited_) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
      }
    }
    if (reader_.joinable()) reader_.join();
    ::close(out_);
  }

  LspClient(const LspClient&) = delete;
  LspClient& operator=(const LspClient&) = delete;

  // What the client answers to a request from the server: the result, or
  // nullopt to leave it unanswered (the test answers later with respond()).
  using RequestHandler = std::function<std::optional<Json>(const Json& request)>;
  void on_request(RequestHandler handler) {
    std::lock_guard lock(mutex_);
    handler_ = std::move(handler);
  }

  void send_raw(const std::string& bytes) {
    std::lock_guard lock(write_mutex_);
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::write(in_, bytes.data() + done, bytes.size() - done);
      if (n <= 0) return;
      done += static_cast<size_t>(n);
    }
  }
  void send(const Json& message) { send_raw(lsp::encode_frame(message.dump())); }

  Json send_request(const std::string& method, const Json& params) {
    Json id;
    {
      std::lock_guard lock(mutex_);
      id = next_id_++;
    }
    send({{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}});
    return id;
  }
  void notify(const std::string& method, const Json& params) {
    send({{"jsonrpc", "2.0"}, {"method", method}, {"params", params}});
  }
  void respond(const Json& id, const Json& result) { send({{"jsonrpc", "2.0"}, {"id", id}, {"result", result}}); }

  // The whole response message to `id` (with "result" or "error").
  Json wait_response(const Json& id, std::chrono::seconds timeout = kLspWait) {
    std::unique_lock lock(mutex_);
    const std::string key = id.dump();
    if (!cv_.wait_for(lock, timeout, [&] { return responses_.count(key) > 0 || closed_; }))
      throw std::runtime_error("no response to request " + key + "\n" + log());
    if (!responses_.count(key)) throw std::runtime_error("the server closed before answering " + key + "\n" + log());
    return responses_[key];
  }
  Json request(const std::string& method, const Json& params) { return wait_response(send_request(method, params)); }

  // The first message (notification or server request) from index `from`
  // on that satisfies `match`; its index goes to *at.
  Json wait_message(const std::function<bool(const Json&)>& match, size_t from = 0, size_t* at = nullptr,
                    std::chrono::seconds timeout = kLspWait) {
    std::unique_lock lock(mutex_);
    std::optional<Json> found;
    auto scan = [&] {
      for (size_t i = from; i < messages_.size(); ++i)
        if (match(messages_[i])) {
          found = messages_[i];
          if (at) *at = i;
          return true;
        }
      return closed_;
    };
    if (!cv_.wait_for(lock, timeout, scan) || !found)
      throw std::runtime_error("the expected message did not arrive\n" + log());
    return *found;
  }
  Json wait_method(const std::string& method, size_t from = 0, size_t* at = nullptr) {
    return wait_message([&](const Json& m) { return m.value("method", std::string()) == method; }, from, at);
  }
  std::vector<Json> messages() {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  size_t message_count() {
    std::lock_guard lock(mutex_);
    return messages_.size();
  }

  void close_input() {
    std::lock_guard lock(write_mutex_);
    if (in_ >= 0) ::close(in_);
    in_ = -1;
  }
  // The exit status once the process ends (after exit or end of input).
  int wait_exit(std::chrono::seconds timeout = kLspWait) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!try_reap()) {
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("beluga lsp did not exit\n" + log());
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return exit_status_;
  }
  bool running() { return !try_reap(); }
  std::string log() const { return "--- beluga lsp's log ---\n" + read_text(log_file_); }

 private:
  bool try_reap() {
    if (exited_) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    return exited_;
  }

  void read_loop() {
    lsp::FrameReader reader;
    char buffer[65536];
    for (;;) {
      ssize_t n = ::read(out_, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      reader.feed(std::string_view(buffer, static_cast<size_t>(n)));
      while (auto event = reader.next()) {
        if (!event->ok) {
          std::lock_guard lock(mutex_);
          bad_frames_.push_back(event->error);
          continue;
        }
        Json message = Json::parse(event->body, nullptr, false);
        if (message.is_discarded()) {
          std::lock_guard lock(mutex_);
          bad_frames_.push_back("not JSON: " + event->body);
          continue;
        }
        handle(message);
      }
    }
    std::lock_guard lock(mutex_);
    closed_ = true;
    cv_.notify_all();
  }

  void handle(const Json& message) {
    const bool has_method = message.contains("method");
    if (!has_method && message.contains("id")) {
      std::lock_guard lock(mutex_);
      responses_[message["id"].dump()] = message;
      cv_.notify_all();
      return;
    }
    RequestHandler handler;
    {
      std::lock_guard lock(mutex_);
      messages_.push_back(message);
      handler = handler_;
      cv_.notify_all();
    }
    if (message.contains("id")) {
      std::optional<Json> answer;
      if (handler) answer = handler(message);
      if (answer) respond(message["id"], *answer);
    }
  }

  std::string log_file_;
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1;
  bool exited_ = false;
  int exit_status_ = -1;
  std::thread reader_;
  std::mutex write_mutex_;
  std::mutex mutex_;
  std::condition_variable cv_;
  RequestHandler handler_;
  int64_t next_id_ = 1;
  std::map<std::string, Json> responses_;
  std::vector<Json> messages_;  // notifications and server requests, in order
  std::vector<std::string> bad_frames_;
  bool closed_ = false;
};

}  // namespace beluga::testing
