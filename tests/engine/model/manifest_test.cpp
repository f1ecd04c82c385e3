// Tests of engine/model/manifest.h: the tensor list a config describes.
//
// Oracles: the released Flash checkpoint's inventory (shared/golden/configs/
// README.md: 69,187 tensors, dtype counts, bytes); for Pro, totals computed
// independently (a separate script applying the naming, dtype and shape rules
// of shared/golden/tiny-fp8/README.md "Checkpoint format" to the Pro config;
// the same script reproduces the Flash figures exactly); the two tiny golden
// checkpoints' actual safetensors headers; shapes hand-derived from those
// rules; and the model card's 284B total / 13B active for Flash.
#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/model/config.h"
#include "engine/model/dtype.h"
#include "engine/model/manifest.h"
#include "engine/model/safetensors.h"
#include "tests/test_support.h"

namespace beluga {
namespace {

using nlohmann::json;
using testing::golden_path;
using testing::read_text;

json golden_json(const std::string& relative) { return json::parse(read_text(golden_path(relative))); }

ModelConfig config_from(const json& config) {
  Result<ModelConfig> parsed = parse_model_config(config.dump(), "manifest-test.json");
  if (!parsed.ok()) FAIL(parsed.message());
  return *parsed;
}

ModelConfig flash() { return config_from(golden_json("configs/deepseek-v4-flash.config.json")); }
ModelConfig pro() { return config_from(golden_json("configs/deepseek-v4-pro.config.json")); }

std::map<std::string, TensorSpec> by_name(const std::vector<TensorSpec>& specs) {
  std::map<std::string, TensorSpec> map;
  for (const TensorSpec& s : specs) map.emplace(s.name, s);
  return map;
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

using Shape = std::vector<int64_t>;

// --- Flash and Pro --------------------------------------------------------------------

TEST_CASE("the Flash manifest matches the released checkpoint's inventory exactly", "[manifest]") {
  ManifestTotals totals = manifest_totals(flash());
  CHECK(totals.tensors == 69187);
  CHECK(totals.bytes == 159609485896ull);
  const std::map<DType, uint64_t> want = {
      {DType::BF16, 433},       {DType::F32, 417}, {DType::F8_E4M3, 375},
      {DType::F8_E8M0, 34167},  {DType::I64, 3},   {DType::I8, 33792},
  };
  CHECK(totals.tensors_by_dtype == want);
  uint64_t bytes = 0;
  for (const auto& [dtype, n] : totals.bytes_by_dtype) bytes += n;
  CHECK(bytes == totals.bytes);
}

TEST_CASE("Flash tensors have the released names, dtypes and shapes", "[manifest]") {
  const std::map<std::string, TensorSpec> specs = by_name(tensor_manifest(flash()));
  struct Want {
    std::string name;
    DType dtype;
    Shape shape;
  };
  const std::vector<Want> wants = {
      {"embed.weight", DType::BF16, {129280, 4096}},
      {"head.weight", DType::BF16, {129280, 4096}},
      {"norm.weight", DType::BF16, {4096}},
      {"hc_head_fn", DType::F32, {4, 16384}},
      {"hc_head_base", DType::F32, {4}},
      {"hc_head_scale", DType::F32, {1}},
      {"layers.0.hc_attn_fn", DType::F32, {24, 16384}},
      {"layers.0.hc_ffn_base", DType::F32, {24}},
      {"layers.0.hc_ffn_scale", DType::F32, {3}},
      {"layers.0.attn.attn_sink", DType::F32, {64}},
      {"layers.0.attn.wq_a.weight", DType::F8_E4M3, {1024, 4096}},
      {"layers.0.attn.wq_a.scale", DType::F8_E8M0, {8, 32}},
      {"layers.0.attn.wq_b.weight", DType::F8_E4M3, {32768, 1024}},
      {"layers.0.attn.wkv.weight", DType::F8_E4M3, {512, 4096}},
      {"layers.0.attn.kv_norm.weight", DType::BF16, {512}},
      {"layers.0.attn.wo_a.weight", DType::F8_E4M3, {8192, 4096}},
      {"layers.0.attn.wo_a.scale", DType::F8_E8M0, {64, 32}},
      {"layers.0.attn.wo_b.weight", DType::F8_E4M3, {4096, 8192}},
      {"layers.0.ffn.gate.weight", DType::BF16, {256, 4096}},
      {"layers.0.ffn.gate.tid2eid", DType::I64, {129280, 6}},
      {"layers.2.attn.compressor.ape", DType::F32, {4, 1024}},
      {"layers.2.attn.compressor.wkv.weight", DType::BF16, {1024, 4096}},  // ratio 4: coff 2
      {"layers.2.attn.compressor.wgate.weight", DType::BF16, {1024, 4096}},
      {"layers.2.attn.compressor.norm.weight", DType::BF16, {512}},
      {"layers.2.attn.indexer.wq_b.weight", DType::F8_E4M3, {8192, 1024}},
      {"layers.2.attn.indexer.wq_b.scale", DType::F8_E8M0, {64, 8}},
      {"layers.2.attn.indexer.weights_proj.weight", DType::BF16, {64, 4096}},
      {"layers.2.attn.indexer.compressor.ape", DType::F32, {4, 256}},
      {"layers.2.attn.indexer.compressor.wkv.weight", DType::BF16, {256, 4096}},
      {"layers.2.attn.indexer.compressor.norm.weight", DType::BF16, {128}},
      {"layers.3.ffn.gate.bias", DType::F32, {256}},
      {"layers.5.ffn.experts.255.w1.weight", DType::I8, {2048, 2048}},
      {"layers.5.ffn.experts.255.w1.scale", DType::F8_E8M0, {2048, 128}},
      {"layers.5.ffn.experts.255.w2.weight", DType::I8, {4096, 1024}},
      {"layers.5.ffn.experts.255.w2.scale", DType::F8_E8M0, {4096, 64}},
      {"layers.5.ffn.shared_experts.w1.weight", DType::F8_E4M3, {2048, 4096}},
      {"layers.5.ffn.shared_experts.w2.scale", DType::F8_E8M0, {32, 16}},
      {"layers.7.attn.compressor.ape", DType::F32, {128, 512}},
      {"layers.7.attn.compressor.wkv.weight", DType::BF16, {512, 4096}},  // ratio 128: coff 1
      {"mtp.0.e_proj.weight", DType::F8_E4M3, {4096, 4096}},
      {"mtp.0.h_proj.scale", DType::F8_E8M0, {32, 32}},
      {"mtp.0.enorm.weight", DType::BF16, {4096}},
      {"mtp.0.hnorm.weight", DType::BF16, {4096}},
      {"mtp.0.norm.weight", DType::BF16, {4096}},
      {"mtp.0.hc_head_fn", DType::F32, {4, 16384}},
      {"mtp.0.ffn.gate.bias", DType::F32, {256}},
      {"mtp.0.ffn.experts.0.w3.weight", DType::I8, {2048, 2048}},
  };
  for (const Want& want : wants) {
    INFO("tensor " << want.name);
    auto it = specs.find(want.name);
    REQUIRE(it != specs.end());
    CHECK(dtype_name(it->second.dtype) == dtype_name(want.dtype));
    CHECK(it->second.shape == want.shape);
  }
  // Layers 0-2 route by hash, the rest (and MTP) by score; window-only blocks have no compressor.
  for (const char* absent : {"layers.2.ffn.gate.bias", "layers.3.ffn.gate.tid2eid", "mtp.0.ffn.gate.tid2eid",
                             "layers.0.attn.compressor.ape", "layers.3.attn.indexer.wq_b.weight",
                             "mtp.0.attn.compressor.ape", "mtp.0.embed.weight", "mtp.0.head.weight",
                             "layers.0.ffn.gate.scale", "layers.2.attn.compressor.wkv.scale",
                             "layers.0.attn.kv_norm.scale", "layers.0.ffn.experts.256.w1.weight"}) {
    INFO("tensor " << absent);
    CHECK(specs.count(absent) == 0);
  }
}

TEST_CASE("Flash tensor specs carry their logical shape, storage, block and expert", "[manifest]") {
  const std::map<std::string, TensorSpec> specs = by_name(tensor_manifest(flash()));
  const TensorSpec& w2 = specs.at("layers.5.ffn.experts.255.w2.weight");
  CHECK(w2.kind == TensorKind::kLinear);
  CHECK(w2.storage == WeightStorage::kFP4);
  CHECK(w2.out_features == 4096);
  CHECK(w2.in_features == 2048);
  CHECK(w2.block == 5);
  CHECK(w2.expert == 255);
  CHECK(specs.at("layers.5.ffn.experts.255.w2.scale").kind == TensorKind::kWeightScale);
  CHECK(specs.at("layers.5.ffn.shared_experts.w1.weight").expert == -1);
  CHECK(specs.at("embed.weight").block == -1);
  CHECK(specs.at("mtp.0.e_proj.weight").block == 43);
  CHECK(specs.at("mtp.0.attn.wkv.weight").block == 43);
  CHECK(specs.at("layers.0.attn.wo_a.weight").storage == WeightStorage::kFP8);
  CHECK(specs.at("layers.0.ffn.gate.weight").storage == WeightStorage::kBF16);
  CHECK(specs.at("layers.0.ffn.gate.tid2eid").kind == TensorKind::kTid2Eid);
  CHECK(specs.at("layers.7.attn.compressor.ape").kind == TensorKind::kCompressorApe);
}

TEST_CASE("no tensor name appears twice in the Flash manifest", "[manifest]") {
  std::set<std::string> seen;
  std::vector<std::string> repeated;
  for_each_tensor(flash(), [&](const TensorSpec& s) {
    if (!seen.insert(s.name).second) repeated.push_back(s.name);
  });
  CHECK(repeated.empty());
  CHECK(seen.size() == 69187);
}

TEST_CASE("each quantised linear's scale immediately follows its weight, and only those have scales",
          "[manifest]") {
  const std::vector<TensorSpec> specs = tensor_manifest(flash());
  size_t quantised = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    const TensorSpec& s = specs[i];
    INFO("tensor " << i << ": " << s.name);
    const bool is_scale = ends_with(s.name, ".scale") && s.kind == TensorKind::kWeightScale;
    if (s.kind == TensorKind::kWeightScale) {
      CHECK(is_scale);
      CHECK(s.dtype == DType::F8_E8M0);
      REQUIRE(i > 0);
      const TensorSpec& w = specs[i - 1];
      CHECK(w.kind == TensorKind::kLinear);
      CHECK(w.name == s.name.substr(0, s.name.size() - 6) + ".weight");
      CHECK(w.storage != WeightStorage::kBF16);
    }
    if (s.kind == TensorKind::kLinear && s.storage != WeightStorage::kBF16) {
      ++quantised;
      REQUIRE(i + 1 < specs.size());
      CHECK(specs[i + 1].kind == TensorKind::kWeightScale);
      CHECK(specs[i + 1].name == s.name.substr(0, s.name.size() - 7) + ".scale");
    }
    if (s.kind == TensorKind::kLinear && s.storage == WeightStorage::kBF16) {
      CHECK(s.dtype == DType::BF16);
      if (i + 1 < specs.size()) CHECK(specs[i + 1].kind != TensorKind::kWeightScale);
    }
  }
  CHECK(quantised == 34167);  // one per F8_E8M0 tensor
}

TEST_CASE("the Pro manifest has the independently computed totals", "[manifest]") {
  ManifestTotals totals = manifest_totals(pro());
  CHECK(totals.tensors == 145116);
  CHECK(totals.bytes == 864704792696ull);
  const std::map<DType, uint64_t> want = {
      {DType::BF16, 619},      {DType::F32, 590}, {DType::F8_E4M3, 528},
      {DType::F8_E8M0, 71952}, {DType::I64, 3},   {DType::I8, 71424},
  };
  CHECK(totals.tensors_by_dtype == want);
}

// --- the tiny golden checkpoints --------------------------------------------------

// Compares the manifest of `folder`/config.json with the tensors of
// `folder`/model.safetensors; returns the names whose dtype differs.
std::vector<std::string> compare_with_checkpoint(const std::string& folder,
                                                 std::map<std::string, std::pair<DType, DType>>& dtype_diffs) {
  const ModelConfig config = config_from(golden_json(folder + "/config.json"));
  Result<SafetensorsFile> file = SafetensorsFile::open(golden_path(folder + "/model.safetensors"));
  REQUIRE(file.ok());
  std::map<std::string, const TensorEntry*> stored;
  for (const TensorEntry& e : file->tensors()) stored.emplace(e.name, &e);

  std::vector<std::string> differing;
  std::set<std::string> listed;
  for (const TensorSpec& spec : tensor_manifest(config)) {
    INFO("manifest tensor " << spec.name);
    listed.insert(spec.name);
    auto it = stored.find(spec.name);
    CHECK(it != stored.end());
    if (it == stored.end()) continue;
    CHECK(it->second->shape == spec.shape);
    if (it->second->dtype != spec.dtype) {
      differing.push_back(spec.name);
      dtype_diffs[spec.name] = {spec.dtype, it->second->dtype};
    }
  }
  for (const auto& [name, entry] : stored) {
    INFO("checkpoint tensor " << name);
    CHECK(listed.count(name) == 1);
  }
  CHECK(listed.size() == stored.size());
  return differing;
}

TEST_CASE("the tiny FP8 manifest is exactly the golden checkpoint's tensor set", "[manifest]") {
  std::map<std::string, std::pair<DType, DType>> diffs;
  std::vector<std::string> differing = compare_with_checkpoint("tiny-fp8", diffs);
  CHECK(differing.empty());
}

TEST_CASE("the tiny BF16 manifest is the golden checkpoint's tensor set, norms widened to F32 in the file",
          "[manifest]") {
  std::map<std::string, std::pair<DType, DType>> diffs;
  std::vector<std::string> differing = compare_with_checkpoint("tiny-bf16", diffs);
  CHECK_FALSE(differing.empty());
  for (const auto& [name, pair] : diffs) {
    INFO("tensor " << name << ": manifest " << dtype_name(pair.first) << ", file " << dtype_name(pair.second));
    CHECK(ends_with(name, "norm.weight"));
    CHECK(pair.first == DType::BF16);
    CHECK(pair.second == DType::F32);
  }
}

// --- parameter counts -----------------------------------------------------------------

TEST_CASE("Flash counts about 284B parameters, 13B active, plus an MTP block", "[manifest]") {
  ParameterCounts counts = count_parameters(flash());
  CHECK(counts.total > 280'000'000'000ull);
  CHECK(counts.total < 290'000'000'000ull);
  CHECK(counts.active > 12'000'000'000ull);
  CHECK(counts.active < 14'000'000'000ull);
  CHECK(counts.mtp_total > 0);
  CHECK(counts.mtp_active > 0);
  CHECK(counts.mtp_active < counts.mtp_total);
}

TEST_CASE("parameter counts exclude scales and count two parameters per FP4 byte", "[manifest]") {
  // The tiny FP8 and BF16 checkpoints have the same logical shapes, so the
  // same parameter counts however the weights are stored.
  ParameterCounts fp8 = count_parameters(config_from(golden_json("tiny-fp8/config.json")));
  ParameterCounts bf16 = count_parameters(config_from(golden_json("tiny-bf16/config.json")));
  CHECK(fp8.total == bf16.total);
  CHECK(fp8.active == bf16.active);
  CHECK(fp8.mtp_total == bf16.mtp_total);
  CHECK(fp8.mtp_active == bf16.mtp_active);
  // And for BF16 they are the element count of the manifest, split main / MTP.
  uint64_t main = 0, mtp = 0;
  for_each_tensor(config_from(golden_json("tiny-bf16/config.json")), [&](const TensorSpec& s) {
    (s.block >= 6 ? mtp : main) += static_cast<uint64_t>(s.element_count());
  });
  CHECK(bf16.total == main);
  CHECK(bf16.mtp_total == mtp);
}

// --- config variations ----------------------------------------------------------------

TEST_CASE("tied word embeddings drop head.weight and nothing else", "[manifest]") {
  json config = golden_json("configs/deepseek-v4-flash.config.json");
  config["tie_word_embeddings"] = true;
  const std::map<std::string, TensorSpec> specs = by_name(tensor_manifest(config_from(config)));
  CHECK(specs.count("head.weight") == 0);
  CHECK(specs.count("embed.weight") == 1);
  CHECK(specs.size() == 69186);
}

TEST_CASE("no shared experts means no shared_experts tensors", "[manifest]") {
  json config = golden_json("configs/deepseek-v4-flash.config.json");
  config["n_shared_experts"] = 0;
  size_t shared = 0, total = 0;
  for_each_tensor(config_from(config), [&](const TensorSpec& s) {
    ++total;
    if (contains(s.name, "shared_experts")) ++shared;
  });
  CHECK(shared == 0);
  CHECK(total == 69187 - 44 * 6);  // three FP8 linears with scales per block
}

TEST_CASE("a config with all compress ratios 0 has no compressor or indexer tensors", "[manifest]") {
  json config = golden_json("configs/deepseek-v4-flash.config.json");
  config["compress_ratios"] = std::vector<int64_t>(44, 0);
  size_t compressed = 0;
  for_each_tensor(config_from(config), [&](const TensorSpec& s) {
    if (contains(s.name, "compressor") || contains(s.name, "indexer")) ++compressed;
  });
  CHECK(compressed == 0);
}

TEST_CASE("a BF16 config has no scales and no FP8 or FP4 tensors", "[manifest]") {
  json config = golden_json("configs/deepseek-v4-flash.config.json");
  config.erase("quantization_config");
  config.erase("expert_dtype");
  ManifestTotals totals = manifest_totals(config_from(config));
  CHECK(totals.tensors == 69187 - 34167);
  CHECK(totals.tensors_by_dtype.count(DType::F8_E8M0) == 0);
  CHECK(totals.tensors_by_dtype.count(DType::F8_E4M3) == 0);
  CHECK(totals.tensors_by_dtype.count(DType::I8) == 0);
}

}  // namespace
}  // namespace beluga
