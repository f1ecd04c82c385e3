// The client's view of files: what initialize negotiated, and reading
// unsaved editor buffers through fs/read_text_file.
//
// When the client offers fs.readTextFile, a session's read tool asks the
// client for the file's text after reading it from disk (the disk read
// validates the path, confines it to the workspace and records the file's
// hash for the stale-file rule). If the client's text differs from the
// disk's, the model is shown the client's text, numbered like read's own
// output and headed by a note that it is an unsaved buffer and that edits
// apply to the file on disk. Anything else (no capability, no client, an
// error, a timeout of 10 s, a cancelled turn, the same text) leaves the
// disk read's result as it was.
//
// Thread contract: ClientState is guarded by its mutex; wrap_read_tool's
// tool runs on the session's turn thread.
#pragma once

#include <memory>
#include <mutex>

#include <nlohmann/json.hpp>

#include "daemon/rpc/rpc_server.h"
#include "tools/tool.h"

namespace beluga::daemon {

class LiveSession;

// What initialize negotiated, kept on the connection (Peer::user_state).
struct ClientState {
  std::mutex mutex;
  bool initialized = false;
  bool fs_read = false;
  bool fs_write = false;
  nlohmann::json client_info;
};

std::shared_ptr<ClientState> client_state(rpc::Peer& peer);

// Replaces `registry`'s read tool by one that prefers the attached
// client's unsaved buffers (see above).
void wrap_read_tool(tools::ToolRegistry& registry, std::weak_ptr<LiveSession> session);

}  // namespace beluga::daemon
