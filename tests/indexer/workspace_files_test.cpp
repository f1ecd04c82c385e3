// indexer/workspace_files.h: which files of a workspace are indexed, and
// why the others are not.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "indexer/workspace_files.h"
#include "tests/indexer/fixture_repo.h"

using beluga::indexer::list_workspace_files;
using beluga::indexer::WalkLimits;
using beluga::indexer::WorkspaceListing;
using beluga::testing::FixtureRepo;

namespace {

WorkspaceListing list(const FixtureRepo& repo) {
  WalkLimits limits;
  limits.max_file_bytes = FixtureRepo::kMaxFileBytes;
  auto listing = list_workspace_files(repo.path(), limits);
  REQUIRE(listing.ok());
  return *listing;
}

std::vector<std::string> paths(const WorkspaceListing& listing) {
  std::vector<std::string> out;
  for (const auto& f : listing.files) out.push_back(f.path);
  return out;
}

std::map<std::string, std::string> skipped(const WorkspaceListing& listing) {
  std::map<std::string, std::string> out;
  for (const auto& s : listing.skipped) out[s.path] = s.reason;
  return out;
}

}  // namespace

TEST_CASE("a git workspace lists its files under git's ignore rules", "[indexer][walk]") {
  FixtureRepo repo;
  WorkspaceListing listing = list(repo);
  CHECK(listing.git);
  // Sorted; the binary is still listed (it is recognised when read).
  CHECK(paths(listing) == std::vector<std::string>{
                              ".gitignore", "README.md", "alias.py", "app/broken.py", "app/main.py",
                              "cmd/server/main.go", "config.json", "data.bin", "java/App.java", "lib/src/lib.rs",
                              "run.sh", "src/geometry.cpp", "src/geometry.h", "src/latin1.c", "src/util.c",
                              "web/app.js", "web/types.ts", "web/view.tsx"});
  // build/ and *.log (.gitignore), secret.txt (.git/info/exclude), notes.bak (global excludes).
  CHECK(listing.ignored == 4);
  auto reasons = skipped(listing);
  REQUIRE(reasons.count("escape.py"));
  CHECK(reasons["escape.py"] == "symlink outside the workspace");
  REQUIRE(reasons.count("vendor/huge.js"));
  CHECK(reasons["vendor/huge.js"].starts_with("too large"));
  CHECK(reasons.size() == 2);
  auto alias = std::find_if(listing.files.begin(), listing.files.end(), [](auto& f) { return f.path == "alias.py"; });
  REQUIRE(alias != listing.files.end());
  CHECK(alias->via_symlink);
}

TEST_CASE("a folder outside git honours its .gitignore files only", "[indexer][walk]") {
  FixtureRepo repo(/*git=*/false);
  WorkspaceListing listing = list(repo);
  CHECK_FALSE(listing.git);
  auto files = paths(listing);
  auto has = [&](const std::string& p) { return std::find(files.begin(), files.end(), p) != files.end(); };
  CHECK_FALSE(has("build/generated.cpp"));
  CHECK_FALSE(has("debug.log"));
  CHECK(has("secret.txt"));  // no repository: no info/exclude
  CHECK(has("notes.bak"));   // no repository: no global excludes
  CHECK(has("src/util.c"));
}

TEST_CASE("a workspace below a repository's top folder uses the repository's rules", "[indexer][walk]") {
  FixtureRepo repo;
  beluga::testing::put(repo.root(), "src/nested/.gitignore", "skip_me.c\n");
  beluga::testing::put(repo.root(), "src/nested/skip_me.c", "int x;\n");
  beluga::testing::put(repo.root(), "src/nested/keep.c", "int y;\n");
  beluga::testing::put(repo.root(), "src/nested/trace.log", "ignored by the top .gitignore\n");
  auto listing = list_workspace_files(repo.path() + "/src/nested", WalkLimits{});
  REQUIRE(listing.ok());
  CHECK(listing->git);
  CHECK(paths(*listing) == std::vector<std::string>{".gitignore", "keep.c"});
  CHECK(listing->ignored == 2);
}

TEST_CASE("symlinks to folders are not followed and broken ones are reported", "[indexer][walk]") {
  FixtureRepo repo;
  REQUIRE(::symlink("src", repo.root().file("src_link").c_str()) == 0);
  REQUIRE(::symlink("does/not/exist", repo.root().file("dangling").c_str()) == 0);
  WorkspaceListing listing = list(repo);
  auto reasons = skipped(listing);
  CHECK(reasons["src_link"] == "symlink to a folder (not followed)");
  CHECK(reasons["dangling"] == "broken symlink");
  for (const auto& f : listing.files) CHECK_FALSE(f.path.starts_with("src_link/"));
}

TEST_CASE("a missing workspace is an error not a crash", "[indexer][walk]") {
  auto listing = list_workspace_files("/nonexistent/beluga/workspace", WalkLimits{});
  REQUIRE_FALSE(listing.ok());
  CHECK(listing.message().find("/nonexistent/beluga/workspace") != std::string::npos);
}
