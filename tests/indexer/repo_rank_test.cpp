// Ranking (indexer/repo_rank.h): rank flows from referencing files to the
// files defining what they reference, and the focus steers it.
#include <catch2/catch.hpp>

#include <numeric>

#include "indexer/repo_rank.h"

using beluga::indexer::Definition;
using beluga::indexer::files_by_importance;
using beluga::indexer::IndexedFile;
using beluga::indexer::rank_repository;
using beluga::indexer::RankFocus;

namespace {

IndexedFile file(const std::string& path, std::vector<std::string> defines,
                 std::vector<std::pair<std::string, int64_t>> references) {
  IndexedFile f;
  f.path = path;
  int line = 1;
  for (auto& name : defines) f.definitions.push_back(Definition{name, "function", line, line + 2, name + "()"}), line += 3;
  f.references = std::move(references);
  return f;
}

// A library used by three callers, a helper used by one, and a loner.
std::vector<IndexedFile> small_repo() {
  return {file("a.c", {"alpha"}, {{"lib_call", 2}}),
          file("b.c", {"beta"}, {{"lib_call", 1}, {"helper", 1}}),
          file("c.c", {"gamma"}, {{"lib_call", 5}}),
          file("helper.c", {"helper"}, {}),
          file("lib.c", {"lib_call", "lib_unused"}, {}),
          file("loner.c", {"loner"}, {})};
}

size_t index_of(const std::vector<IndexedFile>& files, const std::string& path) {
  for (size_t i = 0; i < files.size(); ++i)
    if (files[i].path == path) return i;
  FAIL("no file " << path);
  return 0;
}

}  // namespace

TEST_CASE("a widely referenced file ranks first and ranks sum to one", "[rank]") {
  auto files = small_repo();
  auto rank = rank_repository(files, {});
  double sum = std::accumulate(rank.file_rank.begin(), rank.file_rank.end(), 0.0);
  CHECK(sum == Approx(1.0).epsilon(1e-6));
  auto order = files_by_importance(files, rank, {});
  CHECK(files[order[0]].path == "lib.c");
  CHECK(files[order[1]].path == "helper.c");
  CHECK(rank.file_rank[index_of(files, "lib.c")] > rank.file_rank[index_of(files, "loner.c")]);
  // Within lib.c, the referenced definition outranks the unused one.
  auto& lib_defs = rank.definition_rank[index_of(files, "lib.c")];
  CHECK(lib_defs[0] > 0);
  CHECK(lib_defs[1] == 0);
}

TEST_CASE("focus on a file or an identifier moves rank toward it", "[rank]") {
  auto files = small_repo();
  RankFocus on_loner{{"loner.c"}, {}};
  auto rank = rank_repository(files, on_loner);
  auto order = files_by_importance(files, rank, on_loner);
  CHECK(files[order[0]].path == "loner.c");

  RankFocus on_helper{{}, {"helper"}};
  auto focused = rank_repository(files, on_helper);
  auto plain = rank_repository(files, {});
  size_t h = index_of(files, "helper.c");
  CHECK(focused.file_rank[h] > plain.file_rank[h]);
  CHECK(files[files_by_importance(files, focused, on_helper)[0]].path == "helper.c");
}

TEST_CASE("names defined in many files tie them together only weakly", "[rank]") {
  // "init" is defined in seven files; x.c calls init, and real_work once.
  std::vector<IndexedFile> files;
  for (int i = 0; i < 7; ++i) files.push_back(file("mod" + std::to_string(i) + ".c", {"init"}, {}));
  files.push_back(file("work.c", {"real_work"}, {}));
  files.push_back(file("x.c", {}, {{"init", 1}, {"real_work", 1}}));
  files.push_back(file("zz_unrelated.c", {"unrelated"}, {}));  // the rank of a file nothing refers to
  auto rank = rank_repository(files, {});
  double baseline = rank.file_rank[index_of(files, "zz_unrelated.c")];
  double to_work = rank.file_rank[index_of(files, "work.c")] - baseline;
  double to_init = rank.file_rank[index_of(files, "mod0.c")] - baseline;
  CHECK(to_init > 0);
  CHECK(to_work > 5 * to_init);
}

TEST_CASE("an empty repository ranks nothing", "[rank]") {
  auto rank = rank_repository({}, {});
  CHECK(rank.file_rank.empty());
  CHECK(files_by_importance({}, rank, {}).empty());
}
