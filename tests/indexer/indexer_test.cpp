// indexer/indexer.h and index_store.h: indexing a fixture workspace, the
// symbols found, incremental updates (edits, additions, removals, renames),
// token counting as a function passed in, and rebuilding an index that
// cannot be trusted.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "indexer/content.h"
#include "indexer/index_store.h"
#include "indexer/indexer.h"
#include "tests/indexer/fixture_repo.h"

using beluga::indexer::DefinitionHit;
using beluga::indexer::IndexOptions;
using beluga::indexer::IndexReport;
using beluga::indexer::IndexStore;
using beluga::indexer::ReferenceHit;
using beluga::indexer::update_index;
using beluga::testing::FixtureRepo;
using beluga::testing::ScratchDir;

namespace {

struct Indexed {
  FixtureRepo repo;
  ScratchDir cache;
  std::string database() const { return cache.file("index.sqlite"); }

  IndexOptions options(int threads = 2) const {
    IndexOptions o;
    o.workspace = repo.path();
    o.database_path = database();
    o.max_file_bytes = FixtureRepo::kMaxFileBytes;
    o.threads = threads;
    return o;
  }
  IndexReport run(IndexOptions o) const {
    auto report = update_index(o);
    INFO((report ? std::string() : report.message()));
    REQUIRE(report.ok());
    return *report;
  }
  IndexReport run(int threads = 2) const { return run(options(threads)); }

  std::unique_ptr<IndexStore> store() const {
    std::string rebuilt;
    auto store = IndexStore::open(database(), beluga::indexer::estimated_token_counter().identity, rebuilt);
    REQUIRE(store.ok());
    REQUIRE(rebuilt.empty());
    return std::move(*store);
  }
  std::vector<DefinitionHit> defs(const std::string& name) const {
    auto hits = store()->definitions_of(name);
    REQUIRE(hits.ok());
    return *hits;
  }
  std::vector<ReferenceHit> refs(const std::string& name) const {
    auto hits = store()->references_to(name);
    REQUIRE(hits.ok());
    return *hits;
  }
};

// Moves a file's mtime into the past so the stat check alone decides (the
// racy-timestamp rule re-hashes anything touched in the last 2 s).
void age(const std::string& path, int seconds_ago) {
  struct timespec times[2];
  clock_gettime(CLOCK_REALTIME, &times[0]);
  times[0].tv_sec -= seconds_ago;
  times[1] = times[0];
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
}

// Folds the index's WAL into the file (beluga leaves a small WAL beside it),
// so that damage written over the file is damage to the index's live pages.
void checkpoint(const std::string& database) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(database.c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
}

bool reason_of(const IndexReport& report, const std::string& path, const std::string& prefix) {
  return std::any_of(report.skipped.begin(), report.skipped.end(),
                     [&](const auto& s) { return s.path == path && s.reason.starts_with(prefix); });
}

}  // namespace

