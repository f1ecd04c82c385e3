// Unified diffs: the parser and pure application (patch.h), and the
// apply_patch tool's all-or-nothing commit with rollback (patch_tool.h).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/tools/file_test_support.h"
#include "tools/patch.h"
#include "tools/patch_tool.h"

using beluga::testing::snapshot_tree;
using beluga::testing::Workspace;
using nlohmann::json;
namespace tools = beluga::tools;

namespace {

beluga::Result<std::string> apply_one(const std::string& content, const std::string& patch) {
  auto parsed = tools::parse_patch(patch);
  if (!parsed) return parsed.error();
  REQUIRE(parsed->size() == 1);
  return tools::apply_hunks(content, parsed->front(), "f");
}

}  // namespace

TEST_CASE("a git diff with add, modify, delete and rename parses into file sections", "[tools]") {
  const char* patch =
      "Some preamble the model wrote.\n"
      "diff --git a/src/a.cpp b/src/a.cpp\n"
      "index 83db48f..bf269f4 100644\n"
      "--- a/src/a.cpp\n"
      "+++ b/src/a.cpp\n"
      "@@ -1,3 +1,3 @@\n"
      " one\n"
      "-two\n"
      "+TWO\n"
      " three\n"
      "diff --git a/new.txt b/new.txt\n"
      "new file mode 100644\n"
      "--- /dev/null\n"
      "+++ b/new.txt\n"
      "@@ -0,0 +1,2 @@\n"
      "+hello\n"
      "+world\n"
      "diff --git a/old.txt b/old.txt\n"
      "deleted file mode 100644\n"
      "--- a/old.txt\n"
      "+++ /dev/null\n"
      "@@ -1 +0,0 @@\n"
      "-bye\n"
      "diff --git a/x.h b/y.h\n"
      "similarity index 100%\n"
      "rename from x.h\n"
      "rename to y.h\n";
  auto parsed = tools::parse_patch(patch);
  REQUIRE(parsed.ok());
  REQUIRE(parsed->size() == 4);
  using Kind = tools::FilePatch::Kind;
  CHECK(((*parsed)[0].kind == Kind::kModify && (*parsed)[0].old_path == "src/a.cpp"));
  CHECK(((*parsed)[1].kind == Kind::kAdd && (*parsed)[1].new_path == "new.txt"));
  CHECK(((*parsed)[2].kind == Kind::kDelete && (*parsed)[2].old_path == "old.txt"));
  CHECK(((*parsed)[3].kind == Kind::kRename && (*parsed)[3].old_path == "x.h" && (*parsed)[3].new_path == "y.h"));
}

TEST_CASE("hunks are found by context when line numbers are off or missing", "[tools]") {
  std::string content = "a\nb\nc\nd\ne\nf\n";
  auto shifted = apply_one(content, "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n d\n-e\n+E\n f\n");
  REQUIRE(shifted.ok());
  CHECK(*shifted == "a\nb\nc\nd\nE\nf\n");
  auto bare = apply_one(content, "--- f\n+++ f\n@@\n b\n-c\n+C\n");
  REQUIRE(bare.ok());
  CHECK(*bare == "a\nb\nC\nd\ne\nf\n");
  auto miscounted = apply_one(content, "--- a/f\n+++ b/f\n@@ -2,1 +2,1 @@\n b\n-c\n+C1\n+C2\n d\n");
  REQUIRE(miscounted.ok());
  CHECK(*miscounted == "a\nb\nC1\nC2\nd\ne\nf\n");
}

TEST_CASE("a hunk that does not apply explains where it diverges", "[tools]") {
  auto r = apply_one("a\nb\nc\nd\n", "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n b\n-x\n+y\n");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.message(), Catch::Contains("the first 2 of its 3 context/removed lines match, but line 3 is 'c' where "
                                          "the hunk expects 'x'"));
}

TEST_CASE("patches keep CRLF files CRLF and honour missing final newlines", "[tools]") {
  auto crlf = apply_one("one\r\ntwo\r\n", "--- a/f\n+++ b/f\n@@ -1,2 +1,3 @@\n one\n+inserted\n two\n");
  REQUIRE(crlf.ok());
  CHECK(*crlf == "one\r\ninserted\r\ntwo\r\n");
  auto add_newline = apply_one("x\ny", "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n x\n-y\n\\ No newline at end of file\n+y\n");
  REQUIRE(add_newline.ok());
  CHECK(*add_newline == "x\ny\n");
  auto drop_newline = apply_one("x\ny\n", "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n x\n-y\n+z\n\\ No newline at end of file\n");
  REQUIRE(drop_newline.ok());
  CHECK(*drop_newline == "x\nz");
  auto append = apply_one("x", "--- a/f\n+++ b/f\n@@ -1 +1,2 @@\n x\n+y\n");
  REQUIRE(append.ok());
  CHECK(*append == "x\ny\n");
}

TEST_CASE("malformed patches are refused naming the patch line", "[tools]") {
  CHECK_THAT(tools::parse_patch("just words\n").message(), Catch::Contains("contains no file changes"));
  CHECK_THAT(tools::parse_patch("@@ -1 +1 @@\n-a\n+b\n").message(), Catch::Contains("patch line 1: a hunk (@@) without a file header"));
  CHECK_THAT(tools::parse_patch("--- a/f\n+++ b/f\n@@ -x +1 @@\n-a\n").message(), Catch::Contains("patch line 3: malformed hunk header"));
  CHECK_THAT(tools::parse_patch("--- a/f\n+++ b/f\n").message(), Catch::Contains("has no hunks"));
  CHECK_THAT(tools::parse_patch("diff --git a/f b/f\nGIT binary patch\nliteral 5\n").message(), Catch::Contains("binary patches are not supported"));
}

