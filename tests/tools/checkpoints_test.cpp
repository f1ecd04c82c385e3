// Checkpoints (tools/checkpoints.cpp, tools/checkpoint_tree.cpp) and the
// checkpoint tools: snapshot, restore, list and diff on scratch
// repositories, with changes made directly, through the shell tool, and by
// hostile means (symlink swaps, damaged refs, changed ignore rules).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "tests/tools/adversarial.h"
#include "tests/tools/git_test_support.h"
#include "tools/checkpoints.h"

namespace beluga::testing {
namespace {

using nlohmann::json;
using tools::create_checkpoint;
using tools::restore_checkpoint;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

void chmod_exec(const std::string& path, bool on) { ::chmod(path.c_str(), on ? 0755 : 0644); }

// A committed project with a bit of everything: nested folders, an
// executable, a symlink, an untracked file and an ignored folder.
struct Project {
  IsolatedGitConfig isolated;
  ScratchRepo ws;
  Project() {
    ws.write(".gitignore", "*.log\nbuild/\n");
    ws.write("src/main.cpp", "int main() {}\n");
    ws.write("src/util/helper.h", "#pragma once\n");
    ws.write("run.sh", "#!/bin/sh\necho run\n");
    chmod_exec(ws.path("run.sh"), true);
    fs::create_symlink("src/main.cpp", ws.path("main-link"));
    ws.write("README.md", "readme\n");
    ws.commit_all("initial");
    ws.write("notes.txt", "untracked but not ignored\n");
    ws.write("keep.log", "log v1\n");
    ws.write("build/out.o", "object v1\n");
  }
};

std::string round_trip_after_every_kind_of_change() {
  Project p;
  ScratchRepo& ws = p.ws;
  auto expected = ws.tree_state();
  auto cp = create_checkpoint(ws.root(), "test");
  if (!cp) return "create failed: " + cp.message();
  // Direct changes: modify, delete, create, rename, chmod, retarget a link.
  ws.write("README.md", "changed readme\n");
  fs::remove(ws.path("notes.txt"));
  ws.write("brand/new/file.txt", "new\n");
  fs::rename(ws.path("src/util/helper.h"), ws.path("src/helper_moved.h"));
  chmod_exec(ws.path("run.sh"), false);
  chmod_exec(ws.path("src/main.cpp"), true);
  fs::remove(ws.path("main-link"));
  fs::create_symlink("README.md", ws.path("main-link"));
  // Changes made by a shell command.
  auto shell = ws.call("shell", {{"command",
                                  "echo shell >> src/main.cpp && mkdir -p gen && echo g > gen/g.txt && "
                                  "mv run.sh run2.sh && ln -s nowhere dangling && rm -r src/util"}});
  if (!shell.ok) return "shell failed: " + shell.text;
  auto report = restore_checkpoint(ws.root(), cp->id);
  if (!report) return "restore failed: " + report.message();
  if (!report->conflicts.empty()) return "conflicts: " + report->conflicts.front();
  if (ws.tree_state() != expected) return "the tree differs after the restore";
  if (ws.exists("brand") || ws.exists("gen")) return "emptied folders were left behind";
  return "";
}

std::string ignored_files_untouched() {
  Project p;
  ScratchRepo& ws = p.ws;
  auto cp = create_checkpoint(ws.root(), "test");
  if (!cp) return "create failed: " + cp.message();
  ws.write("keep.log", "log v2\n");
  ws.write("new.log", "new log\n");
  ws.write("build/new.o", "new object\n");
  ws.write("build/deep/x.o", "x\n");
  if (!restore_checkpoint(ws.root(), cp->id)) return "restore failed";
  if (ws.read("keep.log") != "log v2\n") return "an ignored file was reverted";
  if (!ws.exists("new.log") || !ws.exists("build/new.o") || !ws.exists("build/deep/x.o"))
    return "an ignored file was deleted";
  return "";
}

std::string head_index_and_stash_untouched() {
  Project p;
  ScratchRepo& ws = p.ws;
  ws.write("README.md", "stashed change\n");
  ws.stash("a user stash");
  ws.write("src/main.cpp", "staged change\n");
  if (!ws.call("git_add", {{"paths", {"src/main.cpp"}}}).ok) return "setup failed";
  auto git_before = ws.git_state();
  auto cp = create_checkpoint(ws.root(), "test");
  if (!cp) return "create failed: " + cp.message();
  if (ws.git_state() != git_before) return "taking a checkpoint changed HEAD, the index or the stash";
  ws.write("src/main.cpp", "later change\n");
  ws.write("extra.txt", "x\n");
  if (!restore_checkpoint(ws.root(), cp->id)) return "restore failed";
  if (ws.git_state() != git_before) return "restoring changed HEAD, the index or the stash";
  if (ws.read("src/main.cpp") != "staged change\n") return "the working tree was not restored";
  return "";
}

std::string dot_git_and_nested_repos_untouched() {
  Project p;
  ScratchRepo& ws = p.ws;
  auto cp = create_checkpoint(ws.root(), "test");
  if (!cp) return "create failed: " + cp.message();
  ws.write(".git/beluga-marker", "mine\n");
  ws.write("vendor/lib/.git/HEAD", "ref: refs/heads/main\n");
  ws.write("vendor/lib/code.c", "nested repo file\n");
  ws.write("deep/.git", "gitdir: elsewhere\n");
  ws.write("deep/file.txt", "inside a worktree-like folder\n");
  if (!restore_checkpoint(ws.root(), cp->id)) return "restore failed";
  if (!ws.exists(".git/beluga-marker")) return "a file inside .git was removed";
  if (!ws.exists("vendor/lib/.git/HEAD") || !ws.exists("vendor/lib/code.c")) return "a nested repository was touched";
  if (!ws.exists("deep/.git") || !ws.exists("deep/file.txt")) return "a folder with a .git file was touched";
  return "";
}

std::string symlinked_folder_swap_does_not_escape() {
  Project p;
  ScratchRepo& ws = p.ws;
  ScratchDir outside;
  write_text(outside.file("victim.txt"), "outside\n");
  auto cp = create_checkpoint(ws.root(), "test");
  if (!cp) return "create failed: " + cp.message();
  fs::remove_all(ws.path("src"));
  fs::create_directory_symlink(outside.path(), ws.path("src"));
  auto report = restore_checkpoint(ws.root(), cp->id);
  if (!report) return "restore failed: " + report.message();
  if (read_text(outside.file("victim.txt")) != "outside\n") return "a file outside the workspace was changed";
  int outside_files = 0;
  for (auto& e : fs::directory_iterator(outside.path())) outside_files += e.is_regular_file();
  if (outside_files != 1) return "files were written outside the workspace";
  if (fs::is_symlink(ws.path("src")) || ws.read("src/main.cpp") != "int main() {}\n") return "src was not restored";
  return "";
}

std::string not_a_repository_is_an_error() {
  IsolatedGitConfig isolated;
  ScratchRepo ws(/*init_git=*/false);
  ws.write("a.txt", "x\n");
  auto cp = create_checkpoint(ws.root(), "test");
  if (cp) return "checkpointed a folder that is not a repository";
  if (!contains(cp.message(), "not a git repository")) return "unclear message: " + cp.message();
  if (ws.exists(".git")) return "a repository was created";
  auto listed = ws.call("checkpoint_list", json::object());
  if (listed.ok) return "checkpoint_list worked without a repository";
  return "";
}

std::string foreign_ref_is_refused() {
  Project p;
  ScratchRepo& ws = p.ws;
  std::string head = ws.commit_all("another");
  ws.write(".git/refs/beluga/checkpoints/test/7", head + "\n");
  ws.write("after.txt", "x\n");
  auto before = ws.tree_state();
  auto r = restore_checkpoint(ws.root(), "test/7");
  if (r) return "restored from a commit that is not a checkpoint";
  if (!contains(r.message(), "not a checkpoint this beluga understands")) return "unclear message: " + r.message();
  if (ws.tree_state() != before) return "the tree changed";
  auto listed = tools::list_checkpoints(ws.root(), "test");
  if (!listed || !listed->empty()) return "the foreign ref was listed as a checkpoint";
  return "";
}

std::string hostile_ids_are_refused() {
  Project p;
  ScratchRepo& ws = p.ws;
  if (!create_checkpoint(ws.root(), "test")) return "create failed";
  ws.write("after.txt", "x\n");
  auto before = ws.tree_state();
  for (const std::string id : {"../../x/1", "test/0", "test/abc", "test/1/../1", "", "/1", "test/-1", "test/1 ",
                               "test/99999999999999999999", ".hidden/1", "te st/1", "test.lock/1"}) {
    if (restore_checkpoint(ws.root(), id)) return "accepted id '" + id + "'";
  }
  for (const std::string& session : std::vector<std::string>{"../x", "", "a/b", ".x", "x.lock", std::string(101, 'a')}) {
    if (create_checkpoint(ws.root(), session)) return "accepted session '" + session + "'";
  }
  if (ws.tree_state() != before) return "the tree changed";
  return "";
}

std::string changed_ignore_rules_do_not_delete_ignored_files() {
  Project p;
  ScratchRepo& ws = p.ws;
  ws.write(".gitignore", "*.log\nbuild/\n*.tmp\n");
  ws.write("cache.tmp", "ignored at checkpoint time\n");
  auto cp = create_checkpoint(ws.root(), "test");
  if (!cp) return "create failed: " + cp.message();
  ws.write(".gitignore", "build/\n*.env\n");  // un-ignores *.tmp and *.log, ignores *.env
  ws.write("secret.env", "TOKEN=1\n");
  ws.write("new.txt", "created since\n");
  auto report = restore_checkpoint(ws.root(), cp->id);
  if (!report) return "restore failed: " + report.message();
  if (!ws.exists("cache.tmp")) return "a file ignored by the restored rules was deleted";
  if (!ws.exists("keep.log")) return "a file ignored by the restored rules was deleted";
  if (!ws.exists("secret.env")) return "a file ignored by the current rules was deleted";
  if (ws.exists("new.txt")) return "a file created since the checkpoint survived";
  if (ws.read(".gitignore") != "*.log\nbuild/\n*.tmp\n") return ".gitignore was not restored";
  return "";
}

std::string type_swaps_are_restored() {
  Project p;
  ScratchRepo& ws = p.ws;
  auto expected = ws.tree_state();
  auto cp = create_checkpoint(ws.root(), "test");
  if (!cp) return "create failed: " + cp.message();
  fs::remove(ws.path("README.md"));
  ws.write("README.md/inner.txt", "file became a folder\n");
  fs::remove_all(ws.path("src/util"));
  ws.write("src/util", "folder became a file\n");
  fs::remove(ws.path("notes.txt"));
  fs::create_symlink("/etc/passwd", ws.path("notes.txt"));
  auto report = restore_checkpoint(ws.root(), cp->id);
  if (!report) return "restore failed: " + report.message();
  if (!report->conflicts.empty()) return "conflict: " + report->conflicts.front();
  if (ws.tree_state() != expected) return "the tree differs";
  return "";
}

std::string oversized_file_is_left_alone() {
  Project p;
  ScratchRepo& ws = p.ws;
  auto cp = create_checkpoint(ws.root(), "test");
  if (!cp) return "create failed: " + cp.message();
  int fd = ::open(ws.path("huge.bin").c_str(), O_CREAT | O_WRONLY, 0644);
  if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(tools::kMaxCheckpointFileBytes + 1)) != 0) return "setup failed";
  ::close(fd);
  auto cp2 = create_checkpoint(ws.root(), "test");
  if (!cp2 || cp2->files != cp->files) return "an oversized file went into a snapshot";
  if (!restore_checkpoint(ws.root(), cp->id)) return "restore failed";
  if (!ws.exists("huge.bin")) return "an oversized (unmanaged) file was deleted";
  return "";
}