TEST_CASE("indexing a fixture workspace finds files symbols and references in every language", "[indexer]") {
  Indexed ix;
  IndexReport report = ix.run();
  CHECK(report.rebuilt_because.empty());
  CHECK(report.git);
  // 18 listed files minus the binary.
  CHECK(report.totals.files == 17);
  CHECK(report.added == 17);
  CHECK(report.ignored == 4);
  CHECK(reason_of(report, "data.bin", "binary"));
  CHECK(reason_of(report, "escape.py", "symlink outside the workspace"));
  CHECK(reason_of(report, "vendor/huge.js", "too large"));
  CHECK(report.untagged.empty());
  CHECK(report.totals.syntax_errors == 1);  // app/broken.py
  CHECK(report.totals.languages.at("cpp").files == 2);
  CHECK(report.totals.languages.at("c").files == 2);
  CHECK(report.totals.languages.at("python").files == 3);  // alias.py is indexed through its link
  CHECK(report.totals.languages.at("typescript").files == 1);
  CHECK(report.totals.languages.at("tsx").files == 1);
  CHECK(report.totals.languages.at("json").files == 1);
  CHECK(report.totals.languages.at("bash").files == 1);
  CHECK(report.totals.languages.at("text").files == 2);  // README.md, .gitignore
  CHECK(report.tokens_estimated);
  CHECK(report.totals.symbols > 15);
  CHECK(report.totals.references > 8);

  struct Expect {
    const char* name;
    const char* path;
    const char* kind;
    int line;
  };
  for (const Expect& e : std::vector<Expect>{
           {"Shape", "src/geometry.h", "class", 2},
           {"area", "src/geometry.cpp", "method", 2},
           {"total_area", "src/geometry.cpp", "function", 3},
           {"clamp_all", "src/util.c", "function", 2},
           {"latin_one", "src/latin1.c", "function", 2},
           {"Greeter", "app/main.py", "class", 1},
           {"fine", "app/broken.py", "function", 1},
           {"render", "web/app.js", "function", 1},
           {"Widget", "web/types.ts", "interface", 1},
           {"View", "web/view.tsx", "function", 1},
           {"serve", "cmd/server/main.go", "function", 2},
           {"Cache", "lib/src/lib.rs", "class", 1},
           {"make_cache", "lib/src/lib.rs", "function", 2},
           {"App", "java/App.java", "class", 1},
       }) {
    auto hits = ix.defs(e.name);
    INFO(e.name);
    auto it = std::find_if(hits.begin(), hits.end(), [&](const DefinitionHit& h) { return h.path == e.path; });
    REQUIRE(it != hits.end());
    CHECK(it->definition.kind == e.kind);
    CHECK(it->definition.start_line == e.line);
  }
  CHECK(ix.defs("generated").empty());       // ignored build/ folder
  CHECK(ix.defs("outside_secret").empty());  // behind the escaping symlink
  CHECK(ix.defs("greet").size() == 2);       // app/main.py and its alias
  auto clamp_calls = ix.refs("clamp");
  REQUIRE(clamp_calls.size() == 1);
  CHECK(clamp_calls[0].path == "src/util.c");
  CHECK(clamp_calls[0].reference.kind == "call");
  CHECK(clamp_calls[0].reference.line == 2);
  CHECK(ix.refs("serve").size() == 1);
  CHECK(ix.refs("helper").size() == 1);

  auto found = ix.store()->search_text("zebracorn", 10);
  REQUIRE(found.ok());
  CHECK(*found == std::vector<std::string>{"README.md"});
  auto bad_query = ix.store()->search_text("\"unbalanced", 10);  // FTS5 syntax error: an error, not a crash
  CHECK_FALSE(bad_query.ok());
  auto latin = ix.store()->search_text("crème", 10);  // stored as U+FFFD, not matched as UTF-8 "è"
  REQUIRE(latin.ok());
  CHECK(latin->empty());
}

TEST_CASE("a second run with nothing changed re-parses nothing", "[indexer]") {
  Indexed ix;
  IndexReport first = ix.run();
  IndexReport second = ix.run();
  CHECK(second.added == 0);
  CHECK(second.updated == 0);
  CHECK(second.removed == 0);
  CHECK(second.renamed == 0);
  CHECK(second.unchanged == first.totals.files);
  CHECK(second.totals.symbols == first.totals.symbols);
  CHECK(second.totals.references == first.totals.references);
  CHECK(second.totals.tokens == first.totals.tokens);
}

