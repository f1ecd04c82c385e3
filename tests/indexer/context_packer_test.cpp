// The context packer (indexer/context_packer.h) on the fixture workspace,
// counted with the real V4 tokenizer: the budget is never exceeded, and a
// base packing plus its deltas always describes the current files exactly.
#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>
#include <set>

#include "engine/model/tokenizer.h"
#include "indexer/content.h"
#include "indexer/context_format.h"
#include "indexer/context_packer.h"
#include "indexer/indexer.h"
#include "tests/indexer/fixture_repo.h"

using beluga::Tokenizer;
using beluga::indexer::ContextOptions;
using beluga::indexer::ContextResult;
using beluga::indexer::FileInContext;
using beluga::indexer::IndexedFile;
using beluga::indexer::IndexOptions;
using beluga::indexer::IndexStore;
using beluga::indexer::pack_context;
using beluga::indexer::read_context_text;
using beluga::indexer::TokenCounter;
using beluga::indexer::update_context;
using beluga::indexer::update_index;
using beluga::testing::FixtureRepo;
using beluga::testing::golden_path;
using beluga::testing::put;
using beluga::testing::ScratchDir;

namespace {

namespace fs = std::filesystem;

TokenCounter real_counter() {
  auto tokenizer = Tokenizer::load(golden_path("tokenizer/tokenizer.json"));
  REQUIRE(tokenizer.ok());
  auto shared = std::make_shared<Tokenizer>(std::move(*tokenizer));
  TokenCounter counter;
  counter.identity = "tokenizer:test";
  counter.estimated = false;
  counter.count = [shared](std::string_view text) {
    std::vector<int32_t> ids;
    shared->encode_into(text, false, ids);
    return static_cast<int64_t>(ids.size());
  };
  return counter;
}

struct Packer {
  FixtureRepo repo;
  ScratchDir cache;
  TokenCounter counter = real_counter();

  std::string database() const { return cache.file("index.sqlite"); }
  std::vector<IndexedFile> index() const {
    IndexOptions o;
    o.workspace = repo.path();
    o.database_path = database();
    o.max_file_bytes = FixtureRepo::kMaxFileBytes;
    o.threads = 2;
    o.counter = counter;
    auto report = update_index(o);
    REQUIRE(report.ok());
    std::string rebuilt;
    auto store = IndexStore::open(database(), counter.identity, rebuilt);
    REQUIRE(store.ok());
    auto files = (*store)->all_files();
    REQUIRE(files.ok());
    return *files;
  }
  ContextOptions options(int64_t budget) const {
    ContextOptions o;
    o.workspace = repo.path();
    o.database_path = database();
    o.budget = budget;
    o.counter = counter;
    return o;
  }
  void write(const std::string& path, const std::string& text) const { put(repo.root(), path, text); }
  std::string disk(const std::string& path) const {
    return beluga::indexer::to_valid_utf8(beluga::testing::read_text(repo.root().file(path)));
  }
};

ContextResult require_ok(beluga::Result<ContextResult> r) {
  INFO((r ? std::string() : r.message()));
  REQUIRE(r.ok());
  return std::move(*r);
}

// Every file of the index that the texts show whole reads back as it is on
// disk; every file they show only by signatures is still in the index; and
// nothing is shown whole that is not in the index.
void check_describes_current_files(const Packer& p, const std::vector<std::string>& texts) {
  auto files = read_context_text(texts);
  INFO((files ? std::string() : files.message()));
  REQUIRE(files.ok());
  std::set<std::string> indexed;
  for (const IndexedFile& f : p.index()) indexed.insert(f.path);
  int whole = 0;
  for (const auto& [path, seen] : *files) {
    INFO(path);
    if (seen.shown == FileInContext::Shown::kDeleted) {
      CHECK(indexed.count(path) == 0);
      continue;
    }
    REQUIRE(indexed.count(path) == 1);
    if (seen.shown == FileInContext::Shown::kWhole) {
      CHECK(seen.text == p.disk(path));
      ++whole;
    }
  }
  CHECK(whole > 0);
}

}  // namespace

