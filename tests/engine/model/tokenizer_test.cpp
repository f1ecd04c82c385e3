// Tests of engine/model/tokenizer.h and its parts (pretokenizer.h, bpe.h,
// added_tokens.h, unicode_tables.h, tokenizer_assembly.h).
//
// Oracles: ../shared/golden/tokenizer/cases.jsonl (375 texts with the ids
// of Hugging Face `tokenizers`, the reference), v4_added_tokens.json and the
// V4 encodings pinned in V4_ADDED_TOKENS.md; the pre-tokenizer table below
// was produced by the reference's own pre_tokenizer (tokenizers@0.23.2,
// preTokenizeString); the BPE merge loops are checked against the obvious
// quadratic loop. The 7.8 MB tokenizer.json is loaded once per process.
#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/model/bpe.h"
#include "engine/model/pretokenizer.h"
#include "engine/model/tokenizer.h"
#include "engine/model/tokenizer_assembly.h"
#include "engine/model/unicode_tables.h"
#include "tests/test_support.h"

namespace beluga {
namespace {

using nlohmann::json;
using testing::golden_path;
using testing::read_text;

const Tokenizer& v3() {
  static const Tokenizer tokenizer = [] {
    auto t = Tokenizer::load(golden_path("tokenizer/tokenizer.json"));
    if (!t) throw std::runtime_error(t.message());
    return std::move(t).value();
  }();
  return tokenizer;
}

const std::vector<AddedToken>& v4_list() {
  static const std::vector<AddedToken> list = [] {
    auto l = load_added_token_list(golden_path("tokenizer/v4_added_tokens.json"));
    if (!l) throw std::runtime_error(l.message());
    return std::move(l).value();
  }();
  return list;
}

const Tokenizer& v4() {
  static const Tokenizer tokenizer = [] {
    auto t = Tokenizer::load(golden_path("tokenizer/tokenizer.json"), v4_list());
    if (!t) throw std::runtime_error(t.message());
    return std::move(t).value();
  }();
  return tokenizer;
}

struct GoldenCase {
  size_t line;
  std::string text;
  std::vector<int32_t> ids;
};

const std::vector<GoldenCase>& golden_cases() {
  static const std::vector<GoldenCase> cases = [] {
    std::vector<GoldenCase> out;
    std::ifstream in(golden_path("tokenizer/cases.jsonl"), std::ios::binary);
    std::string line;
    while (std::getline(in, line)) {
      const json j = json::parse(line);
      out.push_back({out.size() + 1, j["text"].get<std::string>(), j["ids"].get<std::vector<int32_t>>()});
    }
    return out;
  }();
  return cases;
}

std::string show(const std::vector<int32_t>& ids) { return json(ids).dump(); }
std::string show(const std::string& text) { return json(text).dump(-1, ' ', false, json::error_handler_t::replace); }

// --- golden cases -----------------------------------------------------------------

TEST_CASE("every golden case encodes to the reference ids", "[tokenizer]") {
  const auto& cases = golden_cases();
  REQUIRE(cases.size() == 375);
  size_t passed = 0;
  std::string report;
  for (const GoldenCase& c : cases) {
    const std::vector<int32_t> ids = v3().encode(c.text);
    if (ids == c.ids) {
      ++passed;
    } else if (report.size() < 4000) {  // the first few mismatches
      report += "line " + std::to_string(c.line) + ": text " + show(c.text) + "\n  want " + show(c.ids) +
                "\n  got  " + show(ids) + "\n";
    }
  }
  INFO(report);
  CHECK(passed == cases.size());
}

TEST_CASE("every golden case round-trips through decode", "[tokenizer]") {
  for (const GoldenCase& c : golden_cases()) {
    INFO("line " << c.line << ": " << show(c.text));
    CHECK(v3().decode(c.ids) == c.text);
    CHECK(v3().decode(v3().encode(c.text)) == c.text);
    CHECK(v3().decode(v3().encode(c.text, false)) == c.text);
  }
}

// --- pre-tokenizer ------------------------------------------------------------------

TEST_CASE("the pre-tokenizer splits whitespace, digits, CJK and marks as the reference does", "[tokenizer]") {
  struct Case {
    std::string text;
    std::vector<std::string> pieces;
  };
  // Expected pieces: the reference's pre_tokenizer on the same text.
  const std::vector<Case> cases = {
      {"a  b", {"a", " ", " b"}},                       // \s+(?!\S) leaves one space to the word
      {"a \n b", {"a", " \n", " b"}},                   // \s*[\r\n]+ ends at the last newline
      {"  \n  x", {"  \n", " ", " x"}},
      {"  \t x", {"  \t", " x"}},
      {"x \t:/", {"x", " ", "\t", ":/"}},               // \s+ alone before punctuation
      {"a\t\tb", {"a", "\t", "\tb"}},
      {"\r\n\r\n", {"\r\n\r\n"}},
      {"x  12", {"x", "  ", "12"}},                     // the digit split ends the haystack
      {"a\u0085b", {"a", "\u0085b"}},                   // U+0085 is White_Space
      {"a \u0085", {"a", " \u0085"}},
      {"  \uFEFF  x", {" ", " ", "\uFEFF", " ", " x"}},  // U+FEFF is not
      {"a\u200Db", {"a", "\u200Db"}},                   // a format char joins the word after it
      {"12345678", {"123", "456", "78"}},
      {"x1y22z333", {"x", "1", "y", "22", "z", "333"}},
      {"１２３４", {"１２３", "４"}},
      {"٣٤٥٦", {"٣٤٥", "٦"}},
      {"日本語テキスト", {"日本語テキスト"}},
      {"日本・語ー", {"日本", "・", "語ー"}},              // the CJK run is split again by step 3
      {"中文English混合123", {"中文", "English", "混合", "123"}},
      {"漢字か な", {"漢字か", " ", "な"}},
      {"〇々", {"〇", "々"}},                             // outside the CJK range
      {"ﾊﾝｶｸ", {"ﾊﾝｶｸ"}},
      {"e\u0301", {"e\u0301"}},
      {"\u0301abc", {"\u0301abc"}},                     // a leading mark takes the optional slot
      {" \u0301", {" \u0301"}},
      {"1\u0301", {"1", "\u0301"}},
      {"!\u0301", {"!", "\u0301"}},
      {"don't", {"don", "'t"}},
      {"'s", {"'s"}},
      {".hello", {".hello"}},
      {"_café", {"_caf", "é"}},                         // [A-Za-z]+ is ASCII only
      {"foo.bar()", {"foo", ".bar", "()"}},
      {"↑↓ ->", {"↑↓", " ->"}},
      {"", {}},
  };
  for (const Case& c : cases) {
    INFO(show(c.text));
    CHECK(pretokenize(c.text) == c.pieces);
  }
}

TEST_CASE("pieces cover any byte string exactly, valid UTF-8 or not", "[tokenizer]") {
  std::mt19937 rng(7);
  const std::string alphabet[] = {"a", " ", "\n", "\r", "1", "\xe4\xb8\xad", "\xcc\x81", "!", "\t", "\xc2\x85",
                                  "\xff", "\xe4\xb8", "\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf", "Z"};
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const int parts = static_cast<int>(rng() % 24);
    for (int i = 0; i < parts; ++i) text += alphabet[rng() % std::size(alphabet)];
    std::string joined;
    for (const std::string& piece : pretokenize(text)) {
      CHECK_FALSE(piece.empty());
      joined += piece;
    }
    REQUIRE(joined == text);
  }
}

// --- Unicode tables -------------------------------------------------------------------

TEST_CASE("the Unicode class table is Unicode 16.0 with White_Space for \\s", "[tokenizer]") {
  using namespace unicode;
  CHECK(std::string(kUnicodeVersion) == "16.0.0");
  for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (char_class(cp) != char_class_by_search(cp)) FAIL("BMP table and runs disagree at " << static_cast<uint32_t>(cp));
  }
  CHECK(char_class(0x0085) == kWhiteSpace);
  CHECK(char_class(0xFEFF) == 0);
  CHECK(char_class(0x3000) == kWhiteSpace);
  CHECK(char_class(0x001C) == 0);       // Python's isspace() says yes; White_Space says no
  CHECK(char_class('A') == kLetter);
  CHECK(char_class(0x0301) == kMark);
  CHECK(char_class(0x2167) == kNumber);  // Ⅷ, Nl
  CHECK(char_class(0x1FA77) == kSymbol);  // Unicode 15.0 emoji (golden line 211)
  CHECK(char_class(0x1C89) == kLetter);   // Unicode 16.0 letter
  CHECK(char_class(0x20C1) == 0);         // Unicode 17.0: unassigned to the reference
  CHECK(char_class(0x110000) == 0);
}

