// Tests of engine/model/checkpoint_files.h: opening a checkpoint folder (an
// index and its shards, or one model.safetensors) or a single .safetensors
// file, finding tensors across files, and refusing inconsistent checkpoints
// with messages that name the file and tensor at fault.
//
// Oracles: checkpoints built here with write_safetensors, where every
// tensor's bytes are a pattern derived from its name (so a wrong lookup
// shows), and the golden tiny-bf16 checkpoint, whose counts and bytes are
// read independently from the file.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/model/checkpoint_files.h"
#include "engine/model/safetensors.h"
#include "engine/model/safetensors_writer.h"
#include "tests/test_support.h"

namespace beluga {
namespace {

using testing::golden_path;
using testing::read_bytes;
using testing::ScratchDir;
using testing::write_bytes;
using testing::write_text;

constexpr const char* kShard1 = "model-00001-of-00002.safetensors";
constexpr const char* kShard2 = "model-00002-of-00002.safetensors";

// The bytes every test tensor holds: 2x3 F32 (24 bytes), a pattern of its name.
constexpr uint64_t kTensorBytes = 24;
std::vector<uint8_t> pattern_of(const std::string& name) {
  uint8_t seed = 0;
  for (char c : name) seed = static_cast<uint8_t>(seed * 31 + static_cast<uint8_t>(c));
  std::vector<uint8_t> bytes(kTensorBytes);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(seed + i * 7);
  return bytes;
}

// Writes a safetensors file holding `names`, each a 2x3 F32 tensor.
void write_shard(const std::string& path, const std::vector<std::string>& names) {
  std::vector<TensorToWrite> tensors;
  for (const auto& name : names) tensors.push_back({name, DType::F32, {2, 3}});
  Status s = write_safetensors(path, tensors, {{"format", "pt"}}, [&](size_t i, const AppendBytes& append) {
    return append(pattern_of(names[i]));
  });
  INFO(path);
  REQUIRE(s.ok());
}

// Writes model.safetensors.index.json mapping tensor -> shard file.
void write_index(const std::string& folder, const std::map<std::string, std::string>& weight_map) {
  nlohmann::json index = {{"metadata", {{"total_size", weight_map.size() * kTensorBytes}}},
                          {"weight_map", weight_map}};
  write_text(folder + "/" + std::string(kIndexFileName), index.dump(2));
}

// The usual two-shard checkpoint: a.weight, b.weight in shard 1; c.weight,
// d.bias in shard 2.
void write_two_shards(const std::string& folder) {
  write_shard(folder + "/" + kShard1, {"a.weight", "b.weight"});
  write_shard(folder + "/" + kShard2, {"c.weight", "d.bias"});
  write_index(folder, {{"a.weight", kShard1}, {"b.weight", kShard1}, {"c.weight", kShard2}, {"d.bias", kShard2}});
}

// Opens `path`, requires an error, and checks its message holds `fragments`.
void require_open_error(const std::string& path, const std::vector<std::string>& fragments) {
  auto result = CheckpointFiles::open(path);
  REQUIRE_FALSE(result.ok());
  const std::string& message = result.message();
  INFO("message: " << message);
  for (const auto& fragment : fragments) CHECK_THAT(message, Catch::Contains(fragment));
}

void check_found(const CheckpointFiles& checkpoint, const std::string& name, const std::string& file) {
  INFO(name);
  auto view = checkpoint.find(name);
  REQUIRE(view.has_value());
  REQUIRE(view->entry != nullptr);
  CHECK(view->entry->name == name);
  CHECK(view->entry->dtype == DType::F32);
  CHECK(view->entry->shape == std::vector<int64_t>{2, 3});
  REQUIRE(view->file != nullptr);
  CHECK(*view->file == file);
  CHECK(std::vector<uint8_t>(view->bytes.begin(), view->bytes.end()) == pattern_of(name));
}

// --- valid checkpoints -------------------------------------------------------------

TEST_CASE("a folder with only model.safetensors opens and finds its tensors", "[checkpoint]") {
  ScratchDir dir;
  const std::string file = dir.file("model.safetensors");
  write_shard(file, {"x.weight", "y.weight", "z.bias"});
  write_text(dir.file("config.json"), "{}");

  auto checkpoint = CheckpointFiles::open(dir.path());
  REQUIRE(checkpoint.ok());
  CHECK(checkpoint->files().size() == 1);
  CHECK(checkpoint->tensor_count() == 3);
  CHECK(checkpoint->total_bytes() == 3 * kTensorBytes);
  check_found(*checkpoint, "x.weight", file);
  check_found(*checkpoint, "z.bias", file);
  CHECK_FALSE(checkpoint->find("missing.weight").has_value());
  CHECK_FALSE(checkpoint->find("").has_value());
}

TEST_CASE("the golden tiny-bf16 folder opens through its model.safetensors", "[checkpoint]") {
  const std::string file = golden_path("tiny-bf16/model.safetensors");
  const std::string folder = std::filesystem::path(file).parent_path().string();
  const std::vector<uint8_t> bytes = read_bytes(file);
  auto layout = parse_safetensors(bytes, file);
  REQUIRE(layout.ok());

  auto checkpoint = CheckpointFiles::open(folder);
  REQUIRE(checkpoint.ok());
  CHECK(checkpoint->tensor_count() == 353);
  CHECK(checkpoint->total_bytes() == bytes.size() - layout->data_offset);
  auto embed = checkpoint->find("embed.weight");
  REQUIRE(embed.has_value());
  CHECK(*embed->file == folder + "/model.safetensors");
  CHECK(embed->entry->dtype == DType::BF16);
  CHECK(embed->entry->shape == std::vector<int64_t>{512, 64});
  REQUIRE(embed->bytes.size() == 65536);
  CHECK(std::equal(embed->bytes.begin(), embed->bytes.end(),
                   bytes.begin() + static_cast<std::ptrdiff_t>(layout->data_offset + embed->entry->data_begin)));
}

TEST_CASE("a path straight to a .safetensors file opens as a one-file checkpoint", "[checkpoint]") {
  SECTION("a file built here, under a name other than model.safetensors") {
    ScratchDir dir;
    const std::string file = dir.file("weights-only.safetensors");
    write_shard(file, {"p.weight", "q.weight"});
    auto checkpoint = CheckpointFiles::open(file);
    REQUIRE(checkpoint.ok());
    CHECK(checkpoint->files().size() == 1);
    CHECK(checkpoint->tensor_count() == 2);
    CHECK(checkpoint->total_bytes() == 2 * kTensorBytes);
    check_found(*checkpoint, "p.weight", file);
    check_found(*checkpoint, "q.weight", file);
  }
  SECTION("the golden tiny-fp8 file") {
    const std::string file = golden_path("tiny-fp8/model.safetensors");
    auto checkpoint = CheckpointFiles::open(file);
    REQUIRE(checkpoint.ok());
    CHECK(checkpoint->tensor_count() == 581);
    auto scale = checkpoint->find("layers.0.attn.wq_a.scale");
    REQUIRE(scale.has_value());
    CHECK(*scale->file == file);
    CHECK(scale->entry->dtype == DType::F8_E8M0);
  }
}

TEST_CASE("a sharded folder opens and finds tensors in both shards", "[checkpoint]") {
  ScratchDir dir;
  write_two_shards(dir.path());
  auto checkpoint = CheckpointFiles::open(dir.path());
  REQUIRE(checkpoint.ok());
  CHECK(checkpoint->files().size() == 2);
  CHECK(checkpoint->tensor_count() == 4);
  CHECK(checkpoint->total_bytes() == 4 * kTensorBytes);
  check_found(*checkpoint, "a.weight", dir.file(kShard1));
  check_found(*checkpoint, "b.weight", dir.file(kShard1));
  check_found(*checkpoint, "c.weight", dir.file(kShard2));
  check_found(*checkpoint, "d.bias", dir.file(kShard2));
  CHECK_FALSE(checkpoint->find("e.weight").has_value());
}

TEST_CASE("all_tensors lists every tensor of every shard exactly once", "[checkpoint]") {
  ScratchDir dir;
  write_two_shards(dir.path());
  auto checkpoint = CheckpointFiles::open(dir.path());
  REQUIRE(checkpoint.ok());
  const auto all = checkpoint->all_tensors();
  REQUIRE(all.size() == 4);
  std::multiset<std::string> names;
  for (const auto& view : all) {
    REQUIRE(view.entry != nullptr);
    names.insert(view.entry->name);
    CHECK(std::vector<uint8_t>(view.bytes.begin(), view.bytes.end()) == pattern_of(view.entry->name));
    const std::string expected_file = (view.entry->name == "a.weight" || view.entry->name == "b.weight")
                                          ? dir.file(kShard1)
                                          : dir.file(kShard2);
    CHECK(*view.file == expected_file);
  }
  CHECK(names == std::multiset<std::string>{"a.weight", "b.weight", "c.weight", "d.bias"});
}

TEST_CASE("an index is used in preference to a model.safetensors beside it", "[checkpoint]") {
  ScratchDir dir;
  write_two_shards(dir.path());
  write_shard(dir.file("model.safetensors"), {"stale.weight"});
  auto checkpoint = CheckpointFiles::open(dir.path());
  REQUIRE(checkpoint.ok());
  CHECK(checkpoint->tensor_count() == 4);
  CHECK_FALSE(checkpoint->find("stale.weight").has_value());
}

TEST_CASE("tensor views stay valid after the checkpoint object is moved", "[checkpoint]") {
  ScratchDir dir;
  write_two_shards(dir.path());
  auto opened = CheckpointFiles::open(dir.path());
  REQUIRE(opened.ok());
  CheckpointFiles first = std::move(opened).value();
  CheckpointFiles moved = std::move(first);
  check_found(moved, "a.weight", dir.file(kShard1));
  check_found(moved, "d.bias", dir.file(kShard2));
  CHECK(moved.all_tensors().size() == 4);
}

// --- errors: what the path points at -------------------------------------------------------

TEST_CASE("a folder holding neither an index nor model.safetensors is refused", "[checkpoint]") {
  ScratchDir dir;
  write_text(dir.file("config.json"), "{}");
  write_shard(dir.file("other-name.safetensors"), {"a.weight"});
  require_open_error(dir.path(), {dir.path(), "model.safetensors.index.json", "model.safetensors"});
}

TEST_CASE("a path that does not exist is refused", "[checkpoint]") {
  ScratchDir dir;
  const std::string missing = dir.file("no-such-checkpoint");
  require_open_error(missing, {missing, "no such"});
  require_open_error(dir.file("no-such.safetensors"), {"no-such.safetensors"});
}

TEST_CASE("a corrupt model.safetensors is refused with its path", "[checkpoint]") {
  ScratchDir dir;
  const std::string file = dir.file("model.safetensors");
  write_shard(file, {"a.weight", "b.weight"});
  std::vector<uint8_t> bytes = read_bytes(file);
  bytes.resize(bytes.size() - 5);
  write_bytes(file, bytes);
  require_open_error(dir.path(), {file, "truncated"});
  require_open_error(file, {file, "truncated"});
}

// --- errors: index and shards disagree ------------------------------------------------------

TEST_CASE("an index naming a missing shard is refused, naming the shard and a tensor it should hold",
          "[checkpoint]") {
  ScratchDir dir;
  write_shard(dir.file(kShard1), {"a.weight", "b.weight"});
  write_index(dir.path(), {{"a.weight", kShard1}, {"b.weight", kShard1}, {"c.weight", kShard2}});
  require_open_error(dir.path(), {kShard2, "c.weight", "missing"});
}

TEST_CASE("an index listing a tensor in a shard that does not hold it is refused", "[checkpoint]") {
  ScratchDir dir;
  write_two_shards(dir.path());
  write_index(dir.path(), {{"a.weight", kShard1},
                           {"b.weight", kShard1},
                           {"c.weight", kShard2},
                           {"d.bias", kShard2},
                           {"ghost.weight", kShard2}});
  require_open_error(dir.path(), {"ghost.weight", kShard2, "does not hold"});
}

TEST_CASE("a shard holding a tensor the index does not list is refused", "[checkpoint]") {
  ScratchDir dir;
  write_shard(dir.file(kShard1), {"a.weight", "b.weight", "unlisted.weight"});
  write_shard(dir.file(kShard2), {"c.weight", "d.bias"});
  write_index(dir.path(), {{"a.weight", kShard1}, {"b.weight", kShard1}, {"c.weight", kShard2}, {"d.bias", kShard2}});
  require_open_error(dir.path(), {dir.file(kShard1), "unlisted.weight", "does not list"});
}

TEST_CASE("a shard holding a tensor the index assigns to another shard is refused", "[checkpoint]") {
  ScratchDir dir;
  // b.weight sits in shard 1, but the index says shard 2 (which lacks it).
  write_shard(dir.file(kShard1), {"a.weight", "b.weight"});
  write_shard(dir.file(kShard2), {"c.weight"});
  write_index(dir.path(), {{"a.weight", kShard1}, {"b.weight", kShard2}, {"c.weight", kShard2}});
  require_open_error(dir.path(), {dir.file(kShard1), "b.weight", kShard2});
}

TEST_CASE("the same tensor in two shards is refused, naming both shards", "[checkpoint]") {
  ScratchDir dir;
  write_shard(dir.file(kShard1), {"a.weight", "b.weight"});
  write_shard(dir.file(kShard2), {"b.weight", "c.weight"});

  SECTION("the index assigns it to the first shard") {
    write_index(dir.path(), {{"a.weight", kShard1}, {"b.weight", kShard1}, {"c.weight", kShard2}});
    require_open_error(dir.path(), {"b.weight", kShard1, kShard2});
  }
  SECTION("the index assigns it to the second shard") {
    write_index(dir.path(), {{"a.weight", kShard1}, {"b.weight", kShard2}, {"c.weight", kShard2}});
    require_open_error(dir.path(), {"b.weight", kShard1, kShard2});
  }
}

TEST_CASE("a corrupt shard is refused with that shard's path", "[checkpoint]") {
  ScratchDir dir;
  write_two_shards(dir.path());
  const std::string shard = dir.file(kShard2);
  std::vector<uint8_t> bytes = read_bytes(shard);
  bytes.resize(bytes.size() - 10);  // cut into d.bias or c.weight
  write_bytes(shard, bytes);
  require_open_error(dir.path(), {shard, "truncated"});
}

TEST_CASE("a shard copied from the golden checkpoint and truncated is refused with its path", "[checkpoint]") {
  ScratchDir dir;
  std::vector<uint8_t> bytes = read_bytes(golden_path("tiny-bf16/model.safetensors"));
  bytes.resize(bytes.size() - 100);
  const std::string shard = dir.file("model-00001-of-00001.safetensors");
  write_bytes(shard, bytes);
  write_index(dir.path(), {{"embed.weight", "model-00001-of-00001.safetensors"}});
  require_open_error(dir.path(), {shard, "norm.weight", "past the end"});
}

// --- errors: the index itself ---------------------------------------------------------------

TEST_CASE("an index shard name that is not a plain file name is refused", "[checkpoint]") {
  ScratchDir dir;
  const std::string folder = dir.file("checkpoint");
  std::filesystem::create_directories(folder + "/sub");
  // Both targets exist and are valid, so only the name can be the reason.
  write_shard(dir.file("evil.safetensors"), {"a.weight"});
  write_shard(folder + "/sub/x.safetensors", {"a.weight"});
  const std::string bad = GENERATE(std::string("../evil.safetensors"), std::string("sub/x.safetensors"),
                                   std::string("/tmp/abs.safetensors"), std::string(".."), std::string("."),
                                   std::string(""));
  INFO("shard name '" << bad << "'");
  write_index(folder, {{"a.weight", bad}});
  require_open_error(folder, {"a.weight", "not a plain file name"});
  if (!bad.empty()) require_open_error(folder, {bad});
}

TEST_CASE("an index that is not JSON or not an object is refused", "[checkpoint]") {
  ScratchDir dir;
  write_shard(dir.file(kShard1), {"a.weight"});
  const std::string index = dir.file(std::string(kIndexFileName));
  SECTION("not JSON") {
    write_text(index, "{\"weight_map\": {\"a.weight\": ");
    require_open_error(dir.path(), {index, "JSON"});
  }
  SECTION("an array") {
    write_text(index, "[\"a.weight\"]");
    require_open_error(dir.path(), {index, "JSON object"});
  }
  SECTION("empty") {
    write_text(index, "");
    require_open_error(dir.path(), {index});
  }
}

TEST_CASE("an index without a weight_map object is refused", "[checkpoint]") {
  ScratchDir dir;
  write_shard(dir.file(kShard1), {"a.weight"});
  const std::string index = dir.file(std::string(kIndexFileName));
  SECTION("missing") {
    write_text(index, R"({"metadata":{"total_size":24}})");
    require_open_error(dir.path(), {index, "weight_map"});
  }
  SECTION("an array") {
    write_text(index, R"({"metadata":{"total_size":24},"weight_map":["a.weight"]})");
    require_open_error(dir.path(), {index, "weight_map"});
  }
}

TEST_CASE("a weight_map value that is not a string is refused, naming the tensor", "[checkpoint]") {
  ScratchDir dir;
  write_shard(dir.file(kShard1), {"a.weight"});
  const std::string index = dir.file(std::string(kIndexFileName));
  const std::string value = GENERATE(std::string("1"), std::string("null"), std::string("[\"x.safetensors\"]"),
                                     std::string("{\"file\":\"x.safetensors\"}"));
  INFO("value " << value);
  write_text(index, R"({"weight_map":{"a.weight":)" + value + "}}");
  require_open_error(dir.path(), {index, "a.weight", "shard"});
}

TEST_CASE("an empty weight_map is refused", "[checkpoint]") {
  ScratchDir dir;
  write_shard(dir.file(kShard1), {"a.weight"});
  const std::string index = dir.file(std::string(kIndexFileName));
  write_text(index, R"({"metadata":{"total_size":0},"weight_map":{}})");
  require_open_error(dir.path(), {index, "empty"});
}

}  // namespace
}  // namespace beluga
