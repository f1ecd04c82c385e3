// context_upkeep_bench: what it costs to keep a packed context up to date
// while a repository moves, measured by replaying its recent history.
//
//   build/bench/context_upkeep_bench REPO [--commits 100] [--budget 1000000]
//                                    [--reserve 0.1] [--tokenizer FILE]
//
// REPO is a git repository (a large one: fetch it for benchmarking, never
// commit it). The bench clones it (sharing its objects) into a scratch
// folder, checks out the commit --commits first-parent steps behind HEAD,
// indexes it and packs a context; then for each later commit in order it
// checks the commit out, brings the index up to date and measures, for
// each way of keeping the context current, the tokens that must be
// prefilled again as a share of the context:
//
//   append   beluga's way: update_context() appends a delta (diffs, new
//            files, signatures) to the immutable base; the prefill is the
//            delta. A compaction (re-pack when the budget would overflow)
//            costs the whole context and is counted.
//   re-pack  the plain alternative, measured in the same run: a fresh
//            pack_context() of the same workspace with the same options at
//            every commit (files rendered in path order); the prefill is
//            what follows the first token that differs from the previous
//            packing (the KV cache before it stays valid). Ids are masked.
//
// Prints per-commit lines, then median and p90 of each and the number of
// compactions, then one JSON line for scripts.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/base/files.h"
#include "engine/model/tokenizer.h"
#include "indexer/content.h"
#include "indexer/context_format.h"
#include "indexer/context_packer.h"
#include "indexer/indexer.h"

