// Checking checkpoints against their config (engine/model/inspect.h): the
// golden checkpoints pass; a checkpoint with several defects reports every
// one of them by name; unreadable folders are errors naming what is wrong.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>

#include "engine/model/checkpoint_files.h"
#include "engine/model/inspect.h"
#include "engine/model/safetensors_writer.h"
#include "engine/model/synth.h"
#include "tests/test_support.h"

using namespace beluga;
using beluga::testing::ScratchDir;

namespace {

void synth_micro(const std::string& out) {
  const std::string config = testing::read_text(testing::source_path("scripts/configs/v4-micro.config.json"));
  SynthOptions options;
  options.storage = SynthStorage::kFP8;
  auto result = synthesize_checkpoint(config, "v4-micro", options, out);
  REQUIRE(result.ok());
}

// Rewrites `folder`'s model.safetensors through `edit`, which may drop
// (return false), rename, retype or reshape each tensor; `extra` are added.
void rewrite_checkpoint(const std::string& folder, const std::function<bool(TensorToWrite&)>& edit,
                        const std::vector<TensorToWrite>& extra = {}) {
  const std::string path = folder + "/model.safetensors";
  auto source = SafetensorsFile::open(path);
  REQUIRE(source.ok());
  std::vector<TensorToWrite> tensors;
  std::vector<std::vector<uint8_t>> data;
  for (const auto& entry : source->tensors()) {
    TensorToWrite t{entry.name, entry.dtype, entry.shape};
    if (!edit(t)) continue;
    auto bytes = source->view(entry).bytes;
    std::vector<uint8_t> copy(bytes.begin(), bytes.end());
    copy.resize(t.byte_count());
    tensors.push_back(t);
    data.push_back(std::move(copy));
  }
  for (const auto& t : extra) {
    tensors.push_back(t);
    data.emplace_back(t.byte_count(), uint8_t{0});
  }
  Status s = write_safetensors(path + ".new", tensors, {}, [&](size_t i, const AppendBytes& append) {
    return append(data[i]);
  });
  REQUIRE(s.ok());
  std::filesystem::rename(path + ".new", path);
}

}  // namespace

TEST_CASE("the golden bf16 and fp8 checkpoints pass inspect", "[inspect]") {
  for (const char* name : {"tiny-bf16", "tiny-fp8"}) {
    INFO(name);
    auto report = inspect_checkpoint(testing::golden_path(name));
    REQUIRE(report.ok());
    CHECK(report->valid());
    CHECK(report->files == 1);
    CHECK(report->config.num_hidden_layers == 6);
    CHECK(report->sliding_window_layers == 3);
    CHECK(report->csa_layers == 2);
    CHECK(report->hca_layers == 1);
  }
}

TEST_CASE("inspect reports every missing, unexpected and mismatched tensor by name", "[inspect]") {
  ScratchDir dir;
  synth_micro(dir.path());
  rewrite_checkpoint(
      dir.path(),
      [](TensorToWrite& t) {
        if (t.name == "layers.1.attn.indexer.wq_b.scale" || t.name == "embed.weight") return false;
        if (t.name == "layers.0.attn.wq_a.weight") t.dtype = DType::BF16;      // wrong dtype
        if (t.name == "layers.2.ffn.experts.3.w2.weight") t.shape = {32, 4};  // wrong shape
        return true;
      },
      {{"layers.0.attn.bogus", DType::F32, {3}}, {"model.embed_tokens.weight", DType::BF16, {64, 32}}});
  auto report = inspect_checkpoint(dir.path());
  REQUIRE(report.ok());
  CHECK_FALSE(report->valid());
  CHECK(report->missing == std::vector<std::string>{"embed.weight", "layers.1.attn.indexer.wq_b.scale"});
  CHECK(report->unexpected == std::vector<std::string>{"layers.0.attn.bogus", "model.embed_tokens.weight"});
  REQUIRE(report->mismatched.size() == 2);
  auto by_name = [&](const std::string& name) {
    auto it = std::find_if(report->mismatched.begin(), report->mismatched.end(),
                           [&](const TensorMismatch& m) { return m.name == name; });
    REQUIRE(it != report->mismatched.end());
    return *it;
  };
  TensorMismatch dtype = by_name("layers.0.attn.wq_a.weight");
  CHECK(dtype.expected_dtype == DType::F8_E4M3);
  CHECK(dtype.found_dtype == DType::BF16);
  TensorMismatch shape = by_name("layers.2.ffn.experts.3.w2.weight");
  CHECK(shape.expected_shape == std::vector<int64_t>{32, 8});
  CHECK(shape.found_shape == std::vector<int64_t>{32, 4});
}

TEST_CASE("a BF16 tensor stored as F32 is accepted, other widenings are not", "[inspect]") {
  ScratchDir dir;
  synth_micro(dir.path());
  rewrite_checkpoint(dir.path(), [](TensorToWrite& t) {
    if (t.name == "norm.weight") t.dtype = DType::F32;                 // BF16 -> F32: fine
    if (t.name == "layers.0.attn.attn_sink") t.dtype = DType::BF16;    // F32 -> BF16: narrowing
    return true;
  });
  auto report = inspect_checkpoint(dir.path());
  REQUIRE(report.ok());
  REQUIRE(report->mismatched.size() == 1);
  CHECK(report->mismatched[0].name == "layers.0.attn.attn_sink");
}

TEST_CASE("inspect fails with a clear message on an unreadable checkpoint", "[inspect]") {
  ScratchDir dir;
  SECTION("no config.json") {
    auto report = inspect_checkpoint(dir.path());
    REQUIRE_FALSE(report.ok());
    CHECK_THAT(report.message(), Catch::Contains("config.json"));
  }
  SECTION("a typo in config.json") {
    synth_micro(dir.path());
    std::string config = testing::read_text(dir.file("config.json"));
    config.replace(config.find("\"hidden_size\""), 13, "\"hiden_size\"");
    testing::write_text(dir.file("config.json"), config);
    auto report = inspect_checkpoint(dir.path());
    REQUIRE_FALSE(report.ok());
    CHECK_THAT(report.message(), Catch::Contains("missing key 'hidden_size'") && Catch::Contains("hiden_size"));
  }
  SECTION("a truncated weights file") {
    synth_micro(dir.path());
    auto bytes = testing::read_bytes(dir.file("model.safetensors"));
    bytes.resize(bytes.size() - 1000);
    testing::write_bytes(dir.file("model.safetensors"), bytes);
    auto report = inspect_checkpoint(dir.path());
    REQUIRE_FALSE(report.ok());
    CHECK_THAT(report.message(), Catch::Contains("model.safetensors") && Catch::Contains("truncated"));
  }
  SECTION("a missing shard") {
    const std::string config = testing::read_text(testing::source_path("scripts/configs/v4-micro.config.json"));
    SynthOptions options;
    options.shards = 3;
    REQUIRE(synthesize_checkpoint(config, "v4-micro", options, dir.path()).ok());
    std::filesystem::remove(dir.file("model-00002-of-00003.safetensors"));
    auto report = inspect_checkpoint(dir.path());
    REQUIRE_FALSE(report.ok());
    CHECK_THAT(report.message(), Catch::Contains("model-00002-of-00003.safetensors") && Catch::Contains("missing"));
  }
}
