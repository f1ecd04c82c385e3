// The stdio transport and JSON-RPC bookkeeping of one MCP server (see
// mcp_connection.h).
#include "tools/mcp/mcp_connection.h"

// Boost first (through the wrapper, see boost_process.h), then POSIX.
#include "tools/boost_process.h"
#include "tools/shell_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace beluga::tools::mcp {

namespace bp = boost::process;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct McpConnection::Process {
  bp::child child;
};

namespace {

constexpr size_t kMaxLineBytes = 16 * 1024 * 1024;
constexpr size_t kMaxStderrLineBytes = 4096;
constexpr milliseconds kPollStep{100};
constexpr milliseconds kNotifyWrite{2000};


std::string dump(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace

Result<std::unique_ptr<McpConnection>> McpConnection::start(const McpLaunch& launch, ConnectionHandlers handlers) {
  if (launch.command.empty()) return make_error("no command to start");
  boost::filesystem::path exe = launch.command;
  if (launch.command.find('/') == std::string::npos) {
    exe = bp::search_path(launch.command);
    if (exe.empty()) return make_error("command '" + launch.command + "' was not found in PATH");
  }
  std::unique_ptr<McpConnection> c(new McpConnection());
  c->handlers_ = std::move(handlers);
  bp::pipe in, out, err;
  for (bp::pipe* p : {&in, &out, &err}) {
    ::fcntl(p->native_source(), F_SETFD, FD_CLOEXEC);
    ::fcntl(p->native_sink(), F_SETFD, FD_CLOEXEC);
  }
  const std::vector<std::pair<std::string, std::string>> extra(launch.env.begin(), launch.env.end());
  ChildEnvironment environment([&](const std::string& name) { return launch.env.count(name) > 0; }, extra);
  std::error_code spawn_error;
  const std::string cwd = launch.cwd.empty() ? std::filesystem::current_path().string() : launch.cwd.string();
  bp::child child(bp::exe = exe, bp::args = launch.args, bp::start_dir = cwd, bp::std_in < in, bp::std_out > out,
                  bp::std_err > err,
                  bp::extend::on_setup = [&environment](auto& exec) { exec.env = environment.envp(); },
                  bp::extend::on_exec_setup = [](auto&) { tools::prepare_child_process(); }, spawn_error);
  if (spawn_error) return make_error("could not start " + exe.string() + ": " + spawn_error.message());
  c->pid_ = child.id();
  c->process_ = std::make_unique<Process>(Process{std::move(child)});
  // Keep our ends; the child's ends close here with the pipes.
  c->stdin_fd_ = ::dup(in.native_sink());
  c->stdout_fd_ = ::dup(out.native_source());
  c->stderr_fd_ = ::dup(err.native_source());
  for (int fd : {c->stdin_fd_, c->stdout_fd_, c->stderr_fd_}) {
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  in.close();
  out.close();
  err.close();
  McpConnection* self = c.get();
  c->reader_ = std::thread([self] { self->read_loop(); });
  c->stderr_reader_ = std::thread([self] { self->stderr_loop(); });
  return c;
}

McpConnection::~McpConnection() {
  stopping_.store(true);
  kill();
  if (reader_.joinable()) reader_.join();
  if (stderr_reader_.joinable()) stderr_reader_.join();
  if (process_) {
    std::error_code ignored;
    auto deadline = Clock::now() + milliseconds(2000);
    while (process_->child.running(ignored) && Clock::now() < deadline) std::this_thread::sleep_for(milliseconds(5));
    if (process_->child.running(ignored)) process_->child.detach();
  }
  for (int fd : {stdin_fd_, stdout_fd_, stderr_fd_})
    if (fd >= 0) ::close(fd);
}

void McpConnection::kill() {
  // SIGKILL ends a stopped (SIGSTOP) process too.
  if (pid_ > 0 && !reaped_.load()) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
  }
}

std::string McpConnection::close_reason() const {
  std::lock_guard lock(mutex_);
  return close_reason_;
}

namespace {

// Blocks SIGPIPE in this thread while writing to a server's stdin: a server
// that died must give EPIPE, not kill beluga (the CLI and the tests do not
// ignore SIGPIPE process-wide as the daemon does). A SIGPIPE our write
// raised is consumed before the mask is restored.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    ::pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeGuard() {
    if (broke_ && !was_pending_) {
      const timespec zero{0, 0};
      while (::sigtimedwait(&pipe_, nullptr, &zero) == -1 && errno == EINTR) {
      }
    }
    ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  void broke() { broke_ = true; }

 private:
  sigset_t pipe_, old_;
  bool was_pending_ = false, broke_ = false;
};

}  // namespace

Status McpConnection::write_line(const std::string& line, Clock::time_point deadline) {
  std::lock_guard lock(write_mutex_);
  if (closed_.load()) return make_error(close_reason());
  SigpipeGuard guard;
  size_t written = 0;
  while (written < line.size()) {
    ssize_t n = ::write(stdin_fd_, line.data() + written, line.size() - written);
    if (n > 0) {
      written += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EPIPE) guard.broke();
    if (n < 0 && errno != EAGAIN) {
      std::string why = std::string("writing to the server failed: ") + std::strerror(errno);
      close_with(why);
      kill();
      return make_error(why);
    }
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      if (written > 0) {
        // Half a message is on the pipe: nothing after it could be parsed.
        close_with("the server stopped reading its input mid-message");
        kill();
      }
      return make_error("the server is not reading its input (hung?)");
    }
    pollfd p{stdin_fd_, POLLOUT, 0};
    ::poll(&p, 1, static_cast<int>(std::min(left, kPollStep).count()));
  }
  return {};
}

