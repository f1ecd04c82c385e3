// ModelWeights::load(): check the checkpoint against its manifest, then bind
// every tensor by name. See weights.h.

#include "engine/model/weights.h"

#include <cstring>

#include "engine/model/inspect.h"

namespace beluga {

std::vector<float> tensor_to_floats(const TensorView& view) {
  const auto& e = *view.entry;
  std::vector<float> out(static_cast<size_t>(e.element_count()));
  const uint8_t* p = view.bytes.data();
  for (size_t i = 0; i < out.size(); ++i) {
    switch (e.dtype) {
      case DType::F32: std::memcpy(&out[i], p + 4 * i, 4); break;
      case DType::BF16: out[i] = bf16_to_f32(static_cast<uint16_t>(p[2 * i] | (p[2 * i + 1] << 8))); break;
      case DType::F16: out[i] = f16_to_f32(static_cast<uint16_t>(p[2 * i] | (p[2 * i + 1] << 8))); break;
      default: out[i] = 0.0f; break;  // the manifest check admits only float dtypes here
    }
  }
  return out;
}

// Binds tensors by name; the manifest check has already proven that every
// name exists with the expected dtype and shape.
class WeightBinder {
 public:
  explicit WeightBinder(ModelWeights& m) : m_(m), c_(m.config_) {}

  void bind() {
    m_.embed_ = view("embed.weight");
    m_.head_ = c_.tie_word_embeddings ? linear_from(m_.embed_) : linear("head");
    m_.norm_ = floats("norm.weight");
    m_.hc_head_ = hyper_connection("hc_head");
    for (int64_t i = 0; i < c_.num_hidden_layers; ++i)
      m_.blocks_.push_back(block("layers." + std::to_string(i) + ".", i));
    for (int64_t j = 0; j < c_.num_nextn_predict_layers; ++j) {
      const std::string p = "mtp." + std::to_string(j) + ".";
      MtpWeights mtp;
      mtp.block = block(p, c_.num_hidden_layers + j);
      mtp.e_proj = linear(p + "e_proj");
      mtp.h_proj = linear(p + "h_proj");
      mtp.enorm = floats(p + "enorm.weight");
      mtp.hnorm = floats(p + "hnorm.weight");
      mtp.norm = floats(p + "norm.weight");
      mtp.hc_head = hyper_connection(p + "hc_head");
      m_.mtp_.push_back(std::move(mtp));
    }
  }

 private:
  TensorView view(const std::string& name) { return *m_.files_.find(name); }
  std::vector<float> floats(const std::string& name) { return tensor_to_floats(view(name)); }

  LinearWeight linear_from(const TensorView& w) {
    LinearWeight l;
    l.weight = w.bytes;
    l.dtype = w.entry->dtype;
    l.out = w.entry->shape[0];
    l.in = w.entry->shape[1];
    l.fp8_block = c_.fp8_weight_block;
    return l;
  }

  LinearWeight linear(const std::string& prefix) {
    LinearWeight l = linear_from(view(prefix + ".weight"));
    if (l.dtype == DType::F8_E4M3) {
      l.storage = WeightStorage::kFP8;
      l.scale = view(prefix + ".scale").bytes;
    } else if (l.dtype == DType::I8) {
      l.storage = WeightStorage::kFP4;
      l.in *= 2;
      l.scale = view(prefix + ".scale").bytes;
    }
    return l;
  }

  HyperConnectionWeights hyper_connection(const std::string& prefix) {
    return {floats(prefix + "_fn"), floats(prefix + "_base"), floats(prefix + "_scale")};
  }

  CompressorWeights compressor(const std::string& p, int64_t ratio, int64_t head_dim) {
    CompressorWeights w;
    w.ratio = ratio;
    w.head_dim = head_dim;
    w.overlap = ratio == 4;
    w.ape = floats(p + "ape");
    w.wkv = linear(p + "wkv");
    w.wgate = linear(p + "wgate");
    w.norm = floats(p + "norm.weight");
    return w;
  }

