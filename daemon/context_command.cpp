#include "daemon/context_command.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "daemon/command_output.h"
#include "daemon/index_commands.h"
#include "engine/base/files.h"
#include "indexer/context_packer.h"

namespace beluga {
namespace {

using nlohmann::json;

struct ContextCommand {
  std::string workspace;
  int64_t budget = 0;
  std::vector<std::string> focus;
  double reserve = 0.1;
  std::string since;
  std::string tokenizer_path;
  std::string out;
  bool json = false;
};

json result_json(const indexer::ContextResult& r, const indexer::TokenCounter& counter) {
  auto or_null = [](const std::string& s) { return s.empty() ? json(nullptr) : json(s); };
  return {{"id", r.id},
          {"kind", r.delta ? "delta" : "base"},
          {"base", r.base},
          {"since", or_null(r.since)},
          {"compacted", r.compacted},
          {"compacted_because", or_null(r.compacted_because)},
          {"tokens", r.tokens},
          {"context_tokens", r.context_tokens},
          {"budget", r.budget},
          {"reserve_tokens", r.reserve_tokens},
          {"tokens_estimated", r.tokens_estimated},
          {"token_counter", counter.identity},
          {"files", {{"whole", r.whole}, {"signatures", r.signatures}, {"listed", r.listed}}},
          {"changes",
           {{"diffs", r.diffs},
            {"replaced", r.replaced},
            {"added", r.added},
            {"deleted", r.deleted},
            {"renamed", r.renamed},
            {"signatures", r.resigned}}}};
}

std::string summary(const indexer::ContextResult& r) {
  std::string s = "context " + r.id + ": ";
  if (r.delta)
    s += "delta since " + r.since + ", " + std::to_string(r.tokens) + " tokens (" + std::to_string(r.diffs) +
         " diffs, " + std::to_string(r.replaced + r.added) + " whole files, " + std::to_string(r.deleted) +
         " deleted, " + std::to_string(r.renamed) + " renamed, " + std::to_string(r.resigned) +
         " new signatures); ";
  else if (r.compacted)
    s += "re-packed (" + r.compacted_because + "); ";
  s += "the context holds " + std::to_string(r.context_tokens) + " of " + std::to_string(r.budget) +
       " tokens; " + std::to_string(r.whole) + " files whole, " + std::to_string(r.signatures) +
       " by signatures, " + std::to_string(r.listed) + " listed";
  if (r.tokens_estimated) s += " (token counts estimated: --tokenizer FILE counts exactly)";
  return s;
}

int run_context(const ContextCommand& cmd) {
  if (cmd.since.empty() && cmd.budget <= 0) return fail("context needs --budget N (tokens), or --since ID");
  auto updated = update_index_for_query(cmd.workspace, cmd.tokenizer_path);
  if (!updated) return fail(updated.message());
  std::string ignored;
  auto store = indexer::IndexStore::open(updated->options.database_path, updated->options.counter.identity, ignored);
  if (!store) return fail(store.message());
  auto files = (*store)->all_files();
  if (!files) return fail(files.message());

  indexer::ContextOptions options;
  options.workspace = updated->options.workspace;
  options.database_path = updated->options.database_path;
  options.budget = cmd.budget;
  options.reserve = cmd.reserve;
  options.focus = cmd.focus;
  options.counter = updated->options.counter;
  auto result = cmd.since.empty() ? indexer::pack_context(options, *files)
                                  : indexer::update_context(options, *files, cmd.since);
  if (!result) return fail(result.message());
  if (!result->unmatched_focus.empty()) {
    std::string names;
    for (const auto& n : result->unmatched_focus) names += (names.empty() ? "'" : ", '") + n + "'";
    return fail("--focus " + names + ": no file, folder or symbol of that name in " + options.workspace.string());
  }
  if (!cmd.out.empty())
    if (Status s = write_text_file_atomically(cmd.out, result->text); !s) return fail(s.message());
  if (cmd.json) {
    json j = result_json(*result, options.counter);
    if (cmd.out.empty())
      j["text"] = result->text;
    else
      j["out"] = cmd.out;
    std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  } else if (cmd.out.empty()) {
    std::fwrite(result->text.data(), 1, result->text.size(), stdout);
    std::cerr << "beluga: " << summary(*result) << "\n";
  } else {
    std::cout << summary(*result) << "\n";
  }
  return 0;
}

}  // namespace

void add_context_command(CLI::App& app) {
  auto cmd = std::make_shared<ContextCommand>();
  CLI::App* sub = app.add_subcommand(
      "context", "Pack a workspace into the model's context within a token budget, or append what changed");
  sub->add_option("PATH", cmd->workspace, "Workspace folder")->required();
  sub->add_option("--budget", cmd->budget, "Token budget of the whole context")->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  sub->add_option("--focus", cmd->focus, "Files, folders or symbols the task is about (ranked first)");
  sub->add_option("--reserve", cmd->reserve, "Share of the budget kept free for later deltas (default 0.1)")
      ->check(CLI::Range(0.0, 0.9));
  sub->add_option("--since", cmd->since, "Render only what changed since this recorded context id");
  sub->add_option("--tokenizer", cmd->tokenizer_path,
                  "tokenizer.json to count with (default: the one the index was built with, else an estimate)")
      ->check(CLI::ExistingFile);
  sub->add_option("--out", cmd->out, "Write the text to FILE instead of stdout");
  sub->add_flag("--json", cmd->json, "Print a JSON object (docs/indexer.md)");
  sub->callback([cmd] { throw CLI::RuntimeError(run_context(*cmd)); });
}

}  // namespace beluga
