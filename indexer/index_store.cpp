#include "indexer/index_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

namespace beluga::indexer {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSchema = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files(
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE,
  hash TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL,
  checked_ns INTEGER NOT NULL,
  language TEXT NOT NULL,
  tokens INTEGER NOT NULL,
  syntax_error INTEGER NOT NULL,
  symbols INTEGER NOT NULL,
  refs INTEGER NOT NULL
);
CREATE TABLE symbols(
  id INTEGER PRIMARY KEY,
  file_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  start_line INTEGER NOT NULL,
  end_line INTEGER NOT NULL,
  signature TEXT NOT NULL
);
CREATE TABLE refs(
  id INTEGER PRIMARY KEY,
  file_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  line INTEGER NOT NULL
);
CREATE VIRTUAL TABLE contents USING fts5(text, tokenize = 'unicode61');
)sql";

// The secondary indexes of symbols and refs, part of the schema
// (IndexStore::create_secondary_indexes). A new index gets them at the end
// of its first update rather than with the tables: rows then arrive in
// name order per file, i.e. at random places in the by-name indexes, and
// building each index once from the finished table is cheaper than keeping
// it up to date row by row (callgrind, a full index of redis: 2.6 G
// instructions of writes instead of 3.2 G).
constexpr const char* kSecondaryIndexes = R"sql(
CREATE INDEX IF NOT EXISTS symbols_by_name ON symbols(name);
CREATE INDEX IF NOT EXISTS symbols_by_file ON symbols(file_id);
CREATE INDEX IF NOT EXISTS refs_by_name ON refs(name);
CREATE INDEX IF NOT EXISTS refs_by_file ON refs(file_id);
)sql";
constexpr int kSecondaryIndexCount = 4;

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;

struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

Error db_error(sqlite3* db, const std::string& doing) {
  return make_error("index database: " + doing + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

Status exec(sqlite3* db, const char* sql, const std::string& doing) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    return make_error("index database: " + doing + ": " + text);
  }
  return {};
}

// One row, one column of a pragma or query; nullopt on any failure.
std::optional<std::string> query_text(sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK) return std::nullopt;
  StmtPtr stmt(raw);
  if (sqlite3_step(raw) != SQLITE_ROW) return std::nullopt;
  const unsigned char* text = sqlite3_column_text(raw, 0);
  return text ? std::string(reinterpret_cast<const char*>(text)) : std::string();
}

// A text column; "" for NULL (the schema forbids NULLs, but a reader never
// trusts a file to follow it).
std::string column_text(sqlite3_stmt* stmt, int column) {
  const unsigned char* text = sqlite3_column_text(stmt, column);
  return text ? std::string(reinterpret_cast<const char*>(text)) : std::string();
}

// A whole decimal integer, or nullopt (never throws, unlike std::stoll: a
// damaged file may answer anything).
std::optional<int64_t> to_int(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size()) return std::nullopt;
  return value;
}

