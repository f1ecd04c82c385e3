#include "agent/session_store.h"

#include <sqlite3.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace beluga::agent {
namespace {

int64_t now_unix_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS sessions(
  id TEXT PRIMARY KEY, workspace TEXT NOT NULL, model TEXT NOT NULL, mode TEXT NOT NULL,
  thinking INTEGER NOT NULL, system_prompt TEXT NOT NULL, title TEXT NOT NULL,
  created_unix_s INTEGER NOT NULL, updated_unix_s INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS messages(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, session TEXT NOT NULL, turn INTEGER NOT NULL,
  json TEXT NOT NULL, tokens BLOB);
CREATE INDEX IF NOT EXISTS messages_by_session ON messages(session, seq);
CREATE TABLE IF NOT EXISTS turns(
  session TEXT NOT NULL, number INTEGER NOT NULL, checkpoint TEXT NOT NULL, prompt TEXT NOT NULL,
  stop_reason TEXT NOT NULL, started_unix_s INTEGER NOT NULL, PRIMARY KEY(session, number));
CREATE TABLE IF NOT EXISTS compactions(
  id INTEGER PRIMARY KEY AUTOINCREMENT, session TEXT NOT NULL, through_seq INTEGER NOT NULL,
  summary TEXT NOT NULL, created_unix_s INTEGER NOT NULL);
)sql";

// One prepared statement, finalized at scope exit; binds by position.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) stmt_ = nullptr;
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return stmt_ != nullptr; }
  std::string error() const { return sqlite3_errmsg(db_); }
  Statement& bind(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Statement& bind_blob(int i, const void* data, size_t bytes) {
    sqlite3_bind_blob(stmt_, i, data, static_cast<int>(bytes), SQLITE_TRANSIENT);
    return *this;
  }
  int step() { return sqlite3_step(stmt_); }
  std::string text(int col) const {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::vector<int32_t> ids(int col) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    const size_t bytes = static_cast<size_t>(sqlite3_column_bytes(stmt_, col));
    std::vector<int32_t> out(bytes / 4);
    const auto* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < out.size(); ++i)
      out[i] = static_cast<int32_t>(uint32_t{b[4 * i]} | uint32_t{b[4 * i + 1]} << 8 | uint32_t{b[4 * i + 2]} << 16 |
                                    uint32_t{b[4 * i + 3]} << 24);
    return out;
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

Error db_error(sqlite3* db, const std::string& doing) {
  return make_error("session store: cannot " + doing + ": " + sqlite3_errmsg(db));
}

// Runs a statement that returns no rows.
Status run(sqlite3* db, Statement& s, const std::string& doing) {
  if (!s.ok()) return db_error(db, doing);
  int rc = s.step();
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return db_error(db, doing);
  return {};
}

SessionRecord session_from_row(const Statement& s) {
  SessionRecord r;
  r.id = s.text(0);
  r.workspace = s.text(1);
  r.model = s.text(2);
  r.mode = s.text(3);
  r.thinking = s.integer(4) != 0;
  r.system_prompt = s.text(5);
  r.title = s.text(6);
  r.created_unix_s = s.integer(7);
  r.updated_unix_s = s.integer(8);
  return r;
}

constexpr const char* kSessionColumns =
    "id, workspace, model, mode, thinking, system_prompt, title, created_unix_s, updated_unix_s";

}  // namespace

Result<std::string> default_session_db_path() {
  std::filesystem::path base;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg == '/')
    base = xdg;
  else if (const char* home = std::getenv("HOME"); home && *home)
    base = std::filesystem::path(home) / ".local" / "share";
  else
    return make_error("cannot place the session store: neither XDG_DATA_HOME nor HOME is set");
  return (base / "beluga" / "sessions.sqlite").string();
}

Result<SessionStore> SessionStore::open(const std::string& path) {
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return make_error("session store: cannot create " + parent.string() + ": " + ec.message());
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr) !=
      SQLITE_OK) {
    std::string message = raw ? sqlite3_errmsg(raw) : "out of memory";
    sqlite3_close(raw);
    return make_error("session store: cannot open " + path + ": " + message);
  }
  SessionStore store(raw, path);
  sqlite3_busy_timeout(raw, 5000);
  int version = -1;
  {
    Statement s(raw, "PRAGMA user_version");
    if (!s.ok() || s.step() != SQLITE_ROW) return db_error(raw, "read the schema version of " + path);
    version = static_cast<int>(s.integer(0));
  }
  if (version > kSessionSchemaVersion)
    return make_error("session store " + path + " has schema version " + std::to_string(version) +
                      ", newer than this beluga understands (" + std::to_string(kSessionSchemaVersion) +
                      "); use a newer beluga or another XDG_DATA_HOME");
  if (Status s = store.exec("PRAGMA journal_mode=WAL"); !s) return s.error();
  // NORMAL is durable across process crashes in WAL mode (only a power
  // loss can drop the last commits), which is the failure the agent cares about.
  if (Status s = store.exec("PRAGMA synchronous=NORMAL"); !s) return s.error();
  if (version == 0) {
    if (Status s = store.exec("BEGIN IMMEDIATE"); !s) return s.error();
    if (Status s = store.exec(kSchema); !s) return s.error();
    if (Status s = store.exec(("PRAGMA user_version=" + std::to_string(kSessionSchemaVersion)).c_str()); !s)
      return s.error();
    if (Status s = store.exec("COMMIT"); !s) return s.error();
  }
  return store;
}