// --- added tokens -----------------------------------------------------------------

TEST_CASE("added tokens are matched literally in text, leftmost-longest", "[tokenizer]") {
  const Tokenizer& t = v3();
  CHECK(t.encode("abc<｜User｜>def") == std::vector<int32_t>{32372, 128803, 3465});
  CHECK(t.encode("<｜User｜><｜Assistant｜>") == std::vector<int32_t>{128803, 128804});
  CHECK(t.encode("<｜end▁of▁sentence｜>") == std::vector<int32_t>{1});
  CHECK(t.encode("<|EOT|>") == std::vector<int32_t>{128805});
  CHECK(t.encode("<｜place▁holder▁no▁799｜>") == std::vector<int32_t>{128799});
  // Every added token alone encodes to its id.
  for (const AddedToken& token : t.added_tokens()) {
    INFO(token.content);
    CHECK(t.encode(token.content) == std::vector<int32_t>{token.id});
  }
}

TEST_CASE("near misses of added tokens are ordinary text", "[tokenizer]") {
  for (const char* text : {"<|User|>", "<｜user｜>", "<｜User｜", "｜User｜>", "<｜User ｜>", "<｜begin of sentence｜>",
                           "<｜place▁holder▁no▁800｜>", "<｜place▁holder▁no▁１｜>", "<think>", "｜DSML｜", "<｜image｜>"}) {
    INFO(text);
    const std::vector<int32_t> ids = v3().encode(text);
    for (int32_t id : ids) CHECK_FALSE(v3().is_added(id));
    CHECK(v3().decode(ids) == text);
  }
}

