// Internal to indexer/: the record of one workspace walk, kept in the index
// (meta key "walk") so that the next walk can skip reading every folder and
// asking git about every path when nothing that decides the listing moved.
//
// Why: the listing costs a getdents per folder and a libgit2 ignore verdict
// per entry (libgit2 re-validates the .gitignore chain on every call), plus
// 5-15 ms of git_libgit2_init (it loads the system's CA certificates). On
// redis (1,600 files, 190 folders) that was ~35 ms of a 40 ms up-to-date
// check; the check itself only needs a stat per file.
//
// What decides a listing, and how the record watches it (git's own
// "untracked cache" argument):
//   - the names in each walked folder: a folder's mtime moves whenever an
//     entry is added, removed or renamed in it (also when a file is
//     replaced by a symlink or a folder: that is a remove and an add);
//   - the ignore rules: every .gitignore read (in walked folders and in the
//     folders between the workspace and the repository's top),
//     info/exclude, the global excludes file (core.excludesFile, or the XDG
//     default), and the git config files that could set it (system, XDG,
//     global, the repository's, and files they include via `path =`);
//   - where the repository is: the `.git` entry of the folders above the
//     workspace (one appearing above a non-git workspace makes it git's);
//   - HOME and XDG_CONFIG_HOME (they place the global files), and the walk
//     limits (part of the key).
// Each watched file is recorded by its identity (inode, size, mtime, ctime;
// "-" when absent; a folder's `.git` by kind and inode only, since git
// rewrites files inside it all the time). The record is reused only when
// every identity is unchanged and settled: its mtime more than 2 s before
// the recorded walk began (the racy-timestamp rule of indexer.h, as git's
// untracked cache applies it: a folder changed in the same instant the walk
// read it could change again without its times moving). Otherwise the walk
// runs in full and records afresh.
//
// A reused record still stats every listed file (content changes are the
// indexer's business, and sizes decide "too large") and re-resolves every
// symlink. Not watched: a bare repository appearing above a non-git
// workspace, and config includes more than one level deep.
//
// Thread contract: plain data and free functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace beluga::indexer {

struct WalkRecord {
  struct Watched {
    std::string path;      // absolute, or workspace-relative for folders ("" = the root)
    std::string identity;  // see above
  };
  enum class Kind : char { kFile = 'f', kSymlink = 'l', kOther = 'o', kTooDeep = 'D' };
  struct Entry {
    Kind kind;
    std::string path;  // workspace-relative
  };
  std::string key;                 // limits and environment
  int64_t walked_ns = 0;           // wall clock when the walk began
  bool git = false;
  int64_t ignored = 0;
  std::vector<Watched> inputs;     // ignore-rule and config files, `.git` entries above
  std::vector<Watched> folders;    // every walked folder
  std::vector<Entry> entries;      // everything listed or skipped, except ignored entries
};

// "-" when `path` does not exist; "d <inode>" for a folder when
// `folder_by_inode`; else "<inode> <size> <mtime ns> <ctime ns>". Follows
// symlinks (the rules are read through them).
std::string path_identity(const std::string& path, bool folder_by_inode = false);

// Same, for an entry open as `dir_fd` + `name` ("" = dir_fd itself), without following symlinks.
std::string folder_identity_at(int dir_fd, const char* name);

// True when `identity` was settled before `walked_ns` (its mtime more than
// 2 s earlier); absent and inode-only identities always are.
bool identity_settled(std::string_view identity, int64_t walked_ns);

std::string serialize_walk_record(const WalkRecord& record);
std::optional<WalkRecord> parse_walk_record(std::string_view text);

}  // namespace beluga::indexer
