#include "daemon/model_queue.h"

#include <chrono>
#include <map>

#include <nlohmann/json.hpp>

#include <filesystem>

#include "agent/remote_provider.h"

namespace beluga::daemon {

// ---- ModelQueue ----

bool ModelQueue::acquire(const std::string& session, const std::function<bool()>& keep_going) {
  std::unique_lock lock(mutex_);
  const uint64_t mine = next_ticket_++;
  waiting_.push_back(Ticket{mine, session});
  for (;;) {
    // Granted when a slot is free and this ticket is among the oldest `free` ones.
    const int free_slots = slots_ - running_;
    for (int i = 0; i < free_slots && i < static_cast<int>(waiting_.size()); ++i) {
      if (waiting_[static_cast<size_t>(i)].number == mine) {
        waiting_.erase(waiting_.begin() + i);
        ++running_;
        return true;
      }
    }
    if (keep_going && !keep_going()) {
      for (auto it = waiting_.begin(); it != waiting_.end(); ++it)
        if (it->number == mine) {
          waiting_.erase(it);
          break;
        }
      ++abandoned_;
      changed_.notify_all();  // the ticket behind may now be among the oldest
      return false;
    }
    changed_.wait_for(lock, std::chrono::milliseconds(50));
  }
}

void ModelQueue::release() {
  {
    std::lock_guard lock(mutex_);
    --running_;
    ++served_;
  }
  changed_.notify_all();
}

ModelQueue::Stats ModelQueue::stats() const {
  std::lock_guard lock(mutex_);
  return Stats{static_cast<int64_t>(waiting_.size()), running_, served_, abandoned_};
}

// ---- SharedModel ----

struct SharedModel::Backend {
  // Embedded: the engine and its Sessions; providers for FIM (complete_raw,
  // a Session per caller name, made on first use) and for the HTTP endpoints
  // (one Session for all their requests).
  std::shared_ptr<agent::EmbeddedPool> pool;
  std::unique_ptr<agent::ModelProvider> engine_http;
  std::map<std::string, std::unique_ptr<agent::ModelProvider>> engine_raw;
  std::mutex engine_raw_mutex;
  // Replay: the file's path (each session opens its own cursor).
  std::string replay_path;
  std::unique_ptr<agent::ModelProvider> replay_probe;  // for count_tokens/context/describe
  // Replay: the HTTP endpoints' cursor (complete_chat), opened on first use.
  std::unique_ptr<agent::ModelProvider> http_replay;
  std::mutex http_replay_mutex;
  // Remote: the resolved settings (each session opens its own provider).
  std::optional<agent::RemoteSettings> remote;
  std::unique_ptr<agent::ModelProvider> remote_probe;  // for count_tokens/context/describe
};

namespace {

// One model call in its turn: waits in `queue` as `who` (a cancelled wait
// answers a cancelled completion), then runs on `provider`, holding
// `mutex` when the provider is shared, and gives the slot back.
Result<agent::Completion> complete_in_line(ModelQueue& queue, const std::string& who,
                                           const agent::CompletionRequest& request, agent::ModelProvider& provider,
                                           std::mutex* mutex) {
  if (!queue.acquire(who, request.keep_going)) {
    agent::Completion cancelled;
    cancelled.stop = agent::CompletionStop::kCancelled;
    return cancelled;
  }
  struct Release {
    ModelQueue& q;
    ~Release() { q.release(); }
  } release{queue};
  if (!mutex) return provider.complete(request);
  std::lock_guard lock(*mutex);
  return provider.complete(request);
}

// A session's provider: waits its turn in the queue, then calls the model
// through its own provider (its replay cursor, its remote connections, its
// embedded engine Session).
class QueuedProvider final : public agent::ModelProvider {
 public:
  QueuedProvider(ModelQueue& queue, std::string session, std::unique_ptr<agent::ModelProvider> own)
      : queue_(queue), session_(std::move(session)), own_(std::move(own)) {}

  Result<agent::Completion> complete(const agent::CompletionRequest& request) override {
    return complete_in_line(queue_, session_, request, *own_, nullptr);
  }
  int64_t count_tokens(std::string_view text) const override { return model().count_tokens(text); }
  int64_t context_tokens() const override { return model().context_tokens(); }
  std::string describe() const override { return model().describe(); }
  std::string token_counter_identity() const override { return model().token_counter_identity(); }

