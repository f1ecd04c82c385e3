#include "lsp/completion.h"

#include "daemon/rpc/json_rpc.h"

namespace beluga::lsp {
namespace {

constexpr size_t kMaxPrefixBytes = 16 * 1024;
constexpr size_t kMaxSuffixBytes = 8 * 1024;

std::string first_line(const std::string& text) {
  size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string::npos) return text;
  size_t end = text.find_first_of("\r\n", start);
  std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (line.size() > 60) line = line.substr(0, 60) + "\xE2\x80\xA6";
  return line;
}

}  // namespace

CompletionScheduler::CompletionScheduler(ServerContext& context) : ctx_(context) {
  thread_ = std::thread([this] { run(); });
}

CompletionScheduler::~CompletionScheduler() { stop(); }

void CompletionScheduler::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Json CompletionScheduler::empty_result(bool inline_kind) const {
  if (inline_kind) return {{"items", Json::array()}};
  return {{"isIncomplete", true}, {"items", Json::array()}};
}

bool CompletionScheduler::answer(const std::shared_ptr<Job>& job, bool ok, const Json& value) {
  if (job->answered.exchange(true)) return false;
  if (ok) {
    ctx_.editor.respond(job->id, value);
  } else {
    const int code = value.is_object() && value.contains("code") && value["code"].is_number_integer()
                         ? value["code"].get<int>()
                         : rpc::kInternalError;
    ctx_.editor.respond_error(job->id, code,
                              value.is_object() ? value.value("message", std::string("error")) : std::string("error"));
  }
  return true;
}

void CompletionScheduler::forget(const std::shared_ptr<Job>& job) {
  // Caller holds mutex_.
  by_id_.erase(id_key(job->id));
  if (auto it = by_uri_.find(job->uri); it != by_uri_.end() && it->second == job) by_uri_.erase(it);
}

void CompletionScheduler::request(const Json& id, bool inline_kind, const Json& params) {
  const Json document = params.value("textDocument", Json());
  auto position = position_from_json(params.value("position", Json()), "position");
  if (!document.is_object() || !document.contains("uri") || !document["uri"].is_string() || !position) {
    ctx_.editor.respond_error(id, rpc::kInvalidParams,
                              position ? "textDocument.uri: a string is required" : position.message());
    return;
  }
  auto job = std::make_shared<Job>();
  job->id = id;
  job->inline_kind = inline_kind;
  job->uri = document["uri"].get<std::string>();
  job->position = *position;
  job->due = std::chrono::steady_clock::now() + std::chrono::milliseconds(ctx_.settings.completion_debounce_ms);
  std::shared_ptr<Job> older;
  {
    std::lock_guard lock(mutex_);
    if (auto it = by_uri_.find(job->uri); it != by_uri_.end()) {
      older = it->second;
      by_id_.erase(id_key(older->id));
    }
    by_uri_[job->uri] = job;
    by_id_[id_key(id)] = job;
  }
  if (older) {
    // Superseded: the editor gets nothing to show for it; the daemon stops working on it.
    answer(older, true, empty_result(older->inline_kind));
    std::lock_guard lock(mutex_);
    if (older->daemon_id.is_number_integer()) ctx_.daemon.notify("$/cancel_request", {{"requestId", older->daemon_id}});
  }
  wake_.notify_all();
}

bool CompletionScheduler::cancel(const Json& id) {
  std::shared_ptr<Job> job;
  Json daemon_id;
  {
    std::lock_guard lock(mutex_);
    auto it = by_id_.find(id_key(id));
    if (it == by_id_.end()) return false;
    job = it->second;
    daemon_id = job->daemon_id;
    forget(job);
  }
  answer(job, false, {{"code", rpc::kRequestCancelled}, {"message", "request cancelled"}});
  if (daemon_id.is_number_integer()) ctx_.daemon.notify("$/cancel_request", {{"requestId", daemon_id}});
  return true;
}

