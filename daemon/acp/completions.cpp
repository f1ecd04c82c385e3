#include "daemon/acp/completions.h"

#include <algorithm>
#include <cmath>

#include "daemon/acp/fim_context.h"
#include "daemon/acp/params.h"
#include "daemon/log.h"
#include "indexer/indexer.h"

namespace beluga::daemon {
namespace {

constexpr size_t kMaxStopSequences = 16;

// `path` relative to `workspace`: a relative path must stay inside it, an
// absolute one must lie inside it (lexically; the file need not exist yet,
// an editor completes unsaved buffers too).
std::string relative_in(const std::filesystem::path& workspace, const std::string& path) {
  if (path.empty()) throw InvalidParams("path: must not be empty");
  std::filesystem::path p(path);
  std::filesystem::path relative;
  if (p.is_absolute()) {
    std::error_code ec;
    std::filesystem::path canonical = std::filesystem::weakly_canonical(p, ec);
    if (ec) canonical = p.lexically_normal();
    relative = canonical.lexically_relative(workspace);
  } else {
    relative = p.lexically_normal();
  }
  const std::string text = relative.generic_string();
  if (relative.empty() || text == "." || text == ".." || text.rfind("../", 0) == 0)
    throw InvalidParams("path: " + path + " is not a file inside the workspace " + workspace.string());
  return text;
}

}  // namespace

CompletionParams parse_completion_params(const nlohmann::json& params, int64_t model_context_tokens) {
  CompletionParams out;
  const std::string cwd = required_string(params, "cwd");
  if (cwd.empty() || cwd.front() != '/') throw InvalidParams("cwd: must be an absolute path");
  auto workspace = indexer::canonical_workspace(cwd);
  if (!workspace) throw InvalidParams("cwd: " + workspace.message());
  out.workspace = *workspace;
  out.path = relative_in(out.workspace, required_string(params, "path"));
  out.prefix = required_string(params, "prefix");
  out.suffix = required_string(params, "suffix");
  if (auto n = optional_int(params, "maxTokens")) {
    if (*n < 1 || *n > kMaxCompletionTokens)
      throw InvalidParams("maxTokens: must be between 1 and " + std::to_string(kMaxCompletionTokens));
    out.max_tokens = *n;
  }
  const Json& p = params_object(params);
  if (auto t = p.find("temperature"); t != p.end() && !t->is_null()) {
    if (!t->is_number() || !std::isfinite(t->get<double>()) || t->get<double>() < 0 || t->get<double>() > 2)
      throw InvalidParams("temperature: must be a number from 0 (greedy) to 2");
    out.temperature = t->get<float>();
  }
  if (auto s = p.find("stop"); s != p.end() && !s->is_null()) {
    if (!s->is_array() || s->size() > kMaxStopSequences)
      throw InvalidParams("stop: an array of at most " + std::to_string(kMaxStopSequences) + " strings is required");
    for (const Json& item : *s) {
      if (!item.is_string() || item.get<std::string>().empty())
        throw InvalidParams("stop: each entry must be a non-empty string");
      out.stop.push_back(item.get<std::string>());
    }
  }
  if (auto n = optional_int(params, "contextTokens")) {
    if (*n < 0 || *n > model_context_tokens / 2)
      throw InvalidParams("contextTokens: must be between 0 and " + std::to_string(model_context_tokens / 2) +
                          " (half the model's context)");
    out.context_tokens = *n;
  }
  out.context_tokens = std::min(out.context_tokens, model_context_tokens / 2);
  return out;
}

CompletionService::CompletionService(SharedModel& model) : model_(model) {
  thread_ = std::thread([this] { run_loop(); });
}

CompletionService::~CompletionService() { stop(); }

void CompletionService::submit(CompletionParams params, rpc::Responder& reply) {
  auto cancellation = reply.cancellation();
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      reply.error(rpc::kInternalError, "the daemon is stopping");
      return;
    }
    waiting_.push_back(std::make_unique<Job>(Job{std::move(params), std::move(reply)}));
    changed_.notify_all();
  }
  // A job cancelled while it waits is answered at once, not when its turn
  // comes. Registered outside the lock: the hook runs here if the request
  // was cancelled already. (Hooks run on the I/O thread, which stops before
  // this service does.)
  cancellation->on_cancel([this, token = cancellation.get()] {
    std::unique_ptr<Job> gone;
    {
      std::lock_guard lock(mutex_);
      for (auto it = waiting_.begin(); it != waiting_.end(); ++it)
        if ((*it)->reply.cancellation().get() == token) {
          gone = std::move(*it);
          waiting_.erase(it);
          break;
        }
    }
    if (gone) gone->reply.error(rpc::kRequestCancelled, "request cancelled", {{"text", ""}, {"completionTokens", 0}});
  });
}

