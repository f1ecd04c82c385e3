// The adversarial suite of the file and search tools: one table row per
// attack or hostile input (path traversal, absolute paths, symlinks out of
// the workspace, symlink loops, a folder swapped for a symlink between
// resolve_in_workspace and open_confined, .git writes, hard links, FIFOs,
// huge and binary files, CRLF and non-UTF-8 files, edits with 0/1/many
// matches, stale files, patches failing halfway, ignore rules, output caps,
// time limits). Each row runs in a fresh scratch folder holding ws/ (the
// workspace) and outside/ (sentinels); a row is contained when it behaved as
// expected, leaked no outside content, and nothing outside ws/ changed.
//
// The rows join the shared table of tests/tools/adversarial.h under the
// area "files" (the shell, git and checkpoint rows are added, and run, by
// their own test files); the last test case runs every "files" row and
// prints "adversarial cases: N, escaped: 0".
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <iostream>

#include <nlohmann/json.hpp>

#include "tests/tools/adversarial.h"
#include "tests/tools/file_test_support.h"
#include "tools/file_io.h"
#include "tools/paths.h"

using beluga::testing::AdversarialCase;
using beluga::testing::snapshot_tree;
using beluga::testing::Workspace;
using nlohmann::json;
namespace fs = std::filesystem;
namespace tools = beluga::tools;

