// The daemon in one object: the shared model, the live sessions and the
// JSON-RPC server with ACP's and beluga's methods, listening on a socket.
// daemon_command.cpp wraps it in a process (detaching, pid file, signals);
// tests run it in-process.
//
// Shutdown order (stop): stop HTTP serving (its generations cancel), stop accepting and close connections (their
// sessions detach and their turns are cancelled), cancel and wait for
// every turn (each stores what it finished; tools are stopped through the
// agent's keep_going) and every completion, then unload. Sessions are already persisted: the
// store commits every message as it happens.
//
// Thread contract: start() and stop() from one thread; stop() is idempotent.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "daemon/acp/completions.h"
#include "daemon/acp/sessions.h"
#include "daemon/http/chat_service.h"
#include "daemon/model_queue.h"
#include "daemon/rpc/rpc_server.h"

namespace beluga::daemon {

struct DaemonOptions {
  std::string model_spec;   // DIR, replay:FILE or remote:URL
  ModelOptions model;       // the embedded engine's slots and Session budget (daemon.json "engine")
  std::string socket_path;  // its folder must exist (daemon_command checks owner and mode)
  std::string session_db;   // "" = $XDG_DATA_HOME/beluga/sessions.sqlite
  rpc::ServerOptions rpc;
  std::optional<http::ServingOptions> http;  // --http: OpenAI/Anthropic-compatible serving (off by default)
};

// What the method handlers share.
struct DaemonContext {
  SharedModel* model = nullptr;
  SessionManager* sessions = nullptr;
  CompletionService* completions = nullptr;
  rpc::RpcServer* server = nullptr;
  http::HttpServing* http = nullptr;  // null without --http
  std::string socket_path;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

void register_acp_methods(rpc::RpcServer& server, DaemonContext& context);
void register_beluga_methods(rpc::RpcServer& server, DaemonContext& context);

class Daemon {
 public:
  // Loads the model, then listens (so a socket that answers has a model).
  static Result<std::unique_ptr<Daemon>> start(const DaemonOptions& options);
  ~Daemon();
  void stop();

  rpc::RpcServer& server() { return *server_; }
  SessionManager& sessions() { return *sessions_; }
  SharedModel& model() { return *model_; }
  http::HttpServing* http() { return http_.get(); }  // null without --http

 private:
  Daemon() = default;
  std::unique_ptr<SharedModel> model_;
  std::unique_ptr<SessionManager> sessions_;
  std::unique_ptr<CompletionService> completions_;
  std::unique_ptr<rpc::RpcServer> server_;
  std::unique_ptr<http::HttpServing> http_;
  DaemonContext context_;
  bool stopped_ = false;
};

}  // namespace beluga::daemon
