// glob, list and grep; the gitignore matcher; and the grep regex engine
// checked against std::regex (the slow oracle) on patterns both accept.
#include <catch2/catch.hpp>

#include <chrono>
#include <regex>

#include <nlohmann/json.hpp>

#include "tests/tools/file_test_support.h"
#include "tools/ignore_rules.h"
#include "tools/line_regex.h"

using beluga::testing::Workspace;
using nlohmann::json;
namespace tools = beluga::tools;

namespace {

// A workspace with ignore rules at the root and in a subfolder.
void populate(Workspace& ws) {
  ws.write(".gitignore", "build/\n*.o\n/top-only.txt\n!keep.o\nlogs/**/*.log\n");
  ws.write("src/main.cpp", "int main() { return helper(); }\n");
  ws.write("src/helper.cpp", "int helper() { return 42; }\n");
  ws.write("src/helper.o", "object\n");
  ws.write("src/keep.o", "kept object helper\n");
  ws.write("src/.gitignore", "generated.cpp\n");
  ws.write("src/generated.cpp", "int helper_generated;\n");
  ws.write("build/out.cpp", "int helper_built;\n");
  ws.write("top-only.txt", "helper at top\n");
  ws.write("docs/top-only.txt", "helper in docs\n");
  ws.write("logs/a/b/run.log", "helper log\n");
  ws.write("logs/a/keep.txt", "helper text\n");
  ws.write(".git/config", "helper in git\n");
}

}  // namespace

TEST_CASE("wildmatch follows git's rules for *, ?, ** and classes", "[tools]") {
  struct Case {
    const char* pattern;
    const char* text;
    bool match;
  };
  const Case cases[] = {
      {"*.cpp", "a.cpp", true},         {"*.cpp", "src/a.cpp", false},   {"src/*.cpp", "src/a.cpp", true},
      {"src/*", "src/a/b", false},      {"**/a.cpp", "a.cpp", true},     {"**/a.cpp", "x/y/a.cpp", true},
      {"src/**", "src/x/y", true},      {"a/**/b", "a/b", true},         {"a/**/b", "a/x/y/b", true},
      {"a/**/b", "a/xb", false},        {"?.h", "a.h", true},            {"?.h", "/.h", false},
      {"[abc].txt", "b.txt", true},     {"[!abc].txt", "b.txt", false},  {"[^abc].txt", "d.txt", true},
      {"[a-c]x", "bx", true},           {"[[:digit:]]*", "7up", true},   {"\\*", "*", true},
      {"\\*", "a", false},              {"*", "", true},                 {"a*b*c*d*e*f*g*h*", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
  };
  for (const Case& c : cases) {
    INFO(c.pattern << " vs " << c.text);
    CHECK(tools::wildmatch(c.pattern, c.text) == c.match);
  }
}

TEST_CASE("ignore rules handle negation, folder-only, anchored and nested files", "[tools]") {
  tools::IgnoreMatcher m;
  m.push(tools::IgnoreFile::parse("# comment\n*.o\n!keep.o\nbuild/\n/root.txt\ndoc/*.tmp\n\\#hash\ntrail \\ \n", ""));
  m.push(tools::IgnoreFile::parse("local.txt\n!*.o\n", "sub"));
  CHECK(m.ignored("a.o", false));
  CHECK_FALSE(m.ignored("keep.o", false));
  CHECK(m.ignored("x/build", true));
  CHECK_FALSE(m.ignored("x/build", false));  // folder-only
  CHECK(m.ignored("root.txt", false));
  CHECK_FALSE(m.ignored("x/root.txt", false));  // anchored
  CHECK(m.ignored("doc/a.tmp", false));
  CHECK_FALSE(m.ignored("x/doc/a.tmp", false));
  CHECK(m.ignored("#hash", false));
  CHECK(m.ignored("trail  ", false));
  CHECK(m.ignored("sub/deeper/local.txt", false));
  CHECK_FALSE(m.ignored("local.txt", false));
  CHECK_FALSE(m.ignored("sub/a.o", false));  // the deeper file re-includes
  CHECK(m.ignored("x/.git", true));
}

TEST_CASE("glob honours .gitignore at the root and in subfolders, and skips .git", "[tools]") {
  Workspace ws;
  populate(ws);
  tools::ToolResult r = ws.call("glob", {{"pattern", "**/*"}});
  REQUIRE(r.ok);
  const char* expected[] = {".gitignore", "docs/", "docs/top-only.txt", "logs/", "logs/a/", "logs/a/b/",
                            "logs/a/keep.txt", "src/", "src/.gitignore", "src/helper.cpp", "src/keep.o", "src/main.cpp"};
  std::string want;
  for (const char* e : expected) want += std::string(e) + "\n";
  CHECK(r.text == want);
  CHECK(ws.call("glob", {{"pattern", "src/*.{cpp,o}"}}).text == "src/helper.cpp\nsrc/keep.o\nsrc/main.cpp\n");
  CHECK_THAT(ws.call("glob", {{"pattern", "*.txt"}}).text, Catch::StartsWith("No files match '*.txt'"));
  CHECK_FALSE(ws.call("glob", {{"pattern", "../*"}}).ok);
}

TEST_CASE("list shows one folder, folders first, without ignored entries", "[tools]") {
  Workspace ws;
  populate(ws);
  tools::ToolResult r = ws.call("list", {{"path", "."}});
  REQUIRE(r.ok);
  CHECK(r.text ==
        "./\n  docs/\n  logs/\n  src/\n  .gitignore  (47 bytes)\n"
        "[3 entries ignored by .gitignore (or .git) not shown]\n");
  CHECK_THAT(ws.call("list", {{"path", "src/main.cpp"}}).text, Catch::Contains("is a file, not a folder"));
}

TEST_CASE("grep searches in parallel, honours .gitignore and orders results by path", "[tools]") {
  Workspace ws;
  populate(ws);
  ws.context.limits.search_threads = 3;
  tools::ToolResult r = ws.call("grep", {{"regex", "helper"}});
  REQUIRE(r.ok);
  CHECK(r.text ==
        "docs/top-only.txt:1:helper in docs\n"
        "logs/a/keep.txt:1:helper text\n"
        "src/helper.cpp:1:int helper() { return 42; }\n"
        "src/keep.o:1:kept object helper\n"
        "src/main.cpp:1:int main() { return helper(); }\n");
  tools::ToolResult in_src = ws.call("grep", {{"regex", "return \\d+;"}, {"path", "src"}, {"glob", "*.cpp"}});
  CHECK(in_src.text == "src/helper.cpp:1:int helper() { return 42; }\n");
  tools::ToolResult none = ws.call("grep", {{"regex", "nothing-like-this"}});
  CHECK(none.ok);
  CHECK_THAT(none.text, Catch::StartsWith("No matches for /nothing-like-this/"));
  // An explicitly named ignored folder is searched.
  CHECK(ws.call("grep", {{"regex", "helper"}, {"path", "build"}}).text == "build/out.cpp:1:int helper_built;\n");
}

TEST_CASE("grep shows context lines and separates distant groups", "[tools]") {
  Workspace ws;
  std::string text;
  for (int i = 1; i <= 20; ++i) text += (i == 5 || i == 6 || i == 15 ? "match " : "line ") + std::to_string(i) + "\n";
  ws.write("f.txt", text);
  tools::ToolResult r = ws.call("grep", {{"regex", "^match"}, {"context", 1}});
  CHECK(r.text ==
        "f.txt-4-line 4\nf.txt:5:match 5\nf.txt:6:match 6\nf.txt-7-line 7\n--\n"
        "f.txt-14-line 14\nf.txt:15:match 15\nf.txt-16-line 16\n");
}

TEST_CASE("grep caps its output and says how much was left out", "[tools]") {
  Workspace ws;
  ws.context.limits.max_matches = 5;
  std::string text;
  for (int i = 0; i < 40; ++i) text += "hit " + std::to_string(i) + "\n";
  ws.write("a.txt", text);
  ws.write("b.txt", text);
  ws.write("bin.dat", std::string("hit\0hit", 7));
  tools::ToolResult r = ws.call("grep", {{"regex", "hit"}});
  REQUIRE(r.ok);
  CHECK_THAT(r.text, Catch::Contains("a.txt:5:hit 4\n[75 more matching lines not shown (80 in 2 files); narrow"));
  CHECK((*r.data)["binary_files_skipped"] == 1);
  ws.context.limits.max_matches = 500;
  ws.write("wide.txt", "needle" + std::string(5000, 'x') + "\n");
  CHECK_THAT(ws.call("grep", {{"regex", "needle"}, {"path", "wide.txt"}}).text,
             Catch::Contains("[line truncated: 3006 more bytes]"));
}

TEST_CASE("grep refuses backreferences and lookaround and explains the syntax", "[tools]") {
  Workspace ws;
  ws.write("a.txt", "x\n");
  for (const char* bad : {"(a)\\1", "(?=a)", "a(", "[z-a]", "*a"}) {
    INFO(bad);
    tools::ToolResult r = ws.call("grep", {{"regex", bad}});
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.text, Catch::Contains("ECMAScript"));
  }
}