Result<DbPtr> open_db(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) return db_error(raw, "cannot open " + path);
  sqlite3_busy_timeout(raw, 10'000);
  sqlite3_extended_result_codes(raw, 1);
  // No checkpoint when a connection closes: a small WAL stays beside the
  // file (the clean-close stamp pins both), so a run that changed a few
  // files ends without the two or three syncs of a checkpoint (7-22 ms
  // under load on this machine). close_clean() checkpoints a large WAL;
  // SQLite's automatic checkpoint still bounds it during long runs.
  sqlite3_db_config(raw, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  return db;
}

// "" when the file at `path` is a usable index for `token_counter`, else
// why not. `check_pages`: run PRAGMA quick_check (see IndexStore::open on
// when it can be skipped).
std::string why_unusable(sqlite3* db, const std::string& token_counter, bool check_pages) {
  auto magic = query_text(db, "PRAGMA application_id");
  if (!magic) return std::string("it is not a SQLite database (") + sqlite3_errmsg(db) + ")";
  if (to_int(magic) != kIndexMagic) return "it is not a beluga index (application_id " + *magic + ")";
  auto version = query_text(db, "PRAGMA user_version");
  if (to_int(version) != kIndexSchemaVersion)
    return "its schema version is " + version.value_or("?") + ", this beluga writes version " +
           std::to_string(kIndexSchemaVersion);
  if (check_pages) {
    auto check = query_text(db, "PRAGMA quick_check");
    if (!check) return std::string("it cannot be checked (") + sqlite3_errmsg(db) + ")";
    if (*check != "ok") return "it is corrupt (" + *check + ")";
  }
  auto counter = query_text(db, "SELECT value FROM meta WHERE key = 'token_counter'");
  if (!counter) return "its meta table is unreadable";
  if (*counter != token_counter)
    return "its token counts come from " + *counter + ", this run counts with " + token_counter;
  return "";
}

// The file itself starts as a SQLite database in WAL mode: the 16-byte
// magic, and 2 in the read and write versions (bytes 18-19). SQLite would
// take page 1 from a WAL that holds it, so garbage written over the file
// with a WAL beside it could otherwise pass for the WAL's database.
bool has_sqlite_header(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char header[20] = {};
  if (!in.read(header, sizeof header)) return false;
  return std::string_view(header, 16) == std::string_view("SQLite format 3\0", 16) && header[18] == 2 &&
         header[19] == 2;
}

// The clean-close stamp (see IndexStore::open): `<index>-clean` holds the
// identities of the index file and its WAL as the file system records them
// when beluga last closed it after a successful update.
std::string stamp_path(const std::string& path) { return path + "-clean"; }

// Device, inode, size, modification and status-change times, as one line;
// "-" when the file does not exist. Every write through the file system
// moves mtime and ctime, and no program can set ctime back, so an equal
// identity means nothing has written the file since it was taken.
// `with_ctime` false for the WAL: SQLite re-asserts the WAL's owner with
// fchown() on every open when it runs as root, which moves ctime without a
// write; only SQLite writes the WAL, and any write moves its mtime.
std::string file_identity(const std::string& path, bool with_ctime = true) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "-";
  char text[200];
  std::snprintf(text, sizeof text, "dev %llu ino %llu size %lld mtime %lld.%09ld",
                static_cast<unsigned long long>(st.st_dev), static_cast<unsigned long long>(st.st_ino),
                static_cast<long long>(st.st_size), static_cast<long long>(st.st_mtim.tv_sec), st.st_mtim.tv_nsec);
  std::string out = text;
  if (with_ctime) {
    std::snprintf(text, sizeof text, " ctime %lld.%09ld", static_cast<long long>(st.st_ctim.tv_sec),
                  st.st_ctim.tv_nsec);
    out += text;
  }
  return out;
}

// The stamp's text for the index as it is now ("" when the file is missing).
std::string stamp_text(const std::string& path) {
  std::string db = file_identity(path);
  if (db == "-") return "";
  return "beluga-index-clean 2 db " + db + " wal " + file_identity(path + "-wal", false);
}

// True when the stamp names the index file and its WAL exactly as they are now.
bool stamp_matches(const std::string& path) {
  std::ifstream in(stamp_path(path));
  std::string stamp;
  if (!in || !std::getline(in, stamp)) return false;
  std::string now = stamp_text(path);
  return !now.empty() && stamp == now;
}

void remove_database_files(const std::string& path) {
  std::error_code ignored;
  for (const char* suffix : {"-clean", "", "-wal", "-shm", "-journal"}) fs::remove(path + suffix, ignored);
}

}  // namespace

struct IndexStore::Impl {
  std::string path;
  bool stamp_removed = false;  // the clean-close stamp is gone: writes may follow
  bool indexes_missing = false;  // a new file: see kSecondaryIndexes
  DbPtr db;
  StmtPtr insert_file, delete_file, find_file, insert_symbol, delete_symbols, insert_ref, delete_refs,
      insert_text, delete_text, touch, rename, set_meta;

