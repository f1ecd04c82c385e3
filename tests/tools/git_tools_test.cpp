// The git tools (tools/git_read_tools.cpp, tools/git_write_tools.cpp) on
// scratch repositories made with libgit2: initial branch "main", a local
// identity, and the machine's own git config kept out (IsolatedGitConfig).
#include <catch2/catch.hpp>

#include "tests/tools/adversarial.h"
#include "tests/tools/git_test_support.h"

namespace beluga::testing {
namespace {

using nlohmann::json;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A repository with two commits: a.txt, b.txt, then a change to a.txt.
struct TwoCommits {
  IsolatedGitConfig isolated;
  ScratchRepo ws;
  std::string first, second;
  TwoCommits() {
    ws.write("a.txt", "alpha\n");
    ws.write("b.txt", "beta\n");
    first = ws.commit_all("first commit");
    ws.write("a.txt", "alpha\nmore alpha\n");
    second = ws.commit_all("second: extend a");
  }
};

// ---- adversarial cases -------------------------------------------------------

std::string paths_outside_the_workspace() {
  TwoCommits repo;
  ScratchRepo& ws = repo.ws;
  fs::create_directory_symlink(ws.root().parent_path(), ws.path("escape"));
  for (const std::string& path : {std::string("../x"), std::string("/etc/passwd"), std::string("escape/x")}) {
    for (const auto& [tool, args] : std::vector<std::pair<std::string, json>>{
             {"git_add", {{"paths", {path}}}},
             {"git_restore", {{"path", path}}},
             {"git_diff", {{"path", path}}},
             {"git_log", {{"path", path}}},
             {"git_blame", {{"path", path}}}}) {
      auto r = ws.call(tool, args);
      if (r.ok) return tool + " accepted '" + path + "'";
    }
  }
  return "";
}

std::string paths_inside_dot_git() {
  TwoCommits repo;
  std::string config = repo.ws.read(".git/config");
  for (const auto& [tool, args] : std::vector<std::pair<std::string, json>>{
           {"git_add", {{"paths", {".git/config"}}}},
           {"git_restore", {{"path", ".git/HEAD"}}},
           {"git_restore", {{"path", ".git"}}}}) {
    if (repo.ws.call(tool, args).ok) return tool + " acted inside .git";
  }
  if (repo.ws.read(".git/config") != config) return ".git/config changed";
  return "";
}

std::string commit_without_identity() {
  IsolatedGitConfig isolated;
  ScratchRepo ws(true, /*identity=*/false);
  ws.write("a.txt", "x\n");
  auto add = ws.call("git_add", {{"paths", {"a.txt"}}});
  if (!add.ok) return "setup failed: " + add.text;
  auto r = ws.call("git_commit", {{"message", "should not happen"}});
  if (r.ok) return "committed without an author identity";
  if (!contains(r.text, "user.name") || !contains(r.text, "git config")) return "no hint: " + r.text;
  if (ws.exists(".git/refs/heads/main")) return "a branch was created anyway";
  return "";
}

std::string switch_that_would_overwrite_changes() {
  TwoCommits repo;
  ScratchRepo& ws = repo.ws;
  if (!ws.call("git_branch", {{"action", "create"}, {"name", "old"}, {"start", repo.first}}).ok) return "setup failed";
  ws.write("a.txt", "uncommitted work\n");
  auto before = ws.git_state();
  auto r = ws.call("git_branch", {{"action", "switch"}, {"name", "old"}});
  if (r.ok) return "switched and overwrote uncommitted changes";
  if (!contains(r.text, "a.txt")) return "the conflicting file was not named: " + r.text;
  if (ws.read("a.txt") != "uncommitted work\n") return "the uncommitted change was lost";
  if (ws.git_state() != before) return "HEAD or the index changed";
  return "";
}

std::string invalid_branch_names() {
  TwoCommits repo;
  for (const std::string name : {"-f", "../x", "a..b", "HEAD~1", "x.lock", "with space", "refs/../../x", "a:b", "@{-1}"}) {
    auto r = repo.ws.call("git_branch", {{"action", "create"}, {"name", name}});
    if (r.ok) return "created a branch named '" + name + "'";
  }
  auto list = repo.ws.call("git_branch", json::object());
  if (list.data == nullptr || list.data->size() != 1) return "extra branches appeared: " + list.text;
  return "";
}

std::string hostile_revisions() {
  TwoCommits repo;
  for (const std::string rev : {"HEAD:../../etc/passwd", "--output=/tmp/beluga-pwned", "$(touch pwned)", "; rm -rf /",
                                "HEAD~999", "0000000000000000000000000000000000000000", "HEAD^{tree}^{commit}"}) {
    auto r = repo.ws.call("git_show", {{"rev", rev}});
    if (r.ok) return "git_show accepted '" + rev + "'";
    auto d = repo.ws.call("git_diff", {{"from", rev}});
    if (d.ok) return "git_diff accepted '" + rev + "'";
  }
  if (repo.ws.exists("pwned") || fs::exists("/tmp/beluga-pwned")) return "a revision ran a command";
  return "";
}

std::string huge_diff_is_capped() {
  TwoCommits repo;
  std::string big;
  for (int i = 0; i < 100000; ++i) big += "line number " + std::to_string(i) + " of a big change\n";
  repo.ws.write("a.txt", big);
  auto r = repo.ws.call("git_diff", json::object());
  if (!r.ok) return "failed: " + r.text.substr(0, 200);
  if (r.text.size() > repo.ws.context().limits.max_output_bytes + 4096)
    return "diff of " + std::to_string(r.text.size()) + " bytes was not capped";
  if (!contains(r.text, "bytes dropped")) return "no marker";
  return "";
}

std::string adding_an_ignored_file() {
  TwoCommits repo;
  repo.ws.write(".gitignore", "*.secret\n");
  repo.ws.write("key.secret", "hunter2\n");
  auto before = repo.ws.git_state();
  auto r = repo.ws.call("git_add", {{"paths", {"key.secret"}}});
  if (r.ok) return "staged an ignored file";
  auto folder = repo.ws.call("git_add", {{"paths", {"."}}});
  if (!folder.ok) return "git_add . failed: " + folder.text;
  auto diff = repo.ws.call("git_diff", {{"staged", true}});
  if (contains(diff.text, "hunter2")) return "git_add . staged the ignored file";
  return "";
}

std::string not_a_repository() {
  IsolatedGitConfig isolated;
  ScratchRepo ws(/*init_git=*/false);
  auto r = ws.call("git_status", json::object());
  if (r.ok) return "git_status worked without a repository";
  if (!contains(r.text, "not a git repository")) return "unclear message: " + r.text;
  if (ws.exists(".git")) return "a repository was created";
  return "";
}

std::string workspace_inside_a_bigger_repo() {
  TwoCommits repo;
  fs::create_directories(repo.ws.path("sub"));
  repo.ws.context().roots = {repo.ws.root() / "sub"};
  auto r = repo.ws.call("git_status", json::object());
  if (r.ok) return "acted on the enclosing repository";
  if (!contains(r.text, "top folder")) return "unclear message: " + r.text;
  return "";
}

std::string restoring_an_untracked_file() {
  TwoCommits repo;
  repo.ws.write("new.txt", "precious\n");
  for (const std::string source : {"index", "HEAD"}) {
    auto r = repo.ws.call("git_restore", {{"path", "new.txt"}, {"source", source}});
    if (r.ok) return "restored an untracked file from " + source;
  }
  if (repo.ws.read("new.txt") != "precious\n") return "the untracked file was touched";
  return "";
}

std::string no_force_or_history_rewriting() {
  TwoCommits repo;
  auto head = repo.ws.git_state();
  auto forced = repo.ws.call("git_branch", {{"action", "create"}, {"name", "main"}, {"force", true}});
  auto amend = repo.ws.call("git_commit", {{"message", "x"}, {"amend", true}});
  auto reset = repo.ws.call("git_reset", {{"mode", "hard"}});
  auto push = repo.ws.call("git_push", json::object());
  if (forced.ok || amend.ok || reset.ok || push.ok) return "a force/amend/reset/push request went through";
  if (repo.ws.git_state() != head) return "refs changed";
  return "";
}

std::string restore_through_a_swapped_folder_symlink() {
  TwoCommits repo;
  ScratchRepo& ws = repo.ws;
  ws.write("src/code.c", "int x;\n");
  ws.commit_all("add src");
  ScratchDir outside;
  write_text(outside.file("code.c"), "outside, must not change\n");
  fs::remove_all(ws.path("src"));
  fs::create_directory_symlink(outside.path(), ws.path("src"));
  for (const auto& args : {json{{"path", "src"}}, json{{"path", "src"}, {"source", "HEAD"}}, json{{"path", "."}},
                           json{{"path", "src/code.c"}}}) {
    ws.call("git_restore", args);
    if (read_text(outside.file("code.c")) != "outside, must not change\n")
      return "git_restore " + args.dump() + " wrote through the symlink";
  }
  // A tracked file swapped for a symlink to an outside file.
  fs::remove(ws.path("src"));
  ws.write("src/code.c", "x\n");
  fs::remove(ws.path("src/code.c"));
  fs::create_symlink(outside.file("code.c"), ws.path("src/code.c"));
  for (const auto& args : {json{{"path", "src/code.c"}}, json{{"path", "src/code.c"}, {"source", "HEAD"}}}) {
    ws.call("git_restore", args);
    if (read_text(outside.file("code.c")) != "outside, must not change\n")
      return "git_restore " + args.dump() + " wrote through a file symlink";
  }
  fs::remove_all(ws.path("src"));
  fs::create_directory_symlink(outside.path(), ws.path("src"));
  if (!ws.call("git_branch", {{"action", "create"}, {"name", "other"}, {"start", "HEAD~1"}}).ok) return "setup failed";
  ws.call("git_branch", {{"action", "switch"}, {"name", "other"}});
  ws.call("git_branch", {{"action", "switch"}, {"name", "main"}});
  if (read_text(outside.file("code.c")) != "outside, must not change\n") return "a branch switch wrote through the symlink";
  int files = 0;
  for (auto& e : fs::directory_iterator(outside.path())) files += e.is_regular_file();
  if (files != 1) return "files were created outside the workspace";
  return "";
}

[[maybe_unused]] const bool registered = add_adversarial_cases({
    {"git", "git_restore and git_branch never write through a folder swapped for a symlink to outside",
     restore_through_a_swapped_folder_symlink},
    {"git", "paths outside the workspace (.., absolute, symlink) are refused by every git tool",
     paths_outside_the_workspace},
    {"git", "paths inside .git are refused", paths_inside_dot_git},
    {"git", "a commit without user.name/user.email is refused with a hint", commit_without_identity},
    {"git", "a branch switch that would overwrite uncommitted changes is refused", switch_that_would_overwrite_changes},
    {"git", "invalid branch names are refused", invalid_branch_names},
    {"git", "hostile revision strings are errors, never commands", hostile_revisions},
    {"git", "a huge diff is capped", huge_diff_is_capped},
    {"git", "ignored files are not staged", adding_an_ignored_file},
    {"git", "a workspace that is not a repository is an error, never initialised", not_a_repository},
    {"git", "a workspace inside a bigger repository is refused", workspace_inside_a_bigger_repo},
    {"git", "git_restore never deletes an untracked file", restoring_an_untracked_file},
    {"git", "force, amend, reset and push are not available", no_force_or_history_rewriting},
});

}  // namespace

TEST_CASE("git_status lists staged, unstaged and untracked files on the current branch", "[git]") {
  IsolatedGitConfig isolated;
  ScratchRepo ws;
  auto unborn = ws.call("git_status", json::object());
  CHECK(contains(unborn.text, "On branch main (no commits yet)"));
  ws.write("a.txt", "a\n");
  ws.write("b.txt", "b\n");
  ws.commit_all("init");
  auto clean = ws.call("git_status", json::object());
  CHECK(contains(clean.text, "On branch main\n"));
  CHECK(contains(clean.text, "nothing to commit"));

  ws.write("a.txt", "a changed\n");
  ws.write("b.txt", "b changed\n");
  ws.write("dir/c.txt", "c\n");
  REQUIRE(ws.call("git_add", {{"paths", {"b.txt"}}}).ok);
  auto r = ws.call("git_status", json::object());
  INFO(r.text);
  CHECK(contains(r.text, "Changes staged for commit:\n  modified: b.txt"));
  CHECK(contains(r.text, "Changes not staged for commit:\n  modified: a.txt"));
  CHECK(contains(r.text, "Untracked files (folders end with /):\n  dir/"));
  CHECK((*r.data)["branch"] == "main");
}

TEST_CASE("git_diff shows unstaged, staged and between-revision changes", "[git]") {
  TwoCommits repo;
  ScratchRepo& ws = repo.ws;
  ws.write("a.txt", "alpha\nmore alpha\nunstaged line\n");
  ws.write("b.txt", "beta\nstaged line\n");
  REQUIRE(ws.call("git_add", {{"paths", {"b.txt"}}}).ok);

  auto unstaged = ws.call("git_diff", json::object());
  CHECK(contains(unstaged.text, "+unstaged line"));
  CHECK_FALSE(contains(unstaged.text, "+staged line"));
  auto staged = ws.call("git_diff", {{"staged", true}});
  CHECK(contains(staged.text, "+staged line"));
  CHECK_FALSE(contains(staged.text, "+unstaged line"));
  auto revisions = ws.call("git_diff", {{"from", repo.first}, {"to", repo.second}});
  CHECK(contains(revisions.text, "+more alpha"));
  CHECK(contains(revisions.text, "1 file changed"));
  auto to_now = ws.call("git_diff", {{"from", "HEAD~1"}, {"path", "a.txt"}});
  CHECK(contains(to_now.text, "+more alpha"));
  CHECK(contains(to_now.text, "+unstaged line"));
  CHECK_FALSE(contains(to_now.text, "b.txt"));
  auto none = ws.call("git_diff", {{"from", "HEAD"}, {"to", "HEAD"}});
  CHECK(contains(none.text, "no differences"));
  CHECK_FALSE(ws.call("git_diff", {{"to", "HEAD"}}).ok);
  CHECK_FALSE(ws.call("git_diff", {{"staged", true}, {"from", "HEAD"}}).ok);
}

TEST_CASE("git_log lists the last n commits, optionally those touching a path", "[git]") {
  TwoCommits repo;
  ScratchRepo& ws = repo.ws;
  ws.write("b.txt", "beta 2\n");
  ws.commit_all("third: touch b");
  auto all = ws.call("git_log", json::object());
  CHECK(all.data->size() == 3);
  CHECK(contains(all.text, "Test Author: third: touch b"));
  CHECK(all.text.find("third") < all.text.find("second"));
  auto one = ws.call("git_log", {{"n", 1}});
  CHECK(one.data->size() == 1);
  auto for_a = ws.call("git_log", {{"path", "a.txt"}});
  INFO(for_a.text);
  CHECK(for_a.data->size() == 2);
  CHECK_FALSE(contains(for_a.text, "third"));
}

TEST_CASE("git_show shows a commit with its patch, and a file as of a revision", "[git]") {
  TwoCommits repo;
  auto commit = repo.ws.call("git_show", {{"rev", "HEAD"}});
  CHECK(contains(commit.text, "commit " + repo.second));
  CHECK(contains(commit.text, "Author: Test Author <author@example.com>"));
  CHECK(contains(commit.text, "    second: extend a"));
  CHECK(contains(commit.text, "+more alpha"));
  auto root = repo.ws.call("git_show", {{"rev", repo.first.substr(0, 12)}});
  CHECK(contains(root.text, "+beta"));
  auto blob = repo.ws.call("git_show", {{"rev", "HEAD~1:a.txt"}});
  CHECK(blob.text == "alpha\n");
  auto tree = repo.ws.call("git_show", {{"rev", "HEAD^{tree}"}});
  CHECK(contains(tree.text, "a.txt\nb.txt\n"));
}

TEST_CASE("git_blame names the commit and author of each line in a range", "[git]") {
  TwoCommits repo;
  auto r = repo.ws.call("git_blame", {{"path", "a.txt"}});
  INFO(r.text);
  CHECK(contains(r.text, repo.first.substr(0, 10) + " (Test Author "));
  CHECK(contains(r.text, "     1\talpha"));
  CHECK(contains(r.text, repo.second.substr(0, 10) + " (Test Author "));
  auto line2 = repo.ws.call("git_blame", {{"path", "a.txt"}, {"start_line", 2}, {"end_line", 2}});
  CHECK(contains(line2.text, "more alpha"));
  CHECK_FALSE(contains(line2.text, "\talpha\n"));
  CHECK_FALSE(repo.ws.call("git_blame", {{"path", "a.txt"}, {"start_line", 9}}).ok);
  repo.ws.write("new.txt", "x\n");
  CHECK_FALSE(repo.ws.call("git_blame", {{"path", "new.txt"}}).ok);
}

TEST_CASE("git_add and git_commit record new, changed and deleted files with the configured author", "[git]") {
  TwoCommits repo;
  ScratchRepo& ws = repo.ws;
  CHECK_FALSE(ws.call("git_commit", {{"message", "nothing"}}).ok);  // nothing staged
  ws.write("src/new.txt", "new\n");
  ws.write("a.txt", "rewritten\n");
  fs::remove(ws.path("b.txt"));
  auto add = ws.call("git_add", {{"paths", {"src", "a.txt", "b.txt"}}});
  INFO(add.text);
  REQUIRE(add.ok);
  auto commit = ws.call("git_commit", {{"message", "third\n\nbody text"}});
  INFO(commit.text);
  REQUIRE(commit.ok);
  CHECK(commit.text.rfind("[main ", 0) == 0);
  CHECK(contains(commit.text, "3 files changed"));
  auto show = ws.call("git_show", {{"rev", "HEAD"}});
  CHECK(contains(show.text, "Author: Test Author <author@example.com>"));
  CHECK(contains(show.text, "    body text"));
  auto clean = ws.call("git_status", json::object());
  CHECK(contains(clean.text, "nothing to commit"));
}

TEST_CASE("git_add stages a folder whose name looks like a glob, and nothing beside it", "[git]") {
  IsolatedGitConfig isolated;
  ScratchRepo ws;
  ws.write("d[1]/q.txt", "q\n");
  ws.write("d1/z.txt", "z\n");
  REQUIRE(ws.call("git_add", {{"paths", {"d[1]"}}}).ok);
  auto staged = ws.call("git_diff", {{"staged", true}});
  CHECK(contains(staged.text, "d[1]/q.txt"));
  CHECK_FALSE(contains(staged.text, "d1/z.txt"));
}

TEST_CASE("git_add stages a symlink itself, even one that points outside the workspace", "[git]") {
  IsolatedGitConfig isolated;
  ScratchRepo ws;
  fs::create_symlink("/usr/lib", ws.path("system-lib"));
  auto r = ws.call("git_add", {{"paths", {"system-lib"}}});
  INFO(r.text);
  REQUIRE(r.ok);
  auto staged = ws.call("git_diff", {{"staged", true}});
  CHECK(contains(staged.text, "new file mode 120000"));
  CHECK(contains(staged.text, "+/usr/lib"));
  CHECK_FALSE(ws.call("git_add", {{"paths", {"system-lib/x"}}}).ok);  // through the link: outside
}

TEST_CASE("git_branch creates, lists and switches branches, carrying unrelated changes along", "[git]") {
  TwoCommits repo;
  ScratchRepo& ws = repo.ws;
  auto created = ws.call("git_branch", {{"action", "create"}, {"name", "feature/x"}, {"start", "HEAD~1"}});
  INFO(created.text);
  REQUIRE(created.ok);
  CHECK_FALSE(ws.call("git_branch", {{"action", "create"}, {"name", "feature/x"}}).ok);
  auto list = ws.call("git_branch", json::object());
  CHECK(contains(list.text, "  feature/x"));
  CHECK(contains(list.text, "* main"));
  ws.write("b.txt", "beta, edited\n");  // same in both branches: carried over
  auto switched = ws.call("git_branch", {{"action", "switch"}, {"name", "feature/x"}});
  INFO(switched.text);
  REQUIRE(switched.ok);
  CHECK(ws.read("a.txt") == "alpha\n");
  CHECK(ws.read("b.txt") == "beta, edited\n");
  CHECK(contains(ws.call("git_status", json::object()).text, "On branch feature/x"));
  CHECK_FALSE(ws.call("git_branch", {{"action", "switch"}, {"name", "nope"}}).ok);
}

TEST_CASE("git_restore puts a path back from the index or HEAD, or unstages it", "[git]") {
  TwoCommits repo;
  ScratchRepo& ws = repo.ws;
  ws.write("a.txt", "staged version\n");
  REQUIRE(ws.call("git_add", {{"paths", {"a.txt"}}}).ok);
  ws.write("a.txt", "working version\n");
  fs::remove(ws.path("b.txt"));

  REQUIRE(ws.call("git_restore", {{"path", "a.txt"}}).ok);
  CHECK(ws.read("a.txt") == "staged version\n");
  REQUIRE(ws.call("git_restore", {{"path", "b.txt"}, {"source", "HEAD"}}).ok);
  CHECK(ws.read("b.txt") == "beta\n");
  REQUIRE(ws.call("git_restore", {{"path", "a.txt"}, {"source", "HEAD"}}).ok);
  CHECK(ws.read("a.txt") == "alpha\nmore alpha\n");
  CHECK(contains(ws.call("git_diff", {{"staged", true}}).text, "+staged version"));  // index untouched
  auto unstaged = ws.call("git_restore", {{"path", "a.txt"}, {"staged", true}});
  INFO(unstaged.text);
  REQUIRE(unstaged.ok);
  CHECK(contains(ws.call("git_diff", {{"staged", true}}).text, "no differences"));
  CHECK(ws.read("a.txt") == "alpha\nmore alpha\n");
  // A whole folder from HEAD.
  ws.write("dir/one.txt", "1\n");
  ws.commit_all("add dir");
  ws.write("dir/one.txt", "changed\n");
  REQUIRE(ws.call("git_restore", {{"path", "dir"}, {"source", "HEAD"}}).ok);
  CHECK(ws.read("dir/one.txt") == "1\n");
}

}  // namespace beluga::testing