std::string ignored_files_in_the_way_are_a_conflict() {
  Project p;
  ScratchRepo& ws = p.ws;
  auto cp = create_checkpoint(ws.root(), "test");
  if (!cp) return "create failed: " + cp.message();
  fs::remove(ws.path("README.md"));
  ws.write("README.md/debug.log", "ignored, inside a folder where a file was\n");
  ws.write("src/main.cpp", "changed\n");
  auto report = restore_checkpoint(ws.root(), cp->id);
  if (!report) return "restore failed: " + report.message();
  if (report->conflicts.size() != 1 || !contains(report->conflicts[0], "README.md")) return "no conflict reported";
  if (!ws.exists("README.md/debug.log")) return "an ignored file was deleted to make room";
  if (ws.read("src/main.cpp") != "int main() {}\n") return "the rest was not restored";
  return "";
}

std::string read_only_files_are_restored() {
  Project p;
  ScratchRepo& ws = p.ws;
  auto cp = create_checkpoint(ws.root(), "test");
  if (!cp) return "create failed: " + cp.message();
  ws.write("README.md", "changed\n");
  ::chmod(ws.path("README.md").c_str(), 0444);
  auto report = restore_checkpoint(ws.root(), cp->id);
  if (!report || !report->conflicts.empty()) return "restore failed";
  if (ws.read("README.md") != "readme\n") return "a read-only file was not restored";
  return "";
}

