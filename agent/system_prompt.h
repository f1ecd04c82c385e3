// The system message of a session: instructions, the tool declarations
// (rendered by chat_template.h in V4's "## Tools" format) and the
// repository context.
//
// The repository context is supplied by a function given a token budget.
// The default, packed_context(), is the indexer's context packer: the
// workspace's index brought up to date, then a base packing (map, whole
// files ranked by PageRank, signatures; indexer/context_packer.h).
// file_list_context() (the files with their sizes) remains for a workspace
// that cannot be indexed.
//
// The system message is written once per session and stored with it: its
// tokens are the start of the KV cache, which must not change under a
// running session.
//
// Thread contract: pure functions (the default context source reads the
// workspace).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/result.h"
#include "engine/model/chat_template.h"
#include "tools/tool.h"

namespace beluga::agent {

using TokenCount = std::function<int64_t(std::string_view text)>;

// Repository context text for `workspace` within `budget_tokens`.
using RepoContextSource =
    std::function<Result<std::string>(const std::filesystem::path& workspace, int64_t budget_tokens)>;

// The default source: "Files in the workspace:" then one "path (N bytes)"
// line per file, sorted, stopping with a "... and K more files" line when
// the budget runs out.
RepoContextSource file_list_context(TokenCount count);

// The context packer's base packing of the workspace within the budget,
// counted with `count` (whose rule `counter_identity` names, as the index
// records it). The index lives at its default path ($XDG_CACHE_HOME/beluga)
// and is updated incrementally first. The packing leaves no room for
// deltas (reserve 0: the system message is written once per session). A
// budget too small for the packer's map falls back to file_list_context.
// `progress` (optional) hears the indexing: files done of files to look at.
RepoContextSource packed_context(TokenCount count, std::string counter_identity,
                                 std::function<void(size_t done, size_t total)> progress = {});

std::vector<ToolDeclaration> tool_declarations(const tools::ToolRegistry& registry);

// The system message's text (without tools, which render_prompt adds).
std::string system_prompt_text(const std::filesystem::path& workspace, const std::string& repo_context);

}  // namespace beluga::agent
