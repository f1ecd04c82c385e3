// Tests of engine/model/config.h: parse_model_config / load_model_config.
//
// Oracles: the released Flash and Pro config.json files and the two tiny
// golden checkpoints' configs (values read off the files and the READMEs in
// shared/golden), and for every rejection a golden config with exactly one
// key changed (through a JSON pointer), so each bad-config case is one line
// whose expected message fragments follow from config.h's contract: problems
// are "key '<key>': <reason>" or "missing key '<key>'", all of them in one
// message prefixed by the label.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/model/config.h"
#include "engine/model/manifest.h"
#include "tests/test_support.h"

namespace beluga {
namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using nlohmann::json;
using testing::golden_path;
using testing::read_text;

constexpr const char* kLabel = "edited-config.json";

json golden_config(const std::string& relative) { return json::parse(read_text(golden_path(relative))); }
json flash() { return golden_config("configs/deepseek-v4-flash.config.json"); }
json pro() { return golden_config("configs/deepseek-v4-pro.config.json"); }
json tiny_bf16() { return golden_config("tiny-bf16/config.json"); }
json tiny_fp8() { return golden_config("tiny-fp8/config.json"); }

// `base` with the value at JSON pointer `where` set (added when absent).
json with(json base, const std::string& where, json value) {
  base[json::json_pointer(where)] = std::move(value);
  return base;
}

// `base` without the key at JSON pointer `where`.
json without(json base, const std::string& where) {
  json::json_pointer pointer(where);
  REQUIRE(base.contains(pointer));
  base.at(pointer.parent_pointer()).erase(pointer.back());
  return base;
}

Result<ModelConfig> parse(const json& config) { return parse_model_config(config.dump(), kLabel); }

// The error message of parsing `config`, or a marker that it parsed.
std::string error_of(const json& config) {
  Result<ModelConfig> parsed = parse(config);
  if (parsed.ok()) return "(parsed without error)";
  return parsed.message();
}

// The number of problem lines ("\n  ...") in an error message.
size_t problem_count(const std::string& message) {
  size_t count = 0;
  for (size_t at = message.find("\n  "); at != std::string::npos; at = message.find("\n  ", at + 1)) ++count;
  return count;
}

// --- the golden configs -----------------------------------------------------------

TEST_CASE("the released Flash config parses with no warnings and the documented shape", "[config]") {
  Result<ModelConfig> parsed = parse(flash());
  REQUIRE(parsed.ok());
  const ModelConfig& c = *parsed;
  CHECK(c.warnings.empty());
  CHECK(c.vocab_size == 129280);
  CHECK(c.hidden_size == 4096);
  CHECK(c.num_hidden_layers == 43);
  CHECK(c.num_nextn_predict_layers == 1);
  CHECK(c.num_blocks() == 44);
  CHECK(c.compress_ratios.size() == 44);
  CHECK(c.num_attention_heads == 64);
  CHECK(c.head_dim == 512);
  CHECK(c.qk_rope_head_dim == 64);
  CHECK(c.q_lora_rank == 1024);
  CHECK(c.o_groups == 8);
  CHECK(c.o_lora_rank == 1024);
  CHECK(c.sliding_window == 128);
  CHECK(c.max_position_embeddings == 1048576);
  CHECK(c.rope_theta == 10000.0);
  CHECK(c.compress_rope_theta == 160000.0);
  CHECK(c.index_n_heads == 64);
  CHECK(c.index_head_dim == 128);
  CHECK(c.index_topk == 512);
  CHECK(c.n_routed_experts == 256);
  CHECK(c.n_shared_experts == 1);
  CHECK(c.num_experts_per_tok == 6);
  CHECK(c.moe_intermediate_size == 2048);
  CHECK(c.num_hash_layers == 3);
  CHECK(c.routed_scaling_factor == 1.5);
  CHECK(c.swiglu_limit == 10.0);
  CHECK(c.scoring_func == "sqrtsoftplus");
  CHECK(c.norm_topk_prob);
  CHECK(c.hc_mult == 4);
  CHECK(c.hc_sinkhorn_iters == 20);
  CHECK(c.hc_eps == 1e-6);
  CHECK(c.rms_norm_eps == 1e-6);
  CHECK(c.bos_token_id == std::optional<int64_t>(0));
  CHECK(c.eos_token_id == std::optional<int64_t>(1));
  CHECK_FALSE(c.tie_word_embeddings);

  CHECK(c.quantized);
  CHECK(c.linear_storage == WeightStorage::kFP8);
  CHECK(c.expert_storage == WeightStorage::kFP4);
  CHECK(c.fp8_weight_block.rows == 128);
  CHECK(c.fp8_weight_block.cols == 128);

  REQUIRE(c.yarn.has_value());
  CHECK(c.yarn->factor == 16.0);
  CHECK(c.yarn->original_max_position_embeddings == 65536);
  CHECK(c.yarn->beta_fast == 32.0);
  CHECK(c.yarn->beta_slow == 1.0);

  CHECK(c.attention_kind(0) == AttentionKind::kSlidingWindow);
  CHECK(c.attention_kind(1) == AttentionKind::kSlidingWindow);
  CHECK(c.attention_kind(2) == AttentionKind::kCSA);
  CHECK(c.attention_kind(3) == AttentionKind::kHCA);
  CHECK(c.attention_kind(42) == AttentionKind::kCSA);
  CHECK(c.attention_kind(43) == AttentionKind::kSlidingWindow);  // the MTP block
  CHECK(c.is_hash_layer(2));
  CHECK_FALSE(c.is_hash_layer(3));
}

TEST_CASE("the released Pro config parses with no warnings and the documented shape", "[config]") {
  Result<ModelConfig> parsed = parse(pro());
  REQUIRE(parsed.ok());
  const ModelConfig& c = *parsed;
  CHECK(c.warnings.empty());
  CHECK(c.hidden_size == 7168);
  CHECK(c.num_hidden_layers == 61);
  CHECK(c.num_nextn_predict_layers == 1);
  CHECK(c.compress_ratios.size() == 62);
  CHECK(c.num_attention_heads == 128);
  CHECK(c.o_groups == 16);
  CHECK(c.q_lora_rank == 1536);
  CHECK(c.n_routed_experts == 384);
  CHECK(c.moe_intermediate_size == 3072);
  CHECK(c.index_topk == 1024);
  CHECK(c.routed_scaling_factor == 2.5);
  CHECK(c.quantized);
  CHECK(c.linear_storage == WeightStorage::kFP8);
  CHECK(c.expert_storage == WeightStorage::kFP4);
  CHECK(c.attention_kind(0) == AttentionKind::kHCA);  // Pro starts with two ratio-128 blocks
  CHECK(c.attention_kind(2) == AttentionKind::kCSA);
  CHECK(c.attention_kind(61) == AttentionKind::kSlidingWindow);  // the MTP block
}

TEST_CASE("the tiny BF16 golden config parses unquantised with BF16 storage everywhere", "[config]") {
  Result<ModelConfig> parsed = parse(tiny_bf16());
  REQUIRE(parsed.ok());
  const ModelConfig& c = *parsed;
  CHECK(c.warnings.empty());
  CHECK(c.hidden_size == 64);
  CHECK(c.num_hidden_layers == 6);
  CHECK(c.vocab_size == 512);
  CHECK(c.compress_ratios == std::vector<int64_t>{0, 0, 4, 16, 4, 0, 0});
  CHECK_FALSE(c.quantized);
  CHECK(c.linear_storage == WeightStorage::kBF16);
  CHECK(c.expert_storage == WeightStorage::kBF16);
  CHECK(c.attention_kind(2) == AttentionKind::kCSA);
  CHECK(c.attention_kind(3) == AttentionKind::kHCA);
  CHECK(c.attention_kind(6) == AttentionKind::kSlidingWindow);
  REQUIRE(c.yarn.has_value());
  CHECK(c.yarn->original_max_position_embeddings == 64);
}

TEST_CASE("the tiny FP8 golden config parses with FP8 linears and FP4 experts", "[config]") {
  Result<ModelConfig> parsed = parse(tiny_fp8());
  REQUIRE(parsed.ok());
  const ModelConfig& c = *parsed;
  CHECK(c.warnings.empty());
  CHECK(c.hidden_size == 64);
  CHECK(c.quantized);
  CHECK(c.linear_storage == WeightStorage::kFP8);
  CHECK(c.expert_storage == WeightStorage::kFP4);
  CHECK(c.fp8_weight_block.rows == 128);
  CHECK(c.fp8_weight_block.cols == 128);
}

TEST_CASE("load_model_config reads a golden config file", "[config]") {
  Result<ModelConfig> loaded = load_model_config(golden_path("configs/deepseek-v4-flash.config.json"));
  REQUIRE(loaded.ok());
  CHECK(loaded->hidden_size == 4096);
  CHECK(loaded->warnings.empty());
}

// --- missing keys, typos, unknown keys ------------------------------------------

TEST_CASE("every required key, removed alone, is reported missing by name with the label", "[config]") {
  const std::vector<std::string> required = {
      "vocab_size",          "hidden_size",          "num_hidden_layers",     "num_nextn_predict_layers",
      "num_attention_heads", "head_dim",             "qk_rope_head_dim",      "q_lora_rank",
      "o_groups",            "o_lora_rank",          "sliding_window",        "max_position_embeddings",
      "rope_theta",          "compress_ratios",      "compress_rope_theta",   "index_n_heads",
      "index_head_dim",      "index_topk",           "n_routed_experts",      "n_shared_experts",
      "num_experts_per_tok", "moe_intermediate_size", "num_hash_layers",      "routed_scaling_factor",
      "swiglu_limit",        "scoring_func",         "hc_mult",               "hc_sinkhorn_iters",
      "hc_eps",              "rms_norm_eps",         "model_type",
  };
  for (const std::string& key : required) {
    INFO("removed key: " << key);
    std::string message = error_of(without(flash(), "/" + key));
    CHECK_THAT(message, StartsWith(std::string(kLabel) + ": "));
    CHECK_THAT(message, Contains("missing key '" + key + "'"));
    CHECK(problem_count(message) == 1);
  }
}

TEST_CASE("a misspelt required key, top-level or nested, is reported missing with the misspelling as a hint", "[config]") {
  json config = without(with(flash(), "/hiden_size", 4096), "/hidden_size");
  CHECK_THAT(error_of(config), Contains("missing key 'hidden_size' (the file has 'hiden_size': a typo?)"));
  json nested = with(without(flash(), "/rope_scaling/factor"), "/rope_scaling/factr", 16);
  CHECK_THAT(error_of(nested), Contains("missing key 'rope_scaling.factor' (the file has 'rope_scaling.factr': a typo?)"));
}

TEST_CASE("an unknown extra key is accepted with a warning that names it", "[config]") {
  Result<ModelConfig> parsed = parse(with(flash(), "/foo_bar", 1));
  REQUIRE(parsed.ok());
  REQUIRE(parsed->warnings.size() == 1);
  CHECK_THAT(parsed->warnings[0], Contains("'foo_bar'"));
}

TEST_CASE("an unknown key inside rope_scaling or quantization_config is a warning with its path", "[config]") {
  Result<ModelConfig> parsed =
      parse(with(with(flash(), "/rope_scaling/foo", 1), "/quantization_config/bar", "x"));
  REQUIRE(parsed.ok());
  REQUIRE(parsed->warnings.size() == 2);
  std::string all = parsed->warnings[0] + "|" + parsed->warnings[1];
  CHECK_THAT(all, Contains("'rope_scaling.foo'") && Contains("'quantization_config.bar'"));
}

// --- inconsistent and ill-typed values -----------------------------------------

TEST_CASE("compress_ratios with one entry per main layer only is rejected: the MTP block needs one too",
          "[config]") {
  json config = flash();
  config["compress_ratios"].erase(config["compress_ratios"].size() - 1);  // 43 entries
  std::string message = error_of(config);
  CHECK_THAT(message, Contains("key 'compress_ratios'") && Contains("43 entries") && Contains("= 44"));
}

TEST_CASE("values inconsistent with other keys are rejected, naming the key", "[config]") {
  // Flash: 64 heads, head_dim 512, qk_rope_head_dim 64, 256 experts, 43 layers, index_head_dim 128.
  CHECK_THAT(error_of(with(flash(), "/o_groups", 7)), Contains("key 'o_groups'") && Contains("divisible"));
  CHECK_THAT(error_of(with(flash(), "/qk_rope_head_dim", 63)), Contains("key 'qk_rope_head_dim'") && Contains("even"));
  CHECK_THAT(error_of(with(flash(), "/qk_rope_head_dim", 1024)), Contains("key 'qk_rope_head_dim'") && Contains("head_dim (512)"));
  CHECK_THAT(error_of(with(flash(), "/num_experts_per_tok", 257)), Contains("key 'num_experts_per_tok'") && Contains("n_routed_experts (256)"));
  CHECK_THAT(error_of(with(flash(), "/num_hash_layers", 44)), Contains("key 'num_hash_layers'") && Contains("num_hidden_layers (43)"));
  CHECK_THAT(error_of(with(flash(), "/index_head_dim", 96)), Contains("key 'index_head_dim'") && Contains("power of two"));
  CHECK_THAT(error_of(with(flash(), "/moe_intermediate_size", 2047)), Contains("key 'moe_intermediate_size'") && Contains("even"));
  CHECK_THAT(error_of(with(flash(), "/hidden_size", 4095)), Contains("key 'hidden_size'") && Contains("even"));
  CHECK_THAT(error_of(with(flash(), "/index_head_dim", 32)), Contains("key 'index_head_dim'") && Contains("qk_rope_head_dim (64)"));
  CHECK_THAT(error_of(with(flash(), "/compress_ratios/2", 1)), Contains("key 'compress_ratios'") && Contains("entry 2 is 1"));
}

TEST_CASE("the limits that hold for the released configs are inclusive", "[config]") {
  CHECK(parse(with(flash(), "/num_experts_per_tok", 256)).ok());
  CHECK(parse(with(flash(), "/num_hash_layers", 43)).ok());
  CHECK(parse(with(flash(), "/qk_rope_head_dim", 128)).ok());  // = index_head_dim, < head_dim
  CHECK(parse(with(flash(), "/o_groups", 64)).ok());
  CHECK(parse(with(flash(), "/moe_intermediate_size", 2050)).ok());  // even suffices for FP4
  CHECK(parse(with(flash(), "/compress_ratios/3", 2)).ok());          // any ratio >= 2
}

TEST_CASE("an odd moe_intermediate_size is fine when experts are not FP4", "[config]") {
  CHECK(parse(with(tiny_bf16(), "/moe_intermediate_size", 33)).ok());
  CHECK_THAT(error_of(with(tiny_fp8(), "/moe_intermediate_size", 33)), Contains("key 'moe_intermediate_size'"));
}

TEST_CASE("ill-typed or out-of-range values are rejected, naming the key", "[config]") {
  CHECK_THAT(error_of(with(flash(), "/hidden_size", "4096")), Contains("key 'hidden_size'") && Contains("integer"));
  CHECK_THAT(error_of(with(flash(), "/hidden_size", 4096.5)), Contains("key 'hidden_size'") && Contains("integer"));
  CHECK_THAT(error_of(with(flash(), "/hidden_size", 0)), Contains("key 'hidden_size'") && Contains("got 0"));
  CHECK_THAT(error_of(with(flash(), "/hidden_size", -1)), Contains("key 'hidden_size'") && Contains("got -1"));
  CHECK_THAT(error_of(with(flash(), "/hidden_size", UINT64_MAX)), Contains("key 'hidden_size'"));
  CHECK_THAT(error_of(with(flash(), "/hidden_size", nullptr)), Contains("key 'hidden_size'"));
  CHECK_THAT(error_of(with(flash(), "/rms_norm_eps", "1e-6")), Contains("key 'rms_norm_eps'") && Contains("number"));
  CHECK_THAT(error_of(with(flash(), "/rms_norm_eps", 0)), Contains("key 'rms_norm_eps'"));
  CHECK_THAT(error_of(with(flash(), "/tie_word_embeddings", 1)), Contains("key 'tie_word_embeddings'"));
  CHECK_THAT(error_of(with(flash(), "/compress_ratios/2", -4)), Contains("key 'compress_ratios'") && Contains("entry 2") && Contains("-4"));
  CHECK_THAT(error_of(with(flash(), "/compress_ratios/2", "x")), Contains("key 'compress_ratios'") && Contains("entry 2") && Contains("\"x\""));
  CHECK_THAT(error_of(with(flash(), "/compress_ratios", 4)), Contains("key 'compress_ratios'") && Contains("array"));
}

TEST_CASE("values that are not DeepSeek V4 are rejected, naming the key and the value", "[config]") {
  CHECK_THAT(error_of(with(flash(), "/model_type", "deepseek_v3")), Contains("key 'model_type'") && Contains("deepseek_v3"));
  CHECK_THAT(error_of(with(flash(), "/scoring_func", "sigmoid")), Contains("key 'scoring_func'") && Contains("sigmoid"));
  CHECK_THAT(error_of(with(flash(), "/num_key_value_heads", 8)), Contains("key 'num_key_value_heads'") && Contains("8"));
  CHECK_THAT(error_of(with(flash(), "/attention_bias", true)), Contains("key 'attention_bias'"));
  CHECK_THAT(error_of(with(flash(), "/hidden_act", "gelu")), Contains("key 'hidden_act'") && Contains("gelu"));
  CHECK_THAT(error_of(with(flash(), "/expert_dtype", "int4")), Contains("key 'expert_dtype'") && Contains("int4"));
}

TEST_CASE("unsupported quantization settings are rejected, naming the nested key", "[config]") {
  CHECK_THAT(error_of(with(flash(), "/quantization_config/fmt", "e5m2")), Contains("key 'quantization_config.fmt'") && Contains("e5m2"));
  CHECK_THAT(error_of(with(flash(), "/quantization_config/weight_block_size", {128})), Contains("key 'quantization_config.weight_block_size'") && Contains("[128]"));
  CHECK_THAT(error_of(with(flash(), "/quantization_config/quant_method", "gptq")), Contains("key 'quantization_config.quant_method'"));
  CHECK_THAT(error_of(with(flash(), "/quantization_config/scale_fmt", "fp32")), Contains("key 'quantization_config.scale_fmt'"));
  CHECK_THAT(error_of(with(flash(), "/quantization_config", "fp8")), Contains("key 'quantization_config'"));
}

TEST_CASE("a non-default FP8 weight block is read from weight_block_size", "[config]") {
  Result<ModelConfig> parsed = parse(with(flash(), "/quantization_config/weight_block_size", {64, 32}));
  REQUIRE(parsed.ok());
  CHECK(parsed->fp8_weight_block.rows == 64);
  CHECK(parsed->fp8_weight_block.cols == 32);
}

TEST_CASE("rope scaling other than complete YaRN is rejected, naming the nested key", "[config]") {
  CHECK_THAT(error_of(with(flash(), "/rope_scaling/type", "linear")), Contains("key 'rope_scaling.type'") && Contains("linear"));
  CHECK_THAT(error_of(without(flash(), "/rope_scaling/factor")), Contains("missing key 'rope_scaling.factor'"));
  CHECK_THAT(error_of(with(flash(), "/rope_scaling/factor", 0.5)), Contains("key 'rope_scaling.factor'"));
  CHECK_THAT(error_of(with(flash(), "/rope_scaling", 16)), Contains("key 'rope_scaling'"));
}

TEST_CASE("rope_scaling may name its type rope_type, or be null", "[config]") {
  json renamed = with(without(flash(), "/rope_scaling/type"), "/rope_scaling/rope_type", "yarn");
  Result<ModelConfig> parsed = parse(renamed);
  REQUIRE(parsed.ok());
  REQUIRE(parsed->yarn.has_value());
  CHECK(parsed->yarn->factor == 16.0);

  Result<ModelConfig> plain = parse(with(flash(), "/rope_scaling", nullptr));
  REQUIRE(plain.ok());
  CHECK_FALSE(plain->yarn.has_value());
}

TEST_CASE("absurd sizes are rejected as beyond any supported checkpoint, in closed form", "[config]") {
  // 4097 blocks of 65536 experts: about 1.6e9 tensors and 13 PB. The check is
  // arithmetic on the config; nothing of that size is enumerated or allocated.
  json config = flash();
  config["num_hidden_layers"] = 4096;
  config["n_routed_experts"] = 65536;
  config["compress_ratios"] = std::vector<int64_t>(4097, 0);
  std::string message = error_of(config);
  CHECK_THAT(message, Contains("TB of weights, beyond any supported checkpoint"));
  CHECK_THAT(message, Contains("tensors, beyond any supported checkpoint"));
}

TEST_CASE("absurd indexer sizes are rejected as beyond any supported checkpoint", "[config]") {
  // The size bound must count the lightning indexer too. Every block ratio 4, a 4096-head x 65536-dim indexer and q_lora_rank 2^20:
  // each attn.indexer.wq_b is F8_E4M3 [2^28, 2^20] = 2^48 bytes, so the 44
  // blocks describe about 1.24e16 bytes (12 PB), above the 1e16 bound that
  // the expert and attention sizes are checked against. Every key is within
  // its own range.
  json config = flash();
  config["compress_ratios"] = std::vector<int64_t>(44, 4);
  config["index_n_heads"] = 4096;
  config["index_head_dim"] = 65536;
  config["q_lora_rank"] = 1 << 20;
  Result<ModelConfig> parsed = parse(config);
  if (parsed.ok()) {
    INFO("accepted, although its manifest holds " << manifest_totals(*parsed).bytes << " bytes");
    CHECK_FALSE(parsed.ok());
  } else {
    CHECK_THAT(parsed.message(), Contains("beyond any supported checkpoint"));
  }
}

TEST_CASE("several parse problems at once are all reported in one message", "[config]") {
  json config = flash();
  config.erase("vocab_size");
  config["hidden_size"] = "4096";
  config["scoring_func"] = "sigmoid";
  config["quantization_config"]["fmt"] = "e5m2";
  config["rope_scaling"].erase("factor");
  std::string message = error_of(config);
  CHECK_THAT(message, StartsWith(std::string(kLabel) + ": "));
  CHECK_THAT(message, Contains("missing key 'vocab_size'"));
  CHECK_THAT(message, Contains("key 'hidden_size'"));
  CHECK_THAT(message, Contains("key 'scoring_func'"));
  CHECK_THAT(message, Contains("key 'quantization_config.fmt'"));
  CHECK_THAT(message, Contains("missing key 'rope_scaling.factor'"));
  CHECK(problem_count(message) == 5);
}

TEST_CASE("several inconsistencies at once are all reported in one message", "[config]") {
  json config = flash();
  config["o_groups"] = 7;
  config["qk_rope_head_dim"] = 63;
  config["num_hash_layers"] = 44;
  config["compress_ratios"].erase(config["compress_ratios"].size() - 1);
  std::string message = error_of(config);
  CHECK_THAT(message, Contains("key 'o_groups'"));
  CHECK_THAT(message, Contains("key 'qk_rope_head_dim'"));
  CHECK_THAT(message, Contains("key 'num_hash_layers'"));
  CHECK_THAT(message, Contains("key 'compress_ratios'"));
  CHECK(problem_count(message) == 4);
}

// --- not a config at all ----------------------------------------------------------

TEST_CASE("text that is not a JSON object is rejected with the label", "[config]") {
  for (std::string text : {"", "{", "not json", "[1, 2, 3]", "42", "\"deepseek_v4\"", "null"}) {
    INFO("text: " << text);
    Result<ModelConfig> parsed = parse_model_config(text, kLabel);
    REQUIRE_FALSE(parsed.ok());
    CHECK_THAT(parsed.message(), StartsWith(std::string(kLabel) + ": "));
  }
  CHECK_THAT(parse_model_config("", kLabel).message(), Contains("not valid JSON"));
  CHECK_THAT(parse_model_config("[1, 2, 3]", kLabel).message(), Contains("JSON object"));
}

// --- optional keys ------------------------------------------------------------------

TEST_CASE("a config without compression needs no indexer or compress_rope_theta keys", "[config]") {
  json config = flash();
  config["compress_ratios"] = std::vector<int64_t>(44, 0);
  for (const char* key : {"index_n_heads", "index_head_dim", "index_topk", "compress_rope_theta"}) config.erase(key);
  Result<ModelConfig> parsed = parse(config);
  REQUIRE(parsed.ok());
  CHECK(parsed->warnings.empty());
  CHECK(parsed->attention_kind(2) == AttentionKind::kSlidingWindow);
}

TEST_CASE("a config with only non-overlapping compression needs compress_rope_theta but no indexer keys",
          "[config]") {
  json config = flash();
  for (auto& ratio : config["compress_ratios"])
    if (ratio == 4) ratio = 128;
  for (const char* key : {"index_n_heads", "index_head_dim", "index_topk"}) config.erase(key);
  Result<ModelConfig> parsed = parse(config);
  REQUIRE(parsed.ok());
  CHECK(parsed->attention_kind(2) == AttentionKind::kHCA);
  CHECK_THAT(error_of(without(config, "/compress_rope_theta")), Contains("missing key 'compress_rope_theta'"));
}

TEST_CASE("without quantization_config or expert_dtype every linear is BF16", "[config]") {
  Result<ModelConfig> parsed = parse(without(without(flash(), "/quantization_config"), "/expert_dtype"));
  REQUIRE(parsed.ok());
  CHECK_FALSE(parsed->quantized);
  CHECK(parsed->linear_storage == WeightStorage::kBF16);
  CHECK(parsed->expert_storage == WeightStorage::kBF16);
}

TEST_CASE("without expert_dtype the experts follow the quantised linears", "[config]") {
  Result<ModelConfig> parsed = parse(without(flash(), "/expert_dtype"));
  REQUIRE(parsed.ok());
  CHECK(parsed->linear_storage == WeightStorage::kFP8);
  CHECK(parsed->expert_storage == WeightStorage::kFP8);
}

// --- files ------------------------------------------------------------------------------

TEST_CASE("load_model_config on a missing file is an error naming the path", "[config]") {
  testing::ScratchDir dir;
  const std::string path = dir.file("no-such-config.json");
  Result<ModelConfig> loaded = load_model_config(path);
  REQUIRE_FALSE(loaded.ok());
  CHECK_THAT(loaded.message(), Contains(path));
}

TEST_CASE("load_model_config labels problems of a bad file with its path", "[config]") {
  testing::ScratchDir dir;
  const std::string path = dir.file("config.json");
  testing::write_text(path, without(flash(), "/hidden_size").dump());
  Result<ModelConfig> loaded = load_model_config(path);
  REQUIRE_FALSE(loaded.ok());
  CHECK_THAT(loaded.message(), StartsWith(path + ": ") && Contains("missing key 'hidden_size'"));
}

}  // namespace
}  // namespace beluga
