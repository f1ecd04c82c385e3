// indexer/tags.h: definitions and references from each grammar's tags
// query, one annotated fixture per language.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "indexer/tags.h"
#include "tests/test_support.h"

using beluga::indexer::Definition;
using beluga::indexer::FileTags;
using beluga::indexer::Language;
using beluga::indexer::Reference;
using beluga::indexer::TagExtractor;

namespace {

FileTags tags_of(Language language, const std::string& source) {
  TagExtractor extractor;
  auto tags = extractor.extract(language, source);
  INFO((tags ? std::string() : tags.message()));
  REQUIRE(tags.ok());
  return *tags;
}

const Definition* find_def(const FileTags& tags, const std::string& name) {
  for (const Definition& d : tags.definitions)
    if (d.name == name) return &d;
  return nullptr;
}

bool has_ref(const FileTags& tags, const std::string& name, const std::string& kind = "") {
  return std::any_of(tags.references.begin(), tags.references.end(),
                     [&](const Reference& r) { return r.name == name && (kind.empty() || r.kind == kind); });
}

std::string names(const FileTags& tags) {
  std::string out;
  for (const Definition& d : tags.definitions) out += d.kind + ":" + d.name + "@" + std::to_string(d.start_line) + " ";
  out += "| ";
  for (const Reference& r : tags.references) out += r.kind + ":" + r.name + "@" + std::to_string(r.line) + " ";
  return out;
}

}  // namespace

TEST_CASE("every tags query compiles against its grammar", "[indexer][tags]") {
  TagExtractor extractor;
  for (Language language : {Language::kC, Language::kCpp, Language::kPython, Language::kJavaScript,
                            Language::kTypeScript, Language::kTsx, Language::kGo, Language::kRust, Language::kJava}) {
    auto tags = extractor.extract(language, "");
    INFO(std::string(beluga::indexer::language_name(language)) << ": " << (tags ? "" : tags.message()));
    CHECK(tags.ok());
  }
}

TEST_CASE("C definitions and beluga's added C references are found", "[indexer][tags]") {
  FileTags tags = tags_of(Language::kC,
                          "struct point { int x; };\n"     // 1
                          "typedef int length_t;\n"        // 2
                          "static int add(int a, int b) {\n"  // 3
                          "  return a + b;\n"              // 4
                          "}\n"                            // 5
                          "int main(void) { return add(1, 2); }\n");  // 6
  INFO(names(tags));
  const Definition* add = find_def(tags, "add");
  REQUIRE(add);
  CHECK(add->kind == "function");
  CHECK(add->start_line == 3);
  CHECK(add->end_line == 5);  // widened from the declarator to the whole function
  CHECK(add->signature == "static int add(int a, int b)");
  REQUIRE(find_def(tags, "point"));
  CHECK(find_def(tags, "point")->kind == "class");
  REQUIRE(find_def(tags, "length_t"));
  CHECK(find_def(tags, "main"));
  CHECK(has_ref(tags, "add", "call"));
  CHECK_FALSE(tags.syntax_error);
}

TEST_CASE("C++ classes methods and calls are found", "[indexer][tags]") {
  FileTags tags = tags_of(Language::kCpp,
                          "namespace geo {\n"                                  // 1
                          "class Shape {\n"                                    // 2
                          " public:\n"                                         // 3
                          "  double area() const;\n"                           // 4
                          "};\n"                                               // 5
                          "double Shape::area() const {\n"                     // 6
                          "  return compute(1.0);\n"                           // 7
                          "}\n"                                                // 8
                          "}  // namespace geo\n"                              // 9
                          "int main() { geo::Shape s; return s.area() > 0; }\n");  // 10
  INFO(names(tags));
  REQUIRE(find_def(tags, "Shape"));
  CHECK(find_def(tags, "Shape")->kind == "class");
  CHECK(find_def(tags, "Shape")->start_line == 2);
  const Definition* area = nullptr;
  for (const Definition& d : tags.definitions)
    if (d.name == "area" && d.start_line == 6) area = &d;
  REQUIRE(area);
  CHECK(area->kind == "method");
  CHECK(area->end_line == 8);
  CHECK(area->signature == "double Shape::area() const");
  CHECK(has_ref(tags, "compute", "call"));
  CHECK(has_ref(tags, "area", "call"));
  CHECK(has_ref(tags, "Shape", "type"));
}

