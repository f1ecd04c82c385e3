// Inline completion (textDocument/inlineCompletion, LSP 3.18) and its
// fallback as one item of textDocument/completion, from the daemon's
// fill-in-the-middle method beluga/complete (docs/protocol.md).
//
// Debounce. A request waits debounce_ms (75 by default) before anything is
// sent; a newer request for the same document supersedes an older one
// (answered at once with an empty list; if it was already sent, the
// daemon is told with $/cancel_request). Typing therefore costs one model
// call per pause, not one per key.
//
// Cancellation. $/cancelRequest from the editor answers the request with
// -32800 at once and, if it was sent, forwards $/cancel_request to the
// daemon (whose late answer is dropped).
//
// The prompt: the buffer's text before the position (at most 16 KiB, cut
// at a line start) and after it (at most 8 KiB, cut at a line end), the
// document's path, and the daemon adds ranked repository context. The
// result's text becomes {items: [{insertText, range: [pos, pos]}]} (no
// items for an empty completion); for textDocument/completion one item
// labelled with the completion's first line, inserted by a textEdit at the
// position. A daemon error is answered as that error.
//
// Thread contract: request/cancel from any thread; one timer thread owns
// the waits; every request is answered exactly once (an atomic flag per job).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "lsp/server_context.h"

namespace beluga::lsp {

class CompletionScheduler {
 public:
  explicit CompletionScheduler(ServerContext& context);
  ~CompletionScheduler();
  CompletionScheduler(const CompletionScheduler&) = delete;
  CompletionScheduler& operator=(const CompletionScheduler&) = delete;

  // inline_kind: textDocument/inlineCompletion (else textDocument/completion).
  void request(const Json& id, bool inline_kind, const Json& params);
  // $/cancelRequest: true when `id` was a completion request still open.
  bool cancel(const Json& id);
  void stop();

 private:
  struct Job {
    Json id;
    bool inline_kind = true;
    std::string uri;
    Position position;
    std::chrono::steady_clock::time_point due;
    std::atomic<bool> answered{false};
    Json daemon_id;  // set once sent
  };
  void run();
  void send(const std::shared_ptr<Job>& job);
  // Answers once; false if it already was.
  bool answer(const std::shared_ptr<Job>& job, bool ok, const Json& value);
  Json empty_result(bool inline_kind) const;
  void forget(const std::shared_ptr<Job>& job);

  ServerContext& ctx_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::map<std::string, std::shared_ptr<Job>> by_uri_;  // the newest job per document
  std::map<std::string, std::shared_ptr<Job>> by_id_;   // open jobs by editor id
  std::thread thread_;
};

}  // namespace beluga::lsp