namespace {

namespace fs = std::filesystem;
using namespace beluga;
using namespace beluga::indexer;

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string run_capture(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  if (::pclose(pipe) != 0) {
    std::cerr << "context_upkeep_bench: failed: " << command << "\n";
    std::exit(1);
  }
  return out;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// The re-pack's text with its id masked: two packings of the same files
// must not differ only because their ids do.
std::string without_id(std::string text, const std::string& id) {
  for (size_t at; (at = text.find(id)) != std::string::npos;) text.replace(at, id.size(), "################");
  return text;
}

size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  size_t n = std::min(a.size(), b.size()), i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Replays a repository's history and measures the prefill needed to keep a packed context current"};
  std::string repo;
  int commits = 100;
  int64_t budget = 1'000'000;
  double reserve = 0.1;
  std::string tokenizer_path = std::string(BELUGA_GOLDEN_DIR) + "/tokenizer/tokenizer.json";
  app.add_option("REPO", repo, "A git repository")->required()->check(CLI::ExistingDirectory);
  app.add_option("--commits", commits, "How many commits to replay")->check(CLI::Range(1, 100000));
  app.add_option("--budget", budget, "Context budget in tokens");
  app.add_option("--reserve", reserve, "Share of the budget kept for deltas")->check(CLI::Range(0.0, 0.9));
  app.add_option("--tokenizer", tokenizer_path, "tokenizer.json")->check(CLI::ExistingFile);
  CLI11_PARSE(app, argc, argv);

  auto loaded = Tokenizer::load(tokenizer_path);
  if (!loaded) {
    std::cerr << "context_upkeep_bench: " << loaded.message() << "\n";
    return 1;
  }
  auto tokenizer = std::make_shared<Tokenizer>(std::move(*loaded));
  auto bytes = read_text_file(tokenizer_path, 1u << 30);
  TokenCounter counter;
  counter.identity = "tokenizer:" + content_hash(bytes ? *bytes : std::string());
  counter.estimated = false;
  counter.count = [tokenizer](std::string_view text) {
    thread_local std::vector<int32_t> ids;
    ids.clear();
    tokenizer->encode_into(text, false, ids);
    return static_cast<int64_t>(ids.size());
  };
  auto encode = [&](const std::string& text) {
    std::vector<int32_t> ids;
    tokenizer->encode_into(text, false, ids);
    return ids;
  };

  char scratch_template[] = "/tmp/beluga-upkeep-XXXXXX";
  if (!::mkdtemp(scratch_template)) return 1;
  const fs::path scratch = scratch_template;
  const fs::path tree = scratch / "tree";
  std::string history = run_capture("git -C " + shell_quote(repo) + " rev-list --first-parent -n " +
                                    std::to_string(commits + 1) + " HEAD");
  std::vector<std::string> ids;
  for (size_t start = 0, nl; (nl = history.find('\n', start)) != std::string::npos; start = nl + 1)
    ids.push_back(history.substr(start, nl - start));
  std::reverse(ids.begin(), ids.end());
  run_capture("git clone -q --shared --no-checkout " + shell_quote(repo) + " " + shell_quote(tree.string()));
  auto checkout = [&](const std::string& commit) {
    run_capture("git -C " + shell_quote(tree.string()) + " checkout -q --detach --force " + commit);
  };

  IndexOptions index_options;
  index_options.workspace = fs::canonical(tree.parent_path()) / "tree";
  index_options.database_path = (scratch / "index.sqlite").string();
  index_options.counter = counter;
  ContextOptions options;
  options.workspace = index_options.workspace;
  options.database_path = index_options.database_path;
  options.budget = budget;
  options.reserve = reserve;
  options.counter = counter;

  auto index = [&]() -> std::vector<IndexedFile> {
    auto report = update_index(index_options);
    if (!report) {
      std::cerr << "context_upkeep_bench: " << report.message() << "\n";
      std::exit(1);
    }
    std::string rebuilt;
    auto store = IndexStore::open(index_options.database_path, counter.identity, rebuilt);
    auto files = store ? (*store)->all_files() : Result<std::vector<IndexedFile>>(store.error());
    if (!files) {
      std::cerr << "context_upkeep_bench: " << files.message() << "\n";
      std::exit(1);
    }
    return std::move(*files);
  };

  checkout(ids.front());
  auto files = index();
  auto base = pack_context(options, files);
  if (!base) {
    std::cerr << "context_upkeep_bench: " << base.message() << "\n";
    return 1;
  }
  std::string current = base->id;
  std::vector<int32_t> repack_ids = encode(without_id(base->text, base->id));
  std::printf("%s at %s: %zu files; base packing %lld tokens (%lld whole, %lld signatures, %lld listed)\n",
              repo.c_str(), ids.front().substr(0, 12).c_str(), files.size(), static_cast<long long>(base->tokens),
              static_cast<long long>(base->whole), static_cast<long long>(base->signatures),
              static_cast<long long>(base->listed));

  std::vector<double> append_share, repack_share, update_ms;
  int compactions = 0;
  for (size_t c = 1; c < ids.size(); ++c) {
    checkout(ids[c]);
    auto started = std::chrono::steady_clock::now();
    files = index();
    auto r = update_context(options, files, current);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    if (!r) {
      std::cerr << "context_upkeep_bench: " << r.message() << "\n";
      return 1;
    }
    current = r->id;
    compactions += r->compacted;
    double append = r->context_tokens ? static_cast<double>(r->compacted ? r->context_tokens : r->tokens) /
                                            static_cast<double>(r->context_tokens)
                                      : 0.0;
    auto repacked = pack_context(options, files);
    if (!repacked) {
      std::cerr << "context_upkeep_bench: " << repacked.message() << "\n";
      return 1;
    }
    std::vector<int32_t> next = encode(without_id(repacked->text, repacked->id));
    double repack =
        next.empty() ? 0.0
                     : static_cast<double>(next.size() - common_prefix(repack_ids, next)) / static_cast<double>(next.size());
    repack_ids = std::move(next);
    append_share.push_back(append);
    repack_share.push_back(repack);
    update_ms.push_back(ms);
    std::printf("%3zu %s  append %7.4f %%%s (%lld tokens)  re-pack %6.2f %%  update %.0f ms\n", c,
                ids[c].substr(0, 12).c_str(), 100 * append, r->compacted ? " compacted" : "",
                static_cast<long long>(r->compacted ? r->context_tokens : r->tokens), 100 * repack, ms);
  }
  std::printf("\nprefill per commit as a share of the context, %zu commits, budget %lld tokens:\n",
              append_share.size(), static_cast<long long>(budget));
  std::printf("  append-only (beluga)  median %.4f %%  p90 %.4f %%  compactions %d   (target median <= 0.1 %%)\n",
              100 * percentile(append_share, 0.5), 100 * percentile(append_share, 0.9), compactions);
  std::vector<double> touching;
  for (double a : append_share)
    if (a > 0) touching.push_back(a);
  std::printf("  append-only, the %zu commits that touch what the context shows: median %.4f %%  p90 %.4f %%\n",
              touching.size(), 100 * percentile(touching, 0.5), 100 * percentile(touching, 0.9));
  std::printf("  re-pack (path order)  median %.4f %%  p90 %.4f %%\n", 100 * percentile(repack_share, 0.5),
              100 * percentile(repack_share, 0.9));
  std::printf("  index + context update per commit: median %.0f ms\n", percentile(update_ms, 0.5));
  nlohmann::json j = {{"repo", repo},
                      {"commits", append_share.size()},
                      {"budget", budget},
                      {"append_median", percentile(append_share, 0.5)},
                      {"append_p90", percentile(append_share, 0.9)},
                      {"compactions", compactions},
                      {"touching_commits", touching.size()},
                      {"append_touching_median", percentile(touching, 0.5)},
                      {"repack_median", percentile(repack_share, 0.5)},
                      {"repack_p90", percentile(repack_share, 0.9)},
                      {"update_ms_median", percentile(update_ms, 0.5)}};
  std::cout << j.dump() << "\n";
  std::error_code ec;
  fs::remove_all(scratch, ec);
  return 0;
}
