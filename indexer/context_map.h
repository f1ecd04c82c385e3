// The map at the head of a base packing (context_packer.h): every file of
// the workspace in a tree, so the model knows what exists even where it
// was not shown, with each file's key definitions (its highest-ranked
// ones, repo_rank.h). When the detailed map would pass `max_tokens` it is
// shortened, most detailed first:
//   1. files with up to five key definitions each;
//   2. files only;
//   3. folders only, each with its number of files;
//   4. top-level folders only (always rendered, whatever it costs).
//
// Thread contract: pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "indexer/index_store.h"
#include "indexer/repo_rank.h"

namespace beluga::indexer {

// Two lines under the context's first header telling the model how to read it.
inline constexpr const char* kContextPreamble =
    "How to read this: MAP lists every file; FILE sections hold whole files; SIGNATURES sections list the\n"
    "definitions (line: signature) of files not shown whole. A later CHANGES section supersedes the text above.\n";

// "=== MAP ===\n...=== END MAP ===\n"; `files` sorted by path.
std::string render_context_map(const std::vector<IndexedFile>& files, const RepoRank& rank, int64_t max_tokens,
                               const std::function<int64_t(std::string_view)>& count);

}  // namespace beluga::indexer
