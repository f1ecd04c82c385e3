#include "tools/shell_runner.h"

// Boost first (through the wrapper, see boost_process.h), then POSIX.
#include "tools/boost_process.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>
#include <vector>

#include "tools/output_cap.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace beluga::tools {
namespace {

namespace bp = boost::process;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kPollStep{25};
// After bash exits, background jobs may still hold the pipe; we read what
// they print for this long before terminating them.
constexpr milliseconds kDrainWindow{250};
constexpr size_t kReadChunkBytes = 64 * 1024;


// Members of process group `pgid` that are still running (zombies do not
// count: they are dead and only wait to be reaped). -1 when /proc cannot be
// read, in which case the caller assumes the group is alive.
int live_group_members(pid_t pgid) {
  DIR* proc = ::opendir("/proc");
  if (!proc) return -1;
  int count = 0;
  while (dirent* entry = ::readdir(proc)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    char path[300];
    std::snprintf(path, sizeof path, "/proc/%s/stat", entry->d_name);
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    char buffer[512];
    ssize_t n = ::read(fd, buffer, sizeof buffer - 1);
    ::close(fd);
    if (n <= 0) continue;
    buffer[n] = '\0';
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    const char* close_paren = std::strrchr(buffer, ')');
    if (!close_paren) continue;
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (std::sscanf(close_paren + 1, " %c %ld %ld", &state, &ppid, &pgrp) != 3) continue;
    if (pgrp == pgid && state != 'Z' && state != 'X') ++count;
  }
  ::closedir(proc);
  return count;
}

// True once the leader has exited; it is left unreaped (WNOWAIT) so that
// its pid, which is the group id, stays reserved while we signal the group.
bool leader_exited(pid_t pid) {
  siginfo_t info;
  std::memset(&info, 0, sizeof info);
  if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0)
    return errno == ECHILD;  // already reaped elsewhere (SIGCHLD ignored): gone
  return info.si_pid == pid;
}

class OutputPump {
 public:
  OutputPump(int fd, uint64_t limit_bytes) : fd_(fd), buffer_(limit_bytes), chunk_(kReadChunkBytes) {
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
  }

  // Waits up to `wait` for output and reads what is there (bounded per
  // call so deadlines are rechecked even under a flood).
  void pump(milliseconds wait) {
    if (eof_) {
      std::this_thread::sleep_for(wait);
      return;
    }
    pollfd p{fd_, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(wait.count()));
    if (ready <= 0) return;
    for (int i = 0; i < 64; ++i) {
      ssize_t n = ::read(fd_, chunk_.data(), chunk_.size());
      if (n > 0) {
        buffer_.append(std::string_view(chunk_.data(), static_cast<size_t>(n)));
        continue;
      }
      if (n == 0) eof_ = true;
      if (n < 0 && errno == EINTR) continue;
      return;  // EOF, EAGAIN or a real error: come back later (or not)
    }
  }

  bool eof() const { return eof_; }
  HeadTailBuffer& buffer() { return buffer_; }

 private:
  int fd_;
  bool eof_ = false;
  HeadTailBuffer buffer_;
  std::vector<char> chunk_;
};

// SIGTERM, up to `grace` for the group to empty, then SIGKILL. Returns
// whether anything was running.
bool terminate_group(pid_t pgid, milliseconds grace, OutputPump& pump) {
  int live = live_group_members(pgid);
  if (live == 0) return false;
  ::killpg(pgid, SIGTERM);
  auto deadline = Clock::now() + grace;
  while (Clock::now() < deadline) {
    pump.pump(milliseconds(10));
    if (live_group_members(pgid) == 0) return true;
  }
  ::killpg(pgid, SIGKILL);
  // SIGKILL is delivered asynchronously; wait (briefly) until it took.
  auto kill_deadline = Clock::now() + milliseconds(2000);
  while (Clock::now() < kill_deadline && live_group_members(pgid) > 0) pump.pump(milliseconds(5));
  return true;
}

// The command's environment: no secrets, and no pager or git prompt that
// would wait for a terminal.
ChildEnvironment command_environment(const ToolContext& context) {
  const std::vector<std::pair<std::string, std::string>> forced = {
      {"PAGER", "cat"}, {"GIT_PAGER", "cat"}, {"GIT_TERMINAL_PROMPT", "0"}};
  auto drop = [&](const std::string& name) {
    return std::find(context.secret_env_vars.begin(), context.secret_env_vars.end(), name) !=
               context.secret_env_vars.end() ||
           std::any_of(forced.begin(), forced.end(), [&](const auto& f) { return f.first == name; });
  };
  return ChildEnvironment(drop, forced);
}

std::string seconds_text(milliseconds ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f s", static_cast<double>(ms.count()) / 1000.0);
  return text;
}

std::string signal_name(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

}  // namespace

ChildEnvironment::ChildEnvironment(const std::function<bool(const std::string& name)>& drop,
                                   const std::vector<std::pair<std::string, std::string>>& add) {
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string_view text(*entry);
    size_t eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    if (drop(std::string(text.substr(0, eq)))) continue;
    entries_.emplace_back(text);
  }
  for (const auto& [name, value] : add) entries_.push_back(name + "=" + value);
  for (std::string& e : entries_) pointers_.push_back(e.data());
  pointers_.push_back(nullptr);
}

