#include "daemon/acp/session_admin.h"

#include <sqlite3.h>

namespace beluga::daemon {

Result<std::vector<agent::SessionRecord>> list_stored_sessions(SessionManager& sessions,
                                                               const std::string& workspace) {
  auto store = sessions.open_store();
  if (!store) return store.error();
  return store->list_sessions(workspace);
}

Status delete_session(SessionManager& sessions, const std::string& id) {
  auto db = sessions.db_path();
  if (!db) return db.error();
  auto store = sessions.open_store();
  if (!store) return store.error();
  if (auto record = store->load_session(id); !record) return make_error("session " + id + ": " + record.message());
  if (Status s = sessions.unload(id); !s) return s;
  if (Status s = store->truncate_turns(id, 1); !s) return s;

  sqlite3* handle = nullptr;
  if (sqlite3_open_v2(db->c_str(), &handle, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    std::string why = handle ? sqlite3_errmsg(handle) : "out of memory";
    sqlite3_close(handle);
    return make_error("cannot open " + *db + ": " + why);
  }
  sqlite3_busy_timeout(handle, 5000);
  sqlite3_stmt* statement = nullptr;
  std::string error;
  if (sqlite3_prepare_v2(handle, "DELETE FROM sessions WHERE id = ?", -1, &statement, nullptr) != SQLITE_OK ||
      sqlite3_bind_text(statement, 1, id.c_str(), -1, SQLITE_TRANSIENT) != SQLITE_OK ||
      sqlite3_step(statement) != SQLITE_DONE)
    error = sqlite3_errmsg(handle);
  sqlite3_finalize(statement);
  sqlite3_close(handle);
  if (!error.empty()) return make_error("deleting session " + id + ": " + error);
  return {};
}

}  // namespace beluga::daemon
