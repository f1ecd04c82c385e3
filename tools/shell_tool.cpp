// The `shell` tool: one bash command in the workspace, through
// run_shell (shell_runner.h has the process lifecycle).
//
// Arguments: command (required), timeout in seconds (default
// ToolLimits::shell_timeout, at most shell_timeout_max; longer requests are
// capped and the answer says so), cwd (a folder inside the workspace,
// resolved with symlinks; default: the first workspace root).
//
// The answer starts with one status line (exit code or how it ended, and
// the duration), then the interleaved stdout/stderr, head and tail kept.
// `ok` is true only for exit code 0: a failing command is not a tool error,
// but clients show it as failed; the text says what happened either way.
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>

#include "tools/paths.h"
#include "tools/registry.h"
#include "tools/shell_runner.h"

namespace beluga::tools {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr const char* kShellSchema = R"({
  "type": "object",
  "properties": {
    "command": {"type": "string", "minLength": 1,
                "description": "A bash command line, run with /bin/bash -c."},
    "timeout": {"type": "number", "minimum": 0.1,
                "description": "Seconds before the command and everything it started are killed (default 120, at most 600)."},
    "cwd": {"type": "string", "minLength": 1,
            "description": "Folder to run in, relative to the workspace root (default: the workspace root)."}
  },
  "required": ["command"],
  "additionalProperties": false
})";

constexpr const char* kShellDescription =
    "Run a bash command in the workspace and return its exit code, duration and combined stdout/stderr. "
    "There is no stdin (commands that read input get end-of-file at once) and no terminal: use non-interactive "
    "flags (e.g. `git --no-pager`, `apt-get -y`). The command runs in its own process group and is killed, with "
    "everything it started, when it times out (default 120 s); processes left running in the background when it "
    "exits are terminated too. Long output keeps its beginning and end with a marker for the dropped middle: "
    "redirect to a file and read or grep it when you need all of it. Prefer the read/edit/grep tools for files.";

ToolResult run_shell_tool(const json& args, ToolContext& context) {
  ShellRequest request;
  request.command = args.at("command").get<std::string>();
  request.sandbox = context.sandbox_shell;

  std::string note;
  auto max_timeout = std::chrono::duration_cast<milliseconds>(context.limits.shell_timeout_max);
  request.timeout = std::chrono::duration_cast<milliseconds>(context.limits.shell_timeout);
  if (auto it = args.find("timeout"); it != args.end()) {
    double seconds = it->get<double>();
    if (!std::isfinite(seconds) || seconds <= 0) return ToolResult::error("shell: timeout must be a positive number of seconds");
    double max_seconds = static_cast<double>(max_timeout.count()) / 1000.0;
    if (seconds > max_seconds) {
      note = "note: timeout capped to " + std::to_string(max_timeout.count() / 1000) + " s\n";
      seconds = max_seconds;
    }
    request.timeout = milliseconds(static_cast<int64_t>(std::llround(seconds * 1000.0)));
  }

  std::string cwd_text = args.contains("cwd") ? args.at("cwd").get<std::string>() : std::string(".");
  auto cwd = resolve_in_workspace(context, cwd_text, PathUse::kRead);
  if (!cwd) return ToolResult::error("shell: cwd " + cwd.message());
  std::error_code ec;
  if (!std::filesystem::is_directory(cwd->absolute, ec))
    return ToolResult::error("shell: cwd '" + cwd_text + "' is not a folder");
  request.cwd = cwd->absolute;

  auto outcome = run_shell(request, context);
  if (!outcome) return ToolResult::error("shell: " + outcome.message());
  const ShellOutcome& o = *outcome;
  json data = {{"exit_code", o.exited ? json(o.exit_code) : json(nullptr)},
               {"signal", o.signal},
               {"timed_out", o.timed_out},
               {"cancelled", o.cancelled},
               {"duration_ms", o.duration.count()},
               {"output_bytes", o.output_bytes},
               {"dropped_bytes", o.dropped_bytes},
               {"sandboxed", o.sandboxed},
               {"cwd", cwd->relative.string()}};
  std::string text = note + describe_outcome(o, request);
  if (o.exited && o.exit_code == 0) return ToolResult::success(std::move(text), std::move(data));
  return ToolResult::error(std::move(text), std::move(data));
}

}  // namespace

void register_shell_tool(ToolRegistry& registry) {
  registry.add(ToolSpec{"shell", kShellDescription, kShellSchema, run_shell_tool});
}

}  // namespace beluga::tools
