// The editor's side of `beluga lsp`: framed JSON-RPC written to stdout, and
// requests the server sends to the editor (workspace/applyEdit,
// window/showMessageRequest, window/workDoneProgress/create) matched to
// their responses.
//
// Every message is one write under a mutex, so messages from the main
// loop, the daemon link's thread and the completion timer never
// interleave. Once the editor stops reading for good (EPIPE), writes are
// dropped. stdout carries nothing else; logs go to stderr (log()).
//
// Thread contract: every method from any thread. Reply callbacks run on
// the thread that calls deliver_response (the main loop) or fail_pending;
// they must not block.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "lsp/daemon_link.h"

namespace beluga::lsp {

enum class LogLevel { kInfo, kDebug };

class EditorChannel {
 public:
  explicit EditorChannel(int out_fd, LogLevel level = LogLevel::kInfo) : out_fd_(out_fd), level_(level) {}

  void notify(const std::string& method, const Json& params);
  void respond(const Json& id, const Json& result);
  void respond_error(const Json& id, int code, const std::string& message, const Json& data = nullptr);
  void request(const std::string& method, const Json& params, ReplyCallback on_reply);
  // A response from the editor: runs its callback; false for an unknown id.
  bool deliver_response(const Json& id, bool ok, const Json& value);
  void fail_pending(const std::string& why);

  void log(const std::string& line) const;
  void debug(const std::string& line) const;
  // window/showMessage (1 error, 2 warning, 3 info) and window/logMessage.
  void show_message(int type, const std::string& text);
  void log_message(int type, const std::string& text);

 private:
  void write_message(const Json& message);

  const int out_fd_;
  const LogLevel level_;
  std::mutex write_mutex_;
  std::atomic<bool> broken_{false};
  std::mutex pending_mutex_;
  int64_t next_id_ = 1;
  std::map<std::string, ReplyCallback> pending_;  // by id, as "beluga-N"
};

}  // namespace beluga::lsp