void prepare_child_process() {
  ::setpgid(0, 0);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig : {SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD}) ::sigaction(sig, &dfl, nullptr);
  // Mark every inherited descriptor above stderr close-on-exec (not closed:
  // Boost's own exec-error pipe is among them and must survive until exec).
  if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    long max_fd = ::sysconf(_SC_OPEN_MAX);
    if (max_fd < 0 || max_fd > 65536) max_fd = 65536;
    for (int fd = 3; fd < max_fd; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
}

Result<ShellOutcome> run_shell(const ShellRequest& request, const ToolContext& context) {
  ShellOutcome outcome;
  std::string exe = "/bin/bash";
  std::vector<std::string> args;
  if (request.sandbox) {
    boost::filesystem::path bwrap = bp::search_path("bwrap");
    if (bwrap.empty())
      return make_error(
          "a sandboxed shell was requested but bubblewrap (bwrap) is not installed on this machine; "
          "install the 'bubblewrap' package, or turn the shell sandbox off for this session");
    exe = bwrap.string();
    // Mount order matters: the private /tmp comes before the workspace
    // binds, so a workspace that lives under /tmp stays visible.
    args = {"--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"};
    for (const auto& root : context.roots) {
      args.insert(args.end(), {"--bind", root.string(), root.string()});
    }
    args.insert(args.end(), {"--unshare-net", "--unshare-pid", "--die-with-parent", "--chdir",
                             request.cwd.string(), "/bin/bash"});
    outcome.sandboxed = true;
  }
  args.insert(args.end(), {"-c", request.command});

  bp::pipe out;
  ::fcntl(out.native_source(), F_SETFD, FD_CLOEXEC);
  ::fcntl(out.native_sink(), F_SETFD, FD_CLOEXEC);
  std::error_code spawn_error;
  auto started = Clock::now();
  ChildEnvironment environment = command_environment(context);
  bp::child child(bp::exe = exe, bp::args = args, bp::start_dir = request.cwd.string(), bp::std_in < bp::null,
                  (bp::std_out & bp::std_err) > out,
                  bp::extend::on_setup = [&environment](auto& exec) { exec.env = environment.envp(); },
                  bp::extend::on_exec_setup = [](auto&) { prepare_child_process(); }, spawn_error);
  if (spawn_error) return make_error("could not start " + exe + ": " + spawn_error.message());
  pid_t pgid = child.id();

  OutputPump pump(out.native_source(), context.limits.max_output_bytes);
  auto deadline = started + request.timeout;
  std::optional<Clock::time_point> drain_until;
  for (;;) {
    pump.pump(kPollStep);
    auto now = Clock::now();
    if (!drain_until && leader_exited(pgid)) drain_until = now + kDrainWindow;
    if (drain_until && (pump.eof() || now >= *drain_until)) break;
    if (now >= deadline) {
      outcome.timed_out = true;
      break;
    }
    if (context.keep_going && !context.keep_going()) {
      outcome.cancelled = true;
      break;
    }
  }
  bool anything_left = terminate_group(pgid, request.kill_grace, pump);
  outcome.leftovers_killed = anything_left && !outcome.timed_out && !outcome.cancelled;

  // Reap the leader (it is dead or dying: every member got SIGKILL).
  std::error_code wait_error;
  auto reap_deadline = Clock::now() + milliseconds(2000);
  while (child.running(wait_error) && Clock::now() < reap_deadline) std::this_thread::sleep_for(milliseconds(5));
  outcome.duration = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
  if (!child.running(wait_error)) {
    int status = child.native_exit_code();
    if (WIFEXITED(status)) {
      outcome.exited = !outcome.timed_out && !outcome.cancelled;
      outcome.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      outcome.signal = WTERMSIG(status);
    }
  }
  // One last non-blocking read of whatever is buffered in the pipe.
  pump.pump(milliseconds(0));
  outcome.output_bytes = pump.buffer().total_bytes();
  outcome.dropped_bytes = pump.buffer().dropped_bytes();
  outcome.output = pump.buffer().text();
  return outcome;
}

std::string describe_outcome(const ShellOutcome& o, const ShellRequest& request) {
  std::string line;
  if (o.timed_out) {
    line = "timed out after " + seconds_text(request.timeout) + "; the command and everything it started were killed";
  } else if (o.cancelled) {
    line = "cancelled after " + seconds_text(o.duration) + "; the command and everything it started were killed";
  } else if (o.exited) {
    line = "exit code " + std::to_string(o.exit_code) + " in " + seconds_text(o.duration);
  } else if (o.signal != 0) {
    line = "killed by " + signal_name(o.signal) + " after " + seconds_text(o.duration);
  } else {
    line = "finished in " + seconds_text(o.duration) + " (exit status unknown)";
  }
  if (o.leftovers_killed) line += "; background processes still running when it exited were terminated";
  if (o.sandboxed) line += " [sandboxed: read-only filesystem except the workspace, no network]";
  if (o.dropped_bytes > 0)
    line += "\noutput: " + std::to_string(o.output_bytes) + " bytes, " + std::to_string(o.dropped_bytes) +
            " dropped from the middle (redirect to a file and read or grep it to see everything)";
  line += "\n";
  line += o.output.empty() ? std::string("(no output)") : o.output;
  return line;
}

}  // namespace beluga::tools