void CompletionScheduler::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    auto next = std::chrono::steady_clock::time_point::max();
    std::shared_ptr<Job> due;
    for (auto& [uri, job] : by_uri_) {
      if (!job->daemon_id.is_null() || job->answered) continue;
      if (job->due <= std::chrono::steady_clock::now()) {
        due = job;
        break;
      }
      next = std::min(next, job->due);
    }
    if (due) {
      due->daemon_id = "sending";  // marks it taken; replaced by the real id below
      lock.unlock();
      try {
        send(due);
      } catch (const std::exception& e) {
        ctx_.editor.log(std::string("completion failed: ") + e.what());
        answer(due, false, {{"code", rpc::kInternalError}, {"message", e.what()}});
      }
      lock.lock();
      continue;
    }
    if (next == std::chrono::steady_clock::time_point::max()) {
      wake_.wait(lock);
    } else {
      wake_.wait_until(lock, next);
    }
  }
  // Stopping: whatever is still open gets an empty answer.
  for (auto& [key, job] : by_id_) {
    if (!job->answered.exchange(true)) ctx_.editor.respond(job->id, empty_result(job->inline_kind));
  }
  by_id_.clear();
  by_uri_.clear();
}

void CompletionScheduler::send(const std::shared_ptr<Job>& job) {
  auto document = ctx_.documents.by_uri(job->uri);
  if (!document || document->path.empty()) {
    {
      std::lock_guard lock(mutex_);
      forget(job);
    }
    answer(job, true, empty_result(job->inline_kind));
    return;
  }
  const std::string& text = document->text;
  const size_t at = offset_of(text, job->position, ctx_.settings.encoding);
  size_t prefix_start = at > kMaxPrefixBytes ? at - kMaxPrefixBytes : 0;
  if (prefix_start > 0) {
    const size_t newline = text.find('\n', prefix_start);
    prefix_start = newline == std::string::npos || newline >= at ? at : newline + 1;
  }
  size_t suffix_end = std::min(text.size(), at + kMaxSuffixBytes);
  if (suffix_end < text.size()) {
    const size_t newline = text.rfind('\n', suffix_end);
    suffix_end = newline == std::string::npos || newline < at ? at : newline;
  }
  Json params = {{"cwd", ctx_.workspace_for(document->path)},
                 {"path", document->path},
                 {"prefix", text.substr(prefix_start, at - prefix_start)},
                 {"suffix", text.substr(at, suffix_end - at)},
                 {"maxTokens", ctx_.settings.completion_max_tokens},
                 {"contextTokens", ctx_.settings.completion_context_tokens}};
  const Position position = job->position;
  // The reply may arrive (even at once, on a dead link) before request() returns:
  // it owns the answer either way.
  Json daemon_id = ctx_.daemon.request("beluga/complete", params, [this, job, position](bool ok, const Json& value) {
    {
      std::lock_guard lock(mutex_);
      forget(job);
    }
    if (!ok) {
      answer(job, false, value);
      return;
    }
    const std::string completion = value.is_object() ? value.value("text", std::string()) : std::string();
    if (completion.empty()) {
      answer(job, true, empty_result(job->inline_kind));
      return;
    }
    const Json range = to_json(Range{position, position});
    if (job->inline_kind) {
      answer(job, true, {{"items", Json::array({{{"insertText", completion}, {"range", range}}})}});
    } else {
      answer(job, true,
             {{"isIncomplete", true},
              {"items", Json::array({{{"label", first_line(completion)},
                                      {"kind", 1},
                                      {"detail", "beluga"},
                                      {"sortText", "0"},
                                      {"insertTextFormat", 1},
                                      {"textEdit", {{"range", range}, {"newText", completion}}}}})}});
    }
  });
  std::lock_guard lock(mutex_);
  job->daemon_id = daemon_id;
  // Cancelled or superseded while the request went out: tell the daemon now.
  if (job->answered && by_id_.find(id_key(job->id)) == by_id_.end())
    ctx_.daemon.notify("$/cancel_request", {{"requestId", daemon_id}});
}

}  // namespace beluga::lsp