  Status prepare(StmtPtr& slot, const char* sql) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v3(db.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr) != SQLITE_OK)
      return db_error(db.get(), std::string("cannot prepare ") + sql);
    slot.reset(raw);
    return {};
  }

  Status prepare_all() {
    for (auto [slot, sql] : std::initializer_list<std::pair<StmtPtr*, const char*>>{
             {&insert_file,
              "INSERT INTO files(path, hash, size_bytes, mtime_ns, checked_ns, language, tokens, syntax_error, "
              "symbols, refs) VALUES(?,?,?,?,?,?,?,?,?,?)"},
             {&delete_file, "DELETE FROM files WHERE id = ?"},
             {&find_file, "SELECT id FROM files WHERE path = ?"},
             {&insert_symbol,
              "INSERT INTO symbols(file_id, name, kind, start_line, end_line, signature) VALUES(?,?,?,?,?,?)"},
             {&delete_symbols, "DELETE FROM symbols WHERE file_id = ?"},
             {&insert_ref, "INSERT INTO refs(file_id, name, kind, line) VALUES(?,?,?,?)"},
             {&delete_refs, "DELETE FROM refs WHERE file_id = ?"},
             {&insert_text, "INSERT INTO contents(rowid, text) VALUES(?,?)"},
             {&delete_text, "DELETE FROM contents WHERE rowid = ?"},
             {&touch, "UPDATE files SET size_bytes = ?, mtime_ns = ?, checked_ns = ? WHERE id = ?"},
             {&rename, "UPDATE files SET path = ?, mtime_ns = ?, checked_ns = ? WHERE id = ?"},
             {&set_meta, "INSERT OR REPLACE INTO meta(key, value) VALUES(?,?)"},
         }) {
      if (Status s = prepare(*slot, sql); !s) return s;
    }
    return {};
  }

  // Runs a prepared statement to completion with the given bindings.
  template <class... Args>
  Status run(StmtPtr& stmt, const char* doing, const Args&... args) {
    sqlite3_stmt* s = stmt.get();
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    int index = 1;
    (bind(s, index++, args), ...);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return db_error(db.get(), doing);
    return {};
  }

  static void bind(sqlite3_stmt* s, int index, int64_t value) { sqlite3_bind_int64(s, index, value); }
  static void bind(sqlite3_stmt* s, int index, const std::string& value) {
    sqlite3_bind_text(s, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  }

  Status delete_contents_of(int64_t id) {
    if (Status s = run(delete_symbols, "delete symbols", id); !s) return s;
    if (Status s = run(delete_refs, "delete references", id); !s) return s;
    return run(delete_text, "delete text", id);
  }
};

IndexStore::IndexStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
IndexStore::~IndexStore() = default;