SessionStore::SessionStore(SessionStore&& other) noexcept : db_(other.db_), path_(std::move(other.path_)) {
  other.db_ = nullptr;
}
SessionStore& SessionStore::operator=(SessionStore&& other) noexcept {
  if (this != &other) {
    sqlite3_close(db_);
    db_ = other.db_;
    path_ = std::move(other.path_);
    other.db_ = nullptr;
  }
  return *this;
}
SessionStore::~SessionStore() { sqlite3_close(db_); }

Status SessionStore::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : "unknown error";
    sqlite3_free(message);
    return make_error("session store " + path_ + ": " + text);
  }
  return {};
}

Status SessionStore::create_session(const SessionRecord& r) {
  Statement s(db_, "INSERT INTO sessions VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  if (s.ok()) {
    const int64_t now = now_unix_s();
    s.bind(1, r.id).bind(2, r.workspace).bind(3, r.model).bind(4, r.mode).bind(5, int64_t{r.thinking});
    s.bind(6, r.system_prompt).bind(7, r.title).bind(8, r.created_unix_s ? r.created_unix_s : now).bind(9, now);
  }
  return run(db_, s, "create session " + r.id);
}

Result<SessionRecord> SessionStore::load_session(const std::string& id) {
  Statement s(db_, (std::string("SELECT ") + kSessionColumns + " FROM sessions WHERE id = ?1").c_str());
  if (!s.ok()) return db_error(db_, "read session " + id);
  s.bind(1, id);
  int rc = s.step();
  if (rc == SQLITE_DONE) return make_error("no session '" + id + "' in " + path_ + " (beluga chat: /sessions lists them)");
  if (rc != SQLITE_ROW) return db_error(db_, "read session " + id);
  return session_from_row(s);
}

Result<std::vector<SessionRecord>> SessionStore::list_sessions(const std::string& workspace) {
  Statement s(db_, (std::string("SELECT ") + kSessionColumns +
                    " FROM sessions WHERE ?1 = '' OR workspace = ?1 ORDER BY updated_unix_s DESC, created_unix_s DESC")
                       .c_str());
  if (!s.ok()) return db_error(db_, "list sessions");
  s.bind(1, workspace);
  std::vector<SessionRecord> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) out.push_back(session_from_row(s));
  if (rc != SQLITE_DONE) return db_error(db_, "list sessions");
  return out;
}

Status SessionStore::set_mode(const std::string& id, const std::string& mode) {
  Statement s(db_, "UPDATE sessions SET mode = ?2 WHERE id = ?1");
  if (s.ok()) s.bind(1, id).bind(2, mode);
  return run(db_, s, "update session " + id);
}

Result<int64_t> SessionStore::append_message(const std::string& session, int64_t turn, const Message& message,
                                             const std::vector<int32_t>& tokens) {
  Statement s(db_, "INSERT INTO messages(session, turn, json, tokens) VALUES (?1, ?2, ?3, ?4)");
  if (s.ok()) {
    s.bind(1, session).bind(2, turn).bind(3, message_to_json_text(message));
    std::string bytes;
    bytes.reserve(tokens.size() * 4);
    for (int32_t id : tokens)
      for (int b = 0; b < 4; ++b) bytes.push_back(static_cast<char>((static_cast<uint32_t>(id) >> (8 * b)) & 0xFF));
    s.bind_blob(4, bytes.data(), bytes.size());
  }
  if (Status st = run(db_, s, "append a message to session " + session); !st) return st.error();
  const int64_t seq = sqlite3_last_insert_rowid(db_);
  Statement touch(db_, "UPDATE sessions SET updated_unix_s = ?2 WHERE id = ?1");
  if (touch.ok()) touch.bind(1, session).bind(2, now_unix_s());
  if (Status st = run(db_, touch, "update session " + session); !st) return st.error();
  return seq;
}

Result<std::optional<Compaction>> SessionStore::latest_compaction(const std::string& session) {
  Statement s(db_, "SELECT id, through_seq, summary FROM compactions WHERE session = ?1 ORDER BY id DESC LIMIT 1");
  if (!s.ok()) return db_error(db_, "read compactions");
  s.bind(1, session);
  int rc = s.step();
  if (rc == SQLITE_DONE) return std::optional<Compaction>();
  if (rc != SQLITE_ROW) return db_error(db_, "read compactions");
  return std::optional<Compaction>(Compaction{s.integer(0), s.integer(1), s.text(2)});
}

