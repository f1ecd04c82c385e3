#include "daemon/acp/sessions.h"

#include <chrono>
#include <condition_variable>

#include "agent/agent_config.h"
#include "daemon/acp/acp_updates.h"
#include "daemon/acp/client_files.h"
#include "daemon/acp/client_writes.h"
#include "daemon/log.h"
#include "indexer/indexer.h"
#include "tools/registry.h"

namespace beluga::daemon {

// ---- LiveSession ----

LiveSession::~LiveSession() {
  if (!turn.joinable()) return;
  // The last reference can be dropped by the turn thread itself, as it ends.
  if (turn.get_id() == std::this_thread::get_id())
    turn.detach();
  else
    turn.join();
}

std::shared_ptr<rpc::Peer> LiveSession::attached() {
  std::lock_guard lock(mutex);
  return peer;
}

void LiveSession::send_update(const Json& update) {
  if (auto p = attached()) p->notify("session/update", Json{{"sessionId", id}, {"update", update}});
}

namespace {

// Turn thread only: applies a mode set during the turn (session/set_mode
// stores it as pending then, since the agent's policy belongs to the turn).
void apply_pending_mode(LiveSession& session) {
  std::optional<agent::PermissionMode> mode;
  {
    std::lock_guard lock(session.mutex);
    mode = session.pending_mode;
    session.pending_mode.reset();
  }
  if (!mode) return;
  if (Status s = session.agent->set_mode(*mode); !s) log_line("session " + session.id + ": " + s.message());
  for (const Json& update : mode_updates(*mode)) session.send_update(update);
}

}  // namespace

// ---- SessionManager ----

SessionManager::SessionManager(SharedModel& model, SessionOptions options)
    : model_(model), options_(std::move(options)) {}

SessionManager::~SessionManager() { shutdown(); }

Result<std::string> SessionManager::db_path() const {
  if (!options_.session_db.empty()) return options_.session_db;
  return agent::default_session_db_path();
}

Result<agent::SessionStore> SessionManager::open_store() {
  auto db = db_path();
  if (!db) return db.error();
  // One open at a time: opening switches a new database to WAL, which
  // SQLite refuses at once ("database is locked", no busy wait) while
  // another connection of ours is opening it too.
  std::lock_guard lock(open_mutex_);
  return agent::SessionStore::open(*db);
}

Result<std::shared_ptr<LiveSession>> SessionManager::open_session(const std::shared_ptr<rpc::Peer>& peer,
                                                                  const std::string& cwd,
                                                                  const std::string& resume_id) {
  auto store = open_store();
  if (!store) return store.error();
  auto session = std::make_shared<LiveSession>();
  session->store = std::make_unique<agent::SessionStore>(std::move(store).value());

  std::string where = cwd;
  if (!resume_id.empty()) {
    auto record = session->store->load_session(resume_id);
    if (!record) return record.error();
    where = record->workspace;  // a session keeps its workspace, whatever cwd the client is in now
  }
  auto workspace = indexer::canonical_workspace(where);
  if (!workspace) return make_error("cwd: " + workspace.message());
  auto config = agent::load_agent_config(*workspace);
  if (!config) return config.error();

  agent::AgentSetup setup;
  auto provider = model_.provider_for(resume_id.empty() ? "new" : resume_id);
  if (!provider) return provider.error();
  setup.provider = std::move(provider).value();
  session->registry = std::make_unique<tools::ToolRegistry>(tools::make_default_registry());
  wrap_read_tool(*session->registry, session);
  session->workspace = *workspace;
  session->context_tokens = model_.context_tokens();
  setup.store = session->store.get();
  setup.registry = session->registry.get();
  setup.workspace = *workspace;
  setup.policy.rules = config->rules;
  setup.policy.mode = config->mode.value_or(agent::PermissionMode::kDefault);
  agent::AgentOptions& o = setup.options;
  if (config->max_steps) o.max_steps = *config->max_steps;
  if (config->max_output_tokens) o.max_output_tokens = *config->max_output_tokens;
  if (config->max_turn_tokens) o.max_turn_tokens = *config->max_turn_tokens;
  if (config->context_tokens) o.context_tokens = *config->context_tokens;
  if (config->compact_at) o.compact_at = *config->compact_at;

  std::weak_ptr<LiveSession> weak = session;
  setup.files = client_file_access(weak);  // the editor's buffers, when the client offers them
  auto tracker = std::make_shared<EditTracker>(*workspace, setup.files);
  setup.callbacks.on_event = [weak, tracker](const agent::AgentEvent& event) {
    auto s = weak.lock();
    if (!s) return;
    if (s->cancel_requested.load()) s->agent->cancel();
    // A mode set during the turn governs the permission decision that follows this call's announcement.
    if (event.kind == agent::EventKind::kToolCall) apply_pending_mode(*s);
    for (const Json& update : tracker->updates_for(event)) s->send_update(update);
  };
  setup.callbacks.ask = [this, weak](const agent::PermissionRequest& request) { return ask(weak, request); };

  if (resume_id.empty()) {
    auto created = agent::Agent::create(std::move(setup));
    if (!created) return created.error();
    session->agent = std::move(created).value();
  } else {
    auto resumed = agent::Agent::resume(std::move(setup), resume_id);
    if (!resumed) return resumed.error();
    session->agent = std::move(resumed).value();
    if (auto mode = agent::parse_permission_mode(session->agent->session().mode))
      session->agent->policy().mode = *mode;
  }
  session->id = session->agent->session_id();
  session->peer = peer;
  std::lock_guard lock(mutex_);
  if (shutting_down_) return make_error("the daemon is shutting down");
  live_[session->id] = session;
  return session;
}

Result<std::shared_ptr<LiveSession>> SessionManager::create(const std::shared_ptr<rpc::Peer>& peer,
                                                            const std::string& cwd) {
  reap();
  auto session = open_session(peer, cwd, "");
  if (session) log_line("session " + (*session)->id + " created in " + (*session)->workspace.string());
  return session;
}

Result<std::shared_ptr<LiveSession>> SessionManager::load(const std::shared_ptr<rpc::Peer>& peer,
                                                          const std::string& id) {
  reap();
  if (auto live = find(id)) {
    std::thread finishing;
    {
      std::lock_guard lock(live->mutex);
      if (live->turn_running && live->peer && live->peer->is_open() && live->peer.get() != peer.get())
        return make_error("session " + id + " is running a turn for another connection");
      if (live->turn_running) {
        // Its connection is gone and the turn was cancelled: let it finish first.
        finishing = std::move(live->turn);
      }
    }
    if (finishing.joinable()) finishing.join();
    std::lock_guard lock(live->mutex);
    live->peer = peer;
    return live;
  }
  return open_session(peer, "", id);
}

std::shared_ptr<LiveSession> SessionManager::find(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto it = live_.find(id);
  return it == live_.end() ? nullptr : it->second;
}

std::shared_ptr<LiveSession> SessionManager::open_on(const rpc::Peer& peer, const std::string& id) {
  auto session = find(id);
  if (!session) return nullptr;
  std::lock_guard lock(session->mutex);
  return session->peer.get() == &peer ? session : nullptr;
}

void SessionManager::prompt(const std::shared_ptr<LiveSession>& session, std::string text, rpc::Responder& reply) {
  std::thread previous;
  {
    std::lock_guard lock(session->mutex);
    if (session->turn_running) {
      reply.error(rpc::kInvalidRequest, "a turn is already running in session " + session->id +
                                            " (wait for its response or send session/cancel)");
      return;
    }
    session->turn_running = true;
    session->cancel_requested = false;
    previous = std::move(session->turn);
  }
  if (previous.joinable()) previous.join();  // finished: it cleared turn_running before answering
  reply.cancellation()->on_cancel([weak = std::weak_ptr<LiveSession>(session)] {
    if (auto s = weak.lock()) {
      s->cancel_requested = true;
      s->agent->cancel();
    }
  });
  auto run = [this, session, text = std::move(text), reply = std::move(reply)]() mutable {
    agent::TurnResult result = session->agent->run_turn(text);
    int64_t used = 0;
    if (auto prompt = session->agent->render()) used = model_.count_tokens(*prompt);
    session->send_update(usage_update(used, session->context_tokens));
    // A mode asked for after the turn's last tool call applies now, before the next turn can start.
    for (;;) {
      apply_pending_mode(*session);
      std::lock_guard lock(session->mutex);
      if (!session->pending_mode) {
        session->turn_running = false;
        break;
      }
    }
    if (auto reason = acp_stop_reason(result.reason)) {
      reply.result(Json{{"stopReason", *reason}});
    } else {
      reply.error(rpc::kInternalError, "the turn failed: " + result.message,
                  Json{{"stopReason", agent::stop_reason_name(result.reason)}, {"turn", result.turn}});
    }
  };
  std::lock_guard lock(session->mutex);
  session->turn = std::thread(std::move(run));
}

void SessionManager::cancel(const std::shared_ptr<LiveSession>& session) {
  std::lock_guard lock(session->mutex);
  if (!session->turn_running) return;  // nothing to cancel; the next turn must not start cancelled
  session->cancel_requested = true;
  session->agent->cancel();
}

void SessionManager::close(const std::shared_ptr<LiveSession>& session) {
  {
    std::lock_guard lock(session->mutex);
    session->peer.reset();
    if (session->turn_running) {
      session->cancel_requested = true;
      session->agent->cancel();
    }
  }
  reap();
}

Status SessionManager::set_mode(const std::shared_ptr<LiveSession>& session, agent::PermissionMode mode) {
  {
    // Held while the agent changes: a prompt cannot start a turn meanwhile.
    std::lock_guard lock(session->mutex);
    if (session->turn_running) {
      session->pending_mode = mode;
      return {};
    }
    if (Status s = session->agent->set_mode(mode); !s) return s;
  }
  for (const Json& update : mode_updates(mode)) session->send_update(update);
  return {};
}

agent::PermissionAnswer SessionManager::ask(const std::weak_ptr<LiveSession>& weak,
                                            const agent::PermissionRequest& request) {
  auto session = weak.lock();
  if (!session) return agent::PermissionAnswer::kDeny;
  auto peer = session->attached();
  if (!peer || !peer->is_open()) return agent::PermissionAnswer::kDeny;

  struct Wait {
    std::mutex mutex;
    std::condition_variable done;
    bool answered = false;
    agent::PermissionAnswer answer = agent::PermissionAnswer::kDeny;
  };
  auto wait = std::make_shared<Wait>();
  Json params = {{"sessionId", session->id},
                 {"toolCall",
                  {{"toolCallId", request.call_id},
                   {"title", request.summary},
                   {"kind", tool_kind(request.tool)},
                   {"status", "pending"},
                   {"rawInput", raw_input(request.arguments)}}},
                 {"options", permission_options()}};
  params["_meta"] = {{"beluga", {{"reason", request.reason}}}};
  peer->request("session/request_permission", params, [wait](bool ok, const Json& response) {
    std::lock_guard lock(wait->mutex);
    wait->answered = true;
    wait->answer = ok ? permission_answer_of(response) : agent::PermissionAnswer::kDeny;
    wait->done.notify_all();
  });
  std::unique_lock lock(wait->mutex);
  while (!wait->answered && !session->agent->cancel_flag().load() && peer->is_open())
    wait->done.wait_for(lock, std::chrono::milliseconds(100));
  if (!peer->is_open()) {
    // The client is gone: its turn is cancelled now, not only when detach()
    // gets to it, so the turn cannot go on to another step in between.
    session->agent->cancel();
    return agent::PermissionAnswer::kDeny;
  }
  return wait->answered ? wait->answer : agent::PermissionAnswer::kDeny;
}

Status SessionManager::unload(const std::string& id) {
  std::shared_ptr<LiveSession> gone;
  {
    std::lock_guard lock(mutex_);
    auto it = live_.find(id);
    if (it == live_.end()) return {};
    {
      std::lock_guard session_lock(it->second->mutex);
      if (it->second->turn_running) return make_error("session " + id + " is running a turn; cancel it first");
      it->second->peer.reset();
    }
    gone = std::move(it->second);
    live_.erase(it);
  }
  return {};
}

void SessionManager::detach(const rpc::Peer& peer) {
  std::vector<std::shared_ptr<LiveSession>> sessions;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, s] : live_) sessions.push_back(s);
  }
  for (auto& s : sessions) {
    std::lock_guard lock(s->mutex);
    if (s->peer.get() != &peer) continue;
    s->peer.reset();
    if (s->turn_running) {
      log_line("session " + s->id + ": its client disconnected mid-turn; cancelling the turn");
      s->cancel_requested = true;
      s->agent->cancel();
    }
  }
}