TEST_CASE("edits additions removals and renames are applied incrementally", "[indexer]") {
  Indexed ix;
  ix.run();
  // Edit: a new function in util.c.
  beluga::testing::put(ix.repo.root(), "src/util.c",
                       "static int clamp(int v) { return v < 0 ? 0 : v; }\nint clamp_twice(int v) { return clamp(clamp(v)); }\n");
  // Add, remove, rename (same content under a new path).
  beluga::testing::put(ix.repo.root(), "web/extra.js", "function extra() { return render(1); }\n");
  std::filesystem::remove(ix.repo.root().file("java/App.java"));
  std::filesystem::rename(ix.repo.root().file("cmd/server/main.go"), ix.repo.root().file("cmd/main.go"));
  // A touched file with unchanged content is not re-parsed.
  age(ix.repo.root().file("README.md"), 100);

  IndexReport report = ix.run();
  CHECK(report.updated == 1);
  CHECK(report.added == 1);
  CHECK(report.removed == 1);
  CHECK(report.renamed == 1);
  CHECK(report.totals.files == 17);

  CHECK(ix.defs("clamp_all").empty());
  REQUIRE(ix.defs("clamp_twice").size() == 1);
  CHECK(ix.refs("clamp").size() == 2);
  REQUIRE(ix.defs("extra").size() == 1);
  CHECK(ix.refs("render").size() == 1);
  CHECK(ix.defs("App").empty());
  CHECK(ix.refs("helper").empty());
  auto serve = ix.defs("serve");
  REQUIRE(serve.size() == 1);
  CHECK(serve[0].path == "cmd/main.go");  // moved with its symbols
  CHECK(ix.refs("serve").at(0).path == "cmd/main.go");
}

TEST_CASE("a file that becomes ignored binary or too large leaves the index", "[indexer]") {
  Indexed ix;
  ix.run();
  REQUIRE(ix.defs("render").size() == 1);
  REQUIRE(ix.defs("Greeter").size() == 2);
  REQUIRE(ix.defs("make_cache").size() == 1);
  beluga::testing::put(ix.repo.root(), ".gitignore", "build/\n*.log\nweb/app.js\n");
  beluga::testing::put(ix.repo.root(), "app/main.py", std::string("class Greeter:\0", 15));
  beluga::testing::put(ix.repo.root(), "lib/src/lib.rs", std::string(FixtureRepo::kMaxFileBytes + 1, '/'));
  IndexReport report = ix.run();
  CHECK(report.removed == 4);  // web/app.js, app/main.py, its alias alias.py, lib/src/lib.rs
  CHECK(ix.defs("render").empty());
  CHECK(ix.defs("Greeter").empty());
  CHECK(ix.defs("make_cache").empty());
  CHECK(reason_of(report, "app/main.py", "binary"));
  CHECK(reason_of(report, "lib/src/lib.rs", "too large"));
}

TEST_CASE("the token counter is a function passed in and its change recounts everything", "[indexer]") {
  Indexed ix;
  IndexReport estimated = ix.run();
  CHECK(estimated.tokens_estimated);
  CHECK(estimated.totals.tokens > 0);

  // A counter that counts lines: every file is counted again with it.
  std::atomic<int> calls{0};
  IndexOptions options = ix.options();
  options.counter.identity = "test:lines";
  options.counter.estimated = false;
  options.counter.count = [&calls](std::string_view text) {
    ++calls;
    return static_cast<int64_t>(std::count(text.begin(), text.end(), '\n'));
  };
  IndexReport exact = ix.run(options);
  CHECK_FALSE(exact.rebuilt_because.empty());
  CHECK(exact.rebuilt_because.find("test:lines") != std::string::npos);
  CHECK(exact.added == 17);
  CHECK(calls == 17);
  CHECK_FALSE(exact.tokens_estimated);
  // The README has 2 lines; the whole fixture far fewer lines than bytes/4.
  CHECK(exact.totals.tokens < estimated.totals.tokens);
  CHECK(exact.totals.languages.at("text").tokens == 2 + 2);  // README.md + .gitignore
}

TEST_CASE("garbage written over the index is detected and the index rebuilt", "[indexer]") {
  Indexed ix;
  IndexReport first = ix.run();
  {
    std::string garbage(8192, '\0');
    for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>((i * 7919) & 0xff);
    beluga::testing::write_text(ix.database(), garbage);
    std::filesystem::remove(ix.database() + "-wal");
    std::filesystem::remove(ix.database() + "-shm");
  }
  IndexReport second = ix.run();
  CHECK(second.rebuilt_because.find("not a SQLite database") != std::string::npos);
  CHECK(second.added == first.totals.files);
  CHECK(second.totals.symbols == first.totals.symbols);
  CHECK(ix.defs("Shape").size() == 1);
}