TEST_CASE("a packing never exceeds its budget counted with the real tokenizer", "[context]") {
  Packer p;
  auto files = p.index();
  for (int64_t budget : {700, 900, 1200, 2000, 5000, 100000}) {
    INFO("budget " << budget);
    auto r = require_ok(pack_context(p.options(budget), files));
    CHECK(p.counter.count(r.text) == r.tokens);
    CHECK(r.tokens <= budget - r.reserve_tokens);
    CHECK(r.reserve_tokens == budget / 10);
    CHECK(r.whole + r.signatures + r.listed == static_cast<int64_t>(files.size()));
    check_describes_current_files(p, {r.text});
  }
  auto roomy = require_ok(pack_context(p.options(100000), files));
  CHECK(roomy.listed == 0);  // everything fits whole
  CHECK(roomy.text.find("=== MAP ===\n") != std::string::npos);
  CHECK(roomy.text.find("  geometry.h: Shape") != std::string::npos);  // the map names key definitions

  auto too_small = pack_context(p.options(50), files);
  REQUIRE_FALSE(too_small.ok());
  CHECK(too_small.message().find("too small") != std::string::npos);
}

TEST_CASE("focused files are shown whole first and unknown focus is reported", "[context]") {
  Packer p;
  auto files = p.index();
  auto opts = p.options(700);
  opts.focus = {"cmd/server/main.go", "make_cache", "no_such_thing"};
  auto r = require_ok(pack_context(opts, files));
  CHECK(r.text.find("=== FILE cmd/server/main.go (") != std::string::npos);
  CHECK(r.text.find("=== FILE lib/src/lib.rs (") != std::string::npos);  // defines make_cache
  CHECK(r.unmatched_focus == std::vector<std::string>{"no_such_thing"});
  opts.focus = {"web/"};  // a folder
  auto folder = require_ok(pack_context(opts, files));
  CHECK(folder.text.find("=== FILE web/app.js (") != std::string::npos);
  CHECK(folder.unmatched_focus.empty());
}

TEST_CASE("base plus deltas describe the current files after every kind of change", "[context]") {
  Packer p;
  auto base = require_ok(pack_context(p.options(100000), p.index()));
  CHECK(base.id == base.base);
  CHECK(base.id.size() == 16);
  std::vector<std::string> texts = {base.text};

  // Nothing changed: an empty delta that keeps the id.
  auto none = require_ok(update_context(p.options(100000), p.index(), base.id));
  CHECK(none.text.empty());
  CHECK(none.id == base.id);

  // An edit, an append, a deletion, a rename, a new file, a non-UTF-8 byte.
  p.write("src/geometry.cpp", p.disk("src/geometry.cpp") + "double perimeter(const Shape& s) { return 0; }\n");
  p.write("app/main.py", "class Greeter:\n    def greet(self, who):\n        return 'hello ' + who\n\n"
                         "def main():\n    Greeter().greet('x')\n");
  fs::remove(p.repo.root().file("run.sh"));
  fs::rename(p.repo.root().file("web/app.js"), p.repo.root().file("web/render.js"));
  p.write("src/new_module.c", "int new_module(void) { return clamp_all(3); }\n");
  p.write("src/latin1.c", "/* caf\xE9 cr\xE8me br\xFB" "l\xE9" "e */\nint latin_one(void) { return 1; }\n");
  auto first = require_ok(update_context(p.options(100000), p.index(), base.id));
  CHECK(first.delta);
  CHECK_FALSE(first.compacted);
  CHECK(first.since == base.id);
  CHECK(first.base == base.id);
  CHECK(first.id != base.id);
  CHECK(first.deleted == 1);
  CHECK(first.renamed == 1);
  CHECK(first.added == 1);
  CHECK(first.diffs + first.replaced == 4);  // alias.py is a symlink to app/main.py
  CHECK(first.context_tokens == base.tokens + first.tokens);
  CHECK(first.text.rfind("=== CHANGES since " + base.id + ", now " + first.id, 0) == 0);
  CHECK(first.text.find("=== RENAMED web/app.js -> web/render.js ===") != std::string::npos);
  CHECK(first.text.find("=== DELETED run.sh ===") != std::string::npos);
  texts.push_back(first.text);
  check_describes_current_files(p, texts);

  // A second delta chains on the first, and a file can come back.
  p.write("src/geometry.cpp", "// rewritten\n");
  p.write("run.sh", "#!/bin/sh\necho back\n");
  auto second = require_ok(update_context(p.options(100000), p.index(), first.id));
  CHECK(second.since == first.id);
  CHECK(second.base == base.id);
  texts.push_back(second.text);
  check_describes_current_files(p, texts);

  // Asking again from the first delta gives the same id: ids name states.
  auto again = require_ok(update_context(p.options(100000), p.index(), first.id));
  CHECK(again.id == second.id);
  CHECK(again.text == second.text);
}

