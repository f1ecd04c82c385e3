// The files of a workspace that belong in the index.
//
// Ignore rules: when the workspace is a git working tree (or a folder inside
// one), git decides, through libgit2's ignore API: .gitignore files at every
// level, .git/info/exclude and the user's global excludes (core.excludesFile),
// exactly as `git status` would. A folder outside any repository honours its
// .gitignore files with tools/ignore_rules.h. ".git" is never entered.
//
// Skipped, and reported with a reason (never silently):
//   - files above `max_file_bytes` (generated or vendored giants: bundles,
//     lock files, amalgamations) — "too large";
//   - symlinks whose target resolves outside the workspace — "symlink
//     outside the workspace"; broken symlinks — "broken symlink";
//   - sockets, FIFOs and devices — "not a regular file".
// Symlinks to files inside the workspace are listed under their own path
// (the content is read through the link); symlinks to folders are never
// followed, so a walk cannot loop or visit a folder twice.
// Binary files are recognised later, when their bytes are read (content.h).
//
// Entries come sorted by path (deterministic output); paths are relative to
// the workspace root, '/'-separated.
//
// Thread contract: one call, no shared state (libgit2 is initialised once
// per process and kept).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/result.h"

namespace beluga::indexer {

struct WorkspaceFile {
  std::string path;
  uint64_t size_bytes = 0;
  int64_t mtime_ns = 0;
  bool via_symlink = false;
};

struct SkippedFile {
  std::string path;
  std::string reason;
};

struct WalkLimits {
  uint64_t max_file_bytes = 1 << 20;
  int max_depth = 64;
  int64_t max_entries = 2'000'000;  // a runaway tree is reported, not walked forever
};

struct WorkspaceListing {
  std::vector<WorkspaceFile> files;
  std::vector<SkippedFile> skipped;
  int64_t ignored = 0;  // files and folders excluded by ignore rules
  bool git = false;     // ignore rules came from git
  bool complete = true;
  std::string stopped_because;
  bool from_record = false;  // rebuilt from the previous walk's record (walk_cache.h)
};

// `root` must be an existing folder (canonical path). `previous_record`:
// what the last call put in `record` ("" for none); when everything that
// decided that listing is unchanged (walk_cache.h), the listing is rebuilt
// from it by a stat per listed entry, without reading folders or asking
// git. `record`, when given, receives this listing's record ("" when it
// must not be reused: an incomplete walk, or an entry that could not be read).
Result<WorkspaceListing> list_workspace_files(const std::filesystem::path& root, const WalkLimits& limits,
                                              std::string_view previous_record = {}, std::string* record = nullptr);

}  // namespace beluga::indexer