TEST_CASE("untrusted text cannot produce an added or special id", "[tokenizer]") {
  const Tokenizer& t = v4();
  std::string all;
  for (const AddedToken& token : t.added_tokens()) all += token.content;
  std::vector<std::string> texts = {all, "x" + all + "y", all + all};
  for (const AddedToken& token : t.added_tokens()) {
    texts.push_back(token.content);
    texts.push_back(" " + token.content + "\n");
  }
  for (const std::string& text : texts) {
    const std::vector<int32_t> ids = t.encode(text, /*allow_special=*/false);
    for (int32_t id : ids) {
      if (id >= 128000 || id <= 2 || t.is_added(id)) FAIL("untrusted text produced id " << id << " from " << show(text));
    }
    CHECK(t.decode(ids) == text);
  }
  // With specials allowed, the same text is all added tokens.
  CHECK(t.encode(all).size() == t.added_tokens().size());
}

TEST_CASE("V4 tokens encode to their ids when loaded as extra added tokens", "[tokenizer]") {
  const Tokenizer& t = v4();
  REQUIRE(v4_list().size() == 465);
  CHECK(t.added_tokens().size() == 818 + 465);
  CHECK(t.vocab_size() == 129280);
  for (const AddedToken& token : v4_list()) {
    INFO(token.content);
    CHECK(t.encode(token.content) == std::vector<int32_t>{token.id});
    CHECK(t.token_id(token.content) == token.id);
  }
  // Pinned by V4_ADDED_TOKENS.md and the tokenizer-v4 README.
  CHECK(t.encode("<think>reasoning</think>answer") == std::vector<int32_t>{128821, 86512, 288, 128822, 19995});
  CHECK(t.encode("<｜DSML｜invoke name=\"f\">") == std::vector<int32_t>{30, 128825, 40148, 5406, 2329, 1281, 72, 3320});
  CHECK(t.encode("<｜User｜>你好<｜Assistant｜><think>推理</think>答案<｜end▁of▁sentence｜>") ==
        std::vector<int32_t>{128803, 30594, 128804, 128821, 36101, 128822, 7624, 1});
  // Every other golden line encodes as in V3 (lines 320-327 hold V4-only strings).
  for (const GoldenCase& c : golden_cases()) {
    if (c.line >= 320 && c.line <= 327) continue;
    INFO("line " << c.line);
    CHECK(t.encode(c.text) == c.ids);
  }
  // The flag choice of tokenizer_assembly.h.
  CHECK_FALSE(t.is_special(128821));
  CHECK_FALSE(t.is_special(128825));
  CHECK(t.is_special(128847));  // <|place_holder_mm_span_0021|>
  CHECK(t.is_special(129261));
  CHECK_FALSE(t.is_special(129279));
}

