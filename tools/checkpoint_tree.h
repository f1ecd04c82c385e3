// Internal to checkpoints.cpp: reading the working tree the way a
// checkpoint sees it (checkpoints.h describes which files count), and
// reading a stored snapshot tree back.
//
// One walk serves three purposes, so the rules for what is "managed" can
// never drift apart between taking a snapshot and restoring one:
//   kWrite      blobs and trees are written to the object database and the
//               snapshot's tree id is returned (create, diff against now)
//   kHash       blob ids are computed without writing (restore: what is
//               there now, to skip files that are already right)
//   kPathsOnly  only which files are managed (restore: deletion check under
//               the restored ignore rules)
// An entry the walk cannot read (permission denied, vanished mid-walk) is
// unmanaged in every mode that notices, and restore only deletes files that
// every walk agreed on.
//
// Thread contract: a WorkingTreeWalker is used by one thread, for one walk.
#pragma once

#include <map>
#include <string>

#include "tools/git_support.h"

namespace beluga::tools::git {

enum class WalkMode { kWrite, kHash, kPathsOnly };

struct TreeFileEntry {
  git_oid id{};
  git_filemode_t mode = GIT_FILEMODE_BLOB;  // BLOB, BLOB_EXECUTABLE or LINK
};

struct WorkingTree {
  std::map<std::string, TreeFileEntry> files;  // repository-relative paths
  git_oid tree{};                              // kWrite only (the empty tree when no files)
  int64_t skipped = 0;                         // unmanaged entries noticed (too large, unreadable, special)
};

// Walks the working tree of `repo` (its index is read, never written).
Result<WorkingTree> walk_working_tree(git_repository* repo, WalkMode mode);

// Reads a snapshot tree back into a flat list, checking it like hostile
// input: only blobs and symlinks, no "", ".", "..", ".git" components.
Result<std::map<std::string, TreeFileEntry>> read_snapshot(git_repository* repo, const git_oid& tree);

// Whether git can store `name` as a tree entry (".git" and its NTFS
// aliases, "git~1", ".", ".." cannot).
bool storable_name(std::string_view name);

}  // namespace beluga::tools::git
