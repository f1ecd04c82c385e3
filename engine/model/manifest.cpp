// for_each_tensor(): the one list of a V4 checkpoint's tensors. See manifest.h.
//
// Shapes follow the official inference/model.py modules:
//   wq_a [q_lora, dim]           wq_b [heads*head_dim, q_lora]
//   wkv  [head_dim, dim]         wo_a [o_groups*o_lora, heads*head_dim/o_groups]
//   wo_b [dim, o_groups*o_lora]  attn_sink [heads]
//   compressor: ape [ratio, coff*head], wkv/wgate [coff*head, dim], norm [head]
//               with coff = 2 for the overlapping ratio-4 compressor, else 1
//   indexer:    wq_b [index_heads*index_head_dim, q_lora],
//               weights_proj [index_heads, dim], compressor with head = index_head_dim
//   gate [experts, dim], bias [experts] or tid2eid [vocab, experts_per_token]
//   expert w1/w3 [inter, dim], w2 [dim, inter]; shared expert inter*n_shared
//   hc_fn [(2+hc)*hc, hc*dim], hc_base [(2+hc)*hc], hc_scale [3]
//   hc_head_fn [hc, hc*dim], hc_head_base [hc], hc_head_scale [1]

#include "engine/model/manifest.h"

namespace beluga {
namespace {

class ManifestBuilder {
 public:
  ManifestBuilder(const ModelConfig& c, const std::function<void(const TensorSpec&)>& visit)
      : c_(c), visit_(visit) {}

  void build() {
    const int64_t d = c_.hidden_size, hc = c_.hc_mult;
    emit("embed.weight", DType::BF16, {c_.vocab_size, d}, TensorKind::kEmbedding);
    if (!c_.tie_word_embeddings) emit("head.weight", DType::BF16, {c_.vocab_size, d}, TensorKind::kHead);
    emit("norm.weight", DType::BF16, {d}, TensorKind::kNorm);
    hc_head("");
    for (int64_t i = 0; i < c_.num_hidden_layers; ++i) {
      block_ = i;
      transformer_block("layers." + std::to_string(i) + ".", i);
    }
    for (int64_t m = 0; m < c_.num_nextn_predict_layers; ++m) {
      const int64_t block = c_.num_hidden_layers + m;
      block_ = block;
      const std::string p = "mtp." + std::to_string(m) + ".";
      transformer_block(p, block);
      linear(p + "e_proj", d, d, c_.linear_storage);
      linear(p + "h_proj", d, d, c_.linear_storage);
      emit(p + "enorm.weight", DType::BF16, {d}, TensorKind::kNorm);
      emit(p + "hnorm.weight", DType::BF16, {d}, TensorKind::kNorm);
      emit(p + "norm.weight", DType::BF16, {d}, TensorKind::kNorm);
      hc_head(p);
    }
    (void)hc;
  }

 private:
  void emit(std::string name, DType dtype, std::vector<int64_t> shape, TensorKind kind) {
    TensorSpec spec;
    spec.name = std::move(name);
    spec.dtype = dtype;
    spec.shape = std::move(shape);
    spec.kind = kind;
    spec.block = block_;
    spec.expert = expert_;
    visit_(spec);
  }

  // A linear layer "<prefix>.weight" [out, in] and, when quantised, its scale.
  void linear(const std::string& prefix, int64_t out, int64_t in, WeightStorage storage) {
    TensorSpec w;
    w.name = prefix + ".weight";
    w.kind = TensorKind::kLinear;
    w.storage = storage;
    w.out_features = out;
    w.in_features = in;
    w.block = block_;
    w.expert = expert_;
    TensorSpec s = w;
    s.name = prefix + ".scale";
    s.kind = TensorKind::kWeightScale;
    s.dtype = DType::F8_E8M0;
    switch (storage) {
      case WeightStorage::kBF16:
        w.dtype = DType::BF16;
        w.shape = {out, in};
        visit_(w);
        return;
      case WeightStorage::kFP8:
        w.dtype = DType::F8_E4M3;
        w.shape = {out, in};
        s.shape = {ceil_div(out, c_.fp8_weight_block.rows), ceil_div(in, c_.fp8_weight_block.cols)};
        break;
      case WeightStorage::kFP4:
        w.dtype = DType::I8;
        w.shape = {out, in / 2};
        s.shape = {out, ceil_div(in, kFp4BlockCols)};
        break;
    }
    visit_(w);
    visit_(s);
  }

  void hc_params(const std::string& p, const std::string& part) {
    const int64_t hc = c_.hc_mult, mix = (2 + hc) * hc;
    emit(p + "hc_" + part + "_fn", DType::F32, {mix, hc * c_.hidden_size}, TensorKind::kHcFn);
    emit(p + "hc_" + part + "_base", DType::F32, {mix}, TensorKind::kHcBase);
    emit(p + "hc_" + part + "_scale", DType::F32, {3}, TensorKind::kHcScale);
  }

  void hc_head(const std::string& p) {
    const int64_t hc = c_.hc_mult;
    emit(p + "hc_head_fn", DType::F32, {hc, hc * c_.hidden_size}, TensorKind::kHcFn);
    emit(p + "hc_head_base", DType::F32, {hc}, TensorKind::kHcBase);
    emit(p + "hc_head_scale", DType::F32, {1}, TensorKind::kHcScale);
  }

