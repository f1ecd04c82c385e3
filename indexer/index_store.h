// The index of one workspace: a SQLite database (WAL journal) holding
//
//   files     id, path (unique, workspace-relative), hash (git blob id),
//             size_bytes, mtime_ns, checked_ns (when the stat was taken:
//             see indexer.cpp on racy timestamps), language, tokens,
//             syntax_error (tree-sitter recovered from an error), symbols
//             and refs (the file's row counts, so totals need not count
//             the big tables)
//   symbols   file_id, name, kind, start_line, end_line, signature
//   refs      file_id, name, kind, line
//   contents  FTS5 table (unicode61 tokenizer) of each file's text as
//             UTF-8, rowid = files.id
//   meta      key/value: token_counter (identity of the TokenCounter the
//             counts came from), tokenizer_path, workspace, indexed_at,
//             walk (the last walk's record: walk_cache.h)
//
// Self-checking: PRAGMA application_id holds kIndexMagic ("BELI") and
// PRAGMA user_version the schema version. An existing file is trusted only
// if it opens as SQLite, carries both, passes PRAGMA quick_check and was
// counted with the same token counter; anything else (another version,
// garbage bytes, a half-written file, a different tokenizer) is deleted
// together with its -wal/-shm files and rebuilt, and the reason returned.
// The index is a cache: rebuilding loses nothing.
//
// quick_check reads every page (70 ms on a 30 MB index), so it is skipped
// when the file is provably as beluga left it: after a successful update,
// close_clean() closes the database (checkpointing only a WAL over 1 MiB:
// connections never checkpoint on close, to spare small runs the syncs)
// and writes the identities (device, inode, size, mtime, ctime) of the
// file and of its WAL to `<index>-clean`; the next open skips quick_check
// only if both still match (and the file's own header must be SQLite's in
// WAL mode: SQLite would read page 1 from the WAL and could otherwise mask
// garbage written over the file). The stamp is removed before the first write
// of a run (begin()), so a run that crashes or fails leaves no stamp, and
// any write by another program moves mtime and ctime (ctime cannot be set
// back). What the stamp cannot see is what quick_check sees only partly:
// a disk that changes bytes without the file system knowing. A write that
// lands in the same file-system timestamp tick as beluga's own close is
// also indistinguishable (none on kernels with fine-grained timestamps).
//
// Thread contract: one IndexStore per thread (SQLite connections are not
// shared); several processes may open the same file (SQLite locking; a
// writer waits up to 10 s for another).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "indexer/tags.h"

namespace beluga::indexer {

inline constexpr int kIndexSchemaVersion = 4;
inline constexpr int32_t kIndexMagic = 0x42454C49;  // "BELI"

struct StoredFile {
  int64_t id = 0;
  std::string path;
  std::string hash;
  uint64_t size_bytes = 0;
  int64_t mtime_ns = 0;
  int64_t checked_ns = 0;
};

// Everything stored for one file.
struct FileRecord {
  std::string path;
  std::string hash;
  uint64_t size_bytes = 0;
  int64_t mtime_ns = 0;
  int64_t checked_ns = 0;
  std::string language;
  int64_t tokens = 0;
  bool syntax_error = false;
  std::string text;  // valid UTF-8, for the full-text index
  FileTags tags;
};

struct LanguageTotals {
  int64_t files = 0;
  int64_t tokens = 0;
};

struct IndexTotals {
  int64_t files = 0;
  int64_t symbols = 0;
  int64_t references = 0;
  int64_t tokens = 0;
  int64_t syntax_errors = 0;  // files tree-sitter had to recover in
  std::map<std::string, LanguageTotals> languages;
};

struct DefinitionHit {
  std::string path;
  std::string language;
  Definition definition;
};

struct ReferenceHit {
  std::string path;
  std::string language;
  Reference reference;
};

// One file with what ranking and context packing read (context_packer.h).
struct IndexedFile {
  std::string path;
  std::string hash;
  std::string language;
  uint64_t size_bytes = 0;
  int64_t tokens = 0;
  std::vector<Definition> definitions;                      // by start line
  std::vector<std::pair<std::string, int64_t>> references;  // name and count in this file, by name
};

class IndexStore {
 public:
  ~IndexStore();
  IndexStore(const IndexStore&) = delete;
  IndexStore& operator=(const IndexStore&) = delete;

  // Opens (creating folders and the file as needed) the index at `path`,
  // rebuilding it as described above; `rebuilt_because` gets the reason
  // when an existing file was thrown away ("" otherwise).
  static Result<std::unique_ptr<IndexStore>> open(const std::string& path, const std::string& token_counter,
                                                  std::string& rebuilt_because);

  // The meta table of an existing index, read-only; empty when the file is
  // missing or not a valid index.
  static std::map<std::string, std::string> read_meta(const std::string& path);

  Result<std::vector<StoredFile>> stored_files();

  // begin() also removes the clean-close stamp (above) before the first write.
  Status begin();
  Status commit();
  Status rollback();
  // True when this open created the file: its symbols and refs tables have
  // no secondary indexes yet (by name, by file), because building them once
  // from the filled tables is cheaper than row by row. The update that
  // fills a new index calls create_secondary_indexes() inside its last
  // transaction; an index whose first update stopped before then is
  // completed by the next open (correct meanwhile, only slower to query).
  bool secondary_indexes_missing() const;
  Status create_secondary_indexes();  // inside a transaction; no-op when present
  // Closes the database (checkpointing the WAL) and stamps the file as
  // cleanly closed. No other call may follow. Without it (a failed run),
  // the next open runs quick_check.
  Status close_clean();

  // Inserts or replaces the file at record.path with its symbols,
  // references and text.
  Status put_file(const FileRecord& record);
  // Same content, new stat (a touched file).
  Status touch_file(int64_t id, uint64_t size_bytes, int64_t mtime_ns, int64_t checked_ns);
  // Same content under a new path (a rename); keeps symbols and references.
  Status rename_file(int64_t id, const std::string& new_path, int64_t mtime_ns, int64_t checked_ns);
  Status remove_file(int64_t id);
  Status set_meta(const std::string& key, const std::string& value);
  // "" when the key is absent.
  Result<std::string> meta(const std::string& key);

  Result<IndexTotals> totals();
  // Definitions and references of exactly `name`, by path then line.
  Result<std::vector<DefinitionHit>> definitions_of(const std::string& name);
  Result<std::vector<ReferenceHit>> references_to(const std::string& name);
  // Paths of files whose text matches an FTS5 query, best first.
  Result<std::vector<std::string>> search_text(const std::string& fts_query, int limit);
  // Every file with its definitions and reference counts, by path.
  Result<std::vector<IndexedFile>> all_files();

 private:
  struct Impl;
  explicit IndexStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace beluga::indexer
