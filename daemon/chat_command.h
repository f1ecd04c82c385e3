// `beluga chat`: an interactive multi-turn session in a workspace.
//
//   beluga chat --model DIR|replay:FILE|remote:URL [--mode MODE] [--no-think]
//               [--max-steps N] [--record FILE] [--workspace DIR] [--session ID]
//
// Each line is a prompt (a turn), or a command:
//   /help            the commands
//   /rewind [N]      undo the last N turns (default 1): files and transcript
//   /mode [MODE]     show or set the permission mode
//   /compact         summarise older turns now
//   /sessions        this workspace's sessions, newest first
//   /resume ID       switch to another session (the model stays loaded)
//   /quit            (or end of input)
// On a terminal the line is edited with libedit (history included); from a
// pipe, lines are read as they come, so scripts and tests drive it too.
// Ctrl+C cancels a running turn; at the prompt it ends the chat.
// Exit status: 0, or 1 when the chat could not start.
#pragma once

#include "daemon/run_command.h"

namespace beluga {

struct ChatCommand {
  AgentArgs args;
};

CLI::App* add_chat_command(CLI::App& app, ChatCommand& cmd);
int run_chat_command(const ChatCommand& cmd);

}  // namespace beluga
