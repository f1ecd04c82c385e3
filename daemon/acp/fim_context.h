// What beluga/complete shows the model: the fill-in-the-middle prompt and
// the repository context in front of it.
//
// Prompt (DeepSeek's FIM format, on the shared embedded model):
//
//   <｜begin▁of▁sentence｜>
//   ## <related file>\n<its text>\n        one per context file, least related
//   ...                                    first, so the most related sits
//                                          nearest the code being completed
//   ## <path>\n                            the file being edited
//   <｜fim▁begin｜>PREFIX<｜fim▁hole｜>SUFFIX<｜fim▁end｜>
//
// The model writes the hole's text and ends with end-of-sentence.
//
// Context: the workspace's index is brought up to date (incremental: an
// unchanged workspace costs a stat per file), then ranked by personalised
// PageRank toward the edited file (indexer/repo_rank.h): files it
// references and files that reference it come first. Whole files are taken
// in that order while they fit the budget (counted with the model's
// tokenizer); a file that does not fit is skipped for a smaller one, the
// edited file itself is never repeated (its text is the prefix and suffix).
// Files are read through the tools' confinement (tools/paths.h), so a
// symlink cannot lead out of the workspace.
//
// Thread contract: free functions; fim_repository_context reads and
// updates the workspace's index (one update per workspace at a time, which
// the caller guarantees).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/result.h"
#include "indexer/token_count.h"

namespace beluga::daemon {

struct FimContext {
  std::string text;                // the context files, rendered as above
  std::vector<std::string> files;  // workspace-relative, in the order shown
  int64_t tokens = 0;
};

// Files related to `relative_path` within `budget_tokens` (0: none).
Result<FimContext> fim_repository_context(const std::filesystem::path& workspace, const std::string& relative_path,
                                          int64_t budget_tokens, const indexer::TokenCounter& counter);

// The whole prompt (see above).
std::string fim_prompt(const FimContext& context, std::string_view relative_path, std::string_view prefix,
                       std::string_view suffix);

}  // namespace beluga::daemon
