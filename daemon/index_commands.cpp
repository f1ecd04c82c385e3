#include "daemon/index_commands.h"
#include "daemon/command_output.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/base/files.h"
#include "engine/model/tokenizer.h"
#include "indexer/content.h"
#include "indexer/indexer.h"

namespace beluga {
namespace {

using nlohmann::json;

// The project's tokenizer as the indexer's counting function. Identity: the
// git blob id of the tokenizer.json, so replacing the file recounts.
Result<indexer::TokenCounter> tokenizer_counter(const std::string& path) {
  auto bytes = read_text_file(path, uint64_t{1} << 30);
  if (!bytes) return bytes.error();
  auto tokenizer = Tokenizer::parse(*bytes, path);
  if (!tokenizer) return tokenizer.error();
  indexer::TokenCounter counter;
  counter.identity = "tokenizer:" + indexer::content_hash(*bytes);
  counter.estimated = false;
  // File contents are untrusted text: no added-token ids (allow_special = false).
  counter.count = [tokenizer = std::move(*tokenizer)](std::string_view text) {
    thread_local std::vector<int32_t> ids;
    ids.clear();
    tokenizer.encode_into(text, false, ids);
    return static_cast<int64_t>(ids.size());
  };
  return counter;
}

// "\r[=====>    ] 120/400 files" on stderr, at most ten times a second.
class ProgressBar {
 public:
  void update(size_t done, size_t total) {
    auto now = std::chrono::steady_clock::now();
    if (done != total && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    const int width = 30;
    int filled = total ? static_cast<int>(width * done / total) : width;
    std::string bar(static_cast<size_t>(filled), '=');
    if (filled < width) bar += '>', bar += std::string(static_cast<size_t>(width - filled - 1), ' ');
    std::fprintf(stderr, "\rindexing [%s] %zu/%zu files", bar.c_str(), done, total);
    std::fflush(stderr);
    shown_ = true;
  }
  ~ProgressBar() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
  }

