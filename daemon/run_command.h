// `beluga run "TASK"`: one headless agent turn in a workspace, streamed to
// the terminal (or as JSON lines with --json). docs/agent.md documents the
// flags, the events and the exit statuses.
//
//   beluga run "TASK" --model DIR|replay:FILE|remote:URL [--mode default|auto-edit|plan|yolo]
//              [--json] [--max-steps N] [--record FILE] [--no-think]
//              [--workspace DIR] [--session ID]
#pragma once

#include <memory>
#include <string>

#include "agent/agent_loop.h"
#include "daemon/terminal_output.h"
#include "tools/mcp/mcp_tool_set.h"

namespace CLI {
class App;
}

namespace beluga {

struct AgentArgs {
  std::string model;
  std::string mode;  // "" = the session's, else the config's, else default
  bool json = false;
  int64_t max_steps = 0;  // 0 = the config's, else 50
  std::string record;
  bool no_think = false;
  std::string workspace = ".";
  std::string session;  // resume this session
};

struct RunCommand {
  std::string task;
  AgentArgs args;
};

CLI::App* add_run_command(CLI::App& app, RunCommand& cmd);
int run_run_command(const RunCommand& cmd);

// What `run` and `chat` share: the session store, the agent (new or
// resumed) wired to `output`, and Ctrl+C wired to its cancel flag.
struct OpenedAgent {
  std::unique_ptr<agent::SessionStore> store;
  std::unique_ptr<tools::ToolRegistry> registry;
  std::unique_ptr<tools::mcp::McpToolSet> mcp;  // the config's MCP servers (null when none)
  std::unique_ptr<agent::Agent> agent;
};
// `provider`, when given, is used instead of opening args.model (a chat
// switching sessions keeps its loaded model).
Result<OpenedAgent> open_agent(const AgentArgs& args, TerminalOutput& output,
                               std::unique_ptr<agent::ModelProvider> provider = nullptr);

// SIGINT cancels `agent`'s running turn; a second one exits (130).
void cancel_on_interrupt(agent::Agent* agent);

}  // namespace beluga
