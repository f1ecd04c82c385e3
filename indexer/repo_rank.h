// Which files of a repository matter most: a personalised PageRank over the
// graph of definitions and references, in the manner of Aider's repo map.
//
// The graph: one node per file; for every identifier that file R references
// and file D defines (R != D), an edge R -> D of weight
//
//     sqrt(references of the identifier in R) * multiplier
//
// where the multiplier is 10 for identifiers named in the focus, 0.1 for
// names starting with '_' (private by convention), and 0.1 for names
// defined in more than five files (generic names such as `init` or `len`
// would otherwise tie unrelated files together). The sqrt keeps one file
// calling a helper a hundred times from outweighing a hundred files calling
// it once.
//
// PageRank with damping 0.85 and a personalisation vector: uniform over all
// files when nothing is focused, otherwise concentrated on the focused
// files and on the files defining focused identifiers. A file with no
// outgoing edges hands its rank back through the personalisation vector,
// so rank is never lost. Iterates until the L1 change is below 1e-9 or 100
// rounds; ranks sum to 1.
//
// A definition's rank is the share of rank flowing into its file along the
// edges of its name; a file's key definitions are its highest-ranked ones.
//
// Thread contract: pure functions.
#pragma once

#include <string>
#include <vector>

#include "indexer/index_store.h"

namespace beluga::indexer {

struct RankFocus {
  std::vector<std::string> files;        // workspace-relative paths
  std::vector<std::string> identifiers;  // symbol names
};

struct RepoRank {
  std::vector<double> file_rank;                     // per file, same order as the input
  std::vector<std::vector<double>> definition_rank;  // per file, per definition
};

RepoRank rank_repository(const std::vector<IndexedFile>& files, const RankFocus& focus);

// Indices of `files` from most to least important: focused files first (in
// the order given), then by rank, ties by path.
std::vector<size_t> files_by_importance(const std::vector<IndexedFile>& files, const RepoRank& rank,
                                        const RankFocus& focus);

}  // namespace beluga::indexer
