// config.json -> ModelConfig. See config.h for the contract.
//
// The reader records every key it looks at, so that keys left over at the end
// are unknown (reported as warnings), and every problem it finds, so that one
// run reports all of them rather than the first. Checks across keys run only
// once every key reads well (they would repeat or confuse the first errors).

#include "engine/model/config.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "engine/base/files.h"

namespace beluga {
namespace {

using nlohmann::json;

// Keys of the released configs that describe the training setup or the
// Hugging Face wrapper and do not change inference.
constexpr std::string_view kInformationalKeys[] = {
    "architectures",   "attention_dropout", "initializer_range", "torch_dtype",
    "transformers_version", "use_cache",   "topk_method",       "auto_map",
    "dtype",           "_name_or_path",
};

// Upper bounds keep every derived size within int64 and reject nonsense early.
constexpr int64_t kMaxDim = int64_t{1} << 20;
constexpr int64_t kMaxVocab = int64_t{1} << 24;
constexpr int64_t kMaxBlocks = 4096;
constexpr double kMaxTotalBytes = 1e16;  // 10 PB: far above any released model
constexpr double kMaxTensorCount = 4e6;  // Pro has 145,116

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1] ? 1u : 0u)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string describe(const json& v) {
  std::string text = v.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

bool is_power_of_two(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

class KeyReader {
 public:
  KeyReader(const json& object, std::string prefix, std::vector<std::string>& problems)
      : object_(object), prefix_(std::move(prefix)), problems_(problems) {}

  const json* find(const std::string& key) {
    used_.insert(key);
    auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }

  void problem(const std::string& key, const std::string& reason) {
    problems_.push_back("key '" + prefix_ + key + "': " + reason);
  }

  void missing(const std::string& key) { missing_.push_back(key); }

  // Integer key within [lo, hi]. Returns false when absent or invalid.
  bool integer(const std::string& key, int64_t& out, int64_t lo, int64_t hi, bool required = true) {
    const json* v = find(key);
    if (v == nullptr) {
      if (required) missing(key);
      return false;
    }
    if (!v->is_number_integer()) {
      problem(key, "must be an integer, got " + describe(*v));
      return false;
    }
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(hi)) {
      problem(key, "must be at most " + std::to_string(hi) + ", got " + describe(*v));
      return false;
    }
    int64_t value = v->get<int64_t>();
    if (value < lo || value > hi) {
      problem(key, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                       std::to_string(value));
      return false;
    }
    out = value;
    return true;
  }

  // Number key with lo < value <= hi (lo exclusive when `lo_open`).
  bool number(const std::string& key, double& out, double lo, double hi, bool lo_open,
              bool required = true) {
    const json* v = find(key);
    if (v == nullptr) {
      if (required) missing(key);
      return false;
    }
    if (!v->is_number()) {
      problem(key, "must be a number, got " + describe(*v));
      return false;
    }
    double value = v->get<double>();
    bool low_ok = lo_open ? value > lo : value >= lo;
    if (!std::isfinite(value) || !low_ok || value > hi) {
      problem(key, std::string("must be ") + (lo_open ? "> " : ">= ") + describe(json(lo)) +
                       " and <= " + describe(json(hi)) + ", got " + describe(*v));
      return false;
    }
    out = value;
    return true;
  }

  bool boolean(const std::string& key, bool& out, bool required) {
    const json* v = find(key);
    if (v == nullptr) {
      if (required) missing(key);
      return false;
    }
    if (!v->is_boolean()) {
      problem(key, "must be true or false, got " + describe(*v));
      return false;
    }
    out = v->get<bool>();
    return true;
  }

  bool string(const std::string& key, std::string& out, bool required) {
    const json* v = find(key);
    if (v == nullptr) {
      if (required) missing(key);
      return false;
    }
    if (!v->is_string()) {
      problem(key, "must be a string, got " + describe(*v));
      return false;
    }
    out = v->get<std::string>();
    return true;
  }

  // Reports missing keys (with a typo hint from the unknown keys) and
  // returns the unknown keys.
  std::vector<std::string> finish() {
    std::vector<std::string> unknown;
    for (auto it = object_.begin(); it != object_.end(); ++it)
      if (!used_.count(it.key())) unknown.push_back(it.key());
    for (const auto& key : missing_) {
      std::string hint;
      for (const auto& u : unknown)
        if (edit_distance(key, u) <= 2) hint = " (the file has '" + prefix_ + u + "': a typo?)";
      problems_.push_back("missing key '" + prefix_ + key + "'" + hint);
    }
    return unknown;
  }

 private:
  const json& object_;
  std::string prefix_;
  std::vector<std::string>& problems_;
  std::set<std::string> used_;
  std::vector<std::string> missing_;
};

void read_rope_scaling(const json& v, ModelConfig& c, std::vector<std::string>& problems) {
  if (!v.is_object()) {
    problems.push_back("key 'rope_scaling': must be an object or null, got " + describe(v));
    return;
  }
  KeyReader r(v, "rope_scaling.", problems);
  std::string type;
  if (!r.string("type", type, false)) r.string("rope_type", type, true);
  if (!type.empty() && type != "yarn") {
    r.problem("type", "only \"yarn\" is supported by DeepSeek V4, got \"" + type + "\"");
    return;
  }
  YarnScaling y;
  r.number("factor", y.factor, 1.0, 1e6, false);
  r.integer("original_max_position_embeddings", y.original_max_position_embeddings, 1,
            int64_t{1} << 31);
  r.number("beta_fast", y.beta_fast, 0.0, 1e6, true);
  r.number("beta_slow", y.beta_slow, 0.0, 1e6, true);
  for (const auto& key : r.finish())
    if (key != "mscale" && key != "mscale_all_dim")
      c.warnings.push_back("unknown key 'rope_scaling." + key + "'");
  c.yarn = y;
}

void read_quantization(const json& v, ModelConfig& c, std::vector<std::string>& problems) {
  if (!v.is_object()) {
    problems.push_back("key 'quantization_config': must be an object, got " + describe(v));
    return;
  }
  KeyReader r(v, "quantization_config.", problems);
  std::string method, fmt, scale_fmt, activation_scheme;
  if (r.string("quant_method", method, true) && method != "fp8")
    r.problem("quant_method", "only \"fp8\" is supported, got \"" + method + "\"");
  if (r.string("fmt", fmt, false) && fmt != "e4m3")
    r.problem("fmt", "only \"e4m3\" is supported, got \"" + fmt + "\"");
  if (r.string("scale_fmt", scale_fmt, false) && scale_fmt != "ue8m0")
    r.problem("scale_fmt", "only \"ue8m0\" is supported, got \"" + scale_fmt + "\"");
  if (r.string("activation_scheme", activation_scheme, false) && activation_scheme != "dynamic")
    r.problem("activation_scheme", "only \"dynamic\" is supported, got \"" + activation_scheme + "\"");
  if (const json* block = r.find("weight_block_size")) {
    bool ok = block->is_array() && block->size() == 2 && (*block)[0].is_number_integer() &&
              (*block)[1].is_number_integer() && (*block)[0].get<int64_t>() > 0 &&
              (*block)[1].get<int64_t>() > 0 && (*block)[0].get<int64_t>() <= 65536 &&
              (*block)[1].get<int64_t>() <= 65536;
    if (!ok) {
      r.problem("weight_block_size", "must be two positive integers [rows, cols], got " + describe(*block));
    } else {
      c.fp8_weight_block = {(*block)[0].get<int64_t>(), (*block)[1].get<int64_t>()};
    }
  }
  for (const auto& key : r.finish()) c.warnings.push_back("unknown key 'quantization_config." + key + "'");
  c.quantized = true;
}

void check_consistency(ModelConfig& c, std::vector<std::string>& problems) {
  auto fail = [&](const std::string& key, const std::string& reason) {
    problems.push_back("key '" + key + "': " + reason);
  };
  const int64_t blocks = c.num_blocks();
  if (static_cast<int64_t>(c.compress_ratios.size()) != blocks) {
    fail("compress_ratios", "has " + std::to_string(c.compress_ratios.size()) +
                                " entries, expected num_hidden_layers + num_nextn_predict_layers = " +
                                std::to_string(blocks));
  }
  if (c.num_attention_heads > 0 && c.o_groups > 0 && c.num_attention_heads % c.o_groups != 0) {
    fail("o_groups", "num_attention_heads (" + std::to_string(c.num_attention_heads) +
                         ") must be divisible by o_groups (" + std::to_string(c.o_groups) + ")");
  }
  if (c.qk_rope_head_dim > 0 && c.qk_rope_head_dim % 2 != 0)
    fail("qk_rope_head_dim", "must be even (RoPE rotates pairs of dims), got " +
                                 std::to_string(c.qk_rope_head_dim));
  if (c.head_dim > 0 && c.qk_rope_head_dim > c.head_dim)
    fail("qk_rope_head_dim", "must not exceed head_dim (" + std::to_string(c.head_dim) + ")");
  if (c.n_routed_experts > 0 && c.num_experts_per_tok > c.n_routed_experts)
    fail("num_experts_per_tok", "must not exceed n_routed_experts (" +
                                    std::to_string(c.n_routed_experts) + ")");
  if (c.num_hash_layers > c.num_hidden_layers)
    fail("num_hash_layers", "must not exceed num_hidden_layers (" +
                                std::to_string(c.num_hidden_layers) + ")");

  bool any_compressed = false, any_indexer = false;
  for (size_t i = 0; i < c.compress_ratios.size(); ++i) {
    int64_t r = c.compress_ratios[i];
    if (r == 1) fail("compress_ratios", "entry " + std::to_string(i) + " is 1: use 0 (no compression) or >= 2");
    any_compressed |= r > 0;
    any_indexer |= r == 4;
  }
  if (any_indexer) {
    if (c.index_head_dim > 0 && !is_power_of_two(c.index_head_dim))
      fail("index_head_dim", "must be a power of two (the indexer applies a Walsh-Hadamard rotation), got " +
                                 std::to_string(c.index_head_dim));
    if (c.index_head_dim > 0 && c.qk_rope_head_dim > c.index_head_dim)
      fail("index_head_dim", "must be at least qk_rope_head_dim (" + std::to_string(c.qk_rope_head_dim) + ")");
  }
  (void)any_compressed;
  if (c.expert_storage == WeightStorage::kFP4) {
    if (c.hidden_size % 2 != 0)
      fail("hidden_size", "must be even: FP4 experts pack two inputs per byte, got " +
                              std::to_string(c.hidden_size));
    if (c.moe_intermediate_size % 2 != 0)
      fail("moe_intermediate_size", "must be even: FP4 experts pack two inputs per byte, got " +
                                        std::to_string(c.moe_intermediate_size));
  }

  // Size sanity, in floating point so that nothing can overflow here: the
  // element count of every tensor family of manifest.h, at 2 bytes each.
  auto f = [](int64_t v) { return static_cast<double>(v); };
  const double d = f(c.hidden_size), heads_dim = f(c.num_attention_heads) * f(c.head_dim);
  const double hc_mix = f((2 + c.hc_mult) * c.hc_mult);
  double elements = 2.0 * f(c.vocab_size) * d + f(c.hc_mult) * f(c.hc_mult) * d;
  for (int64_t block = 0; block < blocks && block < static_cast<int64_t>(c.compress_ratios.size()); ++block) {
    const int64_t ratio = c.compress_ratios[static_cast<size_t>(block)];
    elements += f(c.q_lora_rank) * d + heads_dim * f(c.q_lora_rank) + f(c.head_dim) * d +
                f(c.o_groups) * f(c.o_lora_rank) * heads_dim / f(c.o_groups) + d * f(c.o_groups) * f(c.o_lora_rank);
    elements += 2.0 * hc_mix * f(c.hc_mult) * d;
    if (ratio > 0) elements += f(ratio) * 2.0 * f(c.head_dim) + 4.0 * f(c.head_dim) * d;
    if (ratio == 4)
      elements += f(c.index_n_heads) * (f(c.index_head_dim) * f(c.q_lora_rank) + d) + 4.0 * f(c.index_head_dim) * d;
    elements += f(c.n_routed_experts) * d + f(c.vocab_size) * f(c.num_experts_per_tok) * 4.0 +
                3.0 * f(c.n_routed_experts + c.n_shared_experts) * f(c.moe_intermediate_size) * d;
  }
  const double total = 2.0 * elements;
  if (total > kMaxTotalBytes)
    problems.push_back("the shapes describe about " + std::to_string(total / 1e12) +
                       " TB of weights, beyond any supported checkpoint");
  if (static_cast<double>(blocks) * (6.0 * static_cast<double>(c.n_routed_experts) + 64.0) > kMaxTensorCount)
    problems.push_back("the shapes describe more than " + std::to_string(static_cast<int64_t>(kMaxTensorCount)) +
                       " tensors, beyond any supported checkpoint");
}

}  // namespace