// --- decode ---------------------------------------------------------------------------

TEST_CASE("decode skips unknown ids and, when asked, only special tokens", "[tokenizer]") {
  const Tokenizer& t = v3();
  const std::vector<int32_t> ids = {-1, 0, 67, 128815, 999999, 128803, 128805, 128000, 1, 2, 128814};
  CHECK(t.decode(ids) == "<｜begin▁of▁sentence｜>a<｜User｜><|EOT|><｜place▁holder▁no▁0｜><｜end▁of▁sentence｜><｜▁pad▁｜><｜tool▁sep｜>");
  CHECK(t.decode(ids, /*skip_special=*/true) == "a<｜User｜><｜tool▁sep｜>");
  CHECK(t.decode(std::vector<int32_t>{}).empty());
  CHECK_FALSE(t.token_bytes(128815).has_value());
  CHECK_FALSE(t.token_bytes(-5).has_value());
}

TEST_CASE("the tokenizer reports its vocabulary, added and special ids", "[tokenizer]") {
  const Tokenizer& t = v3();
  CHECK(t.vocab_size() == 128815);
  CHECK(t.added_tokens().size() == 818);
  CHECK(t.is_added(0));
  CHECK(t.is_special(0));
  CHECK(t.is_added(128803));
  CHECK_FALSE(t.is_special(128803));
  CHECK(t.is_special(128805));
  CHECK_FALSE(t.is_added(67));
  CHECK_FALSE(t.is_added(128815));
  CHECK(t.token_id("<｜User｜>") == 128803);
  CHECK(t.token_id("a") == 67);
  CHECK(t.token_id(" x") == 1527);  // raw bytes, not the "Ġx" spelling
  CHECK_FALSE(t.token_id("Ġx").has_value());
  CHECK(t.token_bytes(223) == std::string_view(" "));
}

// --- invalid UTF-8 and concurrency ------------------------------------------------------

TEST_CASE("invalid UTF-8 does not crash and round-trips its bytes", "[tokenizer]") {
  const Tokenizer& t = v3();
  std::vector<std::string> texts = {"\xff", "\xc0\xaf", "a\x80z", "\xe4\xb8", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                                    std::string("nul\0in", 6), "<｜User\xff｜>", "\xf0\x9f\x98", "\xef\xbd\x9c\xff"};
  std::mt19937 rng(11);
  for (int i = 0; i < 300; ++i) {
    std::string s(rng() % 64, '\0');
    for (char& c : s) c = static_cast<char>(rng() & 0xFF);
    texts.push_back(s);
  }
  for (const std::string& text : texts) {
    INFO(show(text));
    for (bool allow : {true, false}) {
      const std::vector<int32_t> ids = t.encode(text, allow);
      CHECK(t.decode(ids) == text);
    }
  }
  // Each invalid byte is its own byte token.
  CHECK(t.encode("\xff\xfe") == std::vector<int32_t>{*t.token_id("\xff"), *t.token_id("\xfe")});
}

TEST_CASE("concurrent encodes on one tokenizer agree with a single thread", "[tokenizer]") {
  const auto& cases = golden_cases();
  std::vector<std::vector<int32_t>> expected;
  for (const GoldenCase& c : cases) expected.push_back(v3().encode(c.text));
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int round = 0; round < 3; ++round)
        for (size_t i = 0; i < cases.size(); ++i)
          if (v3().encode(cases[(i + static_cast<size_t>(k) * 97) % cases.size()].text) !=
              expected[(i + static_cast<size_t>(k) * 97) % cases.size()])
            ++mismatches[static_cast<size_t>(k)];
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(mismatches == std::vector<int>(4, 0));
}