Result<std::unique_ptr<IndexStore>> IndexStore::open(const std::string& path, const std::string& token_counter,
                                                     std::string& rebuilt_because) {
  rebuilt_because.clear();
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec) return make_error("cannot create the index folder " + fs::path(path).parent_path().string() + ": " +
                            ec.message());

  auto impl = std::make_unique<Impl>();
  impl->path = path;
  if (fs::exists(path, ec)) {
    // Before opening: opening creates the -wal file the stamp check looks at.
    bool clean = stamp_matches(path);
    auto db = open_db(path, SQLITE_OPEN_READWRITE);
    std::string why = !has_sqlite_header(path) ? "it is not a SQLite database (its header is not SQLite's)"
                      : db                     ? why_unusable(db->get(), token_counter, !clean)
                                               : db.message();
    // Busy is not corrupt: another process holds the index (SQLite already
    // waited 10 s). Deleting a live index under it would be wrong.
    if (db && !why.empty()) {
      int code = sqlite3_extended_errcode(db->get()) & 0xff;
      if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
        return make_error("the index at " + path + " is busy (another beluga is writing it); try again");
    }
    if (why.empty()) {
      impl->db = std::move(*db);
    } else {
      rebuilt_because = "the index at " + path + " was rebuilt: " + why;
      if (db) db->reset();
      remove_database_files(path);
    }
  } else {
    remove_database_files(path);  // stale -wal/-shm of a deleted index must not be replayed
  }

  if (!impl->db) {
    auto db = open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (!db) return db.error();
    impl->db = std::move(*db);
    sqlite3* raw = impl->db.get();
    if (Status s = exec(raw, "PRAGMA journal_mode = WAL", "cannot switch to WAL"); !s) return s.error();
    std::string setup = "BEGIN;\n" + std::string(kSchema) + "PRAGMA application_id = " +
                        std::to_string(kIndexMagic) + ";\nPRAGMA user_version = " +
                        std::to_string(kIndexSchemaVersion) + ";\n";
    if (Status s = exec(raw, setup.c_str(), "cannot create the schema"); !s) return s.error();
    if (Status s = impl->prepare_all(); !s) return s.error();
    if (Status s = impl->run(impl->set_meta, "write meta", std::string("token_counter"), token_counter); !s)
      return s.error();
    if (Status s = exec(raw, "COMMIT", "cannot create the schema"); !s) return s.error();
    impl->indexes_missing = true;
  } else {
    if (Status s = exec(impl->db.get(), "PRAGMA journal_mode = WAL", "cannot switch to WAL"); !s) return s.error();
    if (Status s = impl->prepare_all(); !s) return s.error();
    // A first update that stopped before its end (a crash, a failed write)
    // left the tables without their secondary indexes: build them now,
    // before this run deletes rows by file (a full scan without them).
    auto present = query_text(impl->db.get(),
                              "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name IN "
                              "('symbols_by_name', 'symbols_by_file', 'refs_by_name', 'refs_by_file')");
    if (!present) return db_error(impl->db.get(), "cannot read the schema");
    if (to_int(present) != kSecondaryIndexCount) {
      IndexStore store(std::move(impl));
      Status s = store.begin();
      if (s) s = exec(store.impl_->db.get(), kSecondaryIndexes, "cannot create the indexes");
      if (s) s = store.commit();
      if (!s) return s.error();
      impl = std::move(store.impl_);
    }
  }
  if (Status s = exec(impl->db.get(), "PRAGMA synchronous = NORMAL", "cannot set synchronous"); !s)
    return s.error();
  // 64 MiB of page cache instead of SQLite's 2 MiB: symbols and references
  // arrive in name order per file, i.e. at random places in the by-name
  // indexes, and a small cache re-reads and re-writes those pages. A full
  // index of redis: 9,391 page reads and 28,581 writes instead of 21,063
  // and 37,986. Only pages touched are allocated: an up-to-date check
  // stays small.
  if (Status s = exec(impl->db.get(), "PRAGMA cache_size = -65536", "cannot set the cache size"); !s)
    return s.error();
  return std::unique_ptr<IndexStore>(new IndexStore(std::move(impl)));
}

std::map<std::string, std::string> IndexStore::read_meta(const std::string& path) {
  std::map<std::string, std::string> meta;
  std::error_code ec;
  if (!fs::exists(path, ec)) return meta;
  auto db = open_db(path, SQLITE_OPEN_READONLY);
  if (!db) return meta;
  auto magic = query_text(db->get(), "PRAGMA application_id");
  if (to_int(magic) != kIndexMagic) return meta;
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db->get(), "SELECT key, value FROM meta", -1, &raw, nullptr) != SQLITE_OK) return meta;
  StmtPtr stmt(raw);
  while (sqlite3_step(raw) == SQLITE_ROW) meta[column_text(raw, 0)] = column_text(raw, 1);
  return meta;
}

Result<std::vector<StoredFile>> IndexStore::stored_files() {
  sqlite3* db = impl_->db.get();
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT id, path, hash, size_bytes, mtime_ns, checked_ns FROM files", -1, &raw,
                         nullptr) != SQLITE_OK)
    return db_error(db, "cannot list files");
  StmtPtr stmt(raw);
  std::vector<StoredFile> files;
  int rc;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    StoredFile f;
    f.id = sqlite3_column_int64(raw, 0);
    f.path = column_text(raw, 1);
    f.hash = column_text(raw, 2);
    f.size_bytes = static_cast<uint64_t>(sqlite3_column_int64(raw, 3));
    f.mtime_ns = sqlite3_column_int64(raw, 4);
    f.checked_ns = sqlite3_column_int64(raw, 5);
    files.push_back(std::move(f));
  }
  if (rc != SQLITE_DONE) return db_error(db, "cannot list files");
  return files;
}