TEST_CASE("an index of another schema version or another program is rebuilt", "[indexer]") {
  Indexed ix;
  ix.run();
  auto set_pragma = [&](const std::string& sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(ix.database().c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  };
  set_pragma("PRAGMA user_version = 99");
  IndexReport report = ix.run();
  CHECK(report.rebuilt_because.find("schema version is 99") != std::string::npos);
  CHECK(report.added == 17);

  set_pragma("PRAGMA application_id = 12345");
  report = ix.run();
  CHECK(report.rebuilt_because.find("not a beluga index") != std::string::npos);
  CHECK(ix.defs("Shape").size() == 1);
}

TEST_CASE("parallel and serial indexing store the same symbols", "[indexer]") {
  Indexed serial, parallel;
  IndexReport one = serial.run(1);
  IndexReport many = parallel.run(8);
  CHECK(one.totals.files == many.totals.files);
  CHECK(one.totals.symbols == many.totals.symbols);
  CHECK(one.totals.references == many.totals.references);
  CHECK(one.totals.tokens == many.totals.tokens);
}

TEST_CASE("bad workspace paths are errors with the path named", "[indexer]") {
  ScratchDir cache;
  IndexOptions options;
  options.database_path = cache.file("index.sqlite");
  options.workspace = "/nonexistent/beluga/ws";
  auto missing = update_index(options);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.message().find("/nonexistent/beluga/ws") != std::string::npos);

  beluga::testing::write_text(cache.file("file.txt"), "x");
  options.workspace = cache.file("file.txt");
  auto not_folder = update_index(options);
  REQUIRE_FALSE(not_folder.ok());
  CHECK(not_folder.message().find("not a folder") != std::string::npos);
}

TEST_CASE("the default index lives under XDG_CACHE_HOME per workspace", "[indexer]") {
  ::setenv("XDG_CACHE_HOME", "/tmp/beluga-cache-test", 1);
  auto a = beluga::indexer::default_index_path("/home/u/proj");
  auto b = beluga::indexer::default_index_path("/home/v/proj");
  ::unsetenv("XDG_CACHE_HOME");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->starts_with("/tmp/beluga-cache-test/beluga/index/proj-"));
  CHECK(a->ends_with(".sqlite"));
  CHECK(*a != *b);
}

TEST_CASE("an edit that keeps size and mtime is caught while the timestamp is racy", "[indexer]") {
  Indexed ix;
  ix.run();
  // Same size, same mtime, other content: only the racy-timestamp rule
  // (mtime within 2 s of the last check) makes the indexer read it again.
  std::string path = ix.repo.root().file("src/util.c");
  struct stat before {};
  REQUIRE(::stat(path.c_str(), &before) == 0);
  std::string text = beluga::testing::read_text(path);
  std::string edited = text;
  edited.replace(edited.find("clamp_all"), 9, "clamp_any");
  beluga::testing::write_text(path, edited);
  struct timespec times[2] = {before.st_atim, before.st_mtim};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);

  IndexReport report = ix.run();
  CHECK(report.updated == 1);
  CHECK(ix.defs("clamp_all").empty());
  CHECK(ix.defs("clamp_any").size() == 1);
}

TEST_CASE("progress is reported up to the number of listed files", "[indexer]") {
  Indexed ix;
  IndexOptions options = ix.options();
  size_t calls = 0, last_done = 0, last_total = 0;
  bool monotonic = true;
  options.progress = [&](size_t done, size_t total) {
    monotonic = monotonic && done > last_done && done <= total;
    ++calls, last_done = done, last_total = total;
  };
  ix.run(options);
  CHECK(monotonic);
  CHECK(calls == 18);  // every listed file is read once: 17 indexed + the binary
  CHECK(last_done == 18);
  CHECK(last_total == 18);
}