TEST_CASE("the piece cache gives the same ids after it fills and starts over", "[tokenizer]") {
  // More distinct pieces than the cache holds, encoded twice.
  std::mt19937 rng(3);
  std::string text;
  for (size_t i = 0; i < PieceCache::kMaxEntries + 5000; ++i) {
    text += ' ';
    for (int k = 0; k < 6; ++k) text += static_cast<char>('a' + rng() % 26);
  }
  const std::vector<int32_t> first = v3().encode(text);
  CHECK(v3().encode(text) == first);
  CHECK(v3().decode(first) == text);
}

// --- BPE merge loops --------------------------------------------------------------------

TEST_CASE("the scan and heap merge loops agree with the obvious loop", "[tokenizer]") {
  // Bytes a, b, c are ids 0..2; merges build longer tokens with overlapping
  // and competing pairs so ties and invalidated heap entries both happen.
  BpeModel bpe;
  for (int b = 0; b < 256; ++b) bpe.set_byte_token(static_cast<uint8_t>(b), -1);
  bpe.set_byte_token('a', 0);
  bpe.set_byte_token('b', 1);
  bpe.set_byte_token('c', 2);
  const std::vector<std::array<int32_t, 2>> pairs = {{0, 0}, {0, 1}, {1, 2}, {3, 0}, {3, 3}, {4, 2}, {1, 1},
                                                      {2, 0}, {7, 8}, {5, 4}, {6, 6}, {9, 3}, {2, 2}, {4, 5}};
  int32_t next_id = 3;
  for (const auto& [l, r] : pairs) bpe.add_merge(l, r, next_id++);
  bpe.finish();
  std::mt19937 rng(5);
  BpeScratch scratch;
  for (int round = 0; round < 3000; ++round) {
    std::string piece(1 + rng() % 120, 'a');
    for (char& ch : piece) ch = static_cast<char>('a' + rng() % 3);
    const std::vector<int32_t> expected = bpe.encode_piece_reference(piece);
    std::vector<int32_t> by_scan, with_heap, through_cache;
    bpe.load_symbols(piece, scratch);
    bpe.encode_symbols_by_scan(scratch, by_scan);
    bpe.load_symbols(piece, scratch);
    bpe.encode_symbols_with_heap(scratch, with_heap);
    bpe.encode_piece(piece, scratch, through_cache);
    bpe.encode_piece(piece, scratch, through_cache);
    INFO(piece);
    REQUIRE(by_scan == expected);
    REQUIRE(with_heap == expected);
    std::vector<int32_t> twice = expected;
    twice.insert(twice.end(), expected.begin(), expected.end());
    REQUIRE(through_cache == twice);
  }
}

// --- loading ------------------------------------------------------------------------------

