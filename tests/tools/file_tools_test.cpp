// read, write and edit on scratch workspaces, and the pure edit function.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tests/tools/file_test_support.h"
#include "tools/text_edit.h"

using beluga::testing::Workspace;
using nlohmann::json;
namespace tools = beluga::tools;

namespace {

std::string numbered_lines(int from, int to) {
  std::string out;
  for (int i = from; i <= to; ++i) out += "line " + std::to_string(i) + "\n";
  return out;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("read shows numbered lines and records the file's hash", "[tools]") {
  Workspace ws;
  ws.write("src/a.cpp", "int a;\nint b;\n");
  tools::ToolResult r = ws.call("read", {{"path", "src/a.cpp"}});
  REQUIRE(r.ok);
  CHECK(r.text == "     1\tint a;\n     2\tint b;\n");
  CHECK((*r.data)["total_lines"] == 2);
  CHECK(ws.context.seen_hashes.count(ws.root() / "src/a.cpp") == 1);
}

TEST_CASE("read pages with offset and limit and marks what it left out", "[tools]") {
  Workspace ws;
  ws.write("big.txt", numbered_lines(1, 50));
  tools::ToolResult r = ws.call("read", {{"path", "big.txt"}, {"offset", 10}, {"limit", 5}});
  REQUIRE(r.ok);
  CHECK_THAT(r.text, Catch::StartsWith("    10\tline 10\n"));
  CHECK_THAT(r.text, Catch::Contains("    14\tline 14\n[truncated: showing lines 10-14 of 50; call read with offset=15"));
  CHECK_FALSE(Catch::Contains("line 15\n").match(r.text));
  tools::ToolResult past = ws.call("read", {{"path", "big.txt"}, {"offset", 51}});
  CHECK_FALSE(past.ok);
  CHECK_THAT(past.text, Catch::Contains("has 50 lines; offset 51 is past the end"));
}

TEST_CASE("read caps lines, long lines and bytes with clear markers", "[tools]") {
  Workspace ws;
  ws.context.limits.max_read_lines = 10;
  ws.context.limits.max_line_bytes = 20;
  ws.context.limits.max_read_bytes = 300;
  ws.write("many.txt", numbered_lines(1, 100));
  tools::ToolResult lines = ws.call("read", {{"path", "many.txt"}});
  CHECK_THAT(lines.text, Catch::Contains("[truncated: showing lines 1-10 of 100; call read with offset=11"));
  ws.write("wide.txt", std::string(100, 'x') + "\n");
  tools::ToolResult wide = ws.call("read", {{"path", "wide.txt"}});
  CHECK_THAT(wide.text, Catch::Contains(std::string(20, 'x') + " ... [line truncated: 80 more bytes]"));
  ws.context.limits.max_line_bytes = 200;
  std::string fat;
  for (int i = 0; i < 10; ++i) fat += std::string(60, 'a' + i) + "\n";
  ws.write("fat.txt", fat);
  tools::ToolResult bytes = ws.call("read", {{"path", "fat.txt"}});
  CHECK(bytes.text.size() < 500);
  CHECK_THAT(bytes.text, Catch::Contains("(output size cap); call read with offset="));
}

TEST_CASE("read refuses binary files and folders with a message", "[tools]") {
  Workspace ws;
  ws.write("blob.bin", std::string("PK\x03\x04\0\0\x01", 7));
  tools::ToolResult bin = ws.call("read", {{"path", "blob.bin"}});
  CHECK_FALSE(bin.ok);
  CHECK_THAT(bin.text, Catch::Contains("is a binary file (7 bytes)"));
  ws.write("dir/x", "x");
  tools::ToolResult dir = ws.call("read", {{"path", "dir"}});
  CHECK_FALSE(dir.ok);
  CHECK_THAT(dir.text, Catch::Contains("is a folder; use list"));
  ws.write("empty.txt", "");
  CHECK_THAT(ws.call("read", {{"path", "empty.txt"}}).text, Catch::Contains("is empty"));
}

TEST_CASE("read streams a file larger than the load limit", "[tools]") {
  Workspace ws;
  ws.context.limits.max_file_bytes = 64 * 1024;
  std::string big;
  for (int i = 1; big.size() < 300 * 1024; ++i) big += "row " + std::to_string(i) + "\n";
  ws.write("huge.log", big);
  tools::ToolResult r = ws.call("read", {{"path", "huge.log"}, {"offset", 20000}, {"limit", 3}});
  REQUIRE(r.ok);
  CHECK_THAT(r.text, Catch::StartsWith(" 20000\trow 20000\n 20001\trow 20001\n 20002\trow 20002\n[truncated"));
  CHECK_THAT(r.text, Catch::Contains("too large for write and edit"));
  CHECK(ws.context.seen_hashes.empty());
  tools::ToolResult edit = ws.call("edit", {{"path", "huge.log"}, {"old", "row 5\n"}, {"new", "x\n"}});
  CHECK_FALSE(edit.ok);
  CHECK_THAT(edit.text, Catch::Contains("more than the limit"));
}

TEST_CASE("read flags non-UTF-8 text and shows CRLF lines without the CR", "[tools]") {
  Workspace ws;
  ws.write("latin1.txt", "caf\xe9\r\nna\xefve\r\n");
  tools::ToolResult r = ws.call("read", {{"path", "latin1.txt"}});
  REQUIRE(r.ok);
  CHECK_THAT(r.text, Catch::StartsWith("     1\tcaf\xEF\xBF\xBD\n     2\tna\xEF\xBF\xBDve\n"));
  CHECK_THAT(r.text, Catch::Contains("not valid UTF-8"));
}

TEST_CASE("write creates files and folders, atomically, and keeps the mode", "[tools]") {
  Workspace ws;
  tools::ToolResult created = ws.call("write", {{"path", "deep/er/new.txt"}, {"content", "one\ntwo\n"}});
  REQUIRE(created.ok);
  CHECK_THAT(created.text, Catch::Contains("Created deep/er/new.txt (2 lines, 8 bytes)"));
  CHECK(ws.read("deep/er/new.txt") == "one\ntwo\n");

  ws.write("run.sh", "#!/bin/sh\necho old\n");
  ::chmod(ws.path("run.sh").c_str(), 0751);
  REQUIRE(ws.call("read", {{"path", "run.sh"}}).ok);
  REQUIRE(ws.call("write", {{"path", "run.sh"}, {"content", "#!/bin/sh\necho new\n"}}).ok);
  CHECK(ws.read("run.sh") == "#!/bin/sh\necho new\n");
  CHECK(mode_of(ws.path("run.sh")) == 0751);
  // No temporary files are left behind.
  int entries = 0;
  for (auto& e : std::filesystem::directory_iterator(ws.root())) entries += e.path().filename().string()[0] == '.';
  CHECK(entries == 0);
  // A second write needs no new read: the tool knows what it wrote.
  CHECK(ws.call("write", {{"path", "run.sh"}, {"content", "x\n"}}).ok);
}

TEST_CASE("write refuses to overwrite a file it has not read, or that changed since", "[tools]") {
  Workspace ws;
  ws.write("a.txt", "original\n");
  tools::ToolResult unread = ws.call("write", {{"path", "a.txt"}, {"content", "new\n"}});
  CHECK_FALSE(unread.ok);
  CHECK_THAT(unread.text, Catch::Contains("has not been read in this session; read it first"));
  CHECK(ws.read("a.txt") == "original\n");

  REQUIRE(ws.call("read", {{"path", "a.txt"}}).ok);
  ws.write("a.txt", "changed by the user\n");
  tools::ToolResult stale = ws.call("write", {{"path", "a.txt"}, {"content", "new\n"}});
  CHECK_FALSE(stale.ok);
  CHECK_THAT(stale.text, Catch::Contains("changed since you last read it"));
  CHECK(ws.read("a.txt") == "changed by the user\n");

  REQUIRE(ws.call("read", {{"path", "a.txt"}}).ok);
  std::filesystem::remove(ws.path("a.txt"));
  tools::ToolResult deleted = ws.call("write", {{"path", "a.txt"}, {"content", "new\n"}});
  CHECK_FALSE(deleted.ok);
  CHECK_THAT(deleted.text, Catch::Contains("was deleted since you last read it"));
  CHECK_FALSE(ws.exists("a.txt"));
  CHECK(ws.call("write", {{"path", "a.txt"}, {"content", "new\n"}}).ok);
}

TEST_CASE("edit replaces one exact occurrence and shows the result", "[tools]") {
  Workspace ws;
  ws.write("a.cpp", "int f() {\n  return 1;\n}\n");
  tools::ToolResult r = ws.call("edit", {{"path", "a.cpp"}, {"old", "return 1;"}, {"new", "return 2;"}});
  REQUIRE(r.ok);
  CHECK_THAT(r.text, Catch::Contains("replaced 1 occurrence at line 2"));
  CHECK_THAT(r.text, Catch::Contains("     2\t  return 2;"));
  CHECK(ws.read("a.cpp") == "int f() {\n  return 2;\n}\n");
}

TEST_CASE("edit with zero matches names the nearest lines", "[tools]") {
  Workspace ws;
  ws.write("a.cpp", "int alpha = 1;\nint beta = 2;\nint gamma = 3;\n");
  tools::ToolResult r = ws.call("edit", {{"path", "a.cpp"}, {"old", "int betta = 2;"}, {"new", "x"}});
  CHECK_FALSE(r.ok);
  CHECK_THAT(r.text, Catch::Contains("'int betta = 2;' was not found in a.cpp"));
  CHECK_THAT(r.text, Catch::Contains("Nearest candidate lines: line 2: 'int beta = 2;'"));
  tools::ToolResult spaces = ws.call("edit", {{"path", "a.cpp"}, {"old", "int  gamma =   3;"}, {"new", "x"}});
  CHECK_THAT(spaces.text, Catch::Contains("matches line 3 if whitespace is ignored"));
  CHECK(ws.read("a.cpp") == "int alpha = 1;\nint beta = 2;\nint gamma = 3;\n");
}

TEST_CASE("edit with several matches lists them unless replace_all is set", "[tools]") {
  Workspace ws;
  std::string text = "foo();\nbar();\nfoo();\nbaz();\nfoo();\n";
  ws.write("src/a.cpp", text);
  tools::ToolResult r = ws.call("edit", {{"path", "src/a.cpp"}, {"old", "foo"}, {"new", "qux"}});
  CHECK_FALSE(r.ok);
  CHECK(r.text ==
        "edit: 'foo' occurs 3 times in src/a.cpp (lines 1, 3, 5); include more context to make it unique, or pass "
        "replace_all");
  CHECK(ws.read("src/a.cpp") == text);
  tools::ToolResult all = ws.call("edit", {{"path", "src/a.cpp"}, {"old", "foo"}, {"new", "qux"}, {"replace_all", true}});
  REQUIRE(all.ok);
  CHECK_THAT(all.text, Catch::Contains("replaced 3 occurrences at lines 1, 3, 5"));
  CHECK(ws.read("src/a.cpp") == "qux();\nbar();\nqux();\nbaz();\nqux();\n");
}

TEST_CASE("edit keeps CRLF line endings when given LF text", "[tools]") {
  Workspace ws;
  ws.write("win.txt", "first\r\nsecond\r\nthird\r\n");
  tools::ToolResult r = ws.call("edit", {{"path", "win.txt"}, {"old", "first\nsecond\n"}, {"new", "one\ntwo\nthree\n"}});
  REQUIRE(r.ok);
  CHECK(ws.read("win.txt") == "one\r\ntwo\r\nthree\r\nthird\r\n");
}

TEST_CASE("edit leaves non-UTF-8 bytes outside the match untouched", "[tools]") {
  Workspace ws;
  std::string latin1 = "caf\xe9 = 1;\nna\xefve = 2;\n\xff\xfe tail\n";
  ws.write("l1.txt", latin1);
  REQUIRE(ws.call("edit", {{"path", "l1.txt"}, {"old", "= 2;"}, {"new", "= 3;"}}).ok);
  CHECK(ws.read("l1.txt") == "caf\xe9 = 1;\nna\xefve = 3;\n\xff\xfe tail\n");
}

TEST_CASE("edit refuses a file changed since it was read, and binary files", "[tools]") {
  Workspace ws;
  ws.write("a.txt", "alpha\nbeta\n");
  REQUIRE(ws.call("read", {{"path", "a.txt"}}).ok);
  ws.write("a.txt", "alpha\nbeta\ngamma\n");
  tools::ToolResult stale = ws.call("edit", {{"path", "a.txt"}, {"old", "beta"}, {"new", "BETA"}});
  CHECK_FALSE(stale.ok);
  CHECK_THAT(stale.text, Catch::Contains("changed since you last read it"));
  CHECK(ws.read("a.txt") == "alpha\nbeta\ngamma\n");
  ws.write("b.bin", std::string("ab\0cd", 5));
  CHECK_THAT(ws.call("edit", {{"path", "b.bin"}, {"old", "ab"}, {"new", "x"}}).text, Catch::Contains("binary"));
  CHECK_THAT(ws.call("edit", {{"path", "nope.txt"}, {"old", "ab"}, {"new", "x"}}).text,
             Catch::Contains("does not exist; to create a file, use write"));
}

TEST_CASE("the pure edit function converts line endings both ways and reports lines", "[tools]") {
  auto crlf = tools::edit_text("a\r\nb\r\nc\r\n", "b\nc", "B\nC", false, "f");
  REQUIRE(crlf.ok());
  CHECK(crlf->content == "a\r\nB\r\nC\r\n");
  CHECK(crlf->old_text == "b\r\nc");
  CHECK(crlf->lines == std::vector<int64_t>{2});
  auto lf = tools::edit_text("a\nb\nc\n", "b\r\nc", "X\r\nY", false, "f");
  REQUIRE(lf.ok());
  CHECK(lf->content == "a\nX\nY\n");
  auto overlapping = tools::edit_text("aaa", "aa", "b", false, "f");
  CHECK_FALSE(overlapping.ok());
  CHECK_THAT(overlapping.message(), Catch::Contains("occurs 2 times"));
  auto identical = tools::edit_text("abc", "b", "b", false, "f");
  CHECK_THAT(identical.message(), Catch::Contains("identical"));
}
