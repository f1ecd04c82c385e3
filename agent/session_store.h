// The session store: every agent session, its transcript, turns and
// compactions, in one SQLite database (WAL) under
// $XDG_DATA_HOME/beluga/sessions.sqlite ($HOME/.local/share when unset).
//
// Durability rule: the loop writes a message before acting on it (the
// model's turn before its tool calls run; each tool result as soon as the
// tool returns) and every write is its own committed transaction, so a
// crash (kill -9) loses at most the step in flight, never a completed one.
// A resumed session whose last assistant turn has calls without results
// gets those results written as "interrupted" (agent_loop.cpp).
//
// Schema (PRAGMA user_version = 1; a newer version is refused, never
// guessed at):
//   sessions(id TEXT PK, workspace, model, mode, thinking INT, system_prompt,
//            title, created_unix_s, updated_unix_s)
//   messages(seq INTEGER PK AUTOINCREMENT, session, turn, json, tokens BLOB)
//            tokens: little-endian int32 ids (assistant turns of the engine)
//   turns(session, number, checkpoint, prompt, stop_reason, started_unix_s,
//         PRIMARY KEY (session, number))
//   compactions(id INTEGER PK, session, through_seq, summary, created_unix_s)
// The active transcript is the newest compaction's summary followed by the
// messages after its through_seq; older rows are kept (the session records
// what was compacted) until a rewind deletes them.
//
// Thread contract: one SessionStore per thread (it owns one connection);
// several processes may share the file (SQLite locks, busy timeout 5 s).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/transcript.h"
#include "engine/base/result.h"

struct sqlite3;

namespace beluga::agent {

inline constexpr int kSessionSchemaVersion = 1;

struct SessionRecord {
  std::string id;
  std::string workspace;
  std::string model;
  std::string mode;
  bool thinking = true;
  std::string system_prompt;  // fixed for the session's life (its KV prefix)
  std::string title;          // the first prompt, cut
  int64_t created_unix_s = 0;
  int64_t updated_unix_s = 0;
};

struct TurnRecord {
  int64_t number = 0;
  std::string checkpoint;   // "" when none could be taken
  std::string prompt;
  std::string stop_reason;  // "" while running (or when the process died)
  int64_t started_unix_s = 0;
};

struct Compaction {
  int64_t id = 0;
  int64_t through_seq = 0;
  std::string summary;
};

// $XDG_DATA_HOME/beluga/sessions.sqlite.
Result<std::string> default_session_db_path();

class SessionStore {
 public:
  static Result<SessionStore> open(const std::string& path);
  SessionStore(SessionStore&& other) noexcept;
  SessionStore& operator=(SessionStore&& other) noexcept;
  SessionStore(const SessionStore&) = delete;
  SessionStore& operator=(const SessionStore&) = delete;
  ~SessionStore();

  const std::string& path() const { return path_; }

  Status create_session(const SessionRecord& session);
  Result<SessionRecord> load_session(const std::string& id);
  // Newest first; "" lists every workspace's.
  Result<std::vector<SessionRecord>> list_sessions(const std::string& workspace = "");
  Status set_mode(const std::string& id, const std::string& mode);

  // Appends a message and returns its seq.
  Result<int64_t> append_message(const std::string& session, int64_t turn, const Message& message,
                                 const std::vector<int32_t>& tokens = {});
  // The active transcript (after the newest compaction), oldest first.
  Result<std::vector<TranscriptEntry>> active_messages(const std::string& session);
  Result<std::optional<Compaction>> latest_compaction(const std::string& session);
  Status add_compaction(const std::string& session, int64_t through_seq, const std::string& summary);

  Status begin_turn(const std::string& session, const TurnRecord& turn);
  Status end_turn(const std::string& session, int64_t number, const std::string& stop_reason);
  Result<std::vector<TurnRecord>> turns(const std::string& session);
  // Rewind: deletes turn `from` and every later turn, their messages and
  // any compaction that covered them.
  Status truncate_turns(const std::string& session, int64_t from);

 private:
  SessionStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status exec(const char* sql);
  sqlite3* db_ = nullptr;
  std::string path_;
};

}  // namespace beluga::agent
