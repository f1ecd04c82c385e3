#include "daemon/chat_command.h"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

// libedit (BSD licence) through its readline-compatible interface; only
// this file includes it.
#include <editline/readline.h>

#include "daemon/command_output.h"
#include "engine/base/time_text.h"

namespace beluga {
namespace {

constexpr const char* kHelp =
    "Type a task or question; the agent works on it in the workspace.\n"
    "  /help            this help\n"
    "  /rewind [N]      undo the last N turns (default 1): files and conversation\n"
    "  /mode [MODE]     show or set the permission mode (default, auto-edit, plan, yolo)\n"
    "  /compact         summarise the older turns now\n"
    "  /sessions        this workspace's sessions, newest first\n"
    "  /resume ID       continue another session\n"
    "  /quit            leave (Ctrl+D too); Ctrl+C cancels a running turn\n";

// One line of input: libedit on a terminal, plain reads from a pipe.
bool read_line(bool terminal, std::string& line) {
  if (terminal) {
    char* raw = readline("beluga> ");
    if (raw == nullptr) return false;
    line = raw;
    if (!line.empty()) add_history(raw);
    std::free(raw);
    return true;
  }
  return static_cast<bool>(std::getline(std::cin, line));
}

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return "";
  size_t b = s.find_last_not_of(" \t\r");
  return s.substr(a, b - a + 1);
}

std::string when(int64_t unix_s) { return format_unix_time(unix_s, "%Y-%m-%d %H:%M", TimeZone::kUtc); }

}  // namespace

CLI::App* add_chat_command(CLI::App& app, ChatCommand& cmd) {
  CLI::App* chat = app.add_subcommand("chat", "An interactive agent session in a workspace (/help lists the commands)");
  AgentArgs& a = cmd.args;
  chat->add_option("--model", a.model, "Checkpoint folder, replay:FILE (recorded model outputs, JSONL) or remote:URL (docs/remote.md)")->required();
  chat->add_option("--mode", a.mode, "Permission mode: default, auto-edit, plan, yolo")
      ->check(CLI::IsMember({"default", "auto-edit", "plan", "yolo"}));
  chat->add_option("--max-steps", a.max_steps, "Model calls per turn at most (default 50)")->check(CLI::Range(1, 100000));
  chat->add_option("--record", a.record, "Write the model's outputs to FILE (JSONL, replayable with replay:FILE)");
  chat->add_flag("--no-think", a.no_think, "Chat mode: the model answers without reasoning first");
  chat->add_option("--workspace", a.workspace, "The repository to work in (default: the current folder)");
  chat->add_option("--session", a.session, "Continue this session");
  return chat;
}

int run_chat_command(const ChatCommand& cmd) {
  TerminalOutput output(false);
  AgentArgs args = cmd.args;
  auto opened = open_agent(args, output);
  if (!opened) return fail(opened.message());
  const bool terminal = ::isatty(STDIN_FILENO) != 0;
  if (terminal) std::cout << "beluga chat in " << opened->agent->session().workspace << " (/help for commands)\n";
  std::string line;
  while (read_line(terminal, line)) {
    line = trim(line);
    if (line.empty()) continue;
    agent::Agent& agent = *opened->agent;
    if (line[0] != '/') {
      cancel_on_interrupt(&agent);
      agent.run_turn(line);
      cancel_on_interrupt(nullptr);
      std::signal(SIGINT, SIG_DFL);
      continue;
    }
    std::istringstream words(line);
    std::string command, argument;
    words >> command >> argument;
    if (command == "/quit" || command == "/exit") break;
    if (command == "/help") {
      std::cout << kHelp;
    } else if (command == "/rewind") {
      int64_t n = 1;
      if (!argument.empty()) {
        char* end = nullptr;
        n = std::strtoll(argument.c_str(), &end, 10);
        if (*end != '\0' || n < 1) {
          std::cout << "/rewind takes a number of turns, e.g. /rewind 2\n";
          continue;
        }
      }
      auto rewound = agent.rewind(n);
      if (!rewound) {
        std::cout << "cannot rewind: " << rewound.message() << "\n";
        continue;
      }
      std::cout << "rewound to before turn " << rewound->to_turn << " (" << rewound->written.size() << " files restored, "
                << rewound->removed.size() << " removed; the state before is checkpoint " << rewound->saved_checkpoint
                << ")\n";
      for (const std::string& c : rewound->conflicts) std::cout << "  conflict: " << c << "\n";
    } else if (command == "/mode") {
      if (argument.empty()) {
        std::cout << "mode: " << agent::permission_mode_name(agent.policy().mode) << "\n";
        continue;
      }
      auto mode = agent::parse_permission_mode(argument);
      if (!mode) {
        std::cout << mode.message() << "\n";
        continue;
      }
      if (Status s = agent.set_mode(*mode); !s) std::cout << s.message() << "\n";
      std::cout << "mode: " << agent::permission_mode_name(*mode) << "\n";
    } else if (command == "/compact") {
      cancel_on_interrupt(&agent);
      Status s = agent.compact();
      cancel_on_interrupt(nullptr);
      std::signal(SIGINT, SIG_DFL);
      std::cout << (s ? std::string("compacted") : "cannot compact: " + s.message()) << "\n";
    } else if (command == "/sessions") {
      auto sessions = opened->store->list_sessions(agent.session().workspace);
      if (!sessions) {
        std::cout << sessions.message() << "\n";
        continue;
      }
      for (const auto& s : *sessions)
        std::cout << (s.id == agent.session_id() ? "* " : "  ") << s.id << "  " << when(s.updated_unix_s) << "  "
                  << (s.title.empty() ? "(no turns)" : s.title) << "\n";
    } else if (command == "/resume") {
      if (argument.empty()) {
        std::cout << "/resume needs a session id (/sessions lists them)\n";
        continue;
      }
      // Check first, so a typo keeps the current session (and its model).
      if (auto exists = opened->store->load_session(argument); !exists) {
        std::cout << exists.message() << "\n";
        continue;
      }
      AgentArgs next = args;
      next.session = argument;
      auto switched = open_agent(next, output, agent.take_provider());
      if (!switched) return fail(switched.message());
      opened = std::move(switched);
    } else {
      std::cout << "unknown command " << command << " (/help lists them)\n";
    }
    std::cout.flush();
  }
  return 0;
}

}  // namespace beluga
