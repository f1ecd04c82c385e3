// Positions in UTF-16 and UTF-8 over multibyte and astral-plane text
// (lsp/positions.h), minimal edits, URIs, and incremental document changes.
#include <catch2/catch.hpp>

#include <string>

#include "lsp/documents.h"
#include "lsp/positions.h"

using namespace beluga::lsp;
using Json = nlohmann::json;

namespace {

// "a😀b" : 😀 is U+1F600, 4 bytes in UTF-8, a surrogate pair (2 units) in UTF-16.
const std::string kEmojiLine = "a\xF0\x9F\x98\x80" "b";
// "é" is 2 bytes, 1 UTF-16 unit; "中" 3 bytes, 1 unit.
const std::string kText = "x = \"caf\xC3\xA9\"\r\n" + kEmojiLine + "\n\xE4\xB8\xAD\xE6\x96\x87\rend";

}  // namespace

TEST_CASE("utf-16 positions count an emoji as two units and accented letters as one") {
  const auto u16 = PositionEncoding::kUtf16;
  // Line 1 starts after "x = \"café\"\r\n" (13 bytes + 2).
  const size_t line1 = std::string("x = \"caf\xC3\xA9\"\r\n").size();
  CHECK(offset_of(kText, {1, 0}, u16) == line1);
  CHECK(offset_of(kText, {1, 1}, u16) == line1 + 1);      // before the emoji
  CHECK(offset_of(kText, {1, 2}, u16) == line1 + 1);      // inside the pair: the emoji's start
  CHECK(offset_of(kText, {1, 3}, u16) == line1 + 5);      // after the emoji
  CHECK(offset_of(kText, {1, 4}, u16) == line1 + 6);      // after "b": the line's end
  CHECK(offset_of(kText, {1, 99}, u16) == line1 + 6);     // clamped before "\n"
  CHECK(offset_of(kText, {0, 9}, u16) == 10);              // after "é" (9 units, 10 bytes... 'x = "caf' is 8)
  CHECK(position_of(kText, line1 + 5, u16) == Position{1, 3});
  CHECK(position_of(kText, line1 + 3, u16) == Position{1, 1});  // inside the emoji: its start
  // "\r" alone ends line 2; "中文" is two units.
  const size_t line3 = offset_of(kText, {3, 0}, u16);
  CHECK(kText.substr(line3) == "end");
  CHECK(offset_of(kText, {2, 1}, u16) == line1 + 7 + 3);
  CHECK(position_of(kText, kText.size(), u16) == Position{3, 3});
  CHECK(offset_of(kText, {50, 0}, u16) == kText.size());
}

TEST_CASE("utf-8 positions count bytes") {
  const auto u8 = PositionEncoding::kUtf8;
  const size_t line1 = std::string("x = \"caf\xC3\xA9\"\r\n").size();
  CHECK(offset_of(kText, {1, 5}, u8) == line1 + 5);
  CHECK(offset_of(kText, {1, 3}, u8) == line1 + 1);  // inside the emoji's bytes: its start
  CHECK(position_of(kText, line1 + 6, u8) == Position{1, 6});
  CHECK(position_of(kText, line1 - 1, u8) == Position{0, 11});  // between "\r" and "\n": before "\r"
}

TEST_CASE("offsets and positions round trip at every character boundary") {
  for (auto encoding : {PositionEncoding::kUtf16, PositionEncoding::kUtf8}) {
    for (size_t offset = 0; offset <= kText.size(); ++offset) {
      const bool boundary = offset == kText.size() || (static_cast<unsigned char>(kText[offset]) & 0xC0) != 0x80;
      const bool inside_crlf = offset > 0 && offset < kText.size() && kText[offset] == '\n' && kText[offset - 1] == '\r';
      if (!boundary || inside_crlf) continue;
      INFO(offset);
      CHECK(offset_of(kText, position_of(kText, offset, encoding), encoding) == offset);
    }
  }
}

TEST_CASE("incremental changes apply in order in the negotiated encoding") {
  TextDocument d;
  d.text = kEmojiLine + "\nline two\n";
  // Replace "b" (after the emoji: utf-16 character 3..4) with "B😀", then append at the end.
  Json change1 = {{"range", {{"start", {{"line", 0}, {"character", 3}}}, {"end", {{"line", 0}, {"character", 4}}}}},
                  {"text", "B\xF0\x9F\x98\x80"}};
  REQUIRE(apply_change(d, change1, PositionEncoding::kUtf16).ok());
  CHECK(d.text == "a\xF0\x9F\x98\x80" "B\xF0\x9F\x98\x80\nline two\n");
  Json change2 = {{"range", {{"start", {{"line", 2}, {"character", 0}}}, {"end", {{"line", 2}, {"character", 0}}}}},
                  {"text", "three"}};
  REQUIRE(apply_change(d, change2, PositionEncoding::kUtf16).ok());
  CHECK(d.text == "a\xF0\x9F\x98\x80" "B\xF0\x9F\x98\x80\nline two\nthree");
  REQUIRE(apply_change(d, {{"text", "whole"}}, PositionEncoding::kUtf8).ok());
  CHECK(d.text == "whole");
  CHECK_FALSE(apply_change(d, {{"range", 5}, {"text", "x"}}, PositionEncoding::kUtf8).ok());
  CHECK_FALSE(apply_change(d, {{"range", nullptr}}, PositionEncoding::kUtf8).ok());
}

