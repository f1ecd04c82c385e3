#include "daemon/acp/daemon_server.h"

#include "daemon/log.h"

namespace beluga::daemon {

Result<std::unique_ptr<Daemon>> Daemon::start(const DaemonOptions& options) {
  if (options.model_spec.empty())
    return make_error("no model: pass --model DIR|replay:FILE|remote:URL, or set \"model\" in $XDG_CONFIG_HOME/beluga/daemon.json");
  std::unique_ptr<Daemon> d(new Daemon());
  auto model = SharedModel::open(options.model_spec, options.model);
  if (!model) return make_error("model " + options.model_spec + ": " + model.message());
  d->model_ = std::move(model).value();
  log_line("model loaded: " + d->model_->describe());
  d->sessions_ = std::make_unique<SessionManager>(*d->model_, SessionOptions{options.session_db});
  // The store is created (schema, WAL) now, before any client can race to do it.
  if (auto store = d->sessions_->open_store(); !store) return store.error();
  d->completions_ = std::make_unique<CompletionService>(*d->model_);
  d->server_ = std::make_unique<rpc::RpcServer>(options.rpc);
  d->context_.completions = d->completions_.get();
  d->context_.model = d->model_.get();
  d->context_.sessions = d->sessions_.get();
  d->context_.server = d->server_.get();
  d->context_.socket_path = options.socket_path;
  register_acp_methods(*d->server_, d->context_);
  register_beluga_methods(*d->server_, d->context_);
  SessionManager* sessions = d->sessions_.get();
  d->server_->on_disconnect([sessions](rpc::Peer& peer) { sessions->detach(peer); });
  if (options.http) {  // before the socket: a status request may ask about it
    auto http = http::HttpServing::start(*d->model_, *options.http);
    if (!http) return http.error();
    d->http_ = std::move(http).value();
    d->context_.http = d->http_.get();
  }
  if (Status s = d->server_->listen(options.socket_path); !s) return s.error();
  log_line("listening on " + options.socket_path);
  return d;
}

Daemon::~Daemon() { stop(); }

void Daemon::stop() {
  if (stopped_) return;
  stopped_ = true;
  log_line("stopping: closing connections, cancelling turns");
  if (http_) http_->stop();
  if (sessions_) {
    // Cancel first so that no turn waits on a permission answer or the model queue.
    server_->stop();
    completions_->stop();
    sessions_->shutdown();
  }
  log_line("stopped");
}

}  // namespace beluga::daemon
