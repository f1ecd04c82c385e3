// Running one shell command for the agent: `/bin/bash -c COMMAND` in its
// own process group, with a timeout, no stdin, bounded output, a scrubbed
// environment and, optionally, a bubblewrap sandbox.
//
// Lifecycle of a call
//   spawn    bash (or bwrap → bash) is forked with setpgid(0, 0) so it leads
//            a new process group; everything it starts stays in that group
//            unless it deliberately leaves (setsid): that is the unit we kill.
//            In the child, before exec: stdin is /dev/null, stdout and stderr
//            are one pipe, every other inherited descriptor is marked
//            close-on-exec (daemon sockets never leak into commands), the
//            signal mask is cleared and SIGPIPE/SIGINT/SIGQUIT/SIGTERM get
//            their default action back (a daemon that ignores SIGPIPE would
//            otherwise make `yes | head` spin).
//   wait     the parent polls the pipe in short steps, streaming bytes into
//            a HeadTailBuffer (memory stays bounded whatever the command
//            prints), and between steps checks the deadline and
//            ToolContext::keep_going (cancellation).
//   finish   when bash exits, the pipe is drained for a short window; then
//            whatever is still running in the group (background jobs left
//            behind) is terminated: nothing a call starts outlives the call.
//            On timeout or cancel the group is terminated at once.
//   kill     SIGTERM to the group, up to `kill_grace` for it to empty, then
//            SIGKILL. The leader is reaped only after the last signal, so
//            its pid (the group id) cannot be recycled while we signal it.
//
// Environment: the daemon's, minus ToolContext::secret_env_vars, plus
// PAGER=cat, GIT_PAGER=cat and GIT_TERMINAL_PROMPT=0 (there is no terminal
// to page to or prompt on).
//
// Sandbox (ToolContext::sandbox_shell, off by default): the command runs
// under bubblewrap with the whole filesystem read-only, the workspace roots
// writable, a private /tmp, /dev and /proc, no network and its own pid
// namespace. Requested without `bwrap` on PATH, the call fails (it never
// silently runs unsandboxed).
//
// Thread contract: run_shell is reentrant; it does not touch global state
// beyond forking (the child only makes async-signal-safe calls).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "engine/base/result.h"
#include "tools/tool.h"

namespace beluga::tools {

// For a child process beluga starts (shell commands, MCP servers), run in
// the forked child before exec (async-signal-safe calls only): a process
// group of its own, an empty signal mask, default actions for the signals
// the daemon handles or ignores, and every inherited descriptor above
// stderr marked close-on-exec (not closed: Boost's exec-error pipe must
// survive until exec).
void prepare_child_process();

// A child's environment as execve wants it: this process's environment
// without the names `drop` rejects, then `add` (name, value) in order.
// Built here rather than with boost::process::environment: in Boost 1.74
// its find/operator[]/emplace read past the end of short entries (ASan),
// and copy-and-erase would keep a secret that appears twice in `environ`.
class ChildEnvironment {
 public:
  ChildEnvironment(const std::function<bool(const std::string& name)>& drop,
                   const std::vector<std::pair<std::string, std::string>>& add);
  char** envp() { return pointers_.data(); }

 private:
  std::vector<std::string> entries_;
  std::vector<char*> pointers_;
};

struct ShellRequest {
  std::string command;
  std::filesystem::path cwd;              // already confined to the workspace
  std::chrono::milliseconds timeout{120'000};
  std::chrono::milliseconds kill_grace{2'000};  // SIGTERM → SIGKILL
  bool sandbox = false;
};

struct ShellOutcome {
  bool exited = false;       // ran to completion (exit_code valid)
  int exit_code = -1;
  int signal = 0;            // the signal that ended bash, 0 if none
  bool timed_out = false;
  bool cancelled = false;
  bool leftovers_killed = false;  // background processes were still running at the end
  bool sandboxed = false;
  std::chrono::milliseconds duration{0};
  std::string output;        // stdout+stderr interleaved, capped (head and tail)
  uint64_t output_bytes = 0; // everything the command printed
  uint64_t dropped_bytes = 0;
};

// Runs the command. Errors are for commands that could not be started
// (sandbox requested but unavailable, fork/exec failure); a command that
// fails, times out or is cancelled is an outcome, not an error.
Result<ShellOutcome> run_shell(const ShellRequest& request, const ToolContext& context);

// "exit code 0 in 0.12 s", "killed by SIGKILL after timing out (1 s) ...":
// the first line of the shell tool's answer.
std::string describe_outcome(const ShellOutcome& outcome, const ShellRequest& request);

}  // namespace beluga::tools