Status IndexStore::begin() {
  // The stamp goes before the first write: from here until close_clean()
  // the file is not known to be as beluga left it.
  if (!impl_->stamp_removed) {
    std::error_code ec;
    fs::remove(stamp_path(impl_->path), ec);
    if (ec) return make_error("cannot remove " + stamp_path(impl_->path) + ": " + ec.message());
    impl_->stamp_removed = true;
  }
  return exec(impl_->db.get(), "BEGIN IMMEDIATE", "cannot start a transaction");
}

Status IndexStore::close_clean() {
  Impl& d = *impl_;
  for (StmtPtr* stmt : {&d.insert_file, &d.delete_file, &d.find_file, &d.insert_symbol, &d.delete_symbols,
                        &d.insert_ref, &d.delete_refs, &d.insert_text, &d.delete_text, &d.touch, &d.rename,
                        &d.set_meta})
    stmt->reset();
  // A large WAL (a full index leaves up to SQLite's 4 MB autocheckpoint
  // size) is folded into the file now, so the next open need not re-read it
  // to rebuild its index; a small one stays (see open_db). Busy (another
  // connection reading) only leaves it for later.
  std::error_code ec;
  if (d.stamp_removed && fs::file_size(d.path + "-wal", ec) > (1u << 20) && !ec)
    (void)exec(d.db.get(), "PRAGMA wal_checkpoint(TRUNCATE)", "checkpoint");
  if (sqlite3_close(d.db.get()) != SQLITE_OK) return db_error(d.db.get(), "cannot close");
  (void)d.db.release();
  std::string identity = stamp_text(d.path);
  if (identity.empty()) return {};
  if (!d.stamp_removed) {  // nothing was written: a stamp that still matches stays
    std::ifstream in(stamp_path(d.path));
    std::string stamp;
    if (in && std::getline(in, stamp) && stamp == identity) return {};
  }
  std::string temporary = stamp_path(d.path) + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << identity << "\n";
    if (!out.flush()) return make_error("cannot write " + temporary);
  }
  fs::rename(temporary, stamp_path(d.path), ec);
  if (ec) return make_error("cannot write " + stamp_path(d.path) + ": " + ec.message());
  return {};
}
Status IndexStore::commit() { return exec(impl_->db.get(), "COMMIT", "cannot commit"); }

bool IndexStore::secondary_indexes_missing() const { return impl_->indexes_missing; }

Status IndexStore::create_secondary_indexes() {
  if (!impl_->indexes_missing) return {};
  if (Status s = exec(impl_->db.get(), kSecondaryIndexes, "cannot create the indexes"); !s) return s;
  impl_->indexes_missing = false;
  return {};
}
Status IndexStore::rollback() { return exec(impl_->db.get(), "ROLLBACK", "cannot roll back"); }

Status IndexStore::put_file(const FileRecord& r) {
  Impl& d = *impl_;
  sqlite3_stmt* find = d.find_file.get();
  sqlite3_reset(find);
  Impl::bind(find, 1, r.path);
  if (sqlite3_step(find) == SQLITE_ROW) {
    int64_t old = sqlite3_column_int64(find, 0);
    sqlite3_reset(find);
    if (Status s = d.delete_contents_of(old); !s) return s;
    if (Status s = d.run(d.delete_file, "delete file", old); !s) return s;
  }
  sqlite3_reset(find);
  if (Status s = d.run(d.insert_file, "insert file", r.path, r.hash, static_cast<int64_t>(r.size_bytes),
                       r.mtime_ns, r.checked_ns, r.language, r.tokens, static_cast<int64_t>(r.syntax_error),
                       static_cast<int64_t>(r.tags.definitions.size()), static_cast<int64_t>(r.tags.references.size()));
      !s)
    return s;
  int64_t id = sqlite3_last_insert_rowid(d.db.get());
  for (const Definition& def : r.tags.definitions)
    if (Status s = d.run(d.insert_symbol, "insert symbol", id, def.name, def.kind,
                         static_cast<int64_t>(def.start_line), static_cast<int64_t>(def.end_line), def.signature);
        !s)
      return s;
  for (const Reference& ref : r.tags.references)
    if (Status s = d.run(d.insert_ref, "insert reference", id, ref.name, ref.kind, static_cast<int64_t>(ref.line));
        !s)
      return s;
  return d.run(d.insert_text, "insert text", id, r.text);
}