Result<int64_t> McpConnection::send_request(const std::string& method, Json params) {
  int64_t id;
  {
    std::lock_guard lock(mutex_);
    id = next_id_++;
  }
  Json message = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
  if (Status s = write_line(dump(message) + "\n", Clock::now() + kNotifyWrite); !s) return s.error();
  return id;
}

RpcOutcome McpConnection::request(const std::string& method, Json params, milliseconds timeout,
                                  const std::function<bool()>& keep_going) {
  const auto started = Clock::now();
  const auto deadline = timeout.count() > 0 ? started + timeout : Clock::time_point::max();
  auto pending = std::make_shared<Pending>();
  int64_t id;
  {
    std::lock_guard lock(mutex_);
    if (closed_.load()) return {RpcOutcome::Kind::kClosed, {}, 0, close_reason_, {}};
    id = next_id_++;
    pending_[id] = pending;
  }
  auto forget = [&] {
    std::lock_guard lock(mutex_);
    pending_.erase(id);
  };
  Json message = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
  const auto write_deadline = timeout.count() > 0 ? deadline : started + std::chrono::seconds(30);
  if (Status s = write_line(dump(message) + "\n", write_deadline); !s) {
    forget();
    RpcOutcome out{closed_.load() ? RpcOutcome::Kind::kClosed : RpcOutcome::Kind::kTimeout, {}, 0, s.message(), {}};
    return out;
  }
  std::unique_lock lock(mutex_);
  for (;;) {
    if (pending->done) {
      pending_.erase(id);
      return pending->outcome;
    }
    const bool cancelled = keep_going && !keep_going();
    const bool timed_out = Clock::now() >= deadline;
    if (cancelled || timed_out) {
      pending_.erase(id);
      lock.unlock();
      // The answer, if it ever comes, is dropped by the reader (no pending id).
      Json params_cancel = {{"requestId", id},
                            {"reason", cancelled ? "cancelled by the user" : "timed out in the client"}};
      (void)notify("notifications/cancelled", std::move(params_cancel));
      if (cancelled) return {RpcOutcome::Kind::kCancelled, {}, 0, "cancelled", {}};
      return {RpcOutcome::Kind::kTimeout, {}, 0,
              "no answer to " + method + " within " + std::to_string(timeout.count() / 1000.0).substr(0, 5) + " s",
              {}};
    }
    answered_.wait_for(lock, kPollStep);
  }
}

Status McpConnection::notify(const std::string& method, Json params) {
  Json message = {{"jsonrpc", "2.0"}, {"method", method}};
  if (!params.is_null()) message["params"] = std::move(params);
  return write_line(dump(message) + "\n", Clock::now() + kNotifyWrite);
}

void McpConnection::close_with(const std::string& reason) {
  std::lock_guard lock(mutex_);
  if (closed_.load()) return;
  close_reason_ = reason;
  closed_.store(true);
  for (auto& [id, pending] : pending_) {
    pending->done = true;
    pending->outcome = {RpcOutcome::Kind::kClosed, {}, 0, reason, {}};
  }
  answered_.notify_all();
}