TEST_CASE("Python classes functions constants and calls are found", "[indexer][tags]") {
  FileTags tags = tags_of(Language::kPython,
                          "LIMIT = 10\n"                  // 1
                          "class Greeter:\n"              // 2
                          "    def greet(self, who):\n"   // 3
                          "        return fmt(who)\n"     // 4
                          "\n"                            // 5
                          "def main():\n"                 // 6
                          "    Greeter().greet('x')\n");  // 7
  INFO(names(tags));
  REQUIRE(find_def(tags, "LIMIT"));
  CHECK(find_def(tags, "LIMIT")->kind == "constant");
  REQUIRE(find_def(tags, "Greeter"));
  CHECK(find_def(tags, "Greeter")->kind == "class");
  CHECK(find_def(tags, "Greeter")->end_line == 4);
  REQUIRE(find_def(tags, "greet"));
  CHECK(find_def(tags, "greet")->signature == "def greet(self, who):");
  CHECK(find_def(tags, "main"));
  CHECK(has_ref(tags, "fmt", "call"));
  CHECK(has_ref(tags, "greet", "call"));
  CHECK(has_ref(tags, "Greeter", "call"));
}

TEST_CASE("JavaScript predicates drop constructors and require calls", "[indexer][tags]") {
  FileTags tags = tags_of(Language::kJavaScript,
                          "const fs = require('fs');\n"          // 1
                          "class Store {\n"                      // 2
                          "  constructor() { this.items = []; }\n"  // 3
                          "  add(item) { this.items.push(item); }\n"  // 4
                          "}\n"                                  // 5
                          "function load(path) { return parse(path); }\n"  // 6
                          "const save = (s) => write(s);\n");    // 7
  INFO(names(tags));
  REQUIRE(find_def(tags, "Store"));
  CHECK(find_def(tags, "Store")->kind == "class");
  REQUIRE(find_def(tags, "add"));
  CHECK(find_def(tags, "add")->kind == "method");
  CHECK_FALSE(find_def(tags, "constructor"));  // #not-eq? @name "constructor"
  CHECK(find_def(tags, "load"));
  CHECK(find_def(tags, "save"));
  CHECK(has_ref(tags, "parse", "call"));
  CHECK(has_ref(tags, "push", "call"));
  CHECK_FALSE(has_ref(tags, "require"));  // #not-match? @name "^(require)$"
}

TEST_CASE("TypeScript uses its own tags plus JavaScript's", "[indexer][tags]") {
  const std::string source =
      "interface Shape { area(): number; }\n"             // 1
      "abstract class Base { abstract name(): string; }\n"  // 2
      "function total(shapes: Shape[], first: Shape): number {\n"  // 3
      "  return shapes.reduce((a, s) => a + s.area(), 0);\n"  // 4
      "}\n";                                              // 5
  for (Language language : {Language::kTypeScript, Language::kTsx}) {
    FileTags tags = tags_of(language, source);
    INFO(names(tags));
    REQUIRE(find_def(tags, "Shape"));
    CHECK(find_def(tags, "Shape")->kind == "interface");  // TypeScript's tags
    REQUIRE(find_def(tags, "total"));
    CHECK(find_def(tags, "total")->kind == "function");  // JavaScript's tags
    CHECK(find_def(tags, "Base"));
    CHECK(has_ref(tags, "reduce", "call"));
    CHECK(has_ref(tags, "Shape", "type"));
    CHECK_FALSE(tags.syntax_error);
  }
}

TEST_CASE("Go functions methods types and calls are found", "[indexer][tags]") {
  FileTags tags = tags_of(Language::kGo,
                          "package main\n"                                   // 1
                          "type Server struct{ port int }\n"                 // 2
                          "func (s *Server) Start() error { return listen(s.port) }\n"  // 3
                          "func main() { s := &Server{}; s.Start() }\n");    // 4
  INFO(names(tags));
  REQUIRE(find_def(tags, "Server"));
  CHECK(find_def(tags, "Server")->kind == "type");
  REQUIRE(find_def(tags, "Start"));
  CHECK(find_def(tags, "Start")->kind == "method");
  CHECK(find_def(tags, "main"));
  CHECK(has_ref(tags, "listen", "call"));
  CHECK(has_ref(tags, "Start", "call"));
}

TEST_CASE("Rust methods win over the generic function pattern", "[indexer][tags]") {
  FileTags tags = tags_of(Language::kRust,
                          "struct Point { x: i32 }\n"             // 1
                          "trait Area { fn area(&self) -> i32; }\n"  // 2
                          "impl Point {\n"                        // 3
                          "    fn norm(&self) -> i32 { abs(self.x) }\n"  // 4
                          "}\n"                                   // 5
                          "fn main() { println!(\"{}\", Point { x: 1 }.norm()); }\n");  // 6
  INFO(names(tags));
  REQUIRE(find_def(tags, "Point"));
  CHECK(find_def(tags, "Point")->kind == "class");
  REQUIRE(find_def(tags, "Area"));
  CHECK(find_def(tags, "Area")->kind == "interface");
  REQUIRE(find_def(tags, "norm"));
  CHECK(find_def(tags, "norm")->kind == "method");
  CHECK(std::count_if(tags.definitions.begin(), tags.definitions.end(),
                      [](const Definition& d) { return d.name == "norm"; }) == 1);
  CHECK(find_def(tags, "main")->kind == "function");
  CHECK(has_ref(tags, "abs", "call"));
  CHECK(has_ref(tags, "println", "call"));
  CHECK(has_ref(tags, "Point", "implementation"));
}