 private:
  const agent::ModelProvider& model() const { return *own_; }
  ModelQueue& queue_;
  std::string session_;
  std::unique_ptr<agent::ModelProvider> own_;
};

constexpr std::string_view kReplayPrefix = "replay:";
constexpr std::string_view kRemotePrefix = "remote:";

}  // namespace

SharedModel::SharedModel(std::string spec, std::unique_ptr<Backend> backend, int slots)
    : spec_(std::move(spec)), backend_(std::move(backend)), slots_(slots < 1 ? 1 : slots), queue_(slots_) {}

SharedModel::~SharedModel() = default;

Result<std::unique_ptr<SharedModel>> SharedModel::open(const std::string& spec, const ModelOptions& options) {
  auto backend = std::make_unique<Backend>();
  int slots = 1;
  if (spec.rfind(kReplayPrefix, 0) == 0) {
    backend->replay_path = spec.substr(kReplayPrefix.size());
    auto probe = agent::open_replay_provider(backend->replay_path);  // checks the file once, up front
    if (!probe) return probe.error();
    backend->replay_probe = std::move(probe).value();
  } else if (spec.rfind(kRemotePrefix, 0) == 0) {
    auto config = agent::load_user_agent_config();
    if (!config) return config.error();
    auto settings = agent::resolve_remote_settings(spec.substr(kRemotePrefix.size()), config->remote,
                                                   agent::process_environment());
    if (!settings) return settings.error();
    auto probe = agent::open_remote_provider(*settings);  // asks the model's name once, if need be
    if (!probe) return probe.error();
    slots = settings->slots;
    backend->remote = std::move(settings).value();
    backend->remote_probe = std::move(probe).value();
  } else {
    if (spec.empty()) return make_error("--model needs a checkpoint folder, replay:FILE or remote:URL");
    std::error_code ec;
    if (!std::filesystem::is_directory(spec, ec))
      return make_error("--model " + spec + ": not a checkpoint folder (for recorded outputs use replay:FILE, for a "
                        "served model remote:URL)");
    auto pool = agent::EmbeddedPool::open(spec, options.pool);
    if (!pool) return pool.error();
    backend->pool = std::move(pool).value();
    backend->engine_http = backend->pool->provider("http");
    slots = options.embedded_slots;
  }
  return std::unique_ptr<SharedModel>(new SharedModel(spec, std::move(backend), slots));
}

Result<std::unique_ptr<agent::ModelProvider>> SharedModel::provider_for(const std::string& session) {
  std::unique_ptr<agent::ModelProvider> own;
  if (!backend_->replay_path.empty()) {
    auto replay = agent::open_replay_provider(backend_->replay_path);
    if (!replay) return replay.error();
    own = std::move(replay).value();
  } else if (backend_->remote) {
    auto remote = agent::open_remote_provider(*backend_->remote);
    if (!remote) return remote.error();
    own = std::move(remote).value();
  }
  else
    own = backend_->pool->provider(session);  // this session's own engine Session
  return std::unique_ptr<agent::ModelProvider>(new QueuedProvider(queue_, session, std::move(own)));
}

Result<agent::Completion> SharedModel::complete_raw(const std::string& who, const agent::CompletionRequest& request) {
  if (!backend_->pool)
    return make_error("completion needs an embedded model: fill-in-the-middle runs on the embedded engine, and this "
                      "daemon's model is " + spec_);
  agent::ModelProvider* provider = nullptr;
  {
    std::lock_guard lock(backend_->engine_raw_mutex);
    auto& slot = backend_->engine_raw[who];
    if (!slot) slot = backend_->pool->provider(who);
    provider = slot.get();  // two calls of one name at once: the second runs on a temporary Session
  }
  return complete_in_line(queue_, who, request, *provider, nullptr);
}

Result<agent::Completion> SharedModel::complete_chat(const std::string& who, const agent::CompletionRequest& request) {
  if (backend_->pool) return complete_in_line(queue_, who, request, *backend_->engine_http, nullptr);
  if (backend_->remote)
    return make_error("HTTP serving needs the embedded engine or a replay model; this daemon's model is " + spec_ +
                      ", which clients can call directly");
  {
    std::lock_guard lock(backend_->http_replay_mutex);
    if (!backend_->http_replay) {
      auto replay = agent::open_replay_provider(backend_->replay_path);
      if (!replay) return replay.error();
      backend_->http_replay = std::move(replay).value();
    }
  }
  return complete_in_line(queue_, who, request, *backend_->http_replay, &backend_->http_replay_mutex);
}

bool SharedModel::embedded() const { return backend_->pool != nullptr; }

std::string_view SharedModel::kind() const {
  return backend_->pool ? "embedded" : backend_->remote ? "remote" : "replay";
}

const agent::ModelProvider& model_of(const SharedModel::Backend& b) {
  return b.pool ? *b.engine_http : b.remote_probe ? *b.remote_probe : *b.replay_probe;
}

std::string SharedModel::describe() const { return model_of(*backend_).describe(); }
int64_t SharedModel::context_tokens() const { return model_of(*backend_).context_tokens(); }
int64_t SharedModel::count_tokens(std::string_view text) const { return model_of(*backend_).count_tokens(text); }
int64_t SharedModel::count_prompt_tokens(std::string_view prompt) const {
  return model_of(*backend_).count_prompt_tokens(prompt);
}
std::string SharedModel::token_counter_identity() const { return model_of(*backend_).token_counter_identity(); }

nlohmann::json SharedModel::info() const {
  const ModelQueue::Stats s = const_cast<ModelQueue&>(queue_).stats();
  nlohmann::json out = {{"spec", spec_},
                        {"description", describe()},
                        {"kind", kind()},
                        {"contextTokens", context_tokens()},
                        {"queue", {{"slots", slots_}, {"waiting", s.waiting}, {"running", s.running},
                                   {"served", s.served}, {"abandoned", s.abandoned}}}};
  if (backend_->pool) {
    out["engine"] = agent::stats_json(backend_->pool->stats());
    out["engine"]["maxSessions"] = backend_->pool->limits().max_sessions;
    out["engine"]["maxStateBytes"] = backend_->pool->limits().max_state_bytes;
  }
  return out;
}

}  // namespace beluga::daemon