// A small tokenizer.json: 256 byte tokens in the byte-level alphabet, a few merges.
json tiny_tokenizer() {
  json vocab = json::object();
  int id = 0;
  int extra = 0;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    const char32_t cp = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(0x100 + extra++);
    std::string spelling;
    if (cp < 0x80) spelling += static_cast<char>(cp);
    else {
      spelling += static_cast<char>(0xC0 | (cp >> 6));
      spelling += static_cast<char>(0x80 | (cp & 0x3F));
    }
    vocab[spelling] = id++;
  }
  vocab["ab"] = id++;
  vocab["Ġab"] = id++;
  json pre = json::parse(R"({"type": "Sequence", "pretokenizers": [
    {"type": "Split", "pattern": {"Regex": "\\p{N}{1,3}"}, "behavior": "Isolated", "invert": false},
    {"type": "Split", "pattern": {"Regex": "[一-龥぀-ゟ゠-ヿ]+"}, "behavior": "Isolated", "invert": false},
    {"type": "Split", "pattern": {"Regex": "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"}, "behavior": "Isolated", "invert": false},
    {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]})");
  return {{"version", "1.0"},
          {"added_tokens", json::array({{{"id", 300}, {"content", "<｜x｜>"}, {"special", true}}})},
          {"normalizer", nullptr},
          {"pre_tokenizer", pre},
          {"decoder", {{"type", "ByteLevel"}}},
          {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", json::array({"a b", json::array({"Ġ", "ab"})})}}}};
}

std::string load_error(const json& doc) {
  auto t = Tokenizer::parse(doc.dump(), "tiny.json");
  return t.ok() ? "(loaded)" : t.message();
}

TEST_CASE("a small tokenizer.json loads and merges in both merge spellings", "[tokenizer]") {
  auto t = Tokenizer::parse(tiny_tokenizer().dump(), "tiny.json");
  REQUIRE(t.ok());
  CHECK(t->vocab_size() == 301);
  CHECK(t->encode("ab ab<｜x｜>") == std::vector<int32_t>{256, 257, 300});
  CHECK(t->decode(t->encode("ab ab<｜x｜>"), true) == "ab ab");
  // ignore_merges: a piece that is a vocabulary entry is taken whole.
  json doc = tiny_tokenizer();
  doc["model"]["vocab"]["bc"] = 258;
  auto merging = Tokenizer::parse(doc.dump(), "tiny.json");
  REQUIRE(merging.ok());
  CHECK(merging->encode("bc") == std::vector<int32_t>{*merging->token_id("b"), *merging->token_id("c")});
  doc["model"]["ignore_merges"] = true;
  auto whole = Tokenizer::parse(doc.dump(), "tiny.json");
  REQUIRE(whole.ok());
  CHECK(whole->encode("bc") == std::vector<int32_t>{258});
}

TEST_CASE("extra added tokens that conflict with the file are refused", "[tokenizer]") {
  const std::string text = tiny_tokenizer().dump();
  const std::vector<AddedToken> same = {{300, "<｜x｜>", true}};
  CHECK(Tokenizer::parse(text, "tiny.json", same).ok());
  const std::vector<AddedToken> reused_id = {{300, "<｜y｜>", false}};
  auto a = Tokenizer::parse(text, "tiny.json", reused_id);
  REQUIRE_FALSE(a.ok());
  CHECK_THAT(a.message(), Catch::Contains("300") && Catch::Contains("<｜y｜>"));
  const std::vector<AddedToken> reused_content = {{301, "<｜x｜>", false}};
  auto b = Tokenizer::parse(text, "tiny.json", reused_content);
  REQUIRE_FALSE(b.ok());
  CHECK_THAT(b.message(), Catch::Contains("<｜x｜>"));
  const std::vector<AddedToken> fresh = {{400, "<｜y｜>", false}};
  auto c = Tokenizer::parse(text, "tiny.json", fresh);
  REQUIRE(c.ok());
  CHECK(c->vocab_size() == 401);
  CHECK(c->encode("a<｜y｜>") == std::vector<int32_t>{*c->token_id("a"), 400});
}

TEST_CASE("loading refuses unsupported or malformed files, naming the key", "[tokenizer]") {
  json doc = tiny_tokenizer();
  CHECK_THAT(load_error(json::parse("[1]")), Catch::Contains("not a tokenizer.json"));
  CHECK_THAT(Tokenizer::parse("{\"model\": ", "x.json").message(), Catch::Contains("not valid JSON"));
  json d = doc;
  d["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\p{N}{1,2}";
  CHECK_THAT(load_error(d), Catch::Contains("pre_tokenizer"));
  d = doc;
  d["normalizer"] = {{"type", "NFC"}};
  CHECK_THAT(load_error(d), Catch::Contains("normalizer"));
  d = doc;
  d["model"]["byte_fallback"] = true;
  CHECK_THAT(load_error(d), Catch::Contains("model.byte_fallback"));
  d = doc;
  d["model"]["merges"].push_back("a zz");
  CHECK_THAT(load_error(d), Catch::Contains("model.merges[2]") && Catch::Contains("zz"));
  d = doc;
  d["model"]["merges"].push_back("nospace");
  CHECK_THAT(load_error(d), Catch::Contains("model.merges[2]"));
  d = doc;
  d["model"]["vocab"]["zz"] = "seven";
  CHECK_THAT(load_error(d), Catch::Contains("model.vocab") && Catch::Contains("zz"));
  d = doc;
  d["model"]["vocab"]["zz"] = 5;
  CHECK_THAT(load_error(d), Catch::Contains("used by two entries"));
  d = doc;
  d["added_tokens"][0]["lstrip"] = true;
  CHECK_THAT(load_error(d), Catch::Contains("added_tokens[0].lstrip"));
  d = doc;
  d["model"].erase("merges");
  CHECK_THAT(load_error(d), Catch::Contains("model.merges"));
  CHECK_THAT(Tokenizer::load("/nonexistent/tokenizer.json").message(), Catch::Contains("/nonexistent/tokenizer.json"));
}

// --- V4 assembly ----------------------------------------------------------------------------

TEST_CASE("V4 assembly appends the 465 tokens and the result loads as V4", "[tokenizer]") {
  const std::string base = read_text(golden_path("tokenizer/tokenizer.json"));
  auto assembled = assemble_tokenizer_json(base, "tokenizer.json", v4_list());
  REQUIRE(assembled.ok());
  CHECK(assembled->tokens_added == 465);
  // Only the added_tokens array grew: the text around the new block is the base.
  const std::string& out = assembled->json_text;
  const size_t block = base.find("\n    ],\n    \"normalizer\"");
  REQUIRE(block != std::string::npos);
  CHECK(out.compare(0, block, base, 0, block) == 0);
  CHECK(out.compare(out.size() - (base.size() - block), std::string::npos, base, block) == 0);
  auto t = Tokenizer::parse(out, "assembled");
  REQUIRE(t.ok());
  CHECK(t->vocab_size() == 129280);
  CHECK(t->added_tokens().size() == 1283);
  CHECK(t->encode("<｜User｜>你好<｜Assistant｜><think>推理</think>答案<｜end▁of▁sentence｜>") ==
        std::vector<int32_t>{128803, 30594, 128804, 128821, 36101, 128822, 7624, 1});
  for (const AddedToken& token : v4_list()) {
    CHECK(t->token_id(token.content) == token.id);
    CHECK(t->is_special(token.id) == default_added_token_special(token.content));
  }
}

TEST_CASE("assembling twice adds nothing and a conflicting list is refused", "[tokenizer]") {
  const std::string base = tiny_tokenizer().dump(4);
  const std::vector<AddedToken> list = {{401, "<think>", false}, {400, "<|place_holder_mm_span_0021|>", true}};
  auto once = assemble_tokenizer_json(base, "tiny.json", list);
  REQUIRE(once.ok());
  CHECK(once->tokens_added == 2);
  auto twice = assemble_tokenizer_json(once->json_text, "tiny.json", list);
  REQUIRE(twice.ok());
  CHECK(twice->tokens_added == 0);
  CHECK(twice->json_text == once->json_text);
  auto t = Tokenizer::parse(once->json_text, "assembled");
  REQUIRE(t.ok());
  CHECK(t->encode("<think>") == std::vector<int32_t>{401});
  CHECK(t->is_special(400));
  auto conflict = assemble_tokenizer_json(base, "tiny.json", {{300, "<｜Other｜>", false}});
  REQUIRE_FALSE(conflict.ok());
  CHECK_THAT(conflict.message(), Catch::Contains("300"));
  auto moved = assemble_tokenizer_json(base, "tiny.json", {{500, "<｜x｜>", false}});
  REQUIRE_FALSE(moved.ok());
  CHECK_THAT(moved.message(), Catch::Contains("<｜x｜>"));
}

TEST_CASE("added-token lists are checked entry by entry", "[tokenizer]") {
  CHECK_THAT(parse_added_token_list("{}", "l.json").message(), Catch::Contains("array"));
  CHECK_THAT(parse_added_token_list("[{\"id\": 1}]", "l.json").message(), Catch::Contains("entry 0") && Catch::Contains("content"));
  CHECK_THAT(parse_added_token_list("[{\"id\": -1, \"content\": \"x\"}]", "l.json").message(), Catch::Contains("'id'"));
  auto list = parse_added_token_list(R"([{"id": 5, "content": "<|place_holder_mm_span_0021|>"},
                                          {"id": 6, "content": "<think>"},
                                          {"id": 7, "content": "<think2>", "special": true}])",
                                     "l.json");
  REQUIRE(list.ok());
  CHECK((*list)[0].special);
  CHECK_FALSE((*list)[1].special);
  CHECK((*list)[2].special);
}

}  // namespace
}  // namespace beluga