void SessionManager::reap() {
  std::vector<std::shared_ptr<LiveSession>> idle;
  {
    std::lock_guard lock(mutex_);
    for (auto it = live_.begin(); it != live_.end();) {
      std::unique_lock session_lock(it->second->mutex, std::try_to_lock);
      if (session_lock.owns_lock() && !it->second->peer && !it->second->turn_running) {
        session_lock.unlock();
        idle.push_back(std::move(it->second));
        it = live_.erase(it);
      } else {
        ++it;
      }
    }
  }
  // Destroyed here, outside the lock: joins finished turn threads.
  idle.clear();
}

void SessionManager::shutdown() {
  std::map<std::string, std::shared_ptr<LiveSession>> all;
  {
    std::lock_guard lock(mutex_);
    shutting_down_ = true;
    all.swap(live_);
  }
  for (auto& [id, s] : all) {
    s->cancel_requested = true;
    s->agent->cancel();
  }
  for (auto& [id, s] : all) {
    std::thread t;
    {
      std::lock_guard lock(s->mutex);
      t = std::move(s->turn);
      s->peer.reset();
    }
    if (t.joinable()) t.join();
  }
  if (!all.empty()) log_line("stopped " + std::to_string(all.size()) + " live session(s)");
}

bool SessionManager::running_in(const std::filesystem::path& workspace) {
  std::vector<std::shared_ptr<LiveSession>> sessions;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, s] : live_) sessions.push_back(s);
  }
  for (auto& s : sessions) {
    std::lock_guard lock(s->mutex);
    if (s->turn_running && s->workspace == workspace) return true;
  }
  return false;
}

size_t SessionManager::live_count() {
  std::lock_guard lock(mutex_);
  return live_.size();
}

size_t SessionManager::running_count() {
  std::vector<std::shared_ptr<LiveSession>> sessions;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, s] : live_) sessions.push_back(s);
  }
  size_t running = 0;
  for (auto& s : sessions) {
    std::lock_guard lock(s->mutex);
    running += s->turn_running ? 1 : 0;
  }
  return running;
}

}  // namespace beluga::daemon