TEST_CASE("files with mixed line endings are reproduced exactly by deltas", "[context]") {
  Packer p;
  std::string text;
  for (int i = 0; i < 40; ++i) text += "line " + std::to_string(i) + (i % 3 ? "\n" : "\r\n");
  p.write("mixed.txt", text);
  auto base = require_ok(pack_context(p.options(100000), p.index()));
  p.write("mixed.txt", text + "added\r\n");
  auto delta = require_ok(update_context(p.options(100000), p.index(), base.id));
  CHECK(delta.diffs + delta.replaced == 1);
  check_describes_current_files(p, {base.text, delta.text});
}

TEST_CASE("signature-only files are restated when their definitions change", "[context]") {
  Packer p;
  // Signatures are a definition's first line: keep bodies off it.
  auto big = [](const std::string& one_body, const std::string& extra) {
    return "int big_one(void) {\n  " + one_body + "\n}\n" + extra + std::string(3000, '\n') +
           "int big_two(void) {\n  return 2;\n}\n";
  };
  p.write("src/big.c", big("return 1;", ""));
  auto opts = p.options(900);
  opts.focus = {"README.md"};
  auto base = require_ok(pack_context(opts, p.index()));
  REQUIRE(base.text.find("=== SIGNATURES src/big.c (") != std::string::npos);
  // A body change that keeps the definitions: nothing to say.
  p.write("src/big.c", big("return 10;", ""));
  auto quiet = require_ok(update_context(opts, p.index(), base.id));
  CHECK(quiet.resigned == 0);
  CHECK(quiet.text.find("src/big.c") == std::string::npos);
  // A new definition: the signatures are restated.
  p.write("src/big.c", big("return 10;", "int big_three(void) {\n  return 3;\n}\n"));
  auto loud = require_ok(update_context(opts, p.index(), quiet.id));
  CHECK(loud.resigned == 1);
  auto files = read_context_text({base.text, quiet.text, loud.text});
  REQUIRE(files.ok());
  CHECK(files->at("src/big.c").text.find("big_three") != std::string::npos);
}

TEST_CASE("a delta that would overflow the budget re-packs and says why", "[context]") {
  Packer p;
  auto opts = p.options(1500);
  opts.reserve = 0.05;
  auto base = require_ok(pack_context(opts, p.index()));
  std::string big;
  for (int i = 0; i < 60; ++i) big += "int generated_" + std::to_string(i) + "(void) { return " + std::to_string(i) + "; }\n";
  p.write("src/util.c", big);
  p.write("src/more.c", big);
  auto r = require_ok(update_context(opts, p.index(), base.id));
  CHECK(r.compacted);
  CHECK_FALSE(r.delta);
  CHECK(r.since == base.id);
  CHECK(r.id != base.id);
  CHECK(r.base == r.id);
  CHECK(r.compacted_because.find("over the budget of 1500") != std::string::npos);
  CHECK(r.tokens <= 1500);
  check_describes_current_files(p, {r.text});
}

TEST_CASE("unknown ids and mismatched settings are errors that change nothing", "[context]") {
  Packer p;
  auto base = require_ok(pack_context(p.options(5000), p.index()));
  auto unknown = update_context(p.options(5000), p.index(), "0000000000000000");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.message().find("no context 0000000000000000") != std::string::npos);
  auto malformed = update_context(p.options(5000), p.index(), "../../etc/passwd");
  REQUIRE_FALSE(malformed.ok());
  CHECK(malformed.message().find("not a context id") != std::string::npos);
  auto budget = update_context(p.options(6000), p.index(), base.id);
  REQUIRE_FALSE(budget.ok());
  CHECK(budget.message().find("budget of 5000") != std::string::npos);
  auto other = p.options(5000);
  other.counter = beluga::indexer::estimated_token_counter();
  auto counter = update_context(other, p.index(), base.id);
  REQUIRE_FALSE(counter.ok());
  CHECK(counter.message().find("counted with tokenizer:test") != std::string::npos);

  // A damaged record is reported, not guessed at.
  std::string record = beluga::indexer::context_records_folder(p.database()) + "/" + base.id + ".json";
  beluga::testing::write_text(record, "{\"version\": 1, \"id\": ");
  auto damaged = update_context(p.options(5000), p.index(), base.id);
  REQUIRE_FALSE(damaged.ok());
  CHECK(damaged.message().find("not valid JSON") != std::string::npos);
}
