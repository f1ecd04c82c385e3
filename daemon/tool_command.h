// `beluga tool NAME --args JSON --root DIR [--json]`: runs one tool once,
// outside any session, with the same confinement, schema validation and
// limits as the agent's calls (a fresh ToolContext: nothing has been read
// yet, so overwriting an existing file with write is refused).
//
// Output: the tool's text on stdout when it succeeds, on stderr when it
// returns an error; with --json, always {"ok": bool, "text": "...",
// "data": ...} on stdout. Exit code 0 when the tool succeeded, 1 when it
// returned an error (refusals included) or the command line was unusable.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace beluga {

struct ToolCommand {
  std::string name;
  std::string args_json = "{}";
  std::string root;
  bool json = false;
};
// Adds the `tool` subcommand to `app`, filling `cmd`.
CLI::App* add_tool_command(CLI::App& app, ToolCommand& cmd);
int run_tool_command(const ToolCommand& cmd);

}  // namespace beluga
