// Agent turns from the editor: code actions run as workspace/executeCommand,
// beluga/chat, beluga/cancel, beluga/sessions, beluga/rewind, and what the
// daemon asks while a turn runs (permissions, file reads and writes).
//
// Sessions. One ACP session per workspace folder, created (session/new,
// then session/set_mode when initializationOptions.mode is set) on first
// use and reused; requests that arrive while it is being created wait for
// it. A session belongs to the daemon connection that created it: after a
// reconnect (a daemon restart) the next use creates a new one.
//
// A turn. session/prompt with the prompt built from the buffer
// (code_actions.h); one turn per session at a time (a second gets an
// error naming beluga/cancel). While it runs:
// - session/update → beluga/chatUpdate {sessionId, kind, text|toolCall|plan|usage}
//   for every turn (chat or command), and for commands $/progress reports
//   (begin "beluga: <title>", cancellable; a report per tool call or
//   phase; end with the stop reason and the files changed);
// - session/request_permission → window/showMessageRequest with
//   "Allow once" / "Allow always" / "Deny" (mapped to the ACP options of
//   kinds allow_once / allow_always / reject_once; a dismissed question
//   denies);
// - fs/read_text_file / fs/write_text_file → agent_files.h;
// - window/workDoneProgress/cancel, $/cancelRequest of the command, or
//   beluga/cancel → session/cancel.
// When the turn ends, the editor's request is answered {sessionId,
// stopReason}; a command's answer text is also shown with
// window/showMessage unless initializationOptions.showAnswers is false.
//
// Thread contract: every public method from any thread (state under one
// mutex, never held while calling the editor or the daemon).
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lsp/server_context.h"

namespace beluga::lsp {

class AgentTurns {
 public:
  explicit AgentTurns(ServerContext& context) : ctx_(context) {}

  // Editor requests (the main loop hands them over; each is answered exactly once).
  void code_action(const Json& id, const Json& params);
  void execute_command(const Json& id, const Json& params);
  void chat(const Json& id, const Json& params);
  void cancel(const Json& id, const Json& params);
  void sessions(const Json& id, const Json& params);
  void rewind(const Json& id, const Json& params);
  // window/workDoneProgress/cancel; $/cancelRequest (true if `id` was a turn).
  void progress_cancelled(const Json& token);
  bool cancel_request(const Json& id);

  // From the daemon.
  void session_update(const Json& params);
  void permission_request(const Json& daemon_id, const Json& params);
  void file_request(const Json& daemon_id, const std::string& method, const Json& params);
  // The daemon link came up (again): sessions of an older connection are gone.
  void daemon_state(bool connected);

  bool busy() const;

 private:
  struct Turn {
    std::string session_id;
    std::string workspace;
    Json editor_id;           // the request to answer when it ends
    std::string title;        // "Fix this diagnostic", "Chat"
    bool is_command = false;
    Json progress_token;      // null: no progress
    bool progress_begun = false;
    std::string last_report;
    std::string answer;       // the agent's message text
    std::set<std::string> files_changed;
    bool cancelled_by_request = false;  // $/cancelRequest: answer -32800
  };
  struct Workspace {
    std::string session_id;
    uint64_t generation = 0;
    bool creating = false;
    std::vector<std::function<void(bool ok, const std::string& session_or_error)>> waiters;
  };

  // Calls `then` with the workspace's session id (or an error message).
  void with_session(const std::string& workspace, std::function<void(bool ok, const std::string&)> then);
  void start_turn(Turn turn, const std::string& prompt);
  void begin_progress(const std::string& session_id);
  void report(const std::string& session_id, const std::string& message);
  void finish_turn(const std::string& session_id, bool ok, const Json& value);
  void publish_status();
  std::string session_workspace(const std::string& session_id) const;

  ServerContext& ctx_;
  mutable std::mutex mutex_;
  std::map<std::string, Workspace> workspaces_;  // by folder
  std::map<std::string, Turn> turns_;            // by session id
  uint64_t next_token_ = 1;
};

}  // namespace beluga::lsp
