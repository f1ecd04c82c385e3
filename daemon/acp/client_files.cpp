#include "daemon/acp/client_files.h"

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <optional>
#include <sstream>

#include "daemon/acp/client_writes.h"
#include "daemon/acp/sessions.h"
#include "tools/file_io.h"

namespace beluga::daemon {
namespace {

constexpr auto kClientReadTimeout = std::chrono::seconds(10);

// The client's text of `path`, or nullopt.
std::optional<std::string> client_text(LiveSession& session, const std::string& path) {
  auto peer = session.attached();
  if (!peer || !peer->is_open()) return std::nullopt;
  auto state = client_state(*peer);
  if (!state) return std::nullopt;
  {
    std::lock_guard lock(state->mutex);
    if (!state->fs_read) return std::nullopt;
  }
  struct Wait {
    std::mutex mutex;
    std::condition_variable done;
    bool answered = false;
    std::optional<std::string> text;
  };
  auto wait = std::make_shared<Wait>();
  peer->request("fs/read_text_file", {{"sessionId", session.id}, {"path", path}},
                [wait](bool ok, const nlohmann::json& result) {
                  std::lock_guard lock(wait->mutex);
                  wait->answered = true;
                  if (ok && result.is_object() && result.contains("content") && result["content"].is_string())
                    wait->text = result["content"].get<std::string>();
                  wait->done.notify_all();
                });
  const auto deadline = std::chrono::steady_clock::now() + kClientReadTimeout;
  std::unique_lock lock(wait->mutex);
  while (!wait->answered) {
    if (session.agent->cancel_flag().load() || std::chrono::steady_clock::now() > deadline) return std::nullopt;
    wait->done.wait_for(lock, std::chrono::milliseconds(50));
  }
  return wait->text;
}

std::optional<std::string> disk_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// "     1\tline" for the lines read's offset/limit select.
std::string numbered(const std::string& text, int64_t offset, int64_t limit) {
  std::string out;
  int64_t number = 1, shown = 0;
  for (size_t start = 0; start < text.size() && shown < limit;) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (number >= offset) {
      char prefix[32];
      std::snprintf(prefix, sizeof prefix, "%6lld\t", static_cast<long long>(number));
      out += prefix;
      out.append(text, start, end - start);
      out += '\n';
      ++shown;
    }
    ++number;
    start = end + 1;
  }
  return out;
}

}  // namespace

std::shared_ptr<ClientState> client_state(rpc::Peer& peer) {
  return std::static_pointer_cast<ClientState>(peer.user_state());
}

void wrap_read_tool(tools::ToolRegistry& registry, std::weak_ptr<LiveSession> weak) {
  const tools::ToolSpec* base = registry.find("read");
  if (!base) return;
  tools::ToolSpec read = *base;
  read.run = [disk_read = base->run, weak](const nlohmann::json& args, tools::ToolContext& context) {
    tools::ToolResult result = disk_read(args, context);
    auto session = weak.lock();
    if (!result.ok || !session || !result.data || !result.data->contains("path")) return result;
    std::filesystem::path path = args.at("path").get<std::string>();
    if (!path.is_absolute()) path = session->workspace / path;
    path = path.lexically_normal();
    auto on_disk = disk_text(path.string());
    if (!on_disk) return result;
    auto in_editor = client_text(*session, path.string());
    if (!in_editor || *in_editor == *on_disk) return result;
    const int64_t offset = args.value("offset", int64_t{1});
    const int64_t limit = std::min<int64_t>(args.value("limit", context.limits.max_read_lines), context.limits.max_read_lines);
    // When the tools write through the editor, edits apply to this buffer,
    // and the stale-file rule compares against its text.
    const bool through_editor = client_keeps_files(*session);
    if (through_editor) {
      std::error_code ec;
      std::filesystem::path canonical = std::filesystem::weakly_canonical(path, ec);
      context.seen_hashes[ec ? path : canonical] = tools::content_hash(*in_editor);
    }
    std::string text = "[" + (*result.data)["path"].get<std::string>() +
                       (through_editor ? ": the editor's unsaved buffer, which differs from the file on disk; edit "
                                         "and write change this buffer]\n"
                                       : ": the editor's unsaved buffer, which differs from the file on disk; edit "
                                         "and write change the file on disk]\n") +
                       numbered(*in_editor, offset, limit);
    nlohmann::json data = *result.data;
    data["source"] = "editor";
    return tools::ToolResult::success(std::move(text), std::move(data));
  };
  registry.add(std::move(read));
}

}  // namespace beluga::daemon