namespace {

// Collects what went wrong in one row; empty means contained.
struct Expect {
  std::string problems;
  void that(bool ok, const std::string& what) {
    if (!ok) problems += what + "; ";
  }
  // The result must not carry outside content.
  void no_leak(const tools::ToolResult& r, const std::string& what) {
    that(r.text.find("top secret") == std::string::npos && r.text.find("root:x:0:0") == std::string::npos &&
             r.text.find("outside inner") == std::string::npos,
         what + " leaked content from outside the workspace");
  }
  void refused(const tools::ToolResult& r, const std::string& what, const std::string& phrase = "") {
    that(!r.ok, what + " was not refused");
    if (!phrase.empty())
      that(r.text.find(phrase) != std::string::npos, what + ": expected '" + phrase + "' in: " + r.text);
    no_leak(r, what);
  }
  void succeeded(const tools::ToolResult& r, const std::string& what) {
    that(r.ok, what + " failed: " + r.text);
    no_leak(r, what);
  }
};

using Body = std::function<void(Workspace&, Expect&)>;

AdversarialCase row(std::string name, Body body) {
  return {"files", name, [body] {
            Workspace ws;
            Expect expect;
            try {
              body(ws, expect);
            } catch (const std::exception& e) {
              expect.problems += std::string("threw: ") + e.what() + "; ";
            }
            if (!ws.outside_unchanged()) expect.problems += "something outside the workspace changed; ";
            return expect.problems;
          }};
}

std::string outside_secret(const Workspace& ws) { return (ws.outside() / "secret.txt").string(); }

void link(const fs::path& target, const fs::path& at) { fs::create_symlink(target, at); }

// The swap between check and use: resolve, then replace folder "sub" with a
// symlink to outside/dir (which holds a file of the same name), then use.
void swapped_folder(Workspace& ws, Expect& e, tools::PathUse use) {
  ws.write("sub/file.txt", "inside\n");
  ws.outside_write("dir/file.txt", "outside inner\n");
  auto resolved = tools::resolve_in_workspace(ws.context, "sub/file.txt", use);
  e.that(resolved.ok(), "resolving sub/file.txt failed");
  if (!resolved) return;
  fs::rename(ws.path("sub"), ws.path("sub-moved"));
  link(ws.outside() / "dir", ws.path("sub"));
  auto fd = tools::open_confined(*resolved, O_RDONLY);
  if (fd) ::close(*fd);
  e.that(!fd.ok(), "open_confined followed the swapped-in symlink");
  auto content = tools::read_confined(*resolved, 1 << 20);
  e.that(!content.ok() || !content->exists, "read_confined followed the swapped-in symlink");
  if (use == tools::PathUse::kWrite) {
    e.that(!tools::write_confined_atomically(*resolved, "pwned\n").ok(), "a write followed the swapped-in symlink");
    e.that(!tools::remove_confined(*resolved).ok(), "a removal followed the swapped-in symlink");
    auto wfd = tools::open_confined(*resolved, O_WRONLY | O_TRUNC);
    if (wfd) ::close(*wfd);
    e.that(!wfd.ok(), "open_confined for writing followed the swapped-in symlink");
  }
}

std::vector<AdversarialCase> file_rows() {
  std::vector<AdversarialCase> rows;
  auto add = [&](std::string name, Body body) { rows.push_back(row(std::move(name), std::move(body))); };

  // --- Paths that leave the workspace.
  for (const char* path : {"../outside/secret.txt", "sub/../../outside/secret.txt", "./../outside/dir/inner.txt"})
    add(std::string("read of '") + path + "' is refused", [path](Workspace& ws, Expect& e) {
      e.refused(ws.call("read", {{"path", path}}), "read", "outside the workspace");
    });
  add("read of an absolute path outside is refused", [](Workspace& ws, Expect& e) {
    e.refused(ws.call("read", {{"path", outside_secret(ws)}}), "read", "outside the workspace");
    e.refused(ws.call("read", {{"path", "/etc/passwd"}}), "read /etc/passwd", "outside the workspace");
    e.refused(ws.call("read", {{"path", "/proc/self/root/etc/passwd"}}), "read via /proc", "outside");
  });
  add("write, edit and apply_patch outside by traversal are refused", [](Workspace& ws, Expect& e) {
    e.refused(ws.call("write", {{"path", "../outside/secret.txt"}, {"content", "pwned"}}), "write");
    e.refused(ws.call("write", {{"path", "../outside/new.txt"}, {"content", "pwned"}}), "write of a new file");
    e.refused(ws.call("edit", {{"path", outside_secret(ws)}, {"old", "top"}, {"new", "pwned"}}), "edit");
    e.refused(ws.call("apply_patch", {{"patch", "--- a/../outside/secret.txt\n+++ b/../outside/secret.txt\n@@ -1 +1 @@\n-top secret\n+pwned\n"}}), "patch");
    e.refused(ws.call("apply_patch", {{"patch", "--- /dev/null\n+++ " + (ws.outside() / "x.txt").string() + "\n@@ -0,0 +1 @@\n+pwned\n"}}), "absolute patch");
  });
  add("a rename out of the workspace is refused and nothing moves", [](Workspace& ws, Expect& e) {
    ws.write("a.txt", "mine\n");
    e.refused(ws.call("apply_patch", {{"patch", "diff --git a/a.txt b/../outside/a.txt\nrename from a.txt\nrename to ../outside/a.txt\n"}}), "rename");
    e.that(ws.read("a.txt") == "mine\n", "a.txt changed");
  });
  add("search tools refuse folders outside", [](Workspace& ws, Expect& e) {
    e.refused(ws.call("list", {{"path", ".."}}), "list ..");
    e.refused(ws.call("grep", {{"regex", "secret"}, {"path", "../outside"}}), "grep ../outside");
    e.refused(ws.call("glob", {{"pattern", "../outside/*"}}), "glob ../");
    e.refused(ws.call("glob", {{"pattern", (ws.outside() / "*").string()}}), "glob absolute");
  });
  add("a path with a NUL byte or the root itself is refused", [](Workspace& ws, Expect& e) {
    e.refused(ws.call("read", {{"path", std::string("a\0b", 3)}}), "NUL path");
    e.refused(ws.call("write", {{"path", "."}, {"content", "x"}}), "write to the root");
    e.refused(ws.call("read", {{"path", std::string(5000, 'a')}}), "a very long path");
  });

  // --- Symlinks.
  add("a symlink to /etc is not followed by read, list, glob or grep", [](Workspace& ws, Expect& e) {
    link("/etc", ws.path("etc"));
    e.refused(ws.call("read", {{"path", "etc/passwd"}}), "read etc/passwd", "outside the workspace");
    e.refused(ws.call("list", {{"path", "etc"}}), "list etc");
    tools::ToolResult glob = ws.call("glob", {{"pattern", "**/*"}});
    e.succeeded(glob, "glob");
    e.that(glob.text == "etc@\n", "glob listed through the symlink: " + glob.text);
    tools::ToolResult grep = ws.call("grep", {{"regex", "root"}});
    e.succeeded(grep, "grep");
    e.that(grep.text.find("No matches") == 0, "grep searched through the symlink");
  });
  add("symlinks to outside files and folders are refused for writing", [](Workspace& ws, Expect& e) {
    link(ws.outside() / "secret.txt", ws.path("link.txt"));
    link(ws.outside() / "dir", ws.path("out"));
    link(ws.outside() / "missing.txt", ws.path("dangling.txt"));
    e.refused(ws.call("read", {{"path", "link.txt"}}), "read link.txt");
    e.refused(ws.call("write", {{"path", "link.txt"}, {"content", "pwned"}}), "write link.txt");
    e.refused(ws.call("edit", {{"path", "link.txt"}, {"old", "top"}, {"new", "pwned"}}), "edit link.txt");
    e.refused(ws.call("write", {{"path", "out/inner.txt"}, {"content", "pwned"}}), "write out/inner.txt");
    e.refused(ws.call("write", {{"path", "out/new.txt"}, {"content", "pwned"}}), "write out/new.txt");
    e.refused(ws.call("write", {{"path", "dangling.txt"}, {"content", "pwned"}}), "write through a dangling link");
    e.refused(ws.call("apply_patch", {{"patch", "--- /dev/null\n+++ b/out/p.txt\n@@ -0,0 +1 @@\n+pwned\n"}}), "patch via out/");
    tools::ToolResult grep = ws.call("grep", {{"regex", "secret|inner"}});
    e.succeeded(grep, "grep");
  });
  add("symlink loops are refused, not followed forever", [](Workspace& ws, Expect& e) {
    link(ws.path("loop2"), ws.path("loop1"));
    link(ws.path("loop1"), ws.path("loop2"));
    link(ws.path("self"), ws.path("self"));
    e.refused(ws.call("read", {{"path", "loop1"}}), "read loop1", "symlink loop");
    e.refused(ws.call("write", {{"path", "loop1/x.txt"}, {"content", "x"}}), "write loop1/x.txt");
    e.refused(ws.call("list", {{"path", "self"}}), "list self");
    e.succeeded(ws.call("glob", {{"pattern", "**"}}), "glob over loops");
    e.succeeded(ws.call("grep", {{"regex", "x"}}), "grep over loops");
  });
  add("a folder swapped for a symlink after the read check is not followed",
      [](Workspace& ws, Expect& e) { swapped_folder(ws, e, tools::PathUse::kRead); });
  add("a folder swapped for a symlink after the write check is not followed",
      [](Workspace& ws, Expect& e) { swapped_folder(ws, e, tools::PathUse::kWrite); });
  add("a file swapped for a symlink after the check is not followed", [](Workspace& ws, Expect& e) {
    ws.write("f.txt", "inside\n");
    auto resolved = tools::resolve_in_workspace(ws.context, "f.txt", tools::PathUse::kWrite);
    e.that(resolved.ok(), "resolve failed");
    fs::remove(ws.path("f.txt"));
    link(ws.outside() / "secret.txt", ws.path("f.txt"));
    auto fd = tools::open_confined(*resolved, O_RDONLY);
    if (fd) ::close(*fd);
    e.that(!fd.ok(), "open_confined followed the swapped-in file symlink");
    // An atomic write replaces the link itself; the outside file is untouched.
    e.that(tools::write_confined_atomically(*resolved, "replaced\n").ok(), "the atomic write failed");
    e.that(!fs::is_symlink(ws.path("f.txt")) && ws.read("f.txt") == "replaced\n", "the link was not replaced");
  });
  add("a hard link to an outside file is replaced, never written through", [](Workspace& ws, Expect& e) {
    ws.outside_write("shared.txt", "shared text\n");
    std::error_code ec;
    fs::create_hard_link(ws.outside() / "shared.txt", ws.path("hard.txt"), ec);
    if (ec) return;  // another file system: nothing to test
    e.succeeded(ws.call("read", {{"path", "hard.txt"}}), "read hard.txt");  // inside by path: allowed
    e.succeeded(ws.call("edit", {{"path", "hard.txt"}, {"old", "shared"}, {"new", "mine"}}), "edit hard.txt");
    e.succeeded(ws.call("write", {{"path", "hard.txt"}, {"content", "all mine\n"}}), "write hard.txt");
    e.that(ws.read("hard.txt") == "all mine\n", "the write did not land");
  });

  // --- .git is never writable by file tools.
  add(".git internals are not writable by write, edit or apply_patch", [](Workspace& ws, Expect& e) {
    ws.write(".git/config", "[core]\n");
    ws.write(".git/HEAD", "ref: refs/heads/main\n");
    auto before = snapshot_tree(ws.root() / ".git");
    e.refused(ws.call("write", {{"path", ".git/config"}, {"content", "pwned"}}), "write .git/config", ".git");
    e.refused(ws.call("write", {{"path", ".git/hooks/pre-commit"}, {"content", "rm -rf /"}}), "write a hook", ".git");
    e.refused(ws.call("edit", {{"path", ".git/HEAD"}, {"old", "main"}, {"new", "evil"}}), "edit .git/HEAD", ".git");
    e.refused(ws.call("apply_patch", {{"patch", "--- /dev/null\n+++ b/.git/hooks/post-checkout\n@@ -0,0 +1 @@\n+evil\n"}}), "patch a hook");
    link(ws.path(".git"), ws.path("gitlink"));
    e.refused(ws.call("write", {{"path", "gitlink/config"}, {"content", "pwned"}}), "write via a link to .git", ".git");
    e.refused(ws.call("write", {{"path", "sub/../.git/config"}, {"content", "pwned"}}), "write via ..", ".git");
    e.that(snapshot_tree(ws.root() / ".git") == before, ".git changed");
  });

  // --- Special and hostile files.
  add("a FIFO is refused by read and write and skipped by grep, without hanging", [](Workspace& ws, Expect& e) {
    e.that(::mkfifo(ws.path("pipe").c_str(), 0644) == 0, "mkfifo failed");
    e.refused(ws.call("read", {{"path", "pipe"}}), "read pipe", "not a regular file");
    e.refused(ws.call("write", {{"path", "pipe"}, {"content", "x"}}), "write pipe");
    e.succeeded(ws.call("grep", {{"regex", "x"}}), "grep");
  });
  add("a huge sparse file is refused as binary quickly and skipped by grep", [](Workspace& ws, Expect& e) {
    int fd = ::open(ws.path("huge.bin").c_str(), O_WRONLY | O_CREAT, 0644);
    e.that(fd >= 0 && ::ftruncate(fd, int64_t{5} << 30) == 0, "could not make a sparse file");
    if (fd >= 0) ::close(fd);
    e.refused(ws.call("read", {{"path", "huge.bin"}}), "read", "binary");
    e.refused(ws.call("edit", {{"path", "huge.bin"}, {"old", "a"}, {"new", "b"}}), "edit", "more than the limit");
    tools::ToolResult grep = ws.call("grep", {{"regex", "a"}});
    e.succeeded(grep, "grep");
    e.that(grep.text.find("larger than") != std::string::npos, "grep did not say it skipped the large file");
  });
  add("a large text file is paged and capped, and writes above the limit are refused", [](Workspace& ws, Expect& e) {
    ws.context.limits.max_file_bytes = 256 * 1024;
    std::string big;
    while (big.size() < 1024 * 1024) big += "some text line\n";
    ws.write("big.txt", big);
    tools::ToolResult r = ws.call("read", {{"path", "big.txt"}});
    e.succeeded(r, "read");
    e.that(r.text.find("[truncated: showing lines 1-2000") != std::string::npos, "no truncation marker: " + r.text.substr(r.text.size() - 200));
    e.refused(ws.call("write", {{"path", "c.txt"}, {"content", std::string(300 * 1024, 'x')}}), "write", "limit");
  });
  add("binary files are refused by read and edit and skipped by grep", [](Workspace& ws, Expect& e) {
    std::string bin("ELF\0\0needle\0", 12);
    ws.write("a.out", bin);
    e.refused(ws.call("read", {{"path", "a.out"}}), "read", "binary file");
    e.refused(ws.call("edit", {{"path", "a.out"}, {"old", "needle"}, {"new", "x"}}), "edit", "binary");
    tools::ToolResult grep = ws.call("grep", {{"regex", "needle"}});
    e.that(grep.ok && grep.text.find("No matches") == 0, "grep matched a binary file");
    e.that(ws.read("a.out") == bin, "the binary file changed");
  });
  add("CRLF files stay CRLF through edit and apply_patch", [](Workspace& ws, Expect& e) {
    ws.write("w.txt", "a\r\nb\r\nc\r\n");
    e.succeeded(ws.call("edit", {{"path", "w.txt"}, {"old", "a\nb"}, {"new", "A\nB"}}), "edit");
    e.succeeded(ws.call("apply_patch", {{"patch", "--- a/w.txt\n+++ b/w.txt\n@@ -2,2 +2,3 @@\n B\n c\n+d\n"}}), "patch");
    e.that(ws.read("w.txt") == "A\r\nB\r\nc\r\nd\r\n", "line endings changed: " + ws.read("w.txt"));
  });
  add("non-UTF-8 bytes survive edit and apply_patch untouched", [](Workspace& ws, Expect& e) {
    ws.write("l1.txt", "x = '\xe9t\xe9';\ny = 1;\n\xff\xfe\n");
    e.succeeded(ws.call("edit", {{"path", "l1.txt"}, {"old", "y = 1;"}, {"new", "y = 2;"}}), "edit");
    e.succeeded(ws.call("apply_patch", {{"patch", "--- a/l1.txt\n+++ b/l1.txt\n@@ -2 +2 @@\n-y = 2;\n+y = 3;\n"}}), "patch");
    e.that(ws.read("l1.txt") == "x = '\xe9t\xe9';\ny = 3;\n\xff\xfe\n", "bytes changed");
  });

  // --- Edits and staleness.
  add("edits with zero, one and many matches behave exactly", [](Workspace& ws, Expect& e) {
    ws.write("a.txt", "x\ny\nx\n");
    e.refused(ws.call("edit", {{"path", "a.txt"}, {"old", "z"}, {"new", "w"}}), "zero matches", "was not found");
    e.refused(ws.call("edit", {{"path", "a.txt"}, {"old", "x"}, {"new", "w"}}), "two matches", "occurs 2 times in a.txt (lines 1, 3)");
    e.that(ws.read("a.txt") == "x\ny\nx\n", "a refused edit changed the file");
    e.succeeded(ws.call("edit", {{"path", "a.txt"}, {"old", "y"}, {"new", "w"}}), "one match");
    e.that(ws.read("a.txt") == "x\nw\nx\n", "the edit is wrong");
  });
  add("stale files are refused by write, edit and apply_patch", [](Workspace& ws, Expect& e) {
    ws.write("a.txt", "one\n");
    e.succeeded(ws.call("read", {{"path", "a.txt"}}), "read");
    ws.write("a.txt", "two\n");
    e.refused(ws.call("write", {{"path", "a.txt"}, {"content", "three\n"}}), "write", "changed since you last read it");
    e.refused(ws.call("edit", {{"path", "a.txt"}, {"old", "two"}, {"new", "3"}}), "edit", "changed since you last read it");
    e.refused(ws.call("apply_patch", {{"patch", "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-two\n+3\n"}}), "patch", "changed since");
    e.that(ws.read("a.txt") == "two\n", "a stale file was changed");
  });
  add("a patch failing halfway changes nothing, byte for byte", [](Workspace& ws, Expect& e) {
    ws.write("a.txt", "1\n2\n");
    ws.write("b.txt", "3\n4\n");
    auto before = snapshot_tree(ws.root());
    e.refused(ws.call("apply_patch", {{"patch", "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-1\n+one\n"
                                                "--- a/b.txt\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-3\n-4\n"
                                                "--- a/c.txt\n+++ b/c.txt\n@@ -1 +1 @@\n-5\n+five\n"}}),
              "patch", "cannot modify c.txt");
    e.that(snapshot_tree(ws.root()) == before, "the workspace changed");
  });

  // --- Ignore rules, caps and limits.
  add("glob and grep honour .gitignore and never show .git", [](Workspace& ws, Expect& e) {
    ws.write(".gitignore", "secret/\n*.key\n");
    ws.write("secret/creds.txt", "password\n");
    ws.write("id.key", "password\n");
    ws.write(".git/config", "password\n");
    ws.write("ok.txt", "no pass here\n");
    tools::ToolResult grep = ws.call("grep", {{"regex", "password"}});
    e.that(grep.ok && grep.text.find("No matches") == 0, "grep found ignored files: " + grep.text);
    tools::ToolResult glob = ws.call("glob", {{"pattern", "**"}});
    e.that(glob.text == ".gitignore\nok.txt\n", "glob listed ignored files: " + glob.text);
  });
  add("outputs are capped with a marker saying how much was left out", [](Workspace& ws, Expect& e) {
    ws.context.limits.max_matches = 10;
    for (int i = 0; i < 30; ++i) ws.write("f" + std::to_string(100 + i) + ".txt", "match\n");
    e.that(ws.call("glob", {{"pattern", "*.txt"}}).text.find("[20 more matches not shown (30 in all)") != std::string::npos, "glob cap");
    e.that(ws.call("list", {{"path", "."}}).text.find("[20 more entries not shown (30 in all)") != std::string::npos, "list cap");
    e.that(ws.call("grep", {{"regex", "match"}}).text.find("[20 more matching lines not shown (30 in 30 files)") != std::string::npos, "grep cap");
  });
  add("walks stop at the entry limit and the time limit and say so", [](Workspace& ws, Expect& e) {
    for (int i = 0; i < 50; ++i) ws.write("d/f" + std::to_string(i), "x\n");
    ws.context.limits.max_walk_entries = 20;
    tools::ToolResult glob = ws.call("glob", {{"pattern", "**"}});
    e.that(glob.text.find("stopped early at the 20-entry limit") != std::string::npos, "no entry-limit note: " + glob.text);
    ws.context.limits.max_walk_entries = 200000;
    ws.context.keep_going = [] { return false; };
    tools::ToolResult grep = ws.call("grep", {{"regex", "x"}});
    e.that(grep.text.find("cancel") != std::string::npos, "cancellation not reported: " + grep.text);
  });
  add("a catastrophic regex over long lines finishes quickly", [](Workspace& ws, Expect& e) {
    ws.write("a.txt", std::string(100000, 'a') + "\n" + std::string(3000, 'a') + "\n");
    auto start = std::chrono::steady_clock::now();
    e.succeeded(ws.call("grep", {{"regex", "(a+)+b"}}), "grep (a+)+b");
    e.succeeded(ws.call("grep", {{"regex", "(a|aa)*c"}}), "grep (a|aa)*c");
    e.that(std::chrono::steady_clock::now() - start < std::chrono::seconds(5), "grep took too long");
  });
  add("a glob with an explosive brace expansion is refused", [](Workspace& ws, Expect& e) {
    e.refused(ws.call("glob", {{"pattern", "{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}"}}), "glob", "more than 64 patterns");
    e.succeeded(ws.call("glob", {{"pattern", "**/**/**/**/**/**/**/**/**/**/**/*x*x*x*x*x*x*x*x*x*y"}}), "glob with many stars");
  });
  add("hunks with absurd line numbers are located by context or refused", [](Workspace& ws, Expect& e) {
    ws.write("a.txt", "1\n2\n3\n");
    e.succeeded(ws.call("apply_patch", {{"patch", "--- a/a.txt\n+++ b/a.txt\n@@ -9999999999,1 +9999999999,1 @@\n-2\n+two\n"}}), "far hunk");
    e.that(ws.read("a.txt") == "1\ntwo\n3\n", "the far hunk was misapplied");
    e.refused(ws.call("apply_patch", {{"patch", "--- a/a.txt\n+++ b/a.txt\n@@ -9999999999,0 +9999999999,1 @@\n+x\n"}}), "insertion past the end");
  });
  add("deep folder nesting is bounded", [](Workspace& ws, Expect& e) {
    std::string deep;
    for (int i = 0; i < 80; ++i) deep += "d/";
    ws.write(deep + "bottom.txt", "x\n");
    ws.context.limits.max_walk_depth = 10;
    e.succeeded(ws.call("glob", {{"pattern", "**/bottom.txt"}}), "glob");
    e.succeeded(ws.call("grep", {{"regex", "x"}}), "grep");
  });
  return rows;
}

const bool registered = beluga::testing::add_adversarial_cases(file_rows());

}  // namespace

TEST_CASE("adversarial cases: every attack on the file and search tools is contained", "[tools]") {
  REQUIRE(registered);
  int total = 0, escaped = 0;
  for (const AdversarialCase& c : beluga::testing::adversarial_cases()) {
    if (c.area != "files") continue;  // the shell/git/checkpoint rows run in their own test (shell_tool_test.cpp)
    ++total;
    std::string outcome = c.run();
    if (!outcome.empty()) {
      ++escaped;
      FAIL_CHECK(c.name << ": " << outcome);
    }
  }
  std::cout << "adversarial cases: " << total << ", escaped: " << escaped << "\n";
  CHECK(escaped == 0);
  CHECK(total >= 30);
}
