// Checkpoints: snapshots of a workspace's working tree that any turn can be
// rewound to, edits made by shell commands included.
//
// What a snapshot holds: exactly the files present in the working tree that
// git would consider part of the project, i.e. tracked files plus untracked
// files that are not ignored (.gitignore, .git/info/exclude,
// core.excludesFile). Regular files keep their executable bit (git's 100644 /
// 100755), symlinks are stored as links (their target text), never
// followed. Deleted tracked files are simply absent. Never part of a
// snapshot, and never touched by a restore ("unmanaged"): ignored files,
// anything named .git (and names git cannot store in a tree: ".GIT",
// "git~1"), nested repositories (a folder with its own .git), files larger
// than kMaxCheckpointFileBytes, and special files (sockets, fifos, devices).
//
// Storage (format version 1), all inside the repository's own object
// database, nothing else on disk:
//   blobs + trees   written as git writes them (raw bytes, no filters)
//   commit          tree = the snapshot, no parents, author/committer
//                   "beluga <beluga@localhost>", message:
//                       beluga checkpoint <session>/<n>
//
//                       <label, if any>
//
//                       Beluga-Checkpoint-Format: 1
//                       Beluga-Session: <session>
//                       Beluga-Head: <HEAD commit id, or "none">
//                       Beluga-Files: <number of files>
//   ref             refs/beluga/checkpoints/<session>/<n>, n = 1, 2, ...
// A commit without the format trailer, or with another version, is refused
// as "not a checkpoint this beluga understands". Snapshot trees read back
// are checked like hostile input (no "..", ".git" or empty components).
// HEAD, the index, the stash, branches and reflogs are never touched: the
// refs above are invisible to `git log`, `git status` and `git stash list`,
// and `git for-each-ref refs/beluga` shows them; deleting them lets git gc
// reclaim the objects.
//
// Restore puts the working tree back exactly: files that differ are
// rewritten (atomically: temp file + rename), missing ones recreated,
// executable bits and symlinks restored, and files created since the
// checkpoint removed, except those ignored under either the current or the
// restored ignore rules (ignored files are never deleted) and unmanaged
// ones. Folders emptied by the removal are removed. A path that cannot be
// restored (a folder holding ignored files where the snapshot has a file)
// is reported as a conflict; the rest is still restored. A restore is
// user-initiated (an agent/user action, not something the model decides):
// take a checkpoint first if the current state may be wanted back.
//
// Thread contract: free functions; each call opens its own repository. Two
// calls on the same workspace at once are not coordinated (the agent runs
// one turn at a time per workspace).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/base/result.h"

namespace beluga::tools {

inline constexpr uint64_t kMaxCheckpointFileBytes = 64ull * 1024 * 1024;
inline constexpr int kCheckpointFormat = 1;

struct Checkpoint {
  std::string id;          // "<session>/<n>", what the functions below take
  std::string session;
  int64_t number = 0;
  std::string ref;         // refs/beluga/checkpoints/<session>/<n>
  std::string commit;      // hex ids
  std::string tree;
  std::string head;        // HEAD's commit when taken; "" when there was none
  std::string label;
  int64_t files = 0;
  int64_t created_unix_s = 0;
};

struct RestoreReport {
  std::vector<std::string> written;    // created or rewritten (content or type)
  std::vector<std::string> modes;      // only the executable bit changed
  std::vector<std::string> removed;    // created since the checkpoint, deleted
  std::vector<std::string> conflicts;  // could not be restored, with the reason
  int64_t unchanged = 0;
};

struct CheckpointDiff {
  std::vector<std::string> files;  // "M  src/a.cpp" (git's status letters)
  std::string patch;               // stat summary + patch, capped
};

// Snapshots `workspace` (the top folder of a git repository) for `session`
// (letters, digits, '.', '_', '-'; at most 100) and returns the new
// checkpoint, numbered one past the session's last.
Result<Checkpoint> create_checkpoint(const std::filesystem::path& workspace, const std::string& session,
                                     const std::string& label = "");

// Puts the working tree back to checkpoint `id` ("<session>/<n>").
Result<RestoreReport> restore_checkpoint(const std::filesystem::path& workspace, const std::string& id);

// Checkpoints of `session` ("" = every session), oldest first per session.
Result<std::vector<Checkpoint>> list_checkpoints(const std::filesystem::path& workspace,
                                                 const std::string& session = "");

// Changes from checkpoint `from_id` to checkpoint `to_id` ("" = the current
// working tree, snapshotted the same way), patch capped to `limit_bytes`.
Result<CheckpointDiff> diff_checkpoints(const std::filesystem::path& workspace, const std::string& from_id,
                                        const std::string& to_id = "", uint64_t limit_bytes = 64 * 1024);

}  // namespace beluga::tools
