// The context text format (indexer/context_format.h): every section reads
// back to what was rendered, whatever the file holds, and diffs made by
// unified_diff apply back to the new text.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "indexer/context_format.h"

using beluga::indexer::count_lines;
using beluga::indexer::Definition;
using beluga::indexer::FileInContext;
using beluga::indexer::read_context_text;
using beluga::indexer::render_deleted_section;
using beluga::indexer::render_diff_section;
using beluga::indexer::render_file_section;
using beluga::indexer::render_renamed_section;
using beluga::indexer::render_signatures_section;
using beluga::indexer::unified_diff;

namespace {

std::map<std::string, FileInContext> read_all(const std::vector<std::string>& texts) {
  auto files = read_context_text(texts);
  INFO((files ? std::string() : files.message()));
  REQUIRE(files.ok());
  return *files;
}

std::string whole(const std::map<std::string, FileInContext>& files, const std::string& path) {
  auto it = files.find(path);
  REQUIRE(it != files.end());
  REQUIRE(it->second.shown == FileInContext::Shown::kWhole);
  return it->second.text;
}

}  // namespace

TEST_CASE("file sections read back byte for byte whatever they hold", "[context]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"plain.c", "int main() {}\n"},
      {"no_newline.py", "x = 1\ny = 2"},
      {"empty.txt", ""},
      {"crlf.bat", "echo one\r\necho two\r\n"},
      {"tricky.md", "=== END FILE tricky.md ===\n=== FILE other (3 lines) ===\n\n\n"},
      {"dir with space (1)/a -> b.txt", "quoted path\n"},
      {"line\nbreak.txt", "a path with a newline\n"},
      {"\"quoted\".txt", "starts with a quote\n"},
      {"=== FILE x (1 line) ===", "a path that looks like a header\n"},
  };
  std::string text = "=== BELUGA CONTEXT 0123456789abcdef: workspace w, 9 files ===\n";
  for (const auto& [path, content] : cases) text += render_file_section(path, content);
  auto files = read_all({text});
  REQUIRE(files.size() == cases.size());
  for (const auto& [path, content] : cases) {
    INFO(path);
    CHECK(whole(files, path) == content);
  }
}

TEST_CASE("line counts follow the FILE header rule", "[context]") {
  CHECK(count_lines("") == 0);
  CHECK(count_lines("a") == 1);
  CHECK(count_lines("a\n") == 1);
  CHECK(count_lines("a\nb") == 2);
  CHECK(count_lines("\n\n") == 2);
}

TEST_CASE("diffs from unified_diff apply back to the new text", "[context]") {
  const std::string before = "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n";
  const std::vector<std::string> afters = {
      "one\ntwo\nTHREE\nfour\nfive\nsix\nseven\neight\nnine\nten\n",
      "zero\none\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\neleven\n",
      "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten",  // newline dropped at the end
      "",
      "completely\ndifferent\n",
  };
  for (const std::string& after : afters) {
    INFO(after);
    auto diff = unified_diff("f.txt", before, after);
    REQUIRE(diff.ok());
    CHECK(diff->rfind("--- a/f.txt\n+++ b/f.txt\n@@", 0) == 0);
    auto files = read_all({render_file_section("f.txt", before), render_diff_section("f.txt", *diff)});
    CHECK(whole(files, "f.txt") == after);
  }
  auto same = unified_diff("f.txt", before, before);
  REQUIRE(same.ok());
  CHECK(same->empty());
}

TEST_CASE("signatures deletions and renames are read in order", "[context]") {
  std::vector<Definition> defs = {{"area", "function", 3, 9, "double area(const Shape& s)"},
                                  {"Shape", "class", 12, 20, ""}};
  std::string base = render_file_section("a.c", "int a;\n") + render_file_section("b.c", "int b;\n") +
                     render_signatures_section("big.c", 9000, defs);
  std::string delta = render_deleted_section("a.c") + render_renamed_section("b.c", "sub/b.c") +
                      render_renamed_section("listed.c", "moved.c");
  auto files = read_all({base, delta});
  CHECK(files.at("a.c").shown == FileInContext::Shown::kDeleted);
  CHECK(files.at("b.c").shown == FileInContext::Shown::kDeleted);
  CHECK(whole(files, "sub/b.c") == "int b;\n");
  CHECK(files.at("big.c").shown == FileInContext::Shown::kSignatures);
  CHECK(files.at("big.c").text == "3: double area(const Shape& s)\n12: class Shape\n");
  CHECK(files.count("moved.c") == 0);  // known from the map only: no text moves
}

TEST_CASE("malformed context text is an error naming the line", "[context]") {
  auto short_body = read_context_text({"=== FILE a.c (3 lines) ===\nonly one\n"});
  REQUIRE_FALSE(short_body.ok());
  CHECK(short_body.message().find("ends early") != std::string::npos);

  auto orphan_diff = read_context_text({"=== DIFF a.c (3 lines) ===\n--- a/a.c\n+++ b/a.c\n@@ -1 +1 @@\n"});
  REQUIRE_FALSE(orphan_diff.ok());
  CHECK(orphan_diff.message().find("line 4: a DIFF of a.c, which was not shown whole") != std::string::npos);

  auto bad_count = read_context_text({"=== FILE a.c (many lines) ===\n"});
  REQUIRE_FALSE(bad_count.ok());
  CHECK(bad_count.message().find("line count") != std::string::npos);

  auto unterminated = read_context_text({"=== SIGNATURES a.c (10 tokens, not shown whole) ===\n1: int a\n"});
  REQUIRE_FALSE(unterminated.ok());
}
