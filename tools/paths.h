// Confinement: every path a tool touches is resolved before use (relative
// to the first workspace root, "..", symlinks, absolute paths) and must land
// inside one of the workspace roots. Paths that do not exist yet (a file to
// create) resolve through their deepest existing ancestor.
//
// Resolution alone leaves a window between check and use (a symlink swapped
// in after the check). Tools that open files therefore also open them with
// open_confined(), which walks from the root one component at a time with
// O_NOFOLLOW, so a swapped symlink makes the open fail instead of escaping.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "engine/base/result.h"
#include "tools/tool.h"

namespace beluga::tools {

enum class PathUse {
  kRead,    // must exist
  kWrite,   // may not exist yet; never inside a .git folder
  kAny,     // may not exist (e.g. a grep root that is checked later)
};

struct ConfinedPath {
  std::filesystem::path absolute;  // canonical where it exists
  std::filesystem::path root;      // the workspace root it lies in
  std::filesystem::path relative;  // to that root ("." for the root itself)
};

Result<ConfinedPath> resolve_in_workspace(const ToolContext& context, std::string_view path, PathUse use);

// Opens `path` (already resolved) with open(2) `flags`/`mode`, walking from
// its root with O_NOFOLLOW on every component. Returns the file descriptor.
Result<int> open_confined(const ConfinedPath& path, int flags, int mode = 0644);

// The folder that holds `path`, opened the same way (from the root, with
// O_NOFOLLOW on every component), and the last component's name: for
// creating, renaming and removing entries with the *at() calls, so that the
// entry touched is the one checked. With `create_missing`, missing folders
// are created (mode 0777 & ~umask) on the way. The caller closes dir_fd.
struct ConfinedParent {
  int dir_fd = -1;
  std::string name;
};
Result<ConfinedParent> open_confined_parent(const ConfinedPath& path, bool create_missing);

}  // namespace beluga::tools