std::string_view weight_storage_name(WeightStorage s) {
  switch (s) {
    case WeightStorage::kBF16: return "bf16";
    case WeightStorage::kFP8: return "fp8";
    case WeightStorage::kFP4: return "fp4";
  }
  return "?";
}

std::string_view attention_kind_name(AttentionKind k) {
  switch (k) {
    case AttentionKind::kSlidingWindow: return "sliding-window";
    case AttentionKind::kCSA: return "csa";
    case AttentionKind::kHCA: return "hca";
  }
  return "?";
}

AttentionKind ModelConfig::attention_kind(int64_t block) const {
  int64_t ratio = compress_ratios.at(static_cast<size_t>(block));
  if (ratio == 0) return AttentionKind::kSlidingWindow;
  return ratio == 4 ? AttentionKind::kCSA : AttentionKind::kHCA;
}

Result<ModelConfig> parse_model_config(std::string_view json_text, std::string_view label) {
  const std::string where(label);
  json root = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return make_error(where + ": not valid JSON");
  if (!root.is_object()) return make_error(where + ": must hold a JSON object");

  ModelConfig c;
  std::vector<std::string> problems;
  KeyReader r(root, "", problems);

  std::string model_type;
  if (r.string("model_type", model_type, true) && model_type != "deepseek_v4")
    r.problem("model_type", "must be \"deepseek_v4\", got \"" + model_type + "\"");

  r.integer("vocab_size", c.vocab_size, 1, kMaxVocab);
  r.integer("hidden_size", c.hidden_size, 1, kMaxDim);
  r.integer("num_hidden_layers", c.num_hidden_layers, 1, kMaxBlocks);
  r.integer("num_nextn_predict_layers", c.num_nextn_predict_layers, 0, 16);
  r.integer("num_attention_heads", c.num_attention_heads, 1, 4096);
  r.integer("head_dim", c.head_dim, 1, 65536);
  r.integer("qk_rope_head_dim", c.qk_rope_head_dim, 2, 65536);
  r.integer("q_lora_rank", c.q_lora_rank, 1, kMaxDim);
  r.integer("o_groups", c.o_groups, 1, 4096);
  r.integer("o_lora_rank", c.o_lora_rank, 1, kMaxDim);
  r.integer("sliding_window", c.sliding_window, 1, int64_t{1} << 24);
  r.integer("max_position_embeddings", c.max_position_embeddings, 1, int64_t{1} << 31);
  r.number("rope_theta", c.rope_theta, 0.0, 1e12, true);

  int64_t kv_heads = 1;
  if (r.integer("num_key_value_heads", kv_heads, 1, 4096, false) && kv_heads != 1)
    r.problem("num_key_value_heads", "DeepSeek V4 has one shared KV head, got " + std::to_string(kv_heads));
  bool attention_bias = false;
  if (r.boolean("attention_bias", attention_bias, false) && attention_bias)
    r.problem("attention_bias", "DeepSeek V4 attention has no bias");
  std::string hidden_act;
  if (r.string("hidden_act", hidden_act, false) && hidden_act != "silu")
    r.problem("hidden_act", "DeepSeek V4 uses \"silu\" (SwiGLU), got \"" + hidden_act + "\"");

  if (const json* ratios = r.find("compress_ratios")) {
    if (!ratios->is_array()) {
      r.problem("compress_ratios", "must be an array of integers, got " + describe(*ratios));
    } else {
      for (size_t i = 0; i < ratios->size(); ++i) {
        const json& v = (*ratios)[i];
        if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > (int64_t{1} << 20)) {
          r.problem("compress_ratios", "entry " + std::to_string(i) +
                                           " must be an integer in [0, 1048576], got " + describe(v));
          break;
        }
        c.compress_ratios.push_back(v.get<int64_t>());
      }
    }
  } else {
    r.missing("compress_ratios");
  }
  const bool any_compressed =
      std::any_of(c.compress_ratios.begin(), c.compress_ratios.end(), [](int64_t v) { return v > 0; });
  const bool any_indexer =
      std::any_of(c.compress_ratios.begin(), c.compress_ratios.end(), [](int64_t v) { return v == 4; });
  r.number("compress_rope_theta", c.compress_rope_theta, 0.0, 1e12, true, any_compressed);
  r.integer("index_n_heads", c.index_n_heads, 1, 4096, any_indexer);
  r.integer("index_head_dim", c.index_head_dim, 1, 65536, any_indexer);
  r.integer("index_topk", c.index_topk, 1, int64_t{1} << 24, any_indexer);
  if (const json* scaling = r.find("rope_scaling"); scaling != nullptr && !scaling->is_null())
    read_rope_scaling(*scaling, c, problems);

  r.integer("n_routed_experts", c.n_routed_experts, 1, 65536);
  r.integer("n_shared_experts", c.n_shared_experts, 0, 64);
  r.integer("num_experts_per_tok", c.num_experts_per_tok, 1, 65536);
  r.integer("moe_intermediate_size", c.moe_intermediate_size, 1, kMaxDim);
  r.integer("num_hash_layers", c.num_hash_layers, 0, kMaxBlocks);
  r.number("routed_scaling_factor", c.routed_scaling_factor, 0.0, 1e6, true);
  r.number("swiglu_limit", c.swiglu_limit, 0.0, 1e9, true);
  if (r.string("scoring_func", c.scoring_func, true) && c.scoring_func != "sqrtsoftplus")
    r.problem("scoring_func", "DeepSeek V4 routes with \"sqrtsoftplus\", got \"" + c.scoring_func + "\"");
  r.boolean("norm_topk_prob", c.norm_topk_prob, false);

  r.integer("hc_mult", c.hc_mult, 1, 64);
  r.integer("hc_sinkhorn_iters", c.hc_sinkhorn_iters, 1, 10000);
  r.number("hc_eps", c.hc_eps, 0.0, 1.0, true);
  r.number("rms_norm_eps", c.rms_norm_eps, 0.0, 1.0, true);

  int64_t token = 0;
  if (r.integer("bos_token_id", token, 0, kMaxVocab, false)) c.bos_token_id = token;
  if (r.integer("eos_token_id", token, 0, kMaxVocab, false)) c.eos_token_id = token;
  r.boolean("tie_word_embeddings", c.tie_word_embeddings, false);

  if (const json* q = r.find("quantization_config"); q != nullptr && !q->is_null())
    read_quantization(*q, c, problems);
  c.linear_storage = c.quantized ? WeightStorage::kFP8 : WeightStorage::kBF16;
  c.expert_storage = c.linear_storage;
  std::string expert_dtype;
  if (r.string("expert_dtype", expert_dtype, false)) {
    if (expert_dtype == "fp4") c.expert_storage = WeightStorage::kFP4;
    else if (expert_dtype == "fp8") c.expert_storage = WeightStorage::kFP8;
    else if (expert_dtype == "bf16") c.expert_storage = WeightStorage::kBF16;
    else r.problem("expert_dtype", "must be \"fp4\", \"fp8\" or \"bf16\", got \"" + expert_dtype + "\"");
  }

  for (auto key : kInformationalKeys) r.find(std::string(key));
  for (const auto& key : r.finish()) c.warnings.push_back("unknown key '" + key + "'");

  if (problems.empty()) check_consistency(c, problems);
  if (!problems.empty()) {
    std::string message = where + ": invalid DeepSeek V4 config:";
    for (const auto& p : problems) message += "\n  " + p;
    return make_error(std::move(message));
  }
  return c;
}

Result<ModelConfig> load_model_config(const std::string& path) {
  auto text = read_text_file(path, 16u << 20);
  if (!text) return text.error();
  return parse_model_config(*text, path);
}

}  // namespace beluga
