// The daemon as a process: its files, detaching, the pid lock, signals.
// daemon_command.h describes the commands; daemon_server.h the shutdown.
#include "daemon/daemon_command.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "daemon/acp/daemon_server.h"
#include "daemon/command_output.h"
#include "daemon/log.h"
#include "daemon/socket_client.h"

namespace beluga {
namespace {

using daemon::DaemonPaths;
using Clock = std::chrono::steady_clock;

constexpr auto kStartWait = std::chrono::seconds(600);  // loading a large checkpoint takes a while
constexpr auto kStopWait = std::chrono::seconds(60);

std::string errno_text() { return std::strerror(errno); }

// The folder must be a real directory owned by us with no group/other
// bits; it is created 0700 when missing (its parent is the user's).
Status check_private_dir(const std::string& dir, bool create) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT || !create) return make_error("cannot inspect " + dir + ": " + errno_text());
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return make_error("cannot create " + dir + ": " + errno_text());
    if (::lstat(dir.c_str(), &st) != 0) return make_error("cannot inspect " + dir + ": " + errno_text());
  }
  if (!S_ISDIR(st.st_mode)) return make_error("refusing to use " + dir + ": it is not a directory");
  if (st.st_uid != ::geteuid())
    return make_error("refusing to use " + dir + ": it is owned by uid " + std::to_string(st.st_uid) + ", not " +
                      std::to_string(::geteuid()));
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return make_error("refusing to use " + dir + ": its mode is " + mode + ", it must be 0700 (chmod 700 " + dir + ")");
  }
  return {};
}

// An existing path at the socket's place: ours and a socket, or refused.
Status check_socket_path(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return {};
  if (!S_ISSOCK(st.st_mode)) return make_error("refusing to use " + path + ": it exists and is not a socket");
  if (st.st_uid != ::geteuid())
    return make_error("refusing to use " + path + ": it is owned by uid " + std::to_string(st.st_uid));
  return {};
}

bool daemon_answers(const DaemonPaths& paths) {
  auto fd = daemon::connect_unix(paths.socket);
  if (!fd) return false;
  daemon::LineClient client(*fd);
  return client.call("beluga/daemon/status", nlohmann::json::object(), std::chrono::seconds(10)).ok();
}

int read_pid(const DaemonPaths& paths) {
  std::ifstream in(paths.pid_file);
  int pid = 0;
  in >> pid;
  return pid;
}