  BlockWeights block(const std::string& p, int64_t index) {
    BlockWeights b;
    b.index = index;
    b.attn_norm = floats(p + "attn_norm.weight");
    b.ffn_norm = floats(p + "ffn_norm.weight");
    b.hc_attn = hyper_connection(p + "hc_attn");
    b.hc_ffn = hyper_connection(p + "hc_ffn");

    const std::string a = p + "attn.";
    AttentionWeights& at = b.attn;
    at.attn_sink = floats(a + "attn_sink");
    at.wq_a = linear(a + "wq_a");
    at.wq_b = linear(a + "wq_b");
    at.wkv = linear(a + "wkv");
    at.wo_a = linear(a + "wo_a");
    at.wo_b = linear(a + "wo_b");
    at.q_norm = floats(a + "q_norm.weight");
    at.kv_norm = floats(a + "kv_norm.weight");
    at.compress_ratio = c_.compress_ratios[static_cast<size_t>(index)];
    if (at.compress_ratio > 0)
      at.compressor = std::make_unique<CompressorWeights>(compressor(a + "compressor.", at.compress_ratio, c_.head_dim));
    if (at.compress_ratio == 4) {
      at.indexer = std::make_unique<IndexerWeights>();
      at.indexer->wq_b = linear(a + "indexer.wq_b");
      at.indexer->weights_proj = linear(a + "indexer.weights_proj");
      at.indexer->compressor = compressor(a + "indexer.compressor.", 4, c_.index_head_dim);
    }

    const std::string f = p + "ffn.";
    MoEWeights& moe = b.ffn;
    moe.gate = linear(f + "gate");
    if (c_.is_hash_layer(index)) {
      TensorView t = view(f + "gate.tid2eid");
      moe.tid2eid.resize(static_cast<size_t>(t.entry->element_count()));
      for (size_t i = 0; i < moe.tid2eid.size(); ++i) {
        int64_t id;
        std::memcpy(&id, t.bytes.data() + 8 * i, 8);
        moe.tid2eid[i] = static_cast<int32_t>(id);
      }
    } else {
      moe.gate_bias = floats(f + "gate.bias");
    }
    for (int64_t e = 0; e < c_.n_routed_experts; ++e) {
      const std::string x = f + "experts." + std::to_string(e) + ".";
      moe.experts.push_back({linear(x + "w1"), linear(x + "w2"), linear(x + "w3")});
    }
    if (c_.n_shared_experts > 0)
      moe.shared.push_back({linear(f + "shared_experts.w1"), linear(f + "shared_experts.w2"),
                            linear(f + "shared_experts.w3")});
    return b;
  }

  ModelWeights& m_;
  const ModelConfig& c_;
};

Result<std::unique_ptr<ModelWeights>> ModelWeights::load(const std::string& folder) {
  auto config = load_model_config(folder + "/" + std::string(kConfigFileName));
  if (!config) return config.error();
  auto files = CheckpointFiles::open(folder);
  if (!files) return files.error();
  CheckpointReport report;
  compare_with_manifest(*config, *files, report);
  if (!report.valid())
    return make_error(folder + ": the checkpoint does not match its config.json:\n" + describe_problems(report, 10));

  auto weights = std::unique_ptr<ModelWeights>(new ModelWeights());
  weights->config_ = std::move(config).value();
  weights->files_ = std::move(files).value();
  // tid2eid values index the experts: out-of-range ids would index past them.
  WeightBinder(*weights).bind();
  for (const auto& b : weights->blocks_)
    for (int32_t id : b.ffn.tid2eid)
      if (id < 0 || id >= weights->config_.n_routed_experts)
        return make_error(folder + ": layers." + std::to_string(b.index) + ".ffn.gate.tid2eid holds expert id " +
                          std::to_string(id) + ", outside [0, " + std::to_string(weights->config_.n_routed_experts) + ")");
  return weights;
}

void ModelWeights::embedding_row(int64_t token, std::span<float> out) const {
  const int64_t dim = config_.hidden_size;
  if (embed_.entry->dtype == DType::F32) {  // widened storage
    std::memcpy(out.data(), embed_.bytes.data() + token * dim * 4, static_cast<size_t>(dim) * 4);
    return;
  }
  const uint8_t* row = embed_.bytes.data() + token * dim * 2;
  for (int64_t i = 0; i < dim; ++i)
    out[static_cast<size_t>(i)] = bf16_to_f32(static_cast<uint16_t>(row[2 * i] | (row[2 * i + 1] << 8)));
}

}  // namespace beluga
