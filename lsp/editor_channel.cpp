#include "lsp/editor_channel.h"

#include <errno.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/rpc/json_rpc.h"
#include "lsp/framing.h"

namespace beluga::lsp {

void EditorChannel::write_message(const Json& message) {
  if (broken_) return;
  // Invalid UTF-8 (e.g. from a file the agent read) is replaced, not thrown.
  const std::string frame = encode_frame(message.dump(-1, ' ', false, Json::error_handler_t::replace));
  std::lock_guard lock(write_mutex_);
  size_t done = 0;
  while (done < frame.size()) {
    ssize_t n = ::write(out_fd_, frame.data() + done, frame.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      broken_ = true;
      return;
    }
    done += static_cast<size_t>(n);
  }
}

void EditorChannel::notify(const std::string& method, const Json& params) {
  write_message({{"jsonrpc", "2.0"}, {"method", method}, {"params", params}});
}

void EditorChannel::respond(const Json& id, const Json& result) {
  write_message({{"jsonrpc", "2.0"}, {"id", id}, {"result", result}});
}

void EditorChannel::respond_error(const Json& id, int code, const std::string& message, const Json& data) {
  Json error = {{"code", code}, {"message", message}};
  if (!data.is_null()) error["data"] = data;
  write_message({{"jsonrpc", "2.0"}, {"id", id}, {"error", error}});
}

void EditorChannel::request(const std::string& method, const Json& params, ReplyCallback on_reply) {
  std::string id;
  {
    std::lock_guard lock(pending_mutex_);
    id = "beluga-" + std::to_string(next_id_++);
    pending_[id] = std::move(on_reply);
  }
  write_message({{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}});
}

bool EditorChannel::deliver_response(const Json& id, bool ok, const Json& value) {
  if (!id.is_string()) return false;
  ReplyCallback callback;
  {
    std::lock_guard lock(pending_mutex_);
    auto it = pending_.find(id.get<std::string>());
    if (it == pending_.end()) return false;
    callback = std::move(it->second);
    pending_.erase(it);
  }
  callback(ok, value);
  return true;
}

void EditorChannel::fail_pending(const std::string& why) {
  std::map<std::string, ReplyCallback> pending;
  {
    std::lock_guard lock(pending_mutex_);
    pending.swap(pending_);
  }
  for (auto& [id, callback] : pending) callback(false, {{"code", rpc::kInternalError}, {"message", why}});
}

void EditorChannel::log(const std::string& line) const { daemon::log_line("beluga lsp: " + line); }

void EditorChannel::debug(const std::string& line) const {
  if (level_ == LogLevel::kDebug) log(line);
}

void EditorChannel::show_message(int type, const std::string& text) {
  notify("window/showMessage", {{"type", type}, {"message", text}});
}

void EditorChannel::log_message(int type, const std::string& text) {
  notify("window/logMessage", {{"type", type}, {"message", text}});
}

}  // namespace beluga::lsp