TEST_CASE("an index with damaged pages behind a valid header is rebuilt", "[indexer]") {
  Indexed ix;
  IndexReport first = ix.run();
  checkpoint(ix.database());
  std::string bytes = beluga::testing::read_text(ix.database());
  REQUIRE(bytes.size() > 8192);
  bool wal_pending = std::filesystem::exists(ix.database() + "-wal") &&
                     std::filesystem::file_size(ix.database() + "-wal") > 0;
  REQUIRE_FALSE(wal_pending);
  for (size_t i = 4096; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 131) ^ 0xA5);
  beluga::testing::write_text(ix.database(), bytes);  // page 1 (header, schema) intact

  IndexReport second = ix.run();
  INFO(second.rebuilt_because);
  CHECK_FALSE(second.rebuilt_because.empty());
  CHECK(second.added == first.totals.files);
  CHECK(second.totals.symbols == first.totals.symbols);
  CHECK(ix.defs("Greeter").size() == 2);
}

TEST_CASE("damage that restores the index file's mtime is still caught by the clean-close stamp", "[indexer]") {
  // quick_check is skipped only when <index>-clean names the file exactly
  // as the last run left it; ctime cannot be set back, so this damage still
  // sends the next open through quick_check.
  Indexed ix;
  IndexReport first = ix.run();
  REQUIRE(std::filesystem::exists(ix.database() + "-clean"));
  checkpoint(ix.database());
  struct stat before {};
  REQUIRE(::stat(ix.database().c_str(), &before) == 0);
  std::string bytes = beluga::testing::read_text(ix.database());
  REQUIRE(bytes.size() > 8192);
  for (size_t i = 4096; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 131) ^ 0xA5);
  beluga::testing::write_text(ix.database(), bytes);
  struct timespec times[2] = {before.st_atim, before.st_mtim};
  REQUIRE(::utimensat(AT_FDCWD, ix.database().c_str(), times, 0) == 0);

  IndexReport second = ix.run();
  INFO(second.rebuilt_because);
  CHECK(second.rebuilt_because.find("corrupt") != std::string::npos);
  CHECK(second.added == first.totals.files);
  CHECK(ix.defs("Greeter").size() == 2);
}

TEST_CASE("a run that is cut off before closing leaves no clean-close stamp", "[indexer]") {
  Indexed ix;
  ix.run();
  REQUIRE(std::filesystem::exists(ix.database() + "-clean"));
  {
    std::string rebuilt;
    auto store = IndexStore::open(ix.database(), beluga::indexer::estimated_token_counter().identity, rebuilt);
    REQUIRE(store.ok());
    CHECK(rebuilt.empty());
    CHECK(std::filesystem::exists(ix.database() + "-clean"));  // reading keeps it
    REQUIRE((*store)->begin().ok());
    CHECK_FALSE(std::filesystem::exists(ix.database() + "-clean"));  // writing drops it first
    REQUIRE((*store)->rollback().ok());
  }  // destroyed without close_clean(): as after a crash or a failed run
  CHECK_FALSE(std::filesystem::exists(ix.database() + "-clean"));
  IndexReport again = ix.run();
  CHECK(again.rebuilt_because.empty());
  CHECK(std::filesystem::exists(ix.database() + "-clean"));
}

TEST_CASE("a run that finds nothing to change writes nothing to the index", "[indexer]") {
  Indexed ix;
  // Settle everything (files past the racy window, folders and ignore rules
  // for the walk record), then index once.
  struct timespec times[2];
  clock_gettime(CLOCK_REALTIME, &times[0]);
  times[0].tv_sec -= 10;
  times[1] = times[0];
  for (const std::string& dir : {ix.repo.path(), ix.repo.config_dir().path()}) {
    std::vector<std::string> paths{dir};
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) paths.push_back(entry.path().string());
    for (const auto& path : paths) REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
  }
  IndexReport first = ix.run();
  struct stat before {}, wal_before {};
  REQUIRE(::stat(ix.database().c_str(), &before) == 0);
  REQUIRE(::stat((ix.database() + "-wal").c_str(), &wal_before) == 0);
  std::string stamp = beluga::testing::read_text(ix.database() + "-clean");

  IndexReport second = ix.run();
  CHECK(second.unchanged == first.totals.files);
  CHECK(second.added + second.updated + second.removed + second.renamed == 0);
  CHECK(second.totals.symbols == first.totals.symbols);
  struct stat after {};
  REQUIRE(::stat(ix.database().c_str(), &after) == 0);
  CHECK(after.st_mtim.tv_sec == before.st_mtim.tv_sec);
  CHECK(after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
  CHECK(after.st_size == before.st_size);
  CHECK(beluga::testing::read_text(ix.database() + "-clean") == stamp);
  struct stat wal_after {};
  REQUIRE(::stat((ix.database() + "-wal").c_str(), &wal_after) == 0);
  CHECK(wal_after.st_size == wal_before.st_size);
  CHECK(wal_after.st_mtim.tv_nsec == wal_before.st_mtim.tv_nsec);
}

