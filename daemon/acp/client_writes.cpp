#include "daemon/acp/client_writes.h"

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "daemon/acp/client_files.h"
#include "daemon/acp/sessions.h"

namespace beluga::daemon {
namespace {

constexpr auto kReadTimeout = std::chrono::seconds(10);
constexpr auto kWriteTimeout = std::chrono::seconds(30);

// One request to the attached client, waited for on the turn thread.
Result<nlohmann::json> ask_client(LiveSession& session, const std::shared_ptr<rpc::Peer>& peer, const char* method,
                                  const nlohmann::json& params, std::chrono::seconds timeout) {
  struct Wait {
    std::mutex mutex;
    std::condition_variable done;
    bool answered = false;
    bool ok = false;
    nlohmann::json value;
  };
  auto wait = std::make_shared<Wait>();
  peer->request(method, params, [wait](bool ok, const nlohmann::json& value) {
    std::lock_guard lock(wait->mutex);
    wait->answered = true;
    wait->ok = ok;
    wait->value = value;
    wait->done.notify_all();
  });
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(wait->mutex);
  while (!wait->answered) {
    if (session.agent->cancel_flag().load()) return make_error("the turn was cancelled before the editor answered");
    if (std::chrono::steady_clock::now() > deadline)
      return make_error("the editor did not answer " + std::string(method) + " within " +
                        std::to_string(timeout.count()) + " s");
    wait->done.wait_for(lock, std::chrono::milliseconds(50));
  }
  if (!wait->ok) {
    const std::string message =
        wait->value.is_object() ? wait->value.value("message", std::string("an error")) : std::string("an error");
    return make_error("the editor answered " + std::string(method) + " with an error: " + message);
  }
  return wait->value;
}

std::shared_ptr<rpc::Peer> keeper(LiveSession& session) {
  auto peer = session.attached();
  if (!peer || !peer->is_open()) return nullptr;
  auto state = client_state(*peer);
  if (!state) return nullptr;
  std::lock_guard lock(state->mutex);
  return state->fs_read && state->fs_write ? peer : nullptr;
}

}  // namespace

bool client_keeps_files(LiveSession& session) { return keeper(session) != nullptr; }

std::shared_ptr<tools::FileAccess> client_file_access(std::weak_ptr<LiveSession> weak) {
  auto access = std::make_shared<tools::FileAccess>();
  access->read = [weak](const std::filesystem::path& path) -> Result<std::optional<std::string>> {
    auto session = weak.lock();
    if (!session) return std::optional<std::string>();
    auto peer = keeper(*session);
    if (!peer) return std::optional<std::string>();
    auto answer = ask_client(*session, peer, "fs/read_text_file", {{"sessionId", session->id}, {"path", path.string()}},
                             kReadTimeout);
    if (!answer) return answer.error();
    if (!answer->is_object() || !answer->contains("content") || !(*answer)["content"].is_string())
      return make_error("the editor's fs/read_text_file answer has no string \"content\"");
    return std::optional<std::string>((*answer)["content"].get<std::string>());
  };
  access->write = [weak](const std::filesystem::path& path, std::string_view text) -> Result<bool> {
    auto session = weak.lock();
    if (!session) return false;
    auto peer = keeper(*session);
    if (!peer) return false;
    auto answer = ask_client(*session, peer, "fs/write_text_file",
                             {{"sessionId", session->id}, {"path", path.string()}, {"content", std::string(text)}},
                             kWriteTimeout);
    if (!answer) return answer.error();
    return true;
  };
  return access;
}

}  // namespace beluga::daemon