[[maybe_unused]] const bool registered = add_adversarial_cases({
    {"checkpoint", "create/modify/delete/rename/chmod/symlink changes, direct and via the shell, round-trip exactly",
     round_trip_after_every_kind_of_change},
    {"checkpoint", "ignored files are neither reverted nor deleted", ignored_files_untouched},
    {"checkpoint", "HEAD, the index and the stash are untouched by create and restore", head_index_and_stash_untouched},
    {"checkpoint", ".git and nested repositories are never touched", dot_git_and_nested_repos_untouched},
    {"checkpoint", "a folder swapped for a symlink to outside does not lead the restore out", symlinked_folder_swap_does_not_escape},
    {"checkpoint", "a workspace that is not a repository is an error, never initialised", not_a_repository_is_an_error},
    {"checkpoint", "a ref that is not a checkpoint is refused", foreign_ref_is_refused},
    {"checkpoint", "hostile checkpoint ids and session names are refused", hostile_ids_are_refused},
    {"checkpoint", "files ignored under the current or the restored rules are not deleted",
     changed_ignore_rules_do_not_delete_ignored_files},
    {"checkpoint", "file/folder/symlink type swaps are restored", type_swaps_are_restored},
    {"checkpoint", "a file over the size limit is unmanaged and left alone", oversized_file_is_left_alone},
    {"checkpoint", "a folder of ignored files in the way is a reported conflict, not a deletion",
     ignored_files_in_the_way_are_a_conflict},
    {"checkpoint", "read-only files are restored", read_only_files_are_restored},
});

}  // namespace

