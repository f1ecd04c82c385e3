#include "daemon/acp/fim_context.h"

#include <algorithm>

#include "engine/model/dsv4_tokens.h"
#include "indexer/index_store.h"
#include "indexer/indexer.h"
#include "indexer/repo_rank.h"
#include "tools/file_io.h"
#include "tools/paths.h"

namespace beluga::daemon {
namespace {

constexpr std::string_view kFimBegin = "<｜fim▁begin｜>";
constexpr std::string_view kFimHole = "<｜fim▁hole｜>";
constexpr std::string_view kFimEnd = "<｜fim▁end｜>";
// Ranked files looked at before giving up on filling the budget: a budget of
// a few thousand tokens holds a handful of files.
constexpr size_t kMaxCandidates = 64;
constexpr uint64_t kMaxFileBytes = 1 << 20;

std::string file_block(std::string_view path, std::string_view text) {
  std::string block = "## ";
  block += path;
  block += '\n';
  block += text;
  if (!text.empty() && text.back() != '\n') block += '\n';
  return block;
}

}  // namespace

Result<FimContext> fim_repository_context(const std::filesystem::path& workspace, const std::string& relative_path,
                                          int64_t budget_tokens, const indexer::TokenCounter& counter) {
  FimContext context;
  if (budget_tokens <= 0) return context;
  indexer::IndexOptions index;
  index.workspace = workspace;
  index.counter = counter;
  index.threads = 1;  // the daemon shares its cores with turns
  auto indexed = indexer::refresh_index(std::move(index));
  if (!indexed) return indexed.error();
  const std::vector<indexer::IndexedFile>& files = indexed->files;

  indexer::RankFocus focus;
  focus.files.push_back(relative_path);
  const auto rank = indexer::rank_repository(files, focus);
  const auto order = indexer::files_by_importance(files, rank, focus);

  tools::ToolContext confinement;
  confinement.roots = {workspace};
  std::vector<std::pair<std::string, std::string>> chosen;  // path, block; most related first
  int64_t left = budget_tokens;
  size_t looked = 0;
  for (size_t i : order) {
    if (looked++ >= kMaxCandidates || left <= 0) break;
    const indexer::IndexedFile& file = files[i];
    if (file.path == relative_path) continue;
    // The index's count (same counter) rules out what cannot fit before reading.
    if (file.tokens > left) continue;
    auto path = tools::resolve_in_workspace(confinement, file.path, tools::PathUse::kRead);
    if (!path) continue;
    auto content = tools::read_confined(*path, kMaxFileBytes);
    if (!content || !content->exists || tools::looks_binary(content->bytes)) continue;
    std::string block = file_block(file.path, tools::to_valid_utf8(content->bytes));
    const int64_t tokens = counter.count(block);
    if (tokens > left) continue;
    left -= tokens;
    context.tokens += tokens;
    chosen.emplace_back(file.path, std::move(block));
  }
  // Least related first: the most related file ends next to the edited code.
  std::reverse(chosen.begin(), chosen.end());
  for (auto& [path, block] : chosen) {
    context.files.push_back(path);
    context.text += block;
  }
  return context;
}

std::string fim_prompt(const FimContext& context, std::string_view relative_path, std::string_view prefix,
                       std::string_view suffix) {
  std::string prompt(dsv4::kBos);
  prompt += context.text;
  prompt += "## ";
  prompt += relative_path;
  prompt += '\n';
  prompt += kFimBegin;
  prompt += prefix;
  prompt += kFimHole;
  prompt += suffix;
  prompt += kFimEnd;
  return prompt;
}

}  // namespace beluga::daemon
