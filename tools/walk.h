// A confined, bounded walk of a workspace folder for glob, list and grep.
//
// Folders are opened from the workspace root with O_NOFOLLOW on every
// component and then entered with openat(O_NOFOLLOW): symlinks are listed
// but never followed, so a walk cannot leave the workspace or loop. Entries
// are visited in sorted order (deterministic output). Ignore rules
// (ignore_rules.h) come from .git/info/exclude, the root's .gitignore, the
// .gitignore of every folder between the root and the start, and each folder
// entered; ".git" is always skipped. An explicitly named start folder is
// walked even if it is ignored (as ripgrep does), with the rules still
// applied below it.
//
// The walk stops at ToolLimits::max_walk_entries entries, max_walk_depth
// folders deep, at the deadline, or when the session is cancelled; the
// result says why, so tools can tell the model the listing is partial.
//
// Thread contract: one walk per call; no shared state.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>
#include <functional>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "tools/paths.h"
#include "tools/tool.h"
#include "tools/tool_support.h"

namespace beluga::tools {

struct WalkEntry {
  enum class Type { kFile, kFolder, kSymlink, kOther };
  std::string path;  // relative to the workspace root, '/'-separated
  Type type = Type::kFile;
  uint64_t size_bytes = 0;
  int depth = 0;     // 1 for the start folder's own entries
};

struct WalkOptions {
  bool recursive = true;
  int max_depth = 64;  // folders entered below the start (1: only its entries)
  // Asked before entering a folder (path relative to the root); false prunes it.
  std::function<bool(const std::string& folder)> enter;
};

struct WalkResult {
  std::vector<WalkEntry> entries;
  int64_t ignored = 0;        // entries skipped by ignore rules (not counting below ignored folders)
  bool complete = true;
  std::string stopped_because;  // when !complete: "the 200000-entry limit", "the 10 s time limit", ...
};

// Walks `start` (a folder; a file gives just itself).
Result<WalkResult> walk_workspace(const ConfinedPath& start, const ToolContext& context, const WalkOptions& options,
                                  const Deadline& deadline);

// "src/a.cpp": `start` relative to its root as walk paths are written ("" for the root).
std::string walk_path(const ConfinedPath& path);

// Reads a small file (an ignore-rule file) named `name` below the directory
// `dir_fd` without following symlinks; "" when absent, unreadable, not a
// regular file or larger than `max_bytes`.
std::string read_small_file_at(int dir_fd, const char* name, uint64_t max_bytes);

// The entry names of the directory open at `dir_fd` (not closed; "." and
// ".." left out), sorted. `on_entry`, when given, is called per entry and
// stops the listing by returning false (a budget). Empty when unreadable.
std::vector<std::string> sorted_entry_names(int dir_fd, const std::function<bool()>& on_entry = {});

}  // namespace beluga::tools
