// beluga/complete: fill-in-the-middle completion for editors (the LSP
// bridge's inline completions), on the daemon's one embedded model.
//
// A request is checked on a worker (bad params: -32602; a replay model:
// -32603 "completion needs an embedded model"), then queued here and run on
// this service's own thread, one at a time: it builds the repository
// context (fim_context.h), then waits in the model queue like any session's
// call (model_queue.h: fair, arrival order) and generates. A completion
// never occupies the RPC worker pool, so a burst of keystrokes cannot stall
// session/new or beluga/ methods; and since the model has one slot, one
// thread loses nothing.
//
// Cancellation ($/cancel_request with the request's id, rpc_server.h): a
// queued completion is answered at once; a running one stops at the next
// prefill chunk or token. Either way the answer is error -32800 "request
// cancelled", whose data carries what was generated so far
// ({"text", "completionTokens"}). A completion whose client disconnected
// or whose daemon is stopping stops the same way (stopReason "cancelled"
// if anyone is left to read it).
//
// Stop sequences: generation stops at the first occurrence of any `stop`
// string; the text ends before it and stopReason is "stop_sequence".
//
// Thread contract: submit() and stop() from any thread; jobs run on the
// service thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "daemon/model_queue.h"
#include "daemon/rpc/rpc_server.h"

namespace beluga::daemon {

struct CompletionParams {
  std::filesystem::path workspace;  // canonical
  std::string path;                 // workspace-relative
  std::string prefix, suffix;
  int64_t max_tokens = 128;
  float temperature = 0.0f;
  std::vector<std::string> stop;
  int64_t context_tokens = 2048;
};

inline constexpr int64_t kMaxCompletionTokens = 1024;

// Reads beluga/complete's params; throws InvalidParams naming the field.
CompletionParams parse_completion_params(const nlohmann::json& params, int64_t model_context_tokens);

class CompletionService {
 public:
  explicit CompletionService(SharedModel& model);
  ~CompletionService();
  CompletionService(const CompletionService&) = delete;
  CompletionService& operator=(const CompletionService&) = delete;

  // Queues one completion; `reply` answers when it is done.
  void submit(CompletionParams params, rpc::Responder& reply);
  // Answers what waits, stops what runs, joins the thread. Idempotent.
  void stop();

 private:
  struct Job {
    CompletionParams params;
    rpc::Responder reply;
  };
  void run_loop();
  void run(Job& job);

  SharedModel& model_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::unique_ptr<Job>> waiting_;
  bool stopping_ = false;
  std::atomic<bool> stop_flag_{false};
  std::mutex index_mutex_;  // one index update at a time (fim_context.h)
  std::thread thread_;
};

}  // namespace beluga::daemon