TEST_CASE("checkpoints are numbered per session and listed oldest first", "[checkpoint]") {
  Project p;
  auto a = create_checkpoint(p.ws.root(), "s1", "before turn 1");
  auto b = create_checkpoint(p.ws.root(), "s1");
  auto c = create_checkpoint(p.ws.root(), "s2");
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(c);
  CHECK(a->id == "s1/1");
  CHECK(b->id == "s1/2");
  CHECK(c->id == "s2/1");
  CHECK(a->ref == "refs/beluga/checkpoints/s1/1");
  CHECK(a->label == "before turn 1");
  CHECK(a->files == 7);  // .gitignore, src/main.cpp, src/util/helper.h, run.sh, main-link, README.md, notes.txt
  CHECK(a->head.size() == 40);
  CHECK(a->tree == b->tree);  // nothing changed in between
  auto s1 = tools::list_checkpoints(p.ws.root(), "s1");
  REQUIRE(s1);
  REQUIRE(s1->size() == 2);
  CHECK((*s1)[0].id == "s1/1");
  CHECK((*s1)[1].id == "s1/2");
  auto all = tools::list_checkpoints(p.ws.root());
  REQUIRE(all);
  CHECK(all->size() == 3);
  auto tool = p.ws.call("checkpoint_list", {{"session", "s1"}});
  CHECK(contains(tool.text, "s1/1"));
  CHECK(contains(tool.text, "before turn 1"));
  CHECK(contains(p.ws.call("checkpoint_list", {{"all", true}}).text, "s2/1"));
  CHECK(contains(p.ws.call("checkpoint_list", json::object()).text, "no checkpoints yet for session 'test'"));
}