TEST_CASE("Java classes interfaces methods and calls are found", "[indexer][tags]") {
  FileTags tags = tags_of(Language::kJava,
                          "interface Shape { double area(); }\n"                 // 1
                          "class Circle implements Shape {\n"                    // 2
                          "  public double area() { return Math.pow(r, 2); }\n"  // 3
                          "  static Circle unit() { return new Circle(); }\n"    // 4
                          "}\n");
  INFO(names(tags));
  REQUIRE(find_def(tags, "Shape"));
  CHECK(find_def(tags, "Shape")->kind == "interface");
  REQUIRE(find_def(tags, "Circle"));
  CHECK(find_def(tags, "Circle")->end_line == 5);
  CHECK(find_def(tags, "area"));
  CHECK(find_def(tags, "unit"));
  CHECK(has_ref(tags, "pow", "call"));
  CHECK(has_ref(tags, "Circle", "class"));
  CHECK(has_ref(tags, "Shape", "implementation"));
}

TEST_CASE("a syntax error keeps the tags of the parseable parts", "[indexer][tags]") {
  FileTags tags = tags_of(Language::kPython,
                          "def good():\n"
                          "    return 1\n"
                          "\n"
                          "def broken(:\n"
                          "    pass\n"
                          "\n"
                          "def also_good():\n"
                          "    return 2\n");
  INFO(names(tags));
  CHECK(tags.syntax_error);
  CHECK(find_def(tags, "good"));
  CHECK(find_def(tags, "also_good"));
}

TEST_CASE("non-UTF-8 bytes in a source file give valid UTF-8 tags", "[indexer][tags]") {
  // Latin-1 "é" (0xE9) in a comment and in an identifier-like position.
  FileTags tags = tags_of(Language::kC, "/* caf\xE9 */\nint caf\xE9_count(void) { return 0; }\nint ok(void) { return 1; }\n");
  INFO(names(tags));
  CHECK(find_def(tags, "ok"));
  for (const Definition& d : tags.definitions) {
    CHECK(d.name.find('\xE9') == std::string::npos);
    CHECK(d.signature.find('\xE9') == std::string::npos);
  }
}

TEST_CASE("text JSON and Bash files have no tags and no error", "[indexer][tags]") {
  for (Language language : {Language::kText, Language::kJson, Language::kBash}) {
    FileTags tags = tags_of(language, "{\"a\": 1}\nfunction f() { echo hi; }\n");
    CHECK(tags.definitions.empty());
    CHECK(tags.references.empty());
    CHECK_FALSE(tags.syntax_error);
  }
}

TEST_CASE("languages are chosen by file name", "[indexer][tags]") {
  using beluga::indexer::language_for_path;
  CHECK(language_for_path("src/a.c") == Language::kC);
  CHECK(language_for_path("src/a.h") == Language::kCpp);
  CHECK(language_for_path("src/A.HPP") == Language::kCpp);
  CHECK(language_for_path("x/y.py") == Language::kPython);
  CHECK(language_for_path("web/app.tsx") == Language::kTsx);
  CHECK(language_for_path("web/app.mjs") == Language::kJavaScript);
  CHECK(language_for_path("main.go") == Language::kGo);
  CHECK(language_for_path("lib.rs") == Language::kRust);
  CHECK(language_for_path("A.java") == Language::kJava);
  CHECK(language_for_path("package.json") == Language::kJson);
  CHECK(language_for_path("scripts/setup.sh") == Language::kBash);
  CHECK(language_for_path("README.md") == Language::kText);
  CHECK(language_for_path("Makefile") == Language::kText);
  CHECK(language_for_path(".c") == Language::kText);
}

