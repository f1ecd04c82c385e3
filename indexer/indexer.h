// Indexing a workspace: the entry point of indexer/.
//
// update_index() brings the workspace's index up to date:
//   1. open the index (index_store.h: rebuilt if old, corrupt or counted
//      with another tokenizer);
//   2. list the workspace (workspace_files.h: git's ignore rules, size cap,
//      symlinks), from the last walk's record when nothing that decided it
//      moved (walk_cache.h: a stat per file, no folder reads, no libgit2);
//   3. compare with the index: a file whose size and mtime match the index,
//      and whose mtime is more than 2 s older than when it was last checked,
//      is unchanged without being read (git's "racy timestamp" rule: a file
//      written in the same instant it was indexed might change again
//      without its mtime moving); any other file is read and hashed, and
//      only a changed hash is re-parsed;
//   4. a new path whose content equals a removed path's is a rename: the
//      row moves, nothing is parsed;
//   5. changed files are read, parsed and counted on `threads` workers (one
//      TagExtractor each); the main thread writes the results in
//      transactions of up to 256 files, so a crash loses at most a batch
//      and the index stays consistent (the first transaction starts at the
//      first write: a run with nothing to change writes nothing);
//   6. paths that disappeared (deleted, now ignored, now binary or too
//      large) are removed.
// One file's failure (unreadable, binary, a parser gave up) skips that file
// with a reason; the run goes on. Only an index that cannot be opened or
// written fails the run.
//
// Thread contract: one update per workspace at a time within a process;
// separate processes are serialised by SQLite's locks.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "indexer/index_store.h"
#include "indexer/token_count.h"
#include "indexer/workspace_files.h"

namespace beluga::indexer {

struct IndexOptions {
  std::filesystem::path workspace;
  std::string database_path;  // "" = default_index_path(workspace)
  uint64_t max_file_bytes = 1 << 20;
  int threads = 0;            // 0 = one per core
  TokenCounter counter = estimated_token_counter();
  std::string tokenizer_path;  // recorded in meta so later runs can count the same way
  // Called on the calling thread after each file is handled (done <= total).
  std::function<void(size_t done, size_t total)> progress;
};

struct IndexReport {
  std::string workspace;  // canonical
  std::string database;
  IndexTotals totals;
  bool tokens_estimated = true;
  bool git = false;  // ignore rules came from git
  // What this run did.
  int64_t added = 0, updated = 0, unchanged = 0, removed = 0, renamed = 0;
  int64_t ignored = 0;
  std::vector<SkippedFile> skipped;  // with reasons, sorted by path
  // Indexed as text only, because tags could not be extracted (a grammar or
  // query that failed to load, a parser that gave up), with the reason.
  std::vector<SkippedFile> untagged;
  std::string rebuilt_because;       // "" unless an existing index was thrown away
  double seconds = 0;
};

// $XDG_CACHE_HOME/beluga/index/<folder name>-<16 hex digits of the
// canonical path's hash>.sqlite ($HOME/.cache when XDG_CACHE_HOME is unset).
Result<std::string> default_index_path(const std::filesystem::path& canonical_workspace);

// The workspace folder as the index names it: canonical, and checked to be
// an existing folder (a clear error otherwise).
Result<std::filesystem::path> canonical_workspace(const std::string& path);

Result<IndexReport> update_index(const IndexOptions& options);

// What the agent's context and beluga/complete read before packing or
// ranking: the index at its default path brought up to date (update_index
// with `options.database_path` filled in), then every indexed file's row.
struct IndexedWorkspace {
  std::string database;
  std::vector<IndexedFile> files;
};
Result<IndexedWorkspace> refresh_index(IndexOptions options);

}  // namespace beluga::indexer