namespace {

// The names of the secondary indexes the index's file holds now.
std::vector<std::string> secondary_indexes(const std::string& database) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(database.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db,
                             "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' "
                             "ORDER BY name",
                             -1, &stmt, nullptr) == SQLITE_OK);
  std::vector<std::string> names;
  while (sqlite3_step(stmt) == SQLITE_ROW)
    names.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return names;
}

}  // namespace

TEST_CASE("a new index gets its by-name and by-file indexes at the end of its first run", "[indexer]") {
  const std::vector<std::string> all = {"refs_by_file", "refs_by_name", "symbols_by_file", "symbols_by_name"};
  Indexed ix;
  {
    // A first run cut off after its first batch: the tables hold rows, the
    // secondary indexes do not exist yet.
    std::string rebuilt;
    auto store = IndexStore::open(ix.database(), beluga::indexer::estimated_token_counter().identity, rebuilt);
    REQUIRE(store.ok());
    CHECK((*store)->secondary_indexes_missing());
    beluga::indexer::FileRecord record;
    record.path = "early.c";
    record.hash = "0123";
    record.language = "c";
    record.text = "int early(void);";
    record.tags.definitions.push_back({"early", "function", 1, 1, "int early(void);"});
    record.tags.references.push_back({"early", "call", 1});
    REQUIRE((*store)->begin().ok());
    REQUIRE((*store)->put_file(record).ok());
    REQUIRE((*store)->commit().ok());
  }  // no close_clean(): as after a crash
  CHECK(secondary_indexes(ix.database()).empty());
  {
    // The next open completes the schema before anything else is written;
    // the rows written so far stay and are found through the new indexes.
    std::unique_ptr<IndexStore> store = ix.store();
    CHECK_FALSE(store->secondary_indexes_missing());
    CHECK(secondary_indexes(ix.database()) == all);
    auto hits = store->definitions_of("early");
    REQUIRE(hits.ok());
    CHECK(hits->size() == 1);
  }

  // A new index filled by a whole run has them, and they answer.
  Indexed fresh;
  IndexReport report = fresh.run();
  CHECK(report.added > 0);
  CHECK(secondary_indexes(fresh.database()) == all);
  CHECK(fresh.defs("Greeter").size() == 2);
  CHECK_FALSE(fresh.store()->secondary_indexes_missing());
}

TEST_CASE("content hashes are git blob ids and text is made valid UTF-8 run by run", "[indexer]") {
  using beluga::indexer::content_hash;
  using beluga::indexer::to_valid_utf8;
  // `git hash-object --stdin` of the same bytes.
  CHECK(content_hash("hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a");
  CHECK(content_hash("") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
  std::string big(100000, 'x');
  big[5000] = '\0';
  CHECK(content_hash(big) != content_hash(std::string(100000, 'x')));
  // Valid runs (ASCII and multi-byte) are kept; each bad sequence becomes
  // one U+FFFD with its stray continuation bytes; a truncated sequence at
  // the end too.
  CHECK(to_valid_utf8("plain ascii") == "plain ascii");
  CHECK(to_valid_utf8("ab\xC3\xA9" "cd\xFF\x80x\xE2\x82") == "ab\xC3\xA9" "cd\xEF\xBF\xBDx\xEF\xBF\xBD");
  CHECK(to_valid_utf8("\xED\xA0\x80z") == "\xEF\xBF\xBDz");  // a surrogate
  CHECK(to_valid_utf8("\xF0\x9F\x98\x80") == "\xF0\x9F\x98\x80");
}
