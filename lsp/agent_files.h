// The agent's file access through the bridge (ACP's client file methods,
// answered for the daemon):
//
// fs/read_text_file {sessionId, path, line?, limit?} → {content}: the open
//   document's buffer (unsaved changes included; or the text of an edit
//   the editor is still applying), else the file on disk; line (1-based)
//   and limit select lines as ACP says.
// fs/write_text_file {sessionId, path, content} → {}: for an open document,
//   workspace/applyEdit with one minimal TextEdit (the common prefix and
//   suffix of buffer and new text are kept, so undo restores exactly the
//   agent's change and cursors elsewhere stay put), versioned through
//   documentChanges when the client supports them; the buffer stays
//   unsaved. A refused edit is an error to the agent. Any other file is
//   written on disk atomically (temp + rename) and reported with
//   window/logMessage. Paths must be absolute and inside a workspace
//   folder (or the session's workspace): anything else is refused.
//
// Thread contract: any thread; answers are sent from the thread that has
// them (the editor's applyEdit reply arrives on the main loop).
#pragma once

#include <functional>
#include <string>

#include "lsp/server_context.h"

namespace beluga::lsp {

void answer_read_text_file(ServerContext& ctx, const Json& daemon_id, const Json& params);
// `on_written` gets the absolute path of each file changed.
void answer_write_text_file(ServerContext& ctx, const Json& daemon_id, const Json& params,
                            const std::string& session_workspace, std::function<void(const std::string&)> on_written);
// Brings an open document's buffer to `text` with one minimal applyEdit
// (nothing when it is not open or already equal); `done(ok, why)` once.
void sync_buffer_to(ServerContext& ctx, const std::string& path, const std::string& text,
                    std::function<void(bool ok, const std::string& why)> done = nullptr);

}  // namespace beluga::lsp