TEST_CASE("apply_patch changes several files at once and reports each", "[tools]") {
  Workspace ws;
  ws.write("src/a.cpp", "one\ntwo\nthree\n");
  ws.write("old.txt", "bye\n");
  ws.write("x.h", "#pragma once\n");
  std::string patch =
      "--- a/src/a.cpp\n+++ b/src/a.cpp\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n"
      "--- /dev/null\n+++ b/docs/new.md\n@@ -0,0 +1 @@\n+# New\n"
      "--- a/old.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n"
      "diff --git a/x.h b/include/y.h\nrename from x.h\nrename to include/y.h\n";
  tools::ToolResult r = ws.call("apply_patch", {{"patch", patch}});
  INFO(r.text);
  REQUIRE(r.ok);
  CHECK(ws.read("src/a.cpp") == "one\nTWO\nthree\n");
  CHECK(ws.read("docs/new.md") == "# New\n");
  CHECK_FALSE(ws.exists("old.txt"));
  CHECK_FALSE(ws.exists("x.h"));
  CHECK(ws.read("include/y.h") == "#pragma once\n");
  CHECK_THAT(r.text, Catch::Contains("M src/a.cpp (+1 -1)"));
  CHECK_THAT(r.text, Catch::Contains("R x.h -> include/y.h"));
  // The tool now knows these contents: write needs no new read.
  CHECK(ws.call("write", {{"path", "src/a.cpp"}, {"content", "z\n"}}).ok);
}

TEST_CASE("a patch whose last hunk fails changes nothing, byte for byte", "[tools]") {
  Workspace ws;
  ws.write("a.txt", "alpha\nbeta\n");
  ws.write("b.txt", "gamma\ndelta\n");
  auto before = snapshot_tree(ws.root());
  std::string patch =
      "--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n alpha\n-beta\n+BETA\n"
      "--- /dev/null\n+++ b/c.txt\n@@ -0,0 +1 @@\n+new\n"
      "--- a/b.txt\n+++ b/b.txt\n@@ -1,2 +1,2 @@\n gamma\n-epsilon\n+EPSILON\n";
  tools::ToolResult r = ws.call("apply_patch", {{"patch", patch}});
  CHECK_FALSE(r.ok);
  CHECK_THAT(r.text, Catch::Contains("hunk 1 (@@ -1,2 +1,2 @@) does not apply to b.txt"));
  CHECK_THAT(r.text, Catch::EndsWith("nothing was changed"));
  CHECK(snapshot_tree(ws.root()) == before);
}

TEST_CASE("a write failing midway is rolled back, byte for byte", "[tools]") {
  Workspace ws;
  ws.write("a.txt", "alpha\n");
  ws.write("b.txt", "beta\n");
  ws.write("c.txt", "gamma\n");
  ::chmod(ws.path("a.txt").c_str(), 0640);
  auto before = snapshot_tree(ws.root());
  std::string patch =
      "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-alpha\n+ALPHA\n"
      "--- /dev/null\n+++ b/new/d.txt\n@@ -0,0 +1 @@\n+delta\n"
      "--- a/b.txt\n+++ b/b.txt\n@@ -1 +1 @@\n-beta\n+BETA\n"
      "--- a/c.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-gamma\n";
  for (int fail_at = 1; fail_at <= 4; ++fail_at) {
    INFO("failing operation " << fail_at);
    int calls = 0;
    tools::PatchFileOps ops;
    auto real_write = ops.write;
    auto real_remove = ops.remove;
    ops.write = [&](const tools::ConfinedPath& p, std::string_view bytes, std::optional<mode_t> mode) -> beluga::Status {
      if (++calls == fail_at) return beluga::make_error("disk full (simulated)");
      return real_write(p, bytes, mode);
    };
    ops.remove = [&](const tools::ConfinedPath& p) -> beluga::Status {
      if (++calls == fail_at) return beluga::make_error("permission denied (simulated)");
      return real_remove(p);
    };
    tools::ToolResult r = tools::run_apply_patch(patch, ws.context, ops);
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.text, Catch::Contains("simulated"));
    CHECK_THAT(r.text, Catch::EndsWith("nothing was changed"));
    auto after = snapshot_tree(ws.root());
    after.erase("new");  // a folder created for new/d.txt may stay (empty)
    CHECK(after == before);
  }
}

TEST_CASE("apply_patch refuses adding an existing file and deleting a missing one", "[tools]") {
  Workspace ws;
  ws.write("a.txt", "x\n");
  tools::ToolResult add = ws.call("apply_patch", {{"patch", "--- /dev/null\n+++ b/a.txt\n@@ -0,0 +1 @@\n+y\n"}});
  CHECK_THAT(add.text, Catch::Contains("cannot add a.txt (patch line 1): it already exists"));
  tools::ToolResult del = ws.call("apply_patch", {{"patch", "--- a/zz.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-y\n"}});
  CHECK_THAT(del.text, Catch::Contains("cannot delete zz.txt (patch line 1): it does not exist"));
  CHECK(ws.read("a.txt") == "x\n");
}

TEST_CASE("plan_patch applies two sections for one file in order", "[tools]") {
  auto parsed = tools::parse_patch(
      "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n"
      "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-b\n+c\n");
  REQUIRE(parsed.ok());
  auto plan = tools::plan_patch(*parsed, [](const std::string&) -> beluga::Result<std::optional<std::string>> {
    return std::optional<std::string>("a\n");
  });
  REQUIRE(plan.ok());
  REQUIRE(plan->size() == 1);
  CHECK(*plan->front().content == "c\n");
}