TEST_CASE("checkpoint_diff shows changes between checkpoints and from one to now", "[checkpoint]") {
  Project p;
  ScratchRepo& ws = p.ws;
  REQUIRE(create_checkpoint(ws.root(), "test"));
  ws.write("README.md", "readme\nsecond line\n");
  REQUIRE(create_checkpoint(ws.root(), "test"));
  fs::remove(ws.path("notes.txt"));
  auto between = ws.call("checkpoint_diff", {{"from", "1"}, {"to", "test/2"}});
  INFO(between.text);
  CHECK(contains(between.text, "+second line"));
  CHECK_FALSE(contains(between.text, "notes.txt"));
  auto to_now = ws.call("checkpoint_diff", {{"from", "test/1"}});
  CHECK(contains(to_now.text, "to the working tree now"));
  CHECK(contains(to_now.text, "notes.txt"));
  CHECK(contains(to_now.text, "-untracked but not ignored"));
  auto same = ws.call("checkpoint_diff", {{"from", "2"}, {"to", "2"}});
  CHECK(contains(same.text, "no changes"));
  CHECK_FALSE(ws.call("checkpoint_diff", {{"from", "9"}}).ok);
}

TEST_CASE("a repository without commits can be checkpointed and restored", "[checkpoint]") {
  IsolatedGitConfig isolated;
  ScratchRepo ws;
  ws.write("draft.txt", "first draft\n");
  auto cp = create_checkpoint(ws.root(), "test");
  REQUIRE(cp);
  CHECK(cp->head.empty());
  ws.write("draft.txt", "second draft\n");
  ws.write("other.txt", "x\n");
  auto report = restore_checkpoint(ws.root(), cp->id);
  REQUIRE(report);
  CHECK(ws.read("draft.txt") == "first draft\n");
  CHECK_FALSE(ws.exists("other.txt"));
  CHECK(report->written == std::vector<std::string>{"draft.txt"});
  CHECK(report->removed == std::vector<std::string>{"other.txt"});
}

TEST_CASE("restoring a tree that did not change writes nothing", "[checkpoint]") {
  Project p;
  auto cp = create_checkpoint(p.ws.root(), "test");
  REQUIRE(cp);
  auto report = restore_checkpoint(p.ws.root(), cp->id);
  REQUIRE(report);
  CHECK(report->written.empty());
  CHECK(report->removed.empty());
  CHECK(report->modes.empty());
  CHECK(report->unchanged == cp->files);
}

TEST_CASE("checkpoint_restore through the registry takes a bare number for this session", "[checkpoint]") {
  Project p;
  ScratchRepo& ws = p.ws;
  REQUIRE(create_checkpoint(ws.root(), "test"));
  ws.write("README.md", "edited by the model\n");
  chmod_exec(ws.path("run.sh"), false);
  auto r = ws.call("checkpoint_restore", {{"id", "1"}});
  INFO(r.text);
  REQUIRE(r.ok);
  CHECK(contains(r.text, "1 written"));
  CHECK(contains(r.text, "1 mode changes"));
  CHECK(ws.read("README.md") == "readme\n");
  CHECK((fs::status(ws.path("run.sh")).permissions() & fs::perms::owner_exec) != fs::perms::none);
}

}  // namespace beluga::testing
