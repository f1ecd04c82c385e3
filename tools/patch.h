// Unified diffs: a parser, and application as pure functions over file
// contents (fuzzed by tests/fuzz/apply_patch_fuzz.cpp). The apply_patch tool
// (patch_tool.cpp) adds confinement and the all-or-nothing commit.
//
// Accepted input (what `diff -u` and `git diff` write, and what models write
// when imitating them):
//
//   diff --git a/old b/new        optional; starts a file section
//   rename from X / rename to Y   git rename (with or without hunks)
//   new file mode / deleted file mode / index / similarity ... (mode lines ignored)
//   --- a/path  (or /dev/null)    the a/ and b/ prefixes are stripped
//   +++ b/path  (or /dev/null)
//   @@ -l,s +l,s @@ text          a hunk; a bare "@@" (no numbers) is located by context
//   ' ' context, '-' removed, '+' added, '\ No newline at end of file'
//
// Text outside file sections (a preamble, "*** Begin Patch") is ignored.
// The counts in @@ headers are advisory: the hunk body decides (models
// often miscount), and an empty line inside a hunk is an empty context line.
//
// Application: each hunk's old side (context + removed lines) must occur in
// the file, at or nearest to its stated line (after the shift of earlier
// hunks); failing an exact match, lines are compared with trailing
// whitespace ignored. Lines are compared without their line endings; added
// lines take the file's convention (CRLF stays CRLF); unchanged lines are
// copied byte for byte. Binary patches and copies are refused.
//
// Thread contract: pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/result.h"

namespace beluga::tools {

struct PatchLine {
  char kind = ' ';   // ' ' context, '-' removed, '+' added
  std::string text;  // without the line ending
};

struct Hunk {
  bool has_position = false;        // false for a bare "@@"
  int64_t old_start = 0, old_count = 0, new_start = 0, new_count = 0;
  std::vector<PatchLine> lines;
  bool old_ends_without_newline = false;  // "\ No newline..." after the old side's last line
  bool new_ends_without_newline = false;
  int64_t patch_line = 0;           // 1-based line of the @@ header in the patch
  std::string header;               // the @@ line, for messages
};

struct FilePatch {
  enum class Kind { kModify, kAdd, kDelete, kRename };
  Kind kind = Kind::kModify;
  std::string old_path;  // empty for an added file
  std::string new_path;  // empty for a deleted file
  std::vector<Hunk> hunks;
  int64_t patch_line = 0;

  const std::string& path() const { return kind == Kind::kAdd ? new_path : old_path; }
};

struct PatchLimits {
  size_t max_files = 1000;
  size_t max_hunks = 20000;
  size_t max_path_bytes = 4096;
};

// Parses a patch; an error names the patch line and what is wrong.
Result<std::vector<FilePatch>> parse_patch(std::string_view text, const PatchLimits& limits = {});

// Applies one file's hunks to its content (`name` is used in messages).
Result<std::string> apply_hunks(std::string_view content, const FilePatch& patch, std::string_view name);

// A file's state after the whole patch: new content, or nullopt for removed.
struct FileChange {
  std::string path;
  std::optional<std::string> content;
  std::optional<std::string> renamed_from;  // set on the new path of a rename
};

// Reads a file's current content; nullopt when it does not exist.
using ReadFileFn = std::function<Result<std::optional<std::string>>(const std::string& path)>;

// Computes every file's new state without writing anything: sections are
// applied in order to an in-memory view (a file may appear twice). Only
// files whose state differs from the start are returned, in first-touch
// order. Any failure fails the whole plan.
Result<std::vector<FileChange>> plan_patch(const std::vector<FilePatch>& patches, const ReadFileFn& read);

}  // namespace beluga::tools