  // Compressor of `head` dims per entry (the attention's or the indexer's).
  void compressor(const std::string& p, int64_t ratio, int64_t head) {
    const int64_t coff = ratio == 4 ? 2 : 1;
    emit(p + "ape", DType::F32, {ratio, coff * head}, TensorKind::kCompressorApe);
    linear(p + "wkv", coff * head, c_.hidden_size, WeightStorage::kBF16);
    linear(p + "wgate", coff * head, c_.hidden_size, WeightStorage::kBF16);
    emit(p + "norm.weight", DType::BF16, {head}, TensorKind::kNorm);
  }

  void transformer_block(const std::string& p, int64_t block) {
    const int64_t d = c_.hidden_size;
    const WeightStorage q = c_.linear_storage;
    emit(p + "attn_norm.weight", DType::BF16, {d}, TensorKind::kNorm);
    emit(p + "ffn_norm.weight", DType::BF16, {d}, TensorKind::kNorm);
    hc_params(p, "attn");
    hc_params(p, "ffn");

    const std::string a = p + "attn.";
    const int64_t heads_dim = c_.num_attention_heads * c_.head_dim;
    emit(a + "attn_sink", DType::F32, {c_.num_attention_heads}, TensorKind::kAttnSink);
    linear(a + "wq_a", c_.q_lora_rank, d, q);
    emit(a + "q_norm.weight", DType::BF16, {c_.q_lora_rank}, TensorKind::kNorm);
    linear(a + "wq_b", heads_dim, c_.q_lora_rank, q);
    linear(a + "wkv", c_.head_dim, d, q);
    emit(a + "kv_norm.weight", DType::BF16, {c_.head_dim}, TensorKind::kNorm);
    linear(a + "wo_a", c_.o_groups * c_.o_lora_rank, heads_dim / c_.o_groups, q);
    linear(a + "wo_b", d, c_.o_groups * c_.o_lora_rank, q);
    const int64_t ratio = c_.compress_ratios[static_cast<size_t>(block)];
    if (ratio > 0) compressor(a + "compressor.", ratio, c_.head_dim);
    if (ratio == 4) {
      linear(a + "indexer.wq_b", c_.index_n_heads * c_.index_head_dim, c_.q_lora_rank, q);
      linear(a + "indexer.weights_proj", c_.index_n_heads, d, WeightStorage::kBF16);
      compressor(a + "indexer.compressor.", 4, c_.index_head_dim);
    }

    const std::string f = p + "ffn.";
    linear(f + "gate", c_.n_routed_experts, d, WeightStorage::kBF16);
    if (c_.is_hash_layer(block))
      emit(f + "gate.tid2eid", DType::I64, {c_.vocab_size, c_.num_experts_per_tok}, TensorKind::kTid2Eid);
    else
      emit(f + "gate.bias", DType::F32, {c_.n_routed_experts}, TensorKind::kGateBias);
    const int64_t inter = c_.moe_intermediate_size;
    for (int64_t e = 0; e < c_.n_routed_experts; ++e) {
      expert_ = e;
      const std::string x = f + "experts." + std::to_string(e) + ".";
      linear(x + "w1", inter, d, c_.expert_storage);
      linear(x + "w2", d, inter, c_.expert_storage);
      linear(x + "w3", inter, d, c_.expert_storage);
    }
    expert_ = -1;
    if (c_.n_shared_experts > 0) {
      const int64_t shared = inter * c_.n_shared_experts;
      linear(f + "shared_experts.w1", shared, d, q);
      linear(f + "shared_experts.w2", d, shared, q);
      linear(f + "shared_experts.w3", shared, d, q);
    }
  }

  const ModelConfig& c_;
  const std::function<void(const TensorSpec&)>& visit_;
  int64_t block_ = -1;
  int64_t expert_ = -1;
};

}  // namespace

int64_t TensorSpec::element_count() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

void for_each_tensor(const ModelConfig& config, const std::function<void(const TensorSpec&)>& visit) {
  ManifestBuilder(config, visit).build();
}

std::vector<TensorSpec> tensor_manifest(const ModelConfig& config) {
  std::vector<TensorSpec> specs;
  for_each_tensor(config, [&](const TensorSpec& s) { specs.push_back(s); });
  return specs;
}

ManifestTotals manifest_totals(const ModelConfig& config) {
  ManifestTotals totals;
  for_each_tensor(config, [&](const TensorSpec& s) {
    ++totals.tensors;
    totals.bytes += s.byte_count();
    ++totals.tensors_by_dtype[s.dtype];
    totals.bytes_by_dtype[s.dtype] += s.byte_count();
  });
  return totals;
}

ParameterCounts count_parameters(const ModelConfig& config) {
  ParameterCounts counts;
  for_each_tensor(config, [&](const TensorSpec& s) {
    if (s.kind == TensorKind::kWeightScale) return;
    uint64_t n = static_cast<uint64_t>(s.element_count());
    if (s.kind == TensorKind::kLinear && s.storage == WeightStorage::kFP4) n *= 2;
    const bool active = s.expert < config.num_experts_per_tok;  // -1: not a routed expert
    const bool mtp = s.block >= config.num_hidden_layers;
    (mtp ? counts.mtp_total : counts.total) += n;
    if (active) (mtp ? counts.mtp_active : counts.active) += n;
  });
  return counts;
}

}  // namespace beluga
