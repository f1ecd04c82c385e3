#include "daemon/terminal_output.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

namespace beluga {

using agent::AgentEvent;
using agent::EventKind;

bool interactive_terminal() { return ::isatty(STDIN_FILENO) && ::isatty(STDERR_FILENO); }

int exit_status(agent::StopReason reason) {
  switch (reason) {
    case agent::StopReason::kCompleted: return 0;
    case agent::StopReason::kError: return 2;
    case agent::StopReason::kMaxSteps: return 3;
    case agent::StopReason::kOutputLimit: return 4;
    case agent::StopReason::kContextFull: return 4;
    case agent::StopReason::kMalformed: return 5;
    case agent::StopReason::kCancelled: return 130;
  }
  return 2;
}

TerminalOutput::TerminalOutput(bool json) : json_(json) {
  const char* no_color = std::getenv("NO_COLOR");
  color_ = !json && ::isatty(STDOUT_FILENO) && !(no_color && *no_color);
  progress_ = !json && ::isatty(STDERR_FILENO);
}

std::string TerminalOutput::paint(const char* code, const std::string& text) const {
  return color_ ? std::string("\033[") + code + "m" + text + "\033[0m" : text;
}

void TerminalOutput::end_line() {
  if (open_ != Stream::kNone) std::cout << "\n";
  open_ = Stream::kNone;
}

void TerminalOutput::on_event(const AgentEvent& e) {
  if (json_) {
    std::cout << agent::event_to_json(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    std::cout.flush();
    return;
  }
  switch (e.kind) {
    case EventKind::kSession:
      std::cout << paint("2", std::string(e.resumed ? "resumed" : "session") + " " + e.session_id + " (" + e.text + ")")
                << "\n";
      break;
    case EventKind::kTurnStarted:
      break;
    case EventKind::kProgress:
      if (progress_) {
        std::fprintf(stderr, "\r%s %lld/%lld %s", e.text.c_str(), static_cast<long long>(e.done),
                     static_cast<long long>(e.total), e.text == "prefill" ? "tokens" : "files");
        if (e.done >= e.total) std::fprintf(stderr, "\r\033[K");
        std::fflush(stderr);
      }
      break;
    case EventKind::kReasoning:
      if (open_ != Stream::kReasoning) {
        end_line();
        open_ = Stream::kReasoning;
      }
      std::cout << paint("2", e.text);
      break;
    case EventKind::kAssistantText:
      if (open_ != Stream::kText) {
        end_line();
        open_ = Stream::kText;
      }
      std::cout << e.text;
      break;
    case EventKind::kToolCall:
      end_line();
      std::cout << paint("1;36", "● " + e.summary) << "\n";
      break;
    case EventKind::kPermission:
      if (e.decision == "deny")
        std::cout << paint("33", "  permission denied: " + e.reason) << "\n";
      else if (e.decision == "ask" && e.answer == "deny")
        std::cout << paint("33", e.reason.find("not interactive") != std::string::npos ? "  permission denied: " + e.reason
                                                                                       : std::string("  denied"))
                  << "\n";
      break;
    case EventKind::kToolResult: {
      std::string first = e.text.substr(0, e.text.find('\n'));
      if (first.size() > 160) first = first.substr(0, 160) + "...";
      std::cout << (e.ok ? paint("32", "  ✓ ") : paint("31", "  ✗ ")) << first << "\n";
      size_t start = 0;
      while (start < e.diff.size()) {
        size_t end = e.diff.find('\n', start);
        if (end == std::string::npos) end = e.diff.size();
        std::string line = e.diff.substr(start, end - start);
        const char* code = line.rfind("+++", 0) == 0 || line.rfind("---", 0) == 0 ? "1"
                           : line.rfind("+", 0) == 0                               ? "32"
                           : line.rfind("-", 0) == 0                               ? "31"
                           : line.rfind("@@", 0) == 0                              ? "36"
                                                                                   : "0";
        std::cout << "    " << paint(code, line) << "\n";
        start = end + 1;
      }
      break;
    }
    case EventKind::kPlan:
      end_line();
      std::cout << paint("1", "  Plan:") << "\n";
      for (const agent::PlanEntry& p : e.plan) {
        const bool done = p.status == "completed", running = p.status == "in_progress";
        std::cout << "    " << (done ? paint("32", "✓") : running ? paint("33", "▸") : std::string("○")) << " "
                  << (done ? paint("2", p.content) : p.content) << (p.priority == "high" ? paint("31", " !") : "")
                  << "\n";
      }
      break;
    case EventKind::kWarning:
      end_line();
      std::cerr << "beluga: warning: " << e.text << "\n";
      break;
    case EventKind::kError:
      end_line();
      std::cerr << "beluga: " << e.text << "\n";
      break;
    case EventKind::kCompaction:
      end_line();
      std::cout << paint("2", "[compacted the conversation up to message " + std::to_string(e.through_seq) + "]") << "\n";
      break;
    case EventKind::kDone: {
      end_line();
      if (!e.changed_files.empty()) {
        std::cout << "\nChanged files:\n";
        for (const std::string& f : e.changed_files) std::cout << "  " << f << "\n";
      }
      const bool ok = e.stop_reason == "completed";
      std::cout << (ok ? paint("32", "done") : paint("31", "stopped: " + e.stop_reason)) << " (" << e.text << ", "
                << e.steps << " model call" << (e.steps == 1 ? "" : "s") << ", session " << e.session_id << ")\n";
      break;
    }
  }
  std::cout.flush();
}

agent::PermissionAnswer TerminalOutput::ask(const agent::PermissionRequest& request) {
  end_line();
  std::fstream tty("/dev/tty", std::ios::in | std::ios::out);
  if (!tty) return agent::PermissionAnswer::kDeny;
  tty << "Allow " << request.summary << "? (" << request.reason << ")\n"
      << "  [y]es once, [a]lways in this session, [n]o: " << std::flush;
  std::string line;
  if (!std::getline(tty, line)) return agent::PermissionAnswer::kDeny;
  if (!line.empty() && (line[0] == 'y' || line[0] == 'Y')) return agent::PermissionAnswer::kAllowOnce;
  if (!line.empty() && (line[0] == 'a' || line[0] == 'A')) return agent::PermissionAnswer::kAllowSession;
  return agent::PermissionAnswer::kDeny;
}

}  // namespace beluga
