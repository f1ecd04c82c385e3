// The text of a packed context, as the model reads it: section headers on
// lines of their own, so the model can cite a file by its header and a
// program can read the text back (read_context_text, used by the tests to
// prove that base + deltas describe the current files exactly).
//
// A base packing (context_packer.h) is:
//
//   === BELUGA CONTEXT 1a2b3c4d5e6f7a8b: workspace redis, 1742 files ===
//   (two lines telling the model how to read what follows)
//   === MAP ===
//   src/
//     ae.c: aeCreateEventLoop, aeMain, aeProcessEvents
//   === END MAP ===
//   === FILE src/ae.c (520 lines) ===
//   ...the file, byte for byte (invalid UTF-8 shown as U+FFFD)...
//   === END FILE src/ae.c ===
//   === SIGNATURES src/server.c (98012 tokens, not shown whole) ===
//   6850: int main(int argc, char **argv)
//   === END SIGNATURES src/server.c ===
//   === END CONTEXT 1a2b3c4d5e6f7a8b ===
//
// A delta (changes since a recorded context) is:
//
//   === CHANGES since 1a2b3c4d5e6f7a8b, now 9f8e7d6c5b4a3f2e: these supersede the text above ===
//   === DIFF src/ae.c (14 lines) ===            a unified diff against the last text shown
//   === FILE src/new.c (12 lines) ===           a new file, or a rewrite smaller whole than as a diff
//   === SIGNATURES src/big.c (40960 tokens, not shown whole) ===
//   === DELETED src/old.c ===
//   === RENAMED src/a.c -> src/b.c ===          same content, new path
//   === END CHANGES 9f8e7d6c5b4a3f2e ===
//
// FILE and DIFF headers give their body's line count, so the body is read
// by count and may contain anything (even lines that look like headers); a
// FILE whose last line has no newline says ", no newline at end" and the
// renderer adds one. A path is written as is unless it contains a control
// character, " -> ", " (", or starts with a double quote or "=== ": then it is written
// as a JSON string.
//
// Thread contract: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/result.h"
#include "indexer/tags.h"

namespace beluga::indexer {

std::string context_path_text(std::string_view path);  // quoted when needed, as above

std::string render_file_section(std::string_view path, std::string_view text);
std::string render_diff_section(std::string_view path, std::string_view unified_diff);
// `tokens`: what the whole file would cost, for the header.
std::string render_signatures_section(std::string_view path, int64_t tokens, const std::vector<Definition>& defs);
std::string render_deleted_section(std::string_view path);
std::string render_renamed_section(std::string_view from, std::string_view to);

// The lines of a signatures body ("6850: int main(...)"), without line
// numbers when `with_lines` is false: what decides whether a delta must
// restate a file's signatures (line shifts alone do not).
std::string signature_lines(const std::vector<Definition>& defs, bool with_lines);

// Lines in `text` as a FILE header counts them.
int64_t count_lines(std::string_view text);

// A unified diff (---/+++ headers, @@ hunks, 3 lines of context) turning
// `before` into `after`; "" when they are equal.
Result<std::string> unified_diff(std::string_view path, std::string_view before, std::string_view after);

// `before` with a unified diff (as unified_diff writes it) applied. The
// applier is tools/patch.h's, which gives added lines the file's line
// ending: a diff that mixes '\r\n' and '\n' may not reproduce `after`
// byte for byte, so the packer checks each diff with this before using it
// and shows the whole file otherwise.
Result<std::string> apply_context_diff(std::string_view path, std::string_view before, std::string_view diff);

// What a sequence of context texts (a base then its deltas, in order) says
// about each file.
struct FileInContext {
  enum class Shown { kWhole, kSignatures, kDeleted };
  Shown shown = Shown::kWhole;
  std::string text;  // kWhole: the content; kSignatures: the body lines
};

// Reads the texts in order, applying DIFFs to the file text shown before
// them; an error names the text, line and problem (a DIFF of a file not
// shown whole, a body shorter than its count, a malformed header).
Result<std::map<std::string, FileInContext>> read_context_text(const std::vector<std::string>& texts);

}  // namespace beluga::indexer
