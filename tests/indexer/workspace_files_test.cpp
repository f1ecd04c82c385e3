// indexer/workspace_files.h: which files of a workspace are indexed, and
// why the others are not.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>

#include <ctime>
#include <filesystem>

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

namespace {

// Moves every mtime under `dir` (the folder itself included) 10 s into the
// past, so a walk record of it is settled (walk_cache.h).
void age_tree(const std::string& dir) {
  struct timespec times[2];
  clock_gettime(CLOCK_REALTIME, &times[0]);
  times[0].tv_sec -= 10;
  times[1] = times[0];
  std::vector<std::string> paths{dir};
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) paths.push_back(entry.path().string());
  // Files first, folders last (deepest first): touching an entry never moves its folder's mtime, but be safe.
  std::reverse(paths.begin(), paths.end());
  for (const auto& path : paths) REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
}

struct Listed {
  WorkspaceListing listing;
  std::string record;
};

Listed list_with(const FixtureRepo& repo, const std::string& previous) {
  WalkLimits limits;
  limits.max_file_bytes = FixtureRepo::kMaxFileBytes;
  Listed out;
  auto listing = list_workspace_files(repo.path(), limits, previous, &out.record);
  REQUIRE(listing.ok());
  out.listing = std::move(*listing);
  return out;
}

void age_all(const FixtureRepo& repo) {
  age_tree(repo.path());
  age_tree(repo.config_dir().path());
}

}  // namespace

TEST_CASE("a settled walk record is reused and gives the same listing", "[indexer][walk]") {
  for (bool git : {true, false}) {
    INFO("git " << git);
    FixtureRepo repo(git);
    age_all(repo);
    Listed walked = list_with(repo, "");
    REQUIRE_FALSE(walked.record.empty());
    CHECK_FALSE(walked.listing.from_record);
    Listed reused = list_with(repo, walked.record);
    CHECK(reused.listing.from_record);
    CHECK(reused.record == walked.record);
    CHECK(paths(reused.listing) == paths(walked.listing));
    CHECK(skipped(reused.listing) == skipped(walked.listing));
    CHECK(reused.listing.ignored == walked.listing.ignored);
    CHECK(reused.listing.git == git);
  }
}

TEST_CASE("a walk record is not reused while a folder it read is unsettled", "[indexer][walk]") {
  FixtureRepo repo;
  Listed walked = list_with(repo, "");  // the fixture was written just now
  Listed again = list_with(repo, walked.record);
  CHECK_FALSE(again.listing.from_record);
}

TEST_CASE("a walk record is dropped when a folder or an ignore rule changes", "[indexer][walk]") {
  FixtureRepo repo;
  age_all(repo);
  Listed walked = list_with(repo, "");
  REQUIRE(list_with(repo, walked.record).listing.from_record);

  SECTION("a new file in a subfolder") {
    beluga::testing::write_text(repo.root().file("src/extra.c"), "int extra;\n");
    Listed after = list_with(repo, walked.record);
    CHECK_FALSE(after.listing.from_record);
    auto listed = paths(after.listing);
    CHECK(std::find(listed.begin(), listed.end(), "src/extra.c") != listed.end());
  }
  SECTION("a .gitignore rewritten in place") {
    beluga::testing::write_text(repo.root().file(".gitignore"), "build/\n*.log\n*.md\n");
    Listed after = list_with(repo, walked.record);
    CHECK_FALSE(after.listing.from_record);
    auto listed = paths(after.listing);
    CHECK(std::find(listed.begin(), listed.end(), "README.md") == listed.end());
  }
  SECTION("the global excludes file") {
    beluga::testing::write_text(repo.config_dir().file("global_excludes"), "*.bak\n*.sh\n");
    Listed after = list_with(repo, walked.record);
    CHECK_FALSE(after.listing.from_record);
    auto listed = paths(after.listing);
    CHECK(std::find(listed.begin(), listed.end(), "run.sh") == listed.end());
  }
  SECTION(".git/info/exclude") {
    beluga::testing::write_text(repo.root().file(".git/info/exclude"), "secret.txt\nconfig.json\n");
    Listed after = list_with(repo, walked.record);
    CHECK_FALSE(after.listing.from_record);
    auto listed = paths(after.listing);
    CHECK(std::find(listed.begin(), listed.end(), "config.json") == listed.end());
  }
  SECTION("a file grown past the size cap is skipped without a walk") {
    beluga::testing::write_text(repo.root().file("run.sh"), std::string(FixtureRepo::kMaxFileBytes + 1, '#'));
    Listed after = list_with(repo, walked.record);
    CHECK(after.listing.from_record);  // a file's content never changes its folder
    CHECK(skipped(after.listing)["run.sh"].starts_with("too large"));
  }
  SECTION("a damaged record is ignored") {
    Listed after = list_with(repo, walked.record.substr(0, walked.record.size() / 2));
    CHECK_FALSE(after.listing.from_record);
    CHECK(paths(after.listing) == paths(walked.listing));
  }
}
