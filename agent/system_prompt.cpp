#include "agent/system_prompt.h"

#include "indexer/context_packer.h"
#include "indexer/indexer.h"
#include "indexer/workspace_files.h"

namespace beluga::agent {

RepoContextSource file_list_context(TokenCount count) {
  return [count](const std::filesystem::path& workspace, int64_t budget_tokens) -> Result<std::string> {
    indexer::WalkLimits limits;
    limits.max_file_bytes = UINT64_MAX;  // list big files too; the listing is about names
    auto listing = indexer::list_workspace_files(workspace, limits);
    if (!listing) return listing.error();
    std::string out = "Files in the workspace (" + std::to_string(listing->files.size()) + "):\n";
    int64_t used = count(out);
    size_t shown = 0;
    for (const auto& file : listing->files) {
      std::string line = file.path + " (" + std::to_string(file.size_bytes) + " bytes)\n";
      const int64_t cost = count(line);
      if (used + cost + 16 > budget_tokens) break;
      out += line;
      used += cost;
      ++shown;
    }
    if (shown < listing->files.size())
      out += "... and " + std::to_string(listing->files.size() - shown) + " more files (use glob or list to see them)\n";
    return out;
  };
}

std::vector<ToolDeclaration> tool_declarations(const tools::ToolRegistry& registry) {
  std::vector<ToolDeclaration> out;
  for (const tools::ToolSpec* spec : registry.all()) {
    ToolDeclaration d;
    d.name = spec->name;
    d.description = spec->description;
    d.parameters_json = spec->parameters_schema;
    out.push_back(std::move(d));
  }
  return out;
}

RepoContextSource packed_context(TokenCount count, std::string counter_identity,
                                 std::function<void(size_t done, size_t total)> progress) {
  return [count, counter_identity, progress](const std::filesystem::path& workspace,
                                             int64_t budget_tokens) -> Result<std::string> {
    indexer::TokenCounter counter;
    counter.identity = counter_identity;
    counter.estimated = counter_identity.rfind("estimate:", 0) == 0;
    counter.count = count;
    indexer::IndexOptions index;
    index.workspace = workspace;
    index.counter = counter;
    index.progress = progress;
    auto indexed = indexer::refresh_index(std::move(index));
    if (!indexed) return indexed.error();
    indexer::ContextOptions options;
    options.workspace = workspace;
    options.database_path = indexed->database;
    options.budget = budget_tokens;
    options.reserve = 0;
    options.counter = counter;
    auto packed = indexer::pack_context(options, indexed->files);
    if (!packed) return file_list_context(count)(workspace, budget_tokens);
    return packed->text;
  };
}

std::string system_prompt_text(const std::filesystem::path& workspace, const std::string& repo_context) {
  std::string text =
      "You are beluga, a coding assistant working in the repository at " + workspace.string() +
      ". You make changes with the tools declared below: read files before editing them, keep edits minimal and "
      "exact, run the project's tests or build with the shell tool when you change code, and commit only when "
      "asked. Paths are relative to the workspace root. When a tool returns an error, read it and adjust: do not "
      "repeat a call that was refused. Some calls need the user's permission; a denied call is not an error in your "
      "work, so choose another way or explain what you need. When the task is done, answer with a short summary "
      "of what you changed and why, without a tool call.";
  if (!repo_context.empty()) text += "\n\n# Repository\n\n" + repo_context;
  return text;
}

}  // namespace beluga::agent
