// The daemon's live sessions: one agent::Agent per ACP session, its turn
// thread, the client it streams to, and the permission questions it asks.
//
// Ownership. A session lives in the store (SQLite) forever; it is *live*
// (an Agent in memory) while a connection has it open (session/new or
// session/load) or a turn is still finishing. A session is attached to at
// most one connection: the one that opened it last.
//
// Turns. session/prompt starts the turn on the session's own thread (never
// on the I/O thread or the shared workers: a turn blocks on the model
// queue, tools and permission answers for as long as it takes); the
// prompt's Responder travels with it and answers with the stop reason when
// the turn ends. Agent events become session/update notifications on the
// attached connection as they happen (acp_updates.h); a usage_update
// follows each turn.
//
// Permission questions ("ask" rules) become session/request_permission to
// the attached client; the turn thread waits for the answer while polling
// its cancel flag and the connection, so session/cancel or a disconnect
// ends the wait at once (the call is then denied, and the cancelled turn
// stops). A late answer is ignored.
//
// Disconnect. When a connection closes, every session attached to it is
// detached and its turn cancelled (tools stopped through the agent's
// keep_going); the turn still stores what it completed, and the session
// stays loadable. A detached session that is idle is unloaded by reap().
//
// Modes. session/set_mode (or set_config_option "mode") applies at once
// when no turn is running. During a turn it is stored and applied on the
// turn thread (the agent's policy belongs to it) at the next tool call's
// announcement, before that call's permission decision, or when the turn
// ends, whichever comes first; current_mode_update and
// config_option_update announce it then.
//
// Thread contract: SessionManager is thread-safe; LiveSession fields are
// guarded by its mutex except where noted.
#pragma once

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/agent_loop.h"
#include "agent/session_store.h"
#include "daemon/model_queue.h"
#include "daemon/rpc/rpc_server.h"
#include "tools/tool.h"

namespace beluga::daemon {

using Json = nlohmann::json;

struct SessionOptions {
  std::string session_db;  // "" = agent::default_session_db_path()
};

class LiveSession {
 public:
  ~LiveSession();

  std::string id;
  std::filesystem::path workspace;
  // Owned by the session; used by its turn thread, or by handlers while no turn runs.
  std::unique_ptr<agent::SessionStore> store;
  std::unique_ptr<agent::Agent> agent;
  std::unique_ptr<tools::ToolRegistry> registry;
  int64_t context_tokens = 0;

  std::mutex mutex;
  std::shared_ptr<rpc::Peer> peer;  // the attached client; null when detached
  bool turn_running = false;
  // Set by a cancel (session/cancel, $/cancel_request, a disconnect) while a
  // turn runs, cleared when the next turn is accepted: the event callback
  // re-applies it, so a cancel that lands before run_turn resets the
  // agent's flag is not lost.
  std::atomic<bool> cancel_requested{false};
  std::optional<agent::PermissionMode> pending_mode;
  std::thread turn;

  // Sends one session/update to the attached client (if any).
  void send_update(const Json& update);
  std::shared_ptr<rpc::Peer> attached();
};

class SessionManager {
 public:
  SessionManager(SharedModel& model, SessionOptions options);
  ~SessionManager();

  // session/new: a new agent session in `cwd`, attached to `peer`.
  Result<std::shared_ptr<LiveSession>> create(const std::shared_ptr<rpc::Peer>& peer, const std::string& cwd);
  // session/load: the stored session, resumed (or the live one, re-attached).
  Result<std::shared_ptr<LiveSession>> load(const std::shared_ptr<rpc::Peer>& peer, const std::string& id);
  // The live session `id` if `peer` has it open, else null.
  std::shared_ptr<LiveSession> open_on(const rpc::Peer& peer, const std::string& id);
  std::shared_ptr<LiveSession> find(const std::string& id);

  // session/prompt: starts the turn; `reply` answers when it ends.
  // $/cancel_request for the prompt's id cancels the turn like session/cancel.
  void prompt(const std::shared_ptr<LiveSession>& session, std::string text, rpc::Responder& reply);
  void cancel(const std::shared_ptr<LiveSession>& session);
  // session/close: cancels its turn (as session/cancel) and lets it go: no
  // longer open on any connection; unloaded by reap() once idle, like a
  // disconnected client's. It stays in the store (session/load brings it back).
  void close(const std::shared_ptr<LiveSession>& session);
  Status set_mode(const std::shared_ptr<LiveSession>& session, agent::PermissionMode mode);

  // Drops the live session `id` (session delete); refused while a turn runs.
  Status unload(const std::string& id);
  // A connection closed: detach its sessions and cancel their turns.
  void detach(const rpc::Peer& peer);
  // Unloads detached, idle sessions.
  void reap();
  // Daemon shutdown: cancel every turn, wait for them, unload all.
  void shutdown();

  // Whether a live session in `workspace` is running a turn.
  bool running_in(const std::filesystem::path& workspace);
  size_t live_count();
  size_t running_count();
  Result<std::string> db_path() const;
  // A connection to the session store (opens are serialised, see the .cpp).
  Result<agent::SessionStore> open_store();
  SharedModel& model() { return model_; }

 private:
  Result<std::shared_ptr<LiveSession>> open_session(const std::shared_ptr<rpc::Peer>& peer, const std::string& cwd,
                                                    const std::string& resume_id);
  agent::PermissionAnswer ask(const std::weak_ptr<LiveSession>& session, const agent::PermissionRequest& request);

  SharedModel& model_;
  SessionOptions options_;
  std::mutex mutex_;
  std::mutex open_mutex_;
  std::map<std::string, std::shared_ptr<LiveSession>> live_;
  bool shutting_down_ = false;
};

}  // namespace beluga::daemon
