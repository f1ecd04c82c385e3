// The context packer: a workspace rendered into the model's context within
// a token budget, and kept up to date by appending, never by rewriting.
//
// Why append-only: attention is causal, and V4's compressed KV depends on
// positions, so a change early in the context forces re-prefilling
// everything after it. Measured on redis (docs/indexer.md): a re-pack in
// path order re-prefills about half the context per commit; appending
// diffs of what changed costs hundredths of a percent.
//
// A base packing (pack_context) renders, in the format of
// context_format.h:
//   1. a map: every file in a tree, each with its key definitions (highest
//      ranked first; repo_rank.h), shortened when it would take more than
//      a tenth of the budget;
//   2. whole files, chosen in order of importance (focused files first,
//      then PageRank) while they fit, rendered in path order;
//   3. signatures of the files that did not fit whole, in order of
//      importance while they fit, rendered in path order.
// A share of the budget (`reserve`, default 10 %) is left free for later
// deltas. The rendered text is counted with the counter in full at the
// end; the token count of a packing never exceeds budget - reserve.
//
// Every packing and every delta is a recorded context: an id (16 hex
// digits), the file view it leaves the model with (per path: content hash
// and how it was shown), and the texts of the files shown whole (to diff
// against later). update_context(since) renders only what changed since
// the recorded context `since`: a diff of each file shown whole (the whole
// file when that is smaller), new signatures when a file's definitions
// changed, new files, deletions and renames; and records a new context
// whose parent is `since`. When the base plus all its deltas would pass
// the budget, it re-packs instead (a compaction) and says so.
//
// Records live in a folder next to the index (<index>.contexts/, one JSON
// file per context and one text file per content hash); a record that
// cannot be read is reported, never guessed at.
//
// Thread contract: free functions; one update per workspace at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "indexer/index_store.h"
#include "indexer/token_count.h"

namespace beluga::indexer {

struct ContextOptions {
  std::filesystem::path workspace;  // canonical
  std::string database_path;        // the index the files came from
  int64_t budget = 0;               // tokens
  double reserve = 0.1;             // share of the budget kept free for deltas, in [0, 0.9]
  // Workspace-relative paths or identifiers; a name that is neither is
  // reported in ContextResult::unmatched_focus.
  std::vector<std::string> focus;
  // Importance order of the base packing: by rank, or by path (the plain
  // re-pack the upkeep benchmark compares against).
  bool path_order = false;
  TokenCounter counter = estimated_token_counter();
};

struct ContextResult {
  std::string id;
  std::string base;   // the base packing this context extends (== id for a base)
  std::string since;  // "" for a base packing
  bool delta = false;
  bool compacted = false;  // asked for a delta, got a new base packing
  std::string compacted_because;
  std::string text;            // what to append (a delta) or the whole context (a base)
  int64_t tokens = 0;          // tokens of `text`
  int64_t context_tokens = 0;  // tokens of the whole context: base plus deltas so far
  int64_t budget = 0;
  int64_t reserve_tokens = 0;
  bool tokens_estimated = true;
  // Files in the view: shown whole, by signatures, only in the map.
  int64_t whole = 0, signatures = 0, listed = 0;
  // What a delta holds.
  int64_t diffs = 0, replaced = 0, added = 0, deleted = 0, renamed = 0, resigned = 0;
  std::vector<std::string> unmatched_focus;
};

// "<database path without .sqlite>.contexts".
std::string context_records_folder(const std::string& database_path);

// Renders a new base packing of `files` (IndexStore::all_files of an
// up-to-date index) and records it.
Result<ContextResult> pack_context(const ContextOptions& options, const std::vector<IndexedFile>& files);

// Renders what changed since the recorded context `since_id`, or a new base
// packing when the context would overflow (see above). Nothing changed: an
// empty delta with id == since.
Result<ContextResult> update_context(const ContextOptions& options, const std::vector<IndexedFile>& files,
                                     const std::string& since_id);

}  // namespace beluga::indexer