// True when some process holds the pid file's lock (a daemon runs or starts).
bool lock_held(const DaemonPaths& paths) {
  int fd = ::open(paths.pid_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return held;
}

nlohmann::json daemon_config(const DaemonPaths& paths) {
  std::ifstream in(paths.config_file);
  if (!in) return nlohmann::json::object();
  std::stringstream text;
  text << in.rdbuf();
  auto config = nlohmann::json::parse(text.str(), nullptr, false);
  return config.is_object() ? config : nlohmann::json::object();
}

std::string configured_model(const DaemonPaths& paths, const std::string& given) {
  if (!given.empty()) return given;
  auto config = daemon_config(paths);
  if (!config.contains("model") || !config["model"].is_string()) return "";
  return config["model"].get<std::string>();
}

// HTTP serving's options from the flags, the environment and daemon.json;
// none when neither --http nor "http"."listen" asks for it.
Result<std::optional<daemon::http::ServingOptions>> configured_http(const DaemonPaths& paths, const DaemonCommand& cmd) {
  auto config = daemon_config(paths);
  const nlohmann::json http = config.contains("http") && config["http"].is_object() ? config["http"] : nlohmann::json::object();
  std::string listen = cmd.http;
  if (listen.empty() && http.contains("listen") && http["listen"].is_string()) listen = http["listen"].get<std::string>();
  if (listen.empty()) return std::optional<daemon::http::ServingOptions>();
  auto address = daemon::http::parse_listen_address(listen);
  if (!address) return address.error();
  daemon::http::ServingOptions out;
  out.http = *address;
  if (const char* token = std::getenv("BELUGA_HTTP_TOKEN"); token && *token) out.http.token = token;
  else if (http.contains("token") && http["token"].is_string()) out.http.token = http["token"].get<std::string>();
  if (cmd.http_max_body_bytes > 0) out.http.max_body_bytes = cmd.http_max_body_bytes;
  else if (http.contains("maxBodyBytes") && http["maxBodyBytes"].is_number_unsigned())
    out.http.max_body_bytes = http["maxBodyBytes"].get<size_t>();
  if (http.contains("maxTokens") && http["maxTokens"].is_number_unsigned() && http["maxTokens"].get<int64_t>() > 0)
    out.generation.default_max_tokens = http["maxTokens"].get<int64_t>();
  return std::optional<daemon::http::ServingOptions>(std::move(out));
}

// The embedded engine's budget from daemon.json's "engine" object: "slots"
// (concurrent calls), "sessions" (engine Sessions kept), "stateBytes"
// (their state in all, 0: no limit). A value of the wrong type is an error.
Result<daemon::ModelOptions> configured_engine(const DaemonPaths& paths) {
  daemon::ModelOptions out;
  auto config = daemon_config(paths);
  if (!config.contains("engine")) return out;
  const nlohmann::json& engine = config["engine"];
  if (!engine.is_object()) return make_error(paths.config_file + ": \"engine\" must be an object");
  auto positive = [&](const char* key, int64_t& into, bool zero_ok) -> Status {
    if (!engine.contains(key)) return {};
    const nlohmann::json& v = engine[key];
    if (!v.is_number_integer() || v.get<int64_t>() < (zero_ok ? 0 : 1) || v.get<int64_t>() > (int64_t{1} << 50))
      return make_error(paths.config_file + ": \"engine\".\"" + key + "\" must be an integer " +
                        (zero_ok ? "0 or more" : "1 or more"));
    into = v.get<int64_t>();
    return {};
  };
  int64_t slots = out.embedded_slots;
  if (Status s = positive("slots", slots, false); !s) return s.error();
  if (slots > 256) return make_error(paths.config_file + ": \"engine\".\"slots\" must be at most 256");
  out.embedded_slots = static_cast<int>(slots);
  if (Status s = positive("sessions", out.pool.max_sessions, false); !s) return s.error();
  if (Status s = positive("stateBytes", out.pool.max_state_bytes, true); !s) return s.error();
  return out;
}

Status prepare_dirs(const DaemonPaths& paths) {
  if (Status s = check_private_dir(paths.runtime_dir, true); !s) return s;
  std::error_code ec;
  std::filesystem::create_directories(paths.state_dir, ec);
  if (ec) return make_error("cannot create " + paths.state_dir + ": " + ec.message());
  return check_socket_path(paths.socket);
}

// Runs the daemon in this process until SIGTERM/SIGINT. `ready_fd` (or -1)
// gets "ok\n" once it listens, or the error.
int serve(const DaemonCommand& cmd, const DaemonPaths& paths, int lock_fd, int ready_fd) {
  auto tell = [&](const std::string& text) {
    if (ready_fd < 0) return;
    std::string line = text + "\n";
    (void)!::write(ready_fd, line.data(), line.size());
    ::close(ready_fd);
    ready_fd = -1;
  };
  // Signals are taken synchronously by this thread; every thread the daemon
  // starts inherits the mask, so none of them is interrupted.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  // A socket left by a daemon that died: nobody answers it (we hold the lock).
  ::unlink(paths.socket.c_str());
  daemon::DaemonOptions options;
  options.model_spec = configured_model(paths, cmd.model);
  auto engine = configured_engine(paths);
  if (!engine) {
    daemon::log_line("cannot start: " + engine.message());
    tell("error: " + engine.message());
    return 1;
  }
  options.model = *engine;
  options.socket_path = paths.socket;
  if (cmd.max_message_bytes > 0) options.rpc.max_message_bytes = cmd.max_message_bytes;
  auto http = configured_http(paths, cmd);
  if (!http) {
    daemon::log_line("cannot start: " + http.message());
    tell("error: " + http.message());
    return 1;
  }
  options.http = std::move(http).value();
  {
    std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(lock_fd, 0) != 0 || ::pwrite(lock_fd, pid.data(), pid.size(), 0) < 0)
      daemon::log_line("cannot write the pid file: " + errno_text());
  }
  daemon::log_line("beluga daemon starting (pid " + std::to_string(::getpid()) + ")");
  auto started = daemon::Daemon::start(options);
  if (!started) {
    daemon::log_line("cannot start: " + started.message());
    tell("error: " + started.message());
    ::unlink(paths.socket.c_str());
    return 1;
  }
  tell("ok");
  int signal_number = 0;
  while (sigwait(&stop_signals, &signal_number) != 0) {
  }
  daemon::log_line(std::string("received ") + strsignal(signal_number));
  (*started)->stop();
  started->reset();
  ::unlink(paths.socket.c_str());
  daemon::log_line("exit");
  return 0;
}

