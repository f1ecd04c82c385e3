// The terminal front end's view of agent events (`beluga run`, `beluga
// chat`): human text, or one JSON object per line with --json; permission
// questions on the terminal.
//
// Human output: the answer streams on stdout; reasoning (dimmed), tool
// calls with a one-line summary, results, diffs of edits and the closing
// summary go to stdout too, in order; warnings and errors to stderr;
// prefill progress only when stderr is a terminal. Colour only when stdout
// is a terminal and NO_COLOR is unset or empty (https://no-color.org).
//
// Thread contract: used by the thread running the turn.
#pragma once

#include <string>

#include "agent/agent_loop.h"

namespace beluga {

class TerminalOutput {
 public:
  explicit TerminalOutput(bool json);
  void on_event(const agent::AgentEvent& event);
  // Asks on the terminal (/dev/tty); deny when there is none.
  agent::PermissionAnswer ask(const agent::PermissionRequest& request);
  bool json() const { return json_; }

 private:
  void end_line();
  std::string paint(const char* code, const std::string& text) const;
  bool json_;
  bool color_;
  bool progress_;
  enum class Stream { kNone, kReasoning, kText } open_ = Stream::kNone;
};

// Whether a person can be asked: stdin and stderr are terminals.
bool interactive_terminal();

// The process exit status for a turn's stop reason (docs/agent.md).
int exit_status(agent::StopReason reason);

}  // namespace beluga