TEST_CASE("a .h header is C unless it looks like C++", "[indexer][tags]") {
  using beluga::indexer::is_c_or_cpp_header;
  using beluga::indexer::looks_like_cpp;
  CHECK(is_c_or_cpp_header("src/server.h"));
  CHECK(is_c_or_cpp_header("SRC/X.H"));
  CHECK_FALSE(is_c_or_cpp_header("src/.h"));
  CHECK_FALSE(is_c_or_cpp_header("src/x.hpp"));
  CHECK(looks_like_cpp("namespace a {}"));
  CHECK(looks_like_cpp("int x = std::max(1, 2);"));
  CHECK(looks_like_cpp("class A {\n public:\n};"));
  CHECK(looks_like_cpp("#include <vector>\nint twice(int& value);\n"));
  CHECK_FALSE(looks_like_cpp("#include <stdio.h>\n#include \"list\"\nint classify(int templates);\n/* a subclass */"));

  TagExtractor extractor;
  Language language = Language::kText;
  auto c = extractor.extract_header(
      "#ifndef LIST_H\n#define LIST_H\n#include <stddef.h>\nstruct list { struct list *next; };\n"
      "struct list *list_push(struct list *l, struct list *new);\n#endif\n",
      language);
  REQUIRE(c.ok());
  CHECK(language == Language::kC);
  CHECK_FALSE(c->syntax_error);
  CHECK(find_def(*c, "list") != nullptr);

  auto cpp = extractor.extract_header("namespace geo {\nclass Shape {\n public:\n  double area() const;\n};\n}\n",
                                      language);
  REQUIRE(cpp.ok());
  CHECK(language == Language::kCpp);
  CHECK_FALSE(cpp->syntax_error);
  CHECK(find_def(*cpp, "Shape") != nullptr);

  auto ref = extractor.extract_header("#include <string>\nint twice(int& value);\n", language);
  REQUIRE(ref.ok());
  CHECK(language == Language::kCpp);
  CHECK_FALSE(ref->syntax_error);
}

namespace {

std::string dump(const FileTags& tags) {
  std::string out = tags.syntax_error ? "error\n" : "clean\n";
  for (const Definition& d : tags.definitions)
    out += "def " + d.kind + " " + d.name + " " + std::to_string(d.start_line) + "-" +
           std::to_string(d.end_line) + " " + d.signature + "\n";
  for (const Reference& r : tags.references) out += "ref " + r.kind + " " + r.name + " " + std::to_string(r.line) + "\n";
  return out;
}

}  // namespace

TEST_CASE("the plain-pattern matcher gives tree-sitter's tags on this repository's sources", "[indexer][tags]") {
  // simple_query.h replaces ts_query_new for C, C++, Java and Python; tree-sitter's
  // own query engine is the oracle. Every C/C++ file of a few source folders,
  // each read as C and as C++ (so both grammars see errors too).
  TagExtractor fast(beluga::indexer::QueryEngine::kFastest);
  TagExtractor oracle(beluga::indexer::QueryEngine::kTreeSitter);
  int compared = 0;
  for (const char* folder : {"indexer", "tools", "daemon", "engine/base", "tests/indexer"}) {
    for (const auto& entry : std::filesystem::directory_iterator(beluga::testing::source_path(folder))) {
      std::string path = entry.path().string();
      if (!path.ends_with(".cpp") && !path.ends_with(".h") && !path.ends_with(".c")) continue;
      std::string text = beluga::testing::read_text(path);
      for (Language language : {Language::kC, Language::kCpp}) {
        auto a = fast.extract(language, text);
        auto b = oracle.extract(language, text);
        REQUIRE(a.ok());
        REQUIRE(b.ok());
        INFO(path << " as " << beluga::indexer::language_name(language));
        CHECK(dump(*a) == dump(*b));
        ++compared;
      }
    }
  }
  CHECK(compared > 100);
  // Java and Python (whose query has an alternation) on samples with the
  // constructs their queries name, and a syntax error each.
  std::vector<std::pair<Language, std::string>> samples = {
      {Language::kJava,
       "public class Foo extends Bar implements Baz, Qux<String> {\n"
       "  interface Inner extends A, B {}\n"
       "  void run(java.util.List<String> xs) { helper(1); this.other(); new Widget(); xs.forEach(x -> go(x)); }\n"
       "  class Broken { void f( { } }\n}\nenum E implements I1, I2 { A; void m() { call(); } }\n"},
      {Language::kPython,
       "import os\nLIMIT = 10\nA, B = 1, 2\n\n@decorate(arg)\nclass Shape(Base):\n"
       "    SIDES = 4\n    def area(self):\n        return self.w * helper(self.h).value()\n\n"
       "def main():\n    print(os.path.join('a', 'b'))\n    Shape().area()\n    (lambda: run())()\n\n"
       "def broken(:\n    pass\n"},
  };
  for (const auto& [language, source] : samples) {
    auto a = fast.extract(language, source);
    auto b = oracle.extract(language, source);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    INFO(beluga::indexer::language_name(language));
    CHECK(dump(*a) == dump(*b));
    CHECK_FALSE(a->references.empty());
  }
}