int start_daemon(const DaemonCommand& cmd, const DaemonPaths& paths) {
  if (Status s = prepare_dirs(paths); !s) return fail(s.message());
  if (daemon_answers(paths)) {
    std::printf("beluga daemon already running (pid %d), socket %s\n", read_pid(paths), paths.socket.c_str());
    return 0;
  }
  int lock_fd = ::open(paths.pid_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0) return fail("cannot open " + paths.pid_file + ": " + errno_text());
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd);
    // Another daemon holds the lock: it is starting (loading its model).
    const auto deadline = Clock::now() + kStartWait;
    while (Clock::now() < deadline && lock_held(paths)) {
      if (daemon_answers(paths)) {
        std::printf("beluga daemon already running (pid %d), socket %s\n", read_pid(paths), paths.socket.c_str());
        return 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return fail("another beluga daemon (pid " + std::to_string(read_pid(paths)) + ") holds " + paths.pid_file +
                " but does not answer on " + paths.socket + "; see " + paths.log_file);
  }
  if (cmd.foreground) {
    std::fprintf(stderr, "beluga daemon (pid %d) serving %s; Ctrl+C stops it\n", ::getpid(), paths.socket.c_str());
    return serve(cmd, paths, lock_fd, -1);
  }

  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return fail("pipe: " + errno_text());
  std::fflush(nullptr);
  pid_t child = ::fork();
  if (child < 0) return fail("fork: " + errno_text());
  if (child == 0) {
    ::close(ready[0]);
    ::setsid();
    pid_t grandchild = ::fork();
    if (grandchild != 0) _exit(grandchild < 0 ? 1 : 0);
    // The daemon: no terminal, its own session, the log as stdout/stderr.
    if (::chdir("/") != 0) _exit(1);
    ::umask(077);
    int null_fd = ::open("/dev/null", O_RDONLY);
    int log_fd = ::open(paths.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (null_fd < 0 || log_fd < 0) _exit(1);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::close(null_fd);
    ::close(log_fd);
    _exit(serve(cmd, paths, lock_fd, ready[1]));
  }
  ::close(ready[1]);
  ::close(lock_fd);  // the daemon holds the lock through its inherited descriptor
  int status = 0;
  ::waitpid(child, &status, 0);
  std::string answer;
  char buffer[512];
  for (;;) {
    ssize_t n = ::read(ready[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    answer.append(buffer, static_cast<size_t>(n));
  }
  ::close(ready[0]);
  while (!answer.empty() && answer.back() == '\n') answer.pop_back();
  if (answer != "ok")
    return fail((answer.empty() ? "the daemon exited while starting" : answer.substr(answer.rfind("error: ", 0) == 0 ? 7 : 0)) +
                " (log: " + paths.log_file + ")");
  std::printf("beluga daemon started (pid %d), socket %s, log %s\n", read_pid(paths), paths.socket.c_str(),
              paths.log_file.c_str());
  return 0;
}

int stop_daemon(const DaemonPaths& paths) {
  if (!lock_held(paths)) {
    std::printf("beluga daemon is not running\n");
    return 0;
  }
  const int pid = read_pid(paths);
  if (pid <= 0 || ::kill(pid, SIGTERM) != 0) return fail("cannot signal the daemon (pid " + std::to_string(pid) + ")");
  const auto deadline = Clock::now() + kStopWait;
  while (lock_held(paths)) {
    if (Clock::now() > deadline) return fail("the daemon (pid " + std::to_string(pid) + ") did not stop in time");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::printf("beluga daemon stopped (pid %d)\n", pid);
  return 0;
}

int status_daemon(const DaemonPaths& paths, bool json) {
  auto fd = daemon::connect_unix(paths.socket);
  if (!fd) {
    if (json) std::printf("{\"running\":false}\n");
    else std::printf("beluga daemon is not running (%s)\n", paths.socket.c_str());
    return 3;
  }
  daemon::LineClient client(*fd);
  auto status = client.call("beluga/daemon/status", nlohmann::json::object());
  if (!status) return fail(status.message());
  if (json) {
    nlohmann::json out = *status;
    out["running"] = true;
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }
  const auto& s = *status;
  std::printf("beluga daemon running (pid %lld), up %llds\n", static_cast<long long>(s.value("pid", 0)),
              static_cast<long long>(s.value("uptimeS", 0)));
  std::printf("socket       %s\n", paths.socket.c_str());
  std::printf("log          %s\n", paths.log_file.c_str());
  std::printf("model        %s\n", s["model"].value("description", std::string()).c_str());
  std::printf("connections  %lld\n", static_cast<long long>(s.value("connections", 0)));
  std::printf("sessions     %lld live, %lld running a turn\n", static_cast<long long>(s.value("liveSessions", 0)),
              static_cast<long long>(s.value("runningTurns", 0)));
  if (s.contains("http") && s["http"].is_object())
    std::printf("http         %s, %lld open connections\n", s["http"].value("address", std::string()).c_str(),
                static_cast<long long>(s["http"].value("connections", 0)));
  return 0;
}

}  // namespace

CLI::App* add_daemon_command(CLI::App& app, DaemonCommand& cmd) {
  CLI::App* d = app.add_subcommand("daemon", "Start, stop or inspect the beluga daemon (one per user)");
  d->require_subcommand(1);
  auto model_option = [&cmd](CLI::App* sub) {
    sub->add_option("--model", cmd.model,
                    "Checkpoint folder, replay:FILE or remote:URL (default: \"model\" in $XDG_CONFIG_HOME/beluga/daemon.json)");
    sub->add_option("--max-message-bytes", cmd.max_message_bytes, "Longest JSON-RPC line accepted (default 8 MiB)")
        ->check(CLI::Range(uint64_t{1024}, uint64_t{1} << 31));
    sub->add_option("--http", cmd.http,
                    "Also serve the model over HTTP (OpenAI/Anthropic-compatible) on HOST:PORT, e.g. 127.0.0.1:8080 "
                    "(token: $BELUGA_HTTP_TOKEN or \"http\".\"token\" in daemon.json)");
    sub->add_option("--http-max-body-bytes", cmd.http_max_body_bytes, "Largest HTTP request body accepted (default 8 MiB)")
        ->check(CLI::Range(uint64_t{1024}, uint64_t{1} << 31));
  };
  CLI::App* start = d->add_subcommand("start", "Start the daemon in the background (or report the running one)");
  model_option(start);
  start->add_flag("--foreground", cmd.foreground, "Stay in the foreground, log to stderr (debugging, tests)");
  start->callback([&cmd] { cmd.action = "start"; });
  d->add_subcommand("stop", "Stop the daemon (SIGTERM: turns cancelled, sessions kept)")->callback([&cmd] {
    cmd.action = "stop";
  });
  CLI::App* status = d->add_subcommand("status", "Say whether the daemon runs, and what it holds (exit 3: not running)");
  status->add_flag("--json", cmd.json, "Print the status as JSON");
  status->callback([&cmd] { cmd.action = "status"; });
  CLI::App* restart = d->add_subcommand("restart", "Stop the daemon if it runs, then start it");
  model_option(restart);
  restart->callback([&cmd] { cmd.action = "restart"; });
  return d;
}

int run_daemon_command(const DaemonCommand& cmd) {
  auto paths = daemon::daemon_paths();
  if (!paths) return fail(paths.message());
  if (cmd.action == "start") return start_daemon(cmd, *paths);
  if (cmd.action == "stop") return stop_daemon(*paths);
  if (cmd.action == "status") return status_daemon(*paths, cmd.json);
  if (cmd.action == "restart") {
    if (int rc = stop_daemon(*paths); rc != 0) return rc;
    return start_daemon(cmd, *paths);
  }
  return fail("unknown daemon action " + cmd.action);
}

}  // namespace beluga
