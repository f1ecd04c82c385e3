// Synthetic checkpoints (engine/model/synth.h): written in the released
// format, accepted by the checker, deterministic per (seed, tensor name) and
// independent of sharding, with values in the ranges synth promises.
// Oracles: the manifest, the strict safetensors reader, and the reference
// dequantisers of quant_blocks.h.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>

#include "engine/model/checkpoint_files.h"
#include "engine/model/inspect.h"
#include "engine/model/manifest.h"
#include "engine/model/quant_blocks.h"
#include "engine/model/synth.h"
#include "tests/test_support.h"

using namespace beluga;
using beluga::testing::ScratchDir;

namespace {

std::string micro_config() { return testing::read_text(testing::source_path("scripts/configs/v4-micro.config.json")); }

SynthResult synth_ok(const std::string& config, const SynthOptions& options, const std::string& out) {
  auto result = synthesize_checkpoint(config, "v4-micro.config.json", options, out);
  INFO((result ? std::string() : result.message()));
  REQUIRE(result.ok());
  return std::move(result).value();
}

std::vector<float> dequantized(const CheckpointFiles& files, const TensorSpec& spec) {
  auto w = files.find(spec.name);
  auto s = files.find(spec.name.substr(0, spec.name.size() - 6) + "scale");
  REQUIRE(w.has_value());
  REQUIRE(s.has_value());
  std::vector<float> out(static_cast<size_t>(spec.out_features * spec.in_features));
  Status status = spec.storage == WeightStorage::kFP8
                      ? dequantize_fp8_blocks(w->bytes, s->bytes, spec.out_features, spec.in_features, {128, 128}, out)
                      : dequantize_fp4_rows(w->bytes, s->bytes, spec.out_features, spec.in_features, out);
  REQUIRE(status.ok());
  return out;
}

double standard_deviation(const std::vector<float>& v) {
  double sum = 0, squares = 0;
  for (float x : v) {
    sum += x;
    squares += static_cast<double>(x) * x;
  }
  double mean = sum / static_cast<double>(v.size());
  return std::sqrt(squares / static_cast<double>(v.size()) - mean * mean);
}

}  // namespace

TEST_CASE("a synthesised fp8 checkpoint passes inspect with every manifest tensor", "[synth]") {
  ScratchDir dir;
  SynthOptions options;
  options.storage = SynthStorage::kFP8;
  SynthResult result = synth_ok(micro_config(), options, dir.path());
  auto report = inspect_checkpoint(dir.path());
  REQUIRE(report.ok());
  CHECK(report->valid());
  const ManifestTotals totals = manifest_totals(result.config);
  CHECK(report->tensors == totals.tensors);
  CHECK(report->bytes == totals.bytes);
  CHECK(result.config.linear_storage == WeightStorage::kFP8);
  CHECK(result.config.expert_storage == WeightStorage::kFP4);
  CHECK(report->tensors_by_dtype.at(DType::I8) > 0);
}

TEST_CASE("bf16 storage removes the quantisation keys and writes only plain tensors", "[synth]") {
  ScratchDir dir;
  SynthOptions options;
  options.storage = SynthStorage::kBF16;
  synth_ok(micro_config(), options, dir.path());
  const std::string written = testing::read_text(dir.file("config.json"));
  CHECK(written.find("quantization_config") == std::string::npos);
  CHECK(written.find("expert_dtype") == std::string::npos);
  auto report = inspect_checkpoint(dir.path());
  REQUIRE(report.ok());
  CHECK(report->valid());
  CHECK(report->tensors_by_dtype.count(DType::F8_E4M3) == 0);
  CHECK(report->tensors_by_dtype.count(DType::F8_E8M0) == 0);
  CHECK(report->tensors_by_dtype.count(DType::I8) == 0);
}

TEST_CASE("tensor bytes depend on seed and name only, not on the shard count", "[synth]") {
  ScratchDir one, three, again, other_seed;
  SynthOptions options;
  options.seed = 42;
  synth_ok(micro_config(), options, one.path());
  synth_ok(micro_config(), options, again.path());
  options.shards = 3;
  SynthResult sharded = synth_ok(micro_config(), options, three.path());
  CHECK(sharded.shards == 3);
  CHECK(std::filesystem::exists(three.file("model.safetensors.index.json")));
  CHECK(std::filesystem::exists(three.file("model-00003-of-00003.safetensors")));
  options.shards = 1;
  options.seed = 43;
  synth_ok(micro_config(), options, other_seed.path());

  CHECK(testing::read_bytes(one.file("model.safetensors")) == testing::read_bytes(again.file("model.safetensors")));
  auto a = CheckpointFiles::open(one.path());
  auto b = CheckpointFiles::open(three.path());
  auto c = CheckpointFiles::open(other_seed.path());
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(c.ok());
  CHECK(b->files().size() == 3);
  CHECK(a->tensor_count() == b->tensor_count());
  for (const TensorView& t : a->all_tensors()) {
    auto in_three = b->find(t.entry->name);
    REQUIRE(in_three.has_value());
    CHECK(std::equal(t.bytes.begin(), t.bytes.end(), in_three->bytes.begin(), in_three->bytes.end()));
    auto in_other = c->find(t.entry->name);
    REQUIRE(in_other.has_value());
    // A new seed changes every value tensor; power-of-two scales of blocks
    // with similar maxima may coincide, so scales are not compared.
    const bool is_scale = t.entry->dtype == DType::F8_E8M0;
    if (!is_scale && t.entry->element_count() >= 16) {
      INFO(t.entry->name);
      CHECK_FALSE(std::equal(t.bytes.begin(), t.bytes.end(), in_other->bytes.begin(), in_other->bytes.end()));
    }
  }
}