Result<std::vector<TranscriptEntry>> SessionStore::active_messages(const std::string& session) {
  auto compaction = latest_compaction(session);
  if (!compaction) return compaction.error();
  const int64_t after = *compaction ? (*compaction)->through_seq : 0;
  Statement s(db_, "SELECT seq, turn, json, tokens FROM messages WHERE session = ?1 AND seq > ?2 ORDER BY seq");
  if (!s.ok()) return db_error(db_, "read messages");
  s.bind(1, session).bind(2, after);
  std::vector<TranscriptEntry> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    auto message = message_from_json_text(s.text(2));
    if (!message)
      return make_error("session " + session + " message " + std::to_string(s.integer(0)) + ": " + message.message());
    out.push_back(TranscriptEntry{s.integer(0), s.integer(1), std::move(message).value(), s.ids(3)});
  }
  if (rc != SQLITE_DONE) return db_error(db_, "read messages");
  return out;
}

Status SessionStore::add_compaction(const std::string& session, int64_t through_seq, const std::string& summary) {
  Statement s(db_, "INSERT INTO compactions(session, through_seq, summary, created_unix_s) VALUES (?1, ?2, ?3, ?4)");
  if (s.ok()) s.bind(1, session).bind(2, through_seq).bind(3, summary).bind(4, now_unix_s());
  return run(db_, s, "record a compaction of session " + session);
}

Status SessionStore::begin_turn(const std::string& session, const TurnRecord& t) {
  Statement s(db_, "INSERT INTO turns VALUES (?1, ?2, ?3, ?4, '', ?5)");
  if (s.ok()) s.bind(1, session).bind(2, t.number).bind(3, t.checkpoint).bind(4, t.prompt).bind(5, now_unix_s());
  if (Status st = run(db_, s, "record turn " + std::to_string(t.number) + " of session " + session); !st) return st;
  Statement title(db_, "UPDATE sessions SET title = substr(?2, 1, 80) WHERE id = ?1 AND title = ''");
  if (title.ok()) title.bind(1, session).bind(2, t.prompt);
  return run(db_, title, "update session " + session);
}

Status SessionStore::end_turn(const std::string& session, int64_t number, const std::string& stop_reason) {
  Statement s(db_, "UPDATE turns SET stop_reason = ?3 WHERE session = ?1 AND number = ?2");
  if (s.ok()) s.bind(1, session).bind(2, number).bind(3, stop_reason);
  return run(db_, s, "finish turn " + std::to_string(number) + " of session " + session);
}

Result<std::vector<TurnRecord>> SessionStore::turns(const std::string& session) {
  Statement s(db_,
              "SELECT number, checkpoint, prompt, stop_reason, started_unix_s FROM turns WHERE session = ?1 ORDER BY number");
  if (!s.ok()) return db_error(db_, "read turns");
  s.bind(1, session);
  std::vector<TurnRecord> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) out.push_back(TurnRecord{s.integer(0), s.text(1), s.text(2), s.text(3), s.integer(4)});
  if (rc != SQLITE_DONE) return db_error(db_, "read turns");
  return out;
}

Status SessionStore::truncate_turns(const std::string& session, int64_t from) {
  if (Status s = exec("BEGIN IMMEDIATE"); !s) return s;
  auto rollback = [&](Status failed) {
    (void)exec("ROLLBACK");
    return failed;
  };
  Statement first(db_, "SELECT MIN(seq) FROM messages WHERE session = ?1 AND turn >= ?2");
  if (!first.ok()) return rollback(db_error(db_, "rewind session " + session));
  first.bind(1, session).bind(2, from);
  if (first.step() != SQLITE_ROW) return rollback(db_error(db_, "rewind session " + session));
  const int64_t first_seq = first.integer(0);  // 0 (NULL) when the turns hold no message
  Statement messages(db_, "DELETE FROM messages WHERE session = ?1 AND turn >= ?2");
  if (messages.ok()) messages.bind(1, session).bind(2, from);
  if (Status s = run(db_, messages, "rewind session " + session); !s) return rollback(s);
  if (first_seq > 0) {
    Statement compactions(db_, "DELETE FROM compactions WHERE session = ?1 AND through_seq >= ?2");
    if (compactions.ok()) compactions.bind(1, session).bind(2, first_seq);
    if (Status s = run(db_, compactions, "rewind session " + session); !s) return rollback(s);
  }
  Statement turns(db_, "DELETE FROM turns WHERE session = ?1 AND number >= ?2");
  if (turns.ok()) turns.bind(1, session).bind(2, from);
  if (Status s = run(db_, turns, "rewind session " + session); !s) return rollback(s);
  return exec("COMMIT");
}

}  // namespace beluga::agent