Status IndexStore::touch_file(int64_t id, uint64_t size_bytes, int64_t mtime_ns, int64_t checked_ns) {
  return impl_->run(impl_->touch, "update file", static_cast<int64_t>(size_bytes), mtime_ns, checked_ns, id);
}

Status IndexStore::rename_file(int64_t id, const std::string& new_path, int64_t mtime_ns, int64_t checked_ns) {
  return impl_->run(impl_->rename, "rename file", new_path, mtime_ns, checked_ns, id);
}

Status IndexStore::remove_file(int64_t id) {
  if (Status s = impl_->delete_contents_of(id); !s) return s;
  return impl_->run(impl_->delete_file, "delete file", id);
}

Status IndexStore::set_meta(const std::string& key, const std::string& value) {
  return impl_->run(impl_->set_meta, "write meta", key, value);
}

Result<std::string> IndexStore::meta(const std::string& key) {
  sqlite3* db = impl_->db.get();
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?", -1, &raw, nullptr) != SQLITE_OK)
    return db_error(db, "cannot read meta");
  StmtPtr stmt(raw);
  Impl::bind(raw, 1, key);
  int rc = sqlite3_step(raw);
  if (rc == SQLITE_ROW) return column_text(raw, 0);
  if (rc != SQLITE_DONE) return db_error(db, "cannot read meta");
  return std::string();
}

Result<IndexTotals> IndexStore::totals() {
  sqlite3* db = impl_->db.get();
  IndexTotals totals;
  sqlite3_stmt* raw = nullptr;
  // Per-file counts kept in `files` (one row per file) rather than
  // COUNT(*) over symbols and refs, which reads a whole index of 100k rows
  // on a large workspace: this runs at the end of every update. Summed
  // here rather than with GROUP BY, whose sorter made this query a sixth
  // of an up-to-date run on redis (6.3 M instructions for 1,608 rows).
  if (sqlite3_prepare_v2(db, "SELECT language, tokens, syntax_error, symbols, refs FROM files", -1, &raw,
                         nullptr) != SQLITE_OK)
    return db_error(db, "cannot count files");
  StmtPtr stmt(raw);
  int rc;
  LanguageTotals* lang = nullptr;
  std::string lang_name;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(raw, 0);
    std::string_view name = text ? reinterpret_cast<const char*>(text) : "";
    if (!lang || name != lang_name) {  // a map lookup only when the language changes
      lang_name = std::string(name);
      lang = &totals.languages[lang_name];
    }
    int64_t tokens = sqlite3_column_int64(raw, 1);
    ++lang->files;
    lang->tokens += tokens;
    ++totals.files;
    totals.tokens += tokens;
    totals.syntax_errors += sqlite3_column_int64(raw, 2);
    totals.symbols += sqlite3_column_int64(raw, 3);
    totals.references += sqlite3_column_int64(raw, 4);
  }
  if (rc != SQLITE_DONE) return db_error(db, "cannot count files");
  return totals;
}

Result<std::vector<DefinitionHit>> IndexStore::definitions_of(const std::string& name) {
  sqlite3* db = impl_->db.get();
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db,
                         "SELECT f.path, f.language, s.kind, s.start_line, s.end_line, s.signature "
                         "FROM symbols s JOIN files f ON f.id = s.file_id WHERE s.name = ? "
                         "ORDER BY f.path, s.start_line",
                         -1, &raw, nullptr) != SQLITE_OK)
    return db_error(db, "cannot look up definitions");
  StmtPtr stmt(raw);
  Impl::bind(raw, 1, name);
  std::vector<DefinitionHit> hits;
  while (sqlite3_step(raw) == SQLITE_ROW) {
    DefinitionHit hit;
    hit.path = column_text(raw, 0);
    hit.language = column_text(raw, 1);
    hit.definition.name = name;
    hit.definition.kind = column_text(raw, 2);
    hit.definition.start_line = sqlite3_column_int(raw, 3);
    hit.definition.end_line = sqlite3_column_int(raw, 4);
    hit.definition.signature = column_text(raw, 5);
    hits.push_back(std::move(hit));
  }
  return hits;
}