TEST_CASE("a document store rejects a bad change and keeps the text") {
  DocumentStore store;
  store.open({"file:///w/a.txt", "", "plaintext", 1, "one\ntwo\n"});
  Json changes = Json::array({{{"range", {{"start", {{"line", 1}, {"character", 0}}}, {"end", {{"line", 1}, {"character", 3}}}}},
                               {"text", "TWO"}},
                              {{"text", 7}}});
  CHECK_FALSE(store.change("file:///w/a.txt", 2, changes, PositionEncoding::kUtf16).ok());
  CHECK(store.by_uri("file:///w/a.txt")->text == "one\ntwo\n");
  CHECK(store.by_path("/w/a.txt")->version == 1);
  changes.erase(1);
  REQUIRE(store.change("file:///w/a.txt", 2, changes, PositionEncoding::kUtf16).ok());
  CHECK(*store.text_for_agent("/w/a.txt") == "one\nTWO\n");
  // An applied agent write is what the agent reads until the editor's change arrives.
  store.expect("/w/a.txt", "agent text\n");
  CHECK(*store.text_for_agent("/w/a.txt") == "agent text\n");
  REQUIRE(store.change("file:///w/a.txt", 3, Json::array({{{"text", "agent text\n"}}}), PositionEncoding::kUtf16).ok());
  REQUIRE(store.change("file:///w/a.txt", 4, Json::array({{{"text", "typed\n"}}}), PositionEncoding::kUtf16).ok());
  CHECK(*store.text_for_agent("/w/a.txt") == "typed\n");
  CHECK_FALSE(store.change("file:///w/missing", 1, Json::array(), PositionEncoding::kUtf16).ok());
}

TEST_CASE("minimal edits keep the common prefix and suffix without splitting characters") {
  auto apply = [](const std::string& before, const ByteEdit& e) {
    return before.substr(0, e.start) + e.text + before.substr(e.end);
  };
  const std::string before = "int main() {\n  return 0;\n}\n";
  const std::string after = "int main() {\n  return 42;\n}\n";
  ByteEdit e = minimal_edit(before, after);
  CHECK(apply(before, e) == after);
  CHECK(e.text == "42");
  // Two emoji sharing their first bytes differ in the last: the edit covers the whole character.
  const std::string a = "x\xF0\x9F\x98\x80y", b = "x\xF0\x9F\x98\x81y";
  e = minimal_edit(a, b);
  CHECK(e.start == 1);
  CHECK(e.end == 5);
  CHECK(apply(a, e) == b);
  // CRLF is never split.
  e = minimal_edit("a\r\nb", "a\nb");
  CHECK(apply("a\r\nb", e) == "a\nb");
  CHECK((e.start <= 1 && e.end >= 3));
  CHECK(minimal_edit("same", "same").text.empty());
  e = minimal_edit("", "new");
  CHECK(apply("", e) == "new");
  e = minimal_edit("aaa", "aa");
  CHECK(apply("aaa", e) == "aa");
}

TEST_CASE("file URIs convert to paths and back with percent-encoding") {
  CHECK(*path_from_uri("file:///home/me/a%20b/c.txt") == "/home/me/a b/c.txt");
  CHECK(*path_from_uri("file://localhost/x") == "/x");
  CHECK(*path_from_uri("FILE:///caf%C3%A9") == "/caf\xC3\xA9");
  CHECK_FALSE(path_from_uri("untitled:Untitled-1"));
  CHECK_FALSE(path_from_uri("file://otherhost/x"));
  CHECK_FALSE(path_from_uri("file:///bad%2"));
  CHECK_FALSE(path_from_uri("file:///nul%00"));
  CHECK(uri_from_path("/a b/caf\xC3\xA9#1.c") == "file:///a%20b/caf%C3%A9%231.c");
  CHECK(*path_from_uri(uri_from_path("/a b/caf\xC3\xA9#1.c")) == "/a b/caf\xC3\xA9#1.c");
}