void CompletionService::stop() {
  std::deque<std::unique_ptr<Job>> dropped;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    stop_flag_ = true;
    dropped.swap(waiting_);
    changed_.notify_all();
  }
  for (auto& job : dropped) job->reply.error(rpc::kInternalError, "the daemon is stopping");
  if (thread_.joinable()) thread_.join();
}

void CompletionService::run_loop() {
  for (;;) {
    std::unique_ptr<Job> job;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
      if (stopping_) return;
      job = std::move(waiting_.front());
      waiting_.pop_front();
    }
    const auto& peer = job->reply.peer();
    if (job->reply.cancellation()->cancelled()) {
      job->reply.error(rpc::kRequestCancelled, "request cancelled", {{"text", ""}, {"completionTokens", 0}});
      continue;
    }
    if (peer && !peer->is_open()) continue;  // nobody to answer; the Responder's answer goes nowhere
    try {
      run(*job);
    } catch (const std::exception& e) {
      job->reply.error(rpc::kInternalError, std::string("internal error: ") + e.what());
    }
  }
}

void CompletionService::run(Job& job) {
  const CompletionParams& p = job.params;
  auto cancellation = job.reply.cancellation();
  auto peer = job.reply.peer();
  auto keep_going = [this, cancellation, peer] {
    return !stop_flag_.load() && !cancellation->cancelled() && (!peer || peer->is_open());
  };

  FimContext context;
  if (p.context_tokens > 0) {
    indexer::TokenCounter counter;
    counter.identity = model_.token_counter_identity();
    counter.estimated = counter.identity.rfind("estimate:", 0) == 0;
    counter.count = [this](std::string_view text) { return model_.count_tokens(text); };
    std::lock_guard lock(index_mutex_);
    auto found = fim_repository_context(p.workspace, p.path, p.context_tokens, counter);
    if (found)
      context = std::move(found).value();
    else  // a completion without context beats none
      log_line("beluga/complete: no repository context for " + p.workspace.string() + ": " + found.message());
  }

  std::string text;
  bool hit_stop = false;
  agent::CompletionRequest request;
  request.prompt = fim_prompt(context, p.path, p.prefix, p.suffix);
  request.max_tokens = p.max_tokens;
  request.temperature = p.temperature;
  request.keep_going = keep_going;
  size_t longest_stop = 0;
  for (const auto& s : p.stop) longest_stop = std::max(longest_stop, s.size());
  request.on_text = [&](std::string_view piece) {
    // Search only where a stop string could end in this piece.
    const size_t from = text.size() > longest_stop ? text.size() - longest_stop : 0;
    text += piece;
    size_t cut = std::string::npos;
    for (const auto& s : p.stop) cut = std::min(cut, text.find(s, from));
    if (cut == std::string::npos) return true;
    text.resize(cut);
    hit_stop = true;
    return false;
  };
  auto completion = model_.complete_raw("beluga/complete", request);
  if (!completion) {
    job.reply.error(rpc::kInternalError, "completion failed: " + completion.message());
    return;
  }
  if (!hit_stop) text = completion->text;
  const int64_t generated = static_cast<int64_t>(completion->tokens.size());
  if (completion->stop == agent::CompletionStop::kCancelled && !hit_stop && cancellation->cancelled()) {
    job.reply.error(rpc::kRequestCancelled, "request cancelled", {{"text", text}, {"completionTokens", generated}});
    return;
  }
  std::string reason = "end_turn";
  if (hit_stop)
    reason = "stop_sequence";
  else if (completion->stop == agent::CompletionStop::kMaxTokens)
    reason = "max_tokens";
  else if (completion->stop == agent::CompletionStop::kCancelled)
    reason = "cancelled";
  job.reply.result({{"text", text},
                    {"stopReason", reason},
                    {"promptTokens", completion->prompt_tokens},
                    {"completionTokens", generated},
                    {"contextFiles", context.files}});
}

}  // namespace beluga::daemon