TEST_CASE("the grep regex engine agrees with std::regex on ordinary patterns", "[tools]") {
  const char* patterns[] = {"abc", "a.c", "^ab", "bc$", "a|bc", "(ab)+c", "a{2,3}", "a{2}", "[a-c]+d", "[^a-c]",
                            "\\d+", "\\w+\\s\\w+", "\\bfoo\\b", "\\Bo", "colou?r", "x*", "(a|b)*c", "a.+?c",
                            "[.]", "\\.", "(?:ab|cd)e", "^$", "[\\d\\s]z", "\\x41", "[-a]", "a{2,}"};
  const char* lines[] = {"", "abc", "aac", "xabcx", "ab", "abab c", "ababc", "aaa", "aaaa", "abcd", "z", "123",
                         "foo bar", "a foo.", "food", "color colour", "bbbac", "a.c", "cde", "A", " z", "-", "aa"};
  for (const char* p : patterns) {
    auto mine = tools::LineRegex::compile(p);
    REQUIRE(mine.ok());
    std::regex oracle(p, std::regex::ECMAScript);
    for (const char* line : lines) {
      INFO("/" << p << "/ on '" << line << "'");
      CHECK(mine->search(line) == std::regex_search(line, oracle));
    }
  }
  auto icase = tools::LineRegex::compile("hello [a-z]+", true);
  REQUIRE(icase.ok());
  CHECK(icase->search("say HELLO World"));
  auto utf8 = tools::LineRegex::compile("caf.!");
  CHECK(utf8->search("caf\xc3\xa9!"));
}

TEST_CASE("catastrophic patterns finish quickly on long lines", "[tools]") {
  auto evil = tools::LineRegex::compile("(a+)+b");
  REQUIRE(evil.ok());
  auto nested = tools::LineRegex::compile("((a*)*|b)*c");
  REQUIRE(nested.ok());
  std::string line(4096, 'a');
  auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(evil->search(line));
  CHECK_FALSE(nested->search(line));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  CHECK_FALSE(tools::LineRegex::compile("(((a{1000}){1000}){1000})").ok());
}
