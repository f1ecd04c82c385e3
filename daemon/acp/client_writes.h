// The session's text tools writing through the editor: when the attached
// client's initialize offered both fs.readTextFile and fs.writeTextFile,
// write, edit and apply_patch read a file's current text with
// fs/read_text_file and write the result with fs/write_text_file
// {sessionId, path (absolute), content} instead of the disk. The editor
// then owns the change: its undo works, an open buffer stays unsaved (the
// LSP bridge answers with workspace/applyEdit), and the model edits the
// text the user sees, unsaved changes included.
//
// What stays on the disk: checkpoints (they snapshot the working tree
// before each turn, so a rewind restores the disk, not buffers), file
// removals by apply_patch, and every read by other tools (grep, shell...).
// A client that stops offering (the session loaded on a connection
// without the capability) gets disk writes again: the capability is read
// at each call.
//
// Failures are the tool's errors, which the model sees: the client's error
// message, no answer within 30 s (a write) or 10 s (a read), a cancelled
// turn, or a disconnect. Nothing is written to the disk instead: the
// client was asked to own the file.
//
// Thread contract: the FileAccess functions run on the session's turn
// thread (they block on the client's answer).
#pragma once

#include <memory>

#include "tools/tool.h"

namespace beluga::daemon {

class LiveSession;

std::shared_ptr<tools::FileAccess> client_file_access(std::weak_ptr<LiveSession> session);

// Whether the attached client keeps the session's files (both fs capabilities).
bool client_keeps_files(LiveSession& session);

}  // namespace beluga::daemon