void McpConnection::read_loop() {
  std::string buffer;
  std::vector<char> chunk(64 * 1024);
  for (;;) {
    pollfd p{stdout_fd_, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(kPollStep.count()));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) {
      if (stopping_.load()) break;
      continue;
    }
    ssize_t n = ::read(stdout_fd_, chunk.data(), chunk.size());
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) break;  // EOF: the server closed stdout or died
    buffer.append(chunk.data(), static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = buffer.find('\n', start)) != std::string::npos; start = nl + 1)
      handle_line(buffer.substr(start, nl - start));
    buffer.erase(0, start);
    if (buffer.size() > kMaxLineBytes) {
      close_with("the server sent a line longer than 16 MiB");
      kill();
      return;
    }
  }
  // Why it ended: the exit status when the process is gone.
  std::string reason = stopping_.load() ? "the connection was closed" : "the server closed its output";
  if (!stopping_.load() && process_) {
    std::error_code ec;
    auto deadline = Clock::now() + milliseconds(500);
    while (process_->child.running(ec) && Clock::now() < deadline) std::this_thread::sleep_for(milliseconds(5));
    if (!process_->child.running(ec)) {
      reaped_.store(true);
      int status = process_->child.native_exit_code();
      if (WIFEXITED(status))
        reason = "the server exited with code " + std::to_string(WEXITSTATUS(status));
      else if (WIFSIGNALED(status))
        reason = std::string("the server was killed by signal ") + std::to_string(WTERMSIG(status));
    }
  }
  close_with(reason);
}

void McpConnection::handle_line(const std::string& line) {
  if (line.find_first_not_of(" \t\r") == std::string::npos) return;
  Json message = Json::parse(line, nullptr, false);
  if (message.is_discarded()) {
    if (handlers_.on_stderr) handlers_.on_stderr("(not JSON on stdout, skipped) " + line.substr(0, 200));
    return;
  }
  if (message.is_array()) {
    for (const Json& m : message) handle_message(m);
  } else {
    handle_message(message);
  }
}

void McpConnection::handle_message(const Json& message) {
  if (!message.is_object()) return;
  auto id = message.find("id");
  auto method = message.find("method");
  if (method != message.end() && method->is_string()) {
    const Json params = message.value("params", Json());
    if (id == message.end() || id->is_null()) {
      if (handlers_.on_notification) handlers_.on_notification(method->get<std::string>(), params);
      return;
    }
    // A request from the server: beluga offers no client features.
    Json reply = {{"jsonrpc", "2.0"}, {"id", *id}};
    if (*method == "ping")
      reply["result"] = Json::object();
    else
      reply["error"] = {{"code", -32601}, {"message", "beluga does not support " + method->get<std::string>()}};
    (void)write_line(dump(reply) + "\n", Clock::now() + kNotifyWrite);
    return;
  }
  if (id == message.end() || !id->is_number_integer()) return;  // not an answer to us
  std::lock_guard lock(mutex_);
  auto it = pending_.find(id->get<int64_t>());
  if (it == pending_.end()) return;  // timed out or cancelled already
  RpcOutcome& out = it->second->outcome;
  if (auto error = message.find("error"); error != message.end() && error->is_object()) {
    out.kind = RpcOutcome::Kind::kError;
    out.code = error->value("code", int64_t{0});
    out.message = error->contains("message") && (*error)["message"].is_string() ? (*error)["message"].get<std::string>()
                                                                               : std::string("(no message)");
    out.data = error->value("data", Json());
  } else {
    out.kind = RpcOutcome::Kind::kResult;
    out.result = message.value("result", Json());
  }
  it->second->done = true;
  answered_.notify_all();
}

void McpConnection::stderr_loop() {
  std::string buffer;
  char chunk[4096];
  for (;;) {
    pollfd p{stderr_fd_, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(kPollStep.count()));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) {
      if (stopping_.load()) break;
      continue;
    }
    ssize_t n = ::read(stderr_fd_, chunk, sizeof chunk);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) break;
    buffer.append(chunk, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = buffer.find('\n', start)) != std::string::npos; start = nl + 1)
      if (handlers_.on_stderr) handlers_.on_stderr(buffer.substr(start, std::min(nl - start, kMaxStderrLineBytes)));
    buffer.erase(0, start);
    if (buffer.size() > kMaxStderrLineBytes) {
      if (handlers_.on_stderr) handlers_.on_stderr(buffer.substr(0, kMaxStderrLineBytes) + "...");
      buffer.clear();
    }
  }
  if (!buffer.empty() && handlers_.on_stderr) handlers_.on_stderr(buffer);
}

}  // namespace beluga::tools::mcp
