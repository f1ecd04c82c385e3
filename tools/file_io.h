// File access for the tools, always through confinement (paths.h): whole-file
// reads with a size cap, atomic writes (temp file + rename in the same
// folder, the file's mode kept), removal, and the small text facts the tools
// share (content hash, binary detection, line endings, UTF-8 repair for
// display).
//
// Every call opens the path from its workspace root with O_NOFOLLOW on each
// component (open_confined / open_confined_parent), so a folder swapped for a
// symlink after resolve_in_workspace makes the call fail instead of escaping.
//
// Thread contract: free functions; no shared state.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/base/result.h"
#include "tools/paths.h"

namespace beluga::tools {

struct FileContent {
  bool exists = false;
  std::string bytes;
  mode_t mode = 0644;  // permission bits of the existing file
};

// Reads a whole regular file. A missing file is {exists = false} (not an
// error); folders, devices and files above `max_bytes` are errors.
Result<FileContent> read_confined(const ConfinedPath& path, uint64_t max_bytes);

// Replaces (or creates) `path` atomically: a temp file in the same folder,
// written, fsynced, given `mode` (or the existing file's mode, or 0666 &
// ~umask for a new file), then renamed over the target. Missing parent
// folders are created. On failure the target is untouched.
Status write_confined_atomically(const ConfinedPath& path, std::string_view bytes,
                                 std::optional<mode_t> mode = std::nullopt);

// The text tools' view of a file (ToolContext::files): read_current is
// read_confined with an existing file's bytes replaced by the front end's
// text when it has it; write_current writes through the front end when it
// takes the write, else write_confined_atomically.
Result<FileContent> read_current(const ToolContext& context, const ConfinedPath& path, uint64_t max_bytes);
Status write_current(const ToolContext& context, const ConfinedPath& path, std::string_view bytes,
                     std::optional<mode_t> mode = std::nullopt);

// Removes a file (not a folder). A missing file is an error.
Status remove_confined(const ConfinedPath& path);

// Content hash for the stale-file check: FNV-1a 64 over the bytes, with the
// length, as text ("5f1c...:1234"). Collisions are not a security concern
// here: the check guards against honest concurrent edits.
std::string content_hash(std::string_view bytes);

// A file is binary when its first 8000 bytes contain a NUL (git's rule).
bool looks_binary(std::string_view bytes);

// True when more line breaks are CRLF than bare LF.
bool uses_crlf(std::string_view bytes);

// Valid UTF-8 is returned as is; each invalid byte becomes U+FFFD.
bool is_valid_utf8(std::string_view bytes);
std::string to_valid_utf8(std::string_view bytes);

// "src/a.cpp" for the model: the path relative to its root.
std::string display_path(const ConfinedPath& path);

}  // namespace beluga::tools