 private:
  std::chrono::steady_clock::time_point last_{};
  bool shown_ = false;
};

// "too large (123 bytes; ...)" -> "too large"; "unreadable: ..." -> "unreadable".
std::string reason_kind(const std::string& reason) {
  size_t cut = reason.find_first_of("(:");
  std::string kind = reason.substr(0, cut);
  while (!kind.empty() && kind.back() == ' ') kind.pop_back();
  return kind;
}

json report_json(const indexer::IndexReport& r, const indexer::TokenCounter& counter) {
  json languages = json::object();
  for (const auto& [name, totals] : r.totals.languages)
    languages[name] = {{"files", totals.files}, {"tokens", totals.tokens}};
  json skipped = json::array(), untagged = json::array();
  for (const auto& s : r.skipped) skipped.push_back({{"path", s.path}, {"reason", s.reason}});
  for (const auto& s : r.untagged) untagged.push_back({{"path", s.path}, {"reason", s.reason}});
  return {
      {"workspace", r.workspace},
      {"database", r.database},
      {"files", r.totals.files},
      {"symbols", r.totals.symbols},
      {"references", r.totals.references},
      {"tokens", r.totals.tokens},
      {"tokens_estimated", r.tokens_estimated},
      {"token_counter", counter.identity},
      {"languages", languages},
      {"syntax_errors", r.totals.syntax_errors},
      {"changes",
       {{"added", r.added}, {"updated", r.updated}, {"removed", r.removed}, {"renamed", r.renamed},
        {"unchanged", r.unchanged}}},
      {"ignored", r.ignored},
      {"skipped", skipped},
      {"untagged", untagged},
      {"git", r.git},
      {"rebuilt_because", r.rebuilt_because.empty() ? json(nullptr) : json(r.rebuilt_because)},
      {"seconds", r.seconds},
  };
}

void print_report(const indexer::IndexReport& r) {
  std::printf("indexed %s in %.2f s (%lld added, %lld updated, %lld removed, %lld renamed, %lld unchanged)\n",
              r.workspace.c_str(), r.seconds, static_cast<long long>(r.added), static_cast<long long>(r.updated),
              static_cast<long long>(r.removed), static_cast<long long>(r.renamed),
              static_cast<long long>(r.unchanged));
  std::printf("files       %lld\n", static_cast<long long>(r.totals.files));
  std::printf("symbols     %lld\n", static_cast<long long>(r.totals.symbols));
  std::printf("references  %lld\n", static_cast<long long>(r.totals.references));
  std::printf("tokens      %lld%s\n", static_cast<long long>(r.totals.tokens),
              r.tokens_estimated ? " (estimated: bytes/3; --tokenizer FILE counts exactly)" : "");
  std::string languages;
  for (const auto& [name, totals] : r.totals.languages)
    languages += (languages.empty() ? "" : ", ") + name + " " + std::to_string(totals.files);
  std::printf("languages   %s\n", languages.empty() ? "none" : languages.c_str());
  if (r.totals.syntax_errors)
    std::printf("syntax      %lld file(s) with syntax errors (indexed as far as they parse)\n",
                static_cast<long long>(r.totals.syntax_errors));
  if (!r.skipped.empty()) {
    std::map<std::string, int> kinds;
    for (const auto& s : r.skipped) ++kinds[reason_kind(s.reason)];
    std::string text;
    for (const auto& [kind, n] : kinds) text += (text.empty() ? "" : ", ") + kind + " " + std::to_string(n);
    std::printf("skipped     %zu (%s)\n", r.skipped.size(), text.c_str());
  }
  for (const auto& u : r.untagged) std::printf("untagged    %s: %s\n", u.path.c_str(), u.reason.c_str());
  std::printf("ignored     %lld (%s)\n", static_cast<long long>(r.ignored),
              r.git ? "git's ignore rules" : ".gitignore files; not a git repository");
  std::printf("index       %s\n", r.database.c_str());
}

Result<indexer::IndexReport> run_update(indexer::IndexOptions& options, bool show_progress) {
  std::optional<ProgressBar> bar;
  if (show_progress && ::isatty(STDERR_FILENO)) {
    bar.emplace();
    options.progress = [&bar](size_t done, size_t total) { bar->update(done, total); };
  }
  return indexer::update_index(options);
}

}  // namespace

CLI::App* add_index_command(CLI::App& app, IndexCommand& cmd) {
  CLI::App* sub = app.add_subcommand(
      "index", "Index a workspace (files, symbols, references, tokens) into its cache; incremental");
  sub->add_option("PATH", cmd.workspace, "Workspace folder")->required();
  sub->add_flag("--json", cmd.json, "Print the report as JSON (docs/indexer.md)");
  sub->add_option("--tokenizer", cmd.tokenizer_path,
                  "tokenizer.json to count tokens with (default: estimate bytes/3, marked estimated)")
      ->check(CLI::ExistingFile);
  sub->add_option("--max-file-bytes", cmd.max_file_bytes,
                  "Skip files larger than this (generated or vendored giants; default 1048576)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 32));
  sub->add_option("--threads", cmd.threads, "Parsing threads (default: one per core)")->check(CLI::Range(1, 1024));
  return sub;
}

CLI::App* add_symbols_command(CLI::App& app, SymbolsCommand& cmd) {
  CLI::App* sub = app.add_subcommand("symbols", "List the definitions and references of a name in a workspace");
  sub->add_option("PATH", cmd.workspace, "Workspace folder")->required();
  sub->add_option("NAME", cmd.name, "Symbol name (exact)")->required();
  sub->add_flag("--json", cmd.json, "Print {\"name\", \"definitions\": [...], \"references\": [...]}");
  return sub;
}

int run_index(const IndexCommand& cmd) {
  indexer::IndexOptions options;
  auto root = indexer::canonical_workspace(cmd.workspace);
  if (!root) return fail(root.message());
  options.workspace = *root;
  options.max_file_bytes = cmd.max_file_bytes;
  options.threads = cmd.threads;
  if (!cmd.tokenizer_path.empty()) {
    auto counter = tokenizer_counter(cmd.tokenizer_path);
    if (!counter) return fail(counter.message());
    options.counter = std::move(*counter);
    std::error_code ec;
    options.tokenizer_path = std::filesystem::absolute(cmd.tokenizer_path, ec).string();
  }
  auto report = run_update(options, true);
  if (!report) return fail(report.message());
  if (!report->rebuilt_because.empty()) std::cerr << "beluga: note: " << report->rebuilt_because << "\n";
  if (cmd.json)
    std::cout << report_json(*report, options.counter).dump(2) << "\n";
  else
    print_report(*report);
  return 0;
}

Result<UpdatedIndex> update_index_for_query(const std::string& workspace, const std::string& tokenizer_path) {
  auto root = indexer::canonical_workspace(workspace);
  if (!root) return root.error();
  indexer::IndexOptions options;
  options.workspace = *root;
  auto database = indexer::default_index_path(*root);
  if (!database) return database.error();
  options.database_path = *database;
  if (!tokenizer_path.empty()) {
    auto counter = tokenizer_counter(tokenizer_path);
    if (!counter) return counter.error();
    options.counter = std::move(*counter);
    std::error_code ec;
    options.tokenizer_path = std::filesystem::absolute(tokenizer_path, ec).string();
  } else {
    // Count the way the index was built, so an up-to-date index is not
    // recounted; a tokenizer that no longer loads falls back to the estimate.
    auto meta = indexer::IndexStore::read_meta(*database);
    if (auto it = meta.find("tokenizer_path"); it != meta.end() && !it->second.empty()) {
      if (auto counter = tokenizer_counter(it->second)) {
        options.counter = std::move(*counter);
        options.tokenizer_path = it->second;
      }
    }
  }
  auto report = run_update(options, true);
  if (!report) return report.error();
  if (!report->rebuilt_because.empty()) std::cerr << "beluga: note: " << report->rebuilt_because << "\n";
  return UpdatedIndex{std::move(options), std::move(*report)};
}

int run_symbols(const SymbolsCommand& cmd) {
  if (cmd.name.empty()) return fail("the symbol name is empty");
  auto updated = update_index_for_query(cmd.workspace, "");
  if (!updated) return fail(updated.message());
  const indexer::IndexOptions& options = updated->options;

  std::string ignored;
  auto store = indexer::IndexStore::open(options.database_path, options.counter.identity, ignored);
  if (!store) return fail(store.message());
  auto definitions = (*store)->definitions_of(cmd.name);
  if (!definitions) return fail(definitions.message());
  auto references = (*store)->references_to(cmd.name);
  if (!references) return fail(references.message());

  if (cmd.json) {
    json defs = json::array(), refs = json::array();
    for (const auto& d : *definitions)
      defs.push_back({{"path", d.path},
                      {"language", d.language},
                      {"kind", d.definition.kind},
                      {"line", d.definition.start_line},
                      {"end_line", d.definition.end_line},
                      {"signature", d.definition.signature}});
    for (const auto& r : *references)
      refs.push_back(
          {{"path", r.path}, {"language", r.language}, {"kind", r.reference.kind}, {"line", r.reference.line}});
    std::cout << json{{"name", cmd.name}, {"definitions", defs}, {"references", refs}}.dump(2) << "\n";
    return 0;
  }
  if (definitions->empty() && references->empty()) {
    std::printf("no definitions or references of %s in %s\n", cmd.name.c_str(), options.workspace.c_str());
    return 0;
  }
  std::printf("definitions of %s (%zu)\n", cmd.name.c_str(), definitions->size());
  for (const auto& d : *definitions)
    std::printf("  %s:%d-%d  %s  %s\n", d.path.c_str(), d.definition.start_line, d.definition.end_line,
                d.definition.kind.c_str(), d.definition.signature.c_str());
  std::printf("references to %s (%zu)\n", cmd.name.c_str(), references->size());
  for (const auto& r : *references)
    std::printf("  %s:%d  %s\n", r.path.c_str(), r.reference.line, r.reference.kind.c_str());
  return 0;
}

}  // namespace beluga
