// Stored sessions as a whole: listing and deleting (session/list,
// session/delete, beluga/sessions/*).
//
// Deleting: the agent's SessionStore can truncate a session's turns but
// has no way to drop the session row, so the row is deleted here with one
// SQL statement on the same database (inside a transaction, after the
// store's own truncate_turns removed messages, turns and compactions).
// Checkpoint refs in the workspace are kept: they are the user's undo
// history and `git for-each-ref refs/beluga` shows them.
//
// Thread contract: free functions; each opens its own store connection.
#pragma once

#include <string>
#include <vector>

#include "agent/session_store.h"
#include "daemon/acp/sessions.h"

namespace beluga::daemon {

// Newest first; `workspace` "" = all.
Result<std::vector<agent::SessionRecord>> list_stored_sessions(SessionManager& sessions, const std::string& workspace);
// Refuses a session with a running turn; unloads it if live.
Status delete_session(SessionManager& sessions, const std::string& id);

}  // namespace beluga::daemon