TEST_CASE("each shard holds a weight together with its scale", "[synth]") {
  ScratchDir dir;
  SynthOptions options;
  options.storage = SynthStorage::kFP8;
  options.shards = 7;
  synth_ok(micro_config(), options, dir.path());
  auto files = CheckpointFiles::open(dir.path());
  REQUIRE(files.ok());
  for (const TensorView& t : files->all_tensors()) {
    const std::string& name = t.entry->name;
    if (name.size() < 6 || name.compare(name.size() - 6, 6, ".scale") != 0) continue;
    auto weight = files->find(name.substr(0, name.size() - 6) + ".weight");
    REQUIRE(weight.has_value());
    CHECK(*weight->file == *t.file);
  }
}

TEST_CASE("synthesised weights have the promised scale and structure", "[synth]") {
  ScratchDir dir;
  SynthOptions options;
  options.storage = SynthStorage::kFP8;
  options.seed = 5;
  SynthResult result = synth_ok(micro_config(), options, dir.path());
  auto files = CheckpointFiles::open(dir.path());
  REQUIRE(files.ok());
  const ModelConfig& config = result.config;
  for (const TensorSpec& spec : tensor_manifest(config)) {
    auto view = files->find(spec.name);
    REQUIRE(view.has_value());
    if (spec.kind == TensorKind::kLinear && spec.storage != WeightStorage::kBF16 &&
        spec.out_features * spec.in_features >= 512) {
      INFO(spec.name);
      // Uniform weights with std 1/sqrt(in); FP4 rounding adds a little.
      const double expected = 1.0 / std::sqrt(static_cast<double>(spec.in_features));
      const double tolerance = spec.storage == WeightStorage::kFP4 ? 0.3 : 0.15;
      CHECK(std::fabs(standard_deviation(dequantized(*files, spec)) / expected - 1.0) < tolerance);
    }
    if (spec.kind == TensorKind::kNorm) {
      INFO(spec.name);
      for (size_t i = 0; i < view->bytes.size(); i += 2) {
        float v = bf16_to_f32(static_cast<uint16_t>(view->bytes[i] | (view->bytes[i + 1] << 8)));
        CHECK((v >= 0.89f && v <= 1.11f));
      }
    }
    if (spec.kind == TensorKind::kTid2Eid) {
      INFO(spec.name);
      const int64_t k = spec.shape[1];
      // Safetensors data need not be 8-byte aligned: copy out, never cast.
      std::vector<int64_t> ids(view->bytes.size() / 8);
      std::memcpy(ids.data(), view->bytes.data(), view->bytes.size());
      for (int64_t token = 0; token < spec.shape[0]; ++token) {
        std::set<int64_t> row(ids.begin() + token * k, ids.begin() + (token + 1) * k);
        CHECK(static_cast<int64_t>(row.size()) == k);
        CHECK(*row.begin() >= 0);
        CHECK(*row.rbegin() < config.n_routed_experts);
      }
    }
  }
}

TEST_CASE("writing again into the same folder replaces the old shards and index", "[synth]") {
  ScratchDir dir;
  SynthOptions options;
  options.shards = 4;
  synth_ok(micro_config(), options, dir.path());
  REQUIRE(std::filesystem::exists(dir.file("model.safetensors.index.json")));
  testing::write_text(dir.file("notes.txt"), "keep me");
  options.shards = 1;
  synth_ok(micro_config(), options, dir.path());
  CHECK_FALSE(std::filesystem::exists(dir.file("model.safetensors.index.json")));
  CHECK_FALSE(std::filesystem::exists(dir.file("model-00001-of-00004.safetensors")));
  CHECK(std::filesystem::exists(dir.file("notes.txt")));
  auto report = inspect_checkpoint(dir.path());
  REQUIRE(report.ok());
  CHECK(report->valid());
  CHECK(report->files == 1);
}

TEST_CASE("synth refuses a bad config or shard count and writes nothing", "[synth]") {
  ScratchDir dir;
  const std::string out = dir.file("never-created");
  auto bad = synthesize_checkpoint(R"({"model_type": "deepseek_v4"})", "bad.json", {}, out);
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.message(), Catch::Contains("missing key 'hidden_size'"));
  CHECK_FALSE(std::filesystem::exists(out));

  SynthOptions options;
  options.shards = 100000;
  auto too_many = synthesize_checkpoint(micro_config(), "v4-micro.config.json", options, out);
  REQUIRE_FALSE(too_many.ok());
  CHECK_THAT(too_many.message(), Catch::Contains("--shards"));
  CHECK_FALSE(std::filesystem::exists(out));
}