Result<std::vector<ReferenceHit>> IndexStore::references_to(const std::string& name) {
  sqlite3* db = impl_->db.get();
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db,
                         "SELECT f.path, f.language, r.kind, r.line FROM refs r JOIN files f ON f.id = r.file_id "
                         "WHERE r.name = ? ORDER BY f.path, r.line",
                         -1, &raw, nullptr) != SQLITE_OK)
    return db_error(db, "cannot look up references");
  StmtPtr stmt(raw);
  Impl::bind(raw, 1, name);
  std::vector<ReferenceHit> hits;
  while (sqlite3_step(raw) == SQLITE_ROW) {
    ReferenceHit hit;
    hit.path = column_text(raw, 0);
    hit.language = column_text(raw, 1);
    hit.reference.name = name;
    hit.reference.kind = column_text(raw, 2);
    hit.reference.line = sqlite3_column_int(raw, 3);
    hits.push_back(std::move(hit));
  }
  return hits;
}

Result<std::vector<std::string>> IndexStore::search_text(const std::string& fts_query, int limit) {
  sqlite3* db = impl_->db.get();
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db,
                         "SELECT f.path FROM contents c JOIN files f ON f.id = c.rowid "
                         "WHERE contents MATCH ? ORDER BY rank LIMIT ?",
                         -1, &raw, nullptr) != SQLITE_OK)
    return db_error(db, "cannot search text");
  StmtPtr stmt(raw);
  Impl::bind(raw, 1, fts_query);
  Impl::bind(raw, 2, static_cast<int64_t>(limit));
  std::vector<std::string> paths;
  int rc;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) paths.emplace_back(column_text(raw, 0));
  if (rc != SQLITE_DONE) return db_error(db, "search '" + fts_query + "'");
  return paths;
}

Result<std::vector<IndexedFile>> IndexStore::all_files() {
  sqlite3* db = impl_->db.get();
  std::vector<IndexedFile> files;
  std::map<int64_t, size_t> slot_of_id;
  auto each_row = [db](const char* sql, const char* what, const auto& on_row) -> Status {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK) return db_error(db, what);
    StmtPtr stmt(raw);
    int rc;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) on_row(raw);
    if (rc != SQLITE_DONE) return db_error(db, what);
    return {};
  };
  Status s = each_row("SELECT id, path, hash, language, size_bytes, tokens FROM files ORDER BY path",
                      "cannot list files", [&](sqlite3_stmt* row) {
                        IndexedFile f;
                        f.path = column_text(row, 1);
                        f.hash = column_text(row, 2);
                        f.language = column_text(row, 3);
                        f.size_bytes = static_cast<uint64_t>(sqlite3_column_int64(row, 4));
                        f.tokens = sqlite3_column_int64(row, 5);
                        slot_of_id[sqlite3_column_int64(row, 0)] = files.size();
                        files.push_back(std::move(f));
                      });
  if (!s) return s.error();
  s = each_row("SELECT file_id, name, kind, start_line, end_line, signature FROM symbols "
               "ORDER BY file_id, start_line, rowid",
               "cannot list symbols", [&](sqlite3_stmt* row) {
                 auto it = slot_of_id.find(sqlite3_column_int64(row, 0));
                 if (it == slot_of_id.end()) return;
                 Definition d;
                 d.name = column_text(row, 1);
                 d.kind = column_text(row, 2);
                 d.start_line = sqlite3_column_int(row, 3);
                 d.end_line = sqlite3_column_int(row, 4);
                 d.signature = column_text(row, 5);
                 files[it->second].definitions.push_back(std::move(d));
               });
  if (!s) return s.error();
  s = each_row("SELECT file_id, name, COUNT(*) FROM refs GROUP BY file_id, name ORDER BY file_id, name",
               "cannot count references", [&](sqlite3_stmt* row) {
                 auto it = slot_of_id.find(sqlite3_column_int64(row, 0));
                 if (it == slot_of_id.end()) return;
                 files[it->second].references.emplace_back(column_text(row, 1), sqlite3_column_int64(row, 2));
               });
  if (!s) return s.error();
  return files;
}

}  // namespace beluga::indexer
