// The V4 forward pass on the GPU, step for step the CPU Model's
// (engine/runtime/model.cpp, block.cpp, attention.cpp, moe.cpp): linears
// over all rows at once, attention and compressors row by row in position
// order, MoE routed on the device (no host round trip), so a decode step
// runs without synchronising until its logits are copied back.
#include <algorithm>
#include <cmath>

#include "engine/cuda/cuda_internal.cuh"

namespace beluga::cuda {
namespace {

// Scratch buffers, one per purpose so that no pointer is invalidated while
// a later step of the same forward pass still uses it.
enum Slot {
  kStreams, kX, kY, kMix, kQuant, kQr, kQ, kKv, kCkv, kCscore, kIq, kIw, kIkv, kIscore, kO, kLow, kIndexScores,
  kLogits, kRouteWeights, kXq, kGate, kUp, kAct, kDown, kSharedGate, kSharedUp, kSharedAct, kSharedDown, kReduced,
  kMtpE, kMtpProjected, kHidden, kRawMix, kSlotCount
};

bool quantises_input(const DeviceLinear& w) { return w.storage == kStoreFP8 || w.storage == kStoreFP4; }

struct RowInfo {
  DeviceBlockState* state = nullptr;  // of the current block
  int64_t position = 0;
};

}  // namespace

struct CudaModel::Impl {
  ModelConfig config;
  std::unique_ptr<DeviceWeights> weights;
  cudaStream_t stream = nullptr;
  DeviceBuffer<float> slots[kSlotCount];
  DeviceBuffer<int32_t> tokens, chosen_experts, chosen_entries;
  DeviceBuffer<int64_t> positions;

  bool timing = false;
  std::vector<cudaEvent_t> events;  // one before each main block, one after the last
  std::vector<float> block_ms;

  ~Impl() {
    for (cudaEvent_t e : events) cudaEventDestroy(e);
    if (stream) cudaStreamDestroy(stream);
  }

  void mark(size_t index) {
    if (!timing) return;
    while (events.size() <= index) {
      cudaEvent_t e;
      check(cudaEventCreate(&e), "event");
      events.push_back(e);
    }
    check(cudaEventRecord(events[index], stream), "event record");
  }

  // Growing frees the old buffer: first let queued kernels finish with it.
  float* slot(Slot s, int64_t count) {
    if (static_cast<size_t>(count) > slots[s].size()) check(cudaStreamSynchronize(stream), "grow");
    slots[s].reserve_discarding(static_cast<size_t>(std::max<int64_t>(count, 1)));
    return slots[s].data();
  }

  // y = W x; FP8/FP4 weights see x quantised to FP8 in blocks of 128 first
  // (ActivationQuant::kAsWeight), unless `plain`.
  void linear(const DeviceLinear& w, const float* x, int64_t rows, float* y, bool plain = false) {
    LinearLaunch l;
    l.w = w;
    l.x = x;
    if (!plain && quantises_input(w) && rows > 0) {
      float* q = slot(kQuant, rows * w.in);
      launch_quant_dequant_into(x, w.in, q, w.in, rows, w.in, 128, false, stream);
      l.x = q;
    }
    l.x_stride = w.in;
    l.y = y;
    l.y_stride = w.out;
    l.rows = rows;
    launch_linear(l, stream);
  }

  // Every routed expert row-set p: y[p] = W_{chosen[p]} x[p / divisor].
  void expert_linear(const DeviceExpertLinear& e, const float* x, int64_t divisor, int64_t pairs, float* y) {
    LinearLaunch l;
    l.w = e.shape;
    l.x = x;
    l.x_stride = e.shape.in;
    l.x_divisor = divisor;
    l.y = y;
    l.y_stride = e.shape.out;
    l.rows = pairs;
    l.weight_table = e.weights.data();
    l.scale_table = e.scales.data();
    l.chosen = chosen_experts.data();
    launch_linear(l, stream);
  }

  // A copy of x quantised as an FP8/FP4 weight's input, or x itself.
  const float* input_for(const DeviceLinear& w, const float* x, int64_t rows, Slot s) {
    if (!quantises_input(w)) return x;
    float* q = slot(s, rows * w.in);
    launch_quant_dequant_into(x, w.in, q, w.in, rows, w.in, 128, false, stream);
    return q;
  }

  void attention(const DeviceBlockWeights& b, const float* x, std::span<const RowInfo> rows, float* out,
                 std::vector<int64_t>* kept) {
    const ModelConfig& c = config;
    const DeviceAttentionWeights& w = b.attn;
    const int64_t n = static_cast<int64_t>(rows.size());
    const int64_t heads = c.num_attention_heads, hd = c.head_dim, rd = c.qk_rope_head_dim, nope = hd - rd;
    const float eps = static_cast<float>(c.rms_norm_eps);

    float* qr = slot(kQr, n * c.q_lora_rank);
    linear(w.wq_a, x, n, qr);
    launch_rms_norm(qr, c.q_lora_rank, w.q_norm.data(), eps, n, c.q_lora_rank, qr, c.q_lora_rank, stream);
    float* q = slot(kQ, n * heads * hd);
    linear(w.wq_b, qr, n, q);
    launch_rms_norm(q, hd, nullptr, eps, n * heads, hd, q, hd, stream);
    launch_rope(q, n, heads, heads * hd, hd, nope, positions.data(), b.freqs.data(), b.rope_pairs, false, stream);
    float* kv = slot(kKv, n * hd);
    linear(w.wkv, x, n, kv);
    launch_rms_norm(kv, hd, w.kv_norm.data(), eps, n, hd, kv, hd, stream);
    launch_rope(kv, n, 1, hd, hd, nope, positions.data(), b.freqs.data(), b.rope_pairs, false, stream);
    launch_quant_dequant(kv, n, nope, hd, 64, false, stream);

    const DeviceCompressorWeights* cw = w.compressor.get();
    const DeviceIndexerWeights* iw = w.indexer.get();
    const int64_t ih = c.index_n_heads, ihd = c.index_head_dim;
    float *ckv = nullptr, *cscore = nullptr, *iq = nullptr, *iweights = nullptr, *ikv = nullptr, *iscore = nullptr;
    if (cw) {
      ckv = slot(kCkv, n * cw->wkv.out);
      cscore = slot(kCscore, n * cw->wgate.out);
      linear(cw->wkv, x, n, ckv);
      linear(cw->wgate, x, n, cscore);
    }
    if (iw) {
      iq = slot(kIq, n * ih * ihd);
      iweights = slot(kIw, n * ih);
      ikv = slot(kIkv, n * 2 * ihd);
      iscore = slot(kIscore, n * 2 * ihd);
      linear(iw->wq_b, qr, n, iq);
      linear(iw->weights_proj, x, n, iweights);
      linear(iw->compressor.wkv, x, n, ikv);
      linear(iw->compressor.wgate, x, n, iscore);
      launch_scale(iweights, n * ih, 1.0f / std::sqrt(static_cast<float>(ihd)) / std::sqrt(static_cast<float>(ih)), stream);
      launch_rope(iq, n, ih, ih * ihd, ihd, ihd - rd, positions.data(), b.freqs.data(), b.rope_pairs, false, stream);
      launch_hadamard(iq, n * ih, ihd, ihd, stream);
      launch_quant_dequant(iq, n * ih, ihd, ihd, 32, true, stream);
    }

    float* o = slot(kO, n * heads * hd);
    const int64_t window = c.sliding_window;
    float* index_scores = nullptr;
    if (iw) {
      int64_t most = 1;
      for (const RowInfo& r : rows) most = std::max(most, (r.position + 1) / 4);
      index_scores = slot(kIndexScores, most);
      const size_t needed = static_cast<size_t>(n * std::max<int64_t>(c.index_topk, 1));
      if (needed > chosen_entries.size()) check(cudaStreamSynchronize(stream), "grow");
      chosen_entries.reserve_discarding(needed);
    }
    for (int64_t r = 0; r < n; ++r) {
      DeviceBlockState& s = *rows[static_cast<size_t>(r)].state;
      const int64_t p = rows[static_cast<size_t>(r)].position;
      check(cudaMemcpyAsync(s.window.data() + (p % window) * hd, kv + r * hd, static_cast<size_t>(hd) * sizeof(float),
                            cudaMemcpyDeviceToDevice, stream),
            "window write");
      if (cw) {
        CompressorLaunch l;
        l.kv = s.compressor.kv.data();
        l.score = s.compressor.score.data();
        l.entries = s.compressor.entries.data();
        const int64_t width = (cw->overlap ? 2 : 1) * hd;
        l.token_kv = ckv + r * width;
        l.token_score = cscore + r * width;
        l.ape = cw->ape.data();
        l.norm = cw->norm.data();
        l.freqs = b.freqs.data();
        l.ratio = cw->ratio;
        l.d = hd;
        l.rope_pairs = b.rope_pairs;
        l.overlap = cw->overlap;
        l.indexer = false;
        l.position = p;
        l.eps = eps;
        launch_compressor_step(l, stream);
      }
      if (iw) {
        CompressorLaunch l;
        l.kv = s.indexer.kv.data();
        l.score = s.indexer.score.data();
        l.entries = s.indexer.entries.data();
        l.token_kv = ikv + r * 2 * ihd;
        l.token_score = iscore + r * 2 * ihd;
        l.ape = iw->compressor.ape.data();
        l.norm = iw->compressor.norm.data();
        l.freqs = b.freqs.data();
        l.ratio = 4;
        l.d = ihd;
        l.rope_pairs = b.rope_pairs;
        l.overlap = true;
        l.indexer = true;
        l.position = p;
        l.eps = eps;
        launch_compressor_step(l, stream);
      }
      AttentionLaunch a;
      a.q = q + r * heads * hd;
      a.out = o + r * heads * hd;
      a.window = s.window.data();
      a.window_size = window;
      a.window_count = std::min(p + 1, window);
      a.window_first = p + 1 - a.window_count;
      if (cw) {
        a.entries = s.compressor.entries.data();
        a.entry_count = (p + 1) / cw->ratio;
      }
      if (iw && a.entry_count > 0) {
        const int64_t keep = std::min(c.index_topk, a.entry_count);
        int32_t* chosen = chosen_entries.data() + r * c.index_topk;
        launch_indexer_select(iq + r * ih * ihd, iweights + r * ih, ih, ihd, s.indexer.entries.data(), a.entry_count,
                              keep, index_scores, chosen, stream);
        a.chosen = chosen;
        a.entry_count = keep;
      }
      if (kept) (*kept)[static_cast<size_t>(r)] = iw ? a.entry_count : -1;
      a.sink = w.sink.data();
      a.freqs = b.freqs.data();
      a.heads = heads;
      a.d = hd;
      a.rope_pairs = b.rope_pairs;
      a.position = p;
      a.softmax_scale = 1.0f / std::sqrt(static_cast<float>(hd));
      launch_attention_row(a, stream);
    }

    // Grouped low-rank output: group g of the heads through rows
    // [g*rank, (g+1)*rank) of wo_a, dequantised, no activation quant.
    const int64_t rank = c.o_lora_rank;
    float* low = slot(kLow, n * w.wo_a.out);
    LinearLaunch l;
    l.w = w.wo_a;
    l.x = o;
    l.x_stride = heads * hd;
    l.y = low;
    l.y_stride = w.wo_a.out;
    l.rows = n;
    l.group_out = rank;
    launch_linear(l, stream);
    linear(w.wo_b, low, n, out);
  }

  void moe(const DeviceBlockWeights& b, const float* x, std::span<const RowInfo> rows, float* out) {
    const ModelConfig& c = config;
    const DeviceMoEWeights& w = b.ffn;
    const int64_t n = static_cast<int64_t>(rows.size()), dim = c.hidden_size, k = c.num_experts_per_tok;
    const int64_t pairs = n * k, inter = w.w1.shape.out;
    const float limit = static_cast<float>(c.swiglu_limit);

    float* logits = slot(kLogits, n * c.n_routed_experts);
    linear(w.gate, x, n, logits, /*plain=*/true);
    if (static_cast<size_t>(pairs) > chosen_experts.size()) check(cudaStreamSynchronize(stream), "grow");
    chosen_experts.reserve_discarding(static_cast<size_t>(std::max<int64_t>(pairs, 1)));
    float* route_weights = slot(kRouteWeights, pairs);
    RouteLaunch route;
    route.logits = logits;
    route.rows = n;
    route.experts = c.n_routed_experts;
    route.k = static_cast<int>(k);
    route.bias = w.bias.data();
    route.tid2eid = w.tid2eid.size() ? w.tid2eid.data() : nullptr;
    route.tokens = tokens.data();
    route.scaling = static_cast<float>(c.routed_scaling_factor);
    route.chosen = chosen_experts.data();
    route.weights = route_weights;
    launch_route(route, stream);

    const float* xq = input_for(w.w1.shape, x, n, kXq);
    float* gate = slot(kGate, pairs * inter);
    float* up = slot(kUp, pairs * inter);
    expert_linear(w.w1, xq, k, pairs, gate);
    expert_linear(w.w3, xq, k, pairs, up);
    float* act = slot(kAct, pairs * inter);
    launch_swiglu(gate, up, route_weights, pairs, inter, limit, act, stream);
    if (quantises_input(w.w2.shape)) launch_quant_dequant(act, pairs, inter, inter, 128, false, stream);
    float* down = slot(kDown, pairs * dim);
    expert_linear(w.w2, act, 1, pairs, down);

    float* shared = nullptr;
    if (w.has_shared) {
      const int64_t shared_inter = w.shared_w1.out;
      float* sg = slot(kSharedGate, n * shared_inter);
      float* su = slot(kSharedUp, n * shared_inter);
      linear(w.shared_w1, x, n, sg);
      linear(w.shared_w3, x, n, su);
      float* sa = slot(kSharedAct, n * shared_inter);
      launch_swiglu(sg, su, nullptr, n, shared_inter, limit, sa, stream);
      shared = slot(kSharedDown, n * dim);
      linear(w.shared_w2, sa, n, shared);
    }
    launch_moe_combine(down, chosen_experts.data(), shared, n, static_cast<int>(k), dim, out, stream);
  }

  // One block over all rows (block_forward). With `choices`, the rows'
  // routing and indexer choices are copied back.
  void block(const DeviceBlockWeights& b, float* streams, std::span<const RowInfo> rows,
             std::vector<BlockChoices>* choices) {
    const ModelConfig& c = config;
    const int64_t n = static_cast<int64_t>(rows.size()), dim = c.hidden_size, hc = c.hc_mult;
    float* x = slot(kX, n * dim);
    float* y = slot(kY, n * dim);
    float* mix = slot(kMix, n * (hc + hc * hc));
    std::vector<int64_t> kept(choices ? rows.size() : 0);
    float* raw = slot(kRawMix, n * (2 + hc) * hc);
    launch_hc_pre(b.hc_attn.view(c), streams, n, b.attn_norm.data(), x, mix, raw, stream);
    attention(b, x, rows, y, choices ? &kept : nullptr);
    launch_hc_post(b.hc_attn.view(c), streams, y, mix, n, stream);
    launch_hc_pre(b.hc_ffn.view(c), streams, n, b.ffn_norm.data(), x, mix, raw, stream);
    moe(b, x, rows, y);
    launch_hc_post(b.hc_ffn.view(c), streams, y, mix, n, stream);
    if (!choices) return;
    const size_t k = static_cast<size_t>(c.num_experts_per_tok);
    const std::vector<int32_t> experts = chosen_experts.download(rows.size() * k, stream);
    const std::vector<float> weights = slots[kRouteWeights].download(rows.size() * k, stream);
    std::vector<int32_t> entries;
    if (b.attn.indexer) entries = chosen_entries.download(rows.size() * static_cast<size_t>(c.index_topk), stream);
    for (size_t r = 0; r < rows.size(); ++r) {
      BlockChoices& out = (*choices)[r];
      out.experts.assign(experts.begin() + r * k, experts.begin() + (r + 1) * k);
      out.expert_weights.assign(weights.begin() + r * k, weights.begin() + (r + 1) * k);
      out.indexer_entries.clear();
      for (int64_t i = 0; i < std::max<int64_t>(kept[r], 0); ++i)
        out.indexer_entries.push_back(entries[r * static_cast<size_t>(c.index_topk) + static_cast<size_t>(i)]);
    }
  }

  // Final (or MTP) head over `count` rows of streams starting at row `first`.
  std::vector<float> logits(const DeviceHyper& hc_head, const DeviceFloats& norm, const float* streams, int64_t first,
                            int64_t count) {
    const ModelConfig& c = config;
    const int64_t dim = c.hidden_size, width = c.hc_mult * dim;
    float* reduced = slot(kReduced, count * dim);
    float* raw = slot(kRawMix, count * c.hc_mult);
    launch_hc_head(hc_head.view(c), streams + first * width, count, norm.data(), reduced, raw, stream);
    float* out = slot(kLogits, count * c.vocab_size);
    linear(weights->head, reduced, count, out, /*plain=*/true);
    return slots[kLogits].download(static_cast<size_t>(count * c.vocab_size), stream);
  }

  void upload_rows(std::span<const int32_t> row_tokens, std::span<const int64_t> row_positions) {
    tokens.upload(row_tokens, stream);
    positions.upload(row_positions, stream);
  }
};

CudaModel::CudaModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CudaModel::~CudaModel() = default;

const ModelConfig& CudaModel::config() const { return impl_->config; }
int64_t CudaModel::weight_bytes() const { return impl_->weights->store.bytes; }
void CudaModel::set_block_timing(bool on) { impl_->timing = on; }
std::vector<float> CudaModel::block_milliseconds() const { return impl_->block_ms; }

Result<std::unique_ptr<CudaModel>> CudaModel::load(const ModelWeights& weights) {
  if (Status s = device_available(); !s) return s.error();
  try {
    auto impl = std::make_unique<Impl>();
    impl->config = weights.config();
    check(cudaStreamCreateWithFlags(&impl->stream, cudaStreamNonBlocking), "stream");
    impl->weights = upload_weights(weights);
    return std::unique_ptr<CudaModel>(new CudaModel(std::move(impl)));
  } catch (const CudaError& e) {
    return make_error(std::string("loading the model onto the GPU: ") + e.what());
  }
}

Result<std::unique_ptr<CudaState>> CudaModel::new_state() {
  try {
    return std::unique_ptr<CudaState>(
        new CudaState(make_device_state(impl_->config, 0, impl_->config.num_hidden_layers, impl_.get(), impl_->stream)));
  } catch (const CudaError& e) {
    return make_error(e.what());
  }
}

Result<std::unique_ptr<CudaState>> CudaModel::new_mtp_state(int64_t mtp_index) {
  if (mtp_index < 0 || mtp_index >= impl_->config.num_nextn_predict_layers)
    return make_error("this model has no MTP block " + std::to_string(mtp_index));
  try {
    return std::unique_ptr<CudaState>(new CudaState(make_device_state(
        impl_->config, impl_->config.num_hidden_layers + mtp_index, 1, impl_.get(), impl_->stream)));
  } catch (const CudaError& e) {
    return make_error(e.what());
  }
}

namespace {

Status check_tokens(const ModelConfig& c, std::span<const int32_t> tokens) {
  for (int32_t t : tokens)
    if (t < 0 || t >= c.vocab_size)
      return make_error("token id " + std::to_string(t) + " is outside the vocabulary [0, " +
                        std::to_string(c.vocab_size) + ")");
  return {};
}

}  // namespace

Result<std::vector<ChunkResult>> CudaModel::forward(std::span<const CudaChunk> chunks, const ForwardOptions& options) {
  Impl& m = *impl_;
  const ModelConfig& c = m.config;
  const int64_t dim = c.hidden_size, hc = c.hc_mult, width = hc * dim;
  std::vector<int64_t> first_row;
  std::vector<int32_t> row_tokens;
  std::vector<int64_t> row_positions;
  for (const CudaChunk& chunk : chunks) {
    if (Status s = check_tokens(c, chunk.tokens); !s) return s.error();
    if (!chunk.state || chunk.state->impl_->owner != impl_.get() || chunk.state->impl_->first_block != 0)
      return make_error("internal: a chunk's state does not belong to this model's main stack");
    first_row.push_back(static_cast<int64_t>(row_tokens.size()));
    for (size_t t = 0; t < chunk.tokens.size(); ++t) {
      row_tokens.push_back(chunk.tokens[t]);
      row_positions.push_back(chunk.state->impl_->position + static_cast<int64_t>(t));
    }
  }
  const int64_t rows = static_cast<int64_t>(row_tokens.size());
  std::vector<ChunkResult> results(chunks.size());
  try {
    for (const CudaChunk& chunk : chunks)
      reserve_entries(*chunk.state->impl_, chunk.state->impl_->position + static_cast<int64_t>(chunk.tokens.size()),
                      m.stream);
    m.upload_rows(row_tokens, row_positions);
    float* streams = m.slot(kStreams, rows * width);
    launch_embed(m.weights->embedding, m.weights->embedding_f32, m.tokens.data(), rows, dim, static_cast<int>(hc),
                 streams, m.stream);
    auto record_streams = [&] {
      for (size_t i = 0; i < chunks.size(); ++i) {
        if (chunks[i].tokens.empty()) continue;
        const int64_t last = first_row[i] + static_cast<int64_t>(chunks[i].tokens.size()) - 1;
        std::vector<float> row(static_cast<size_t>(width));
        check(cudaMemcpyAsync(row.data(), streams + last * width, row.size() * sizeof(float), cudaMemcpyDeviceToHost,
                              m.stream),
              "trace");
        check(cudaStreamSynchronize(m.stream), "trace");
        results[i].block_streams.push_back(std::move(row));
      }
    };
    if (options.trace) record_streams();
    std::vector<RowInfo> infos(static_cast<size_t>(rows));
    std::vector<BlockChoices> choices(options.trace ? static_cast<size_t>(rows) : 0);
    for (int64_t b = 0; b < c.num_hidden_layers; ++b) {
      m.mark(static_cast<size_t>(b));
      for (size_t i = 0; i < chunks.size(); ++i)
        for (size_t t = 0; t < chunks[i].tokens.size(); ++t)
          infos[static_cast<size_t>(first_row[i]) + t] = {&chunks[i].state->impl_->blocks[static_cast<size_t>(b)],
                                                          row_positions[static_cast<size_t>(first_row[i]) + t]};
      m.block(m.weights->blocks[static_cast<size_t>(b)], streams, infos, options.trace ? &choices : nullptr);
      if (options.trace) {
        record_streams();
        for (size_t i = 0; i < chunks.size(); ++i)
          if (!chunks[i].tokens.empty())
            results[i].block_choices.push_back(choices[static_cast<size_t>(first_row[i]) + chunks[i].tokens.size() - 1]);
      }
    }
    m.mark(static_cast<size_t>(c.num_hidden_layers));
    for (size_t i = 0; i < chunks.size(); ++i) {
      const int64_t count = static_cast<int64_t>(chunks[i].tokens.size());
      chunks[i].state->impl_->position += count;
      if (count == 0) continue;
      const int64_t first = options.logits_for_every_token ? first_row[i] : first_row[i] + count - 1;
      results[i].logits = m.logits(m.weights->hc_head, m.weights->norm, streams, first,
                                   options.logits_for_every_token ? count : 1);
      if (options.keep_hidden) {
        results[i].hidden.resize(static_cast<size_t>(count * width));
        check(cudaMemcpyAsync(results[i].hidden.data(), streams + first_row[i] * width,
                              results[i].hidden.size() * sizeof(float), cudaMemcpyDeviceToHost, m.stream),
              "hidden");
      }
    }
    check(cudaStreamSynchronize(m.stream), "forward");
    if (m.timing) {
      m.block_ms.assign(static_cast<size_t>(c.num_hidden_layers), 0.0f);
      for (size_t b = 0; b < m.block_ms.size(); ++b)
        check(cudaEventElapsedTime(&m.block_ms[b], m.events[b], m.events[b + 1]), "event time");
    }
  } catch (const CudaError& e) {
    return make_error(std::string("GPU forward pass: ") + e.what());
  }
  return results;
}

Result<ChunkResult> CudaModel::forward_mtp(CudaState& state, std::span<const float> hidden,
                                           std::span<const int32_t> next_tokens, const ForwardOptions& options,
                                           int64_t mtp_index) {
  Impl& m = *impl_;
  const ModelConfig& c = m.config;
  if (mtp_index < 0 || mtp_index >= c.num_nextn_predict_layers)
    return make_error("this model has no MTP block " + std::to_string(mtp_index));
  if (Status s = check_tokens(c, next_tokens); !s) return s.error();
  if (state.impl_->owner != impl_.get() || state.impl_->first_block != c.num_hidden_layers + mtp_index)
    return make_error("internal: the state is not this model's MTP block " + std::to_string(mtp_index) + " state");
  const int64_t dim = c.hidden_size, hc = c.hc_mult, width = hc * dim;
  const int64_t rows = static_cast<int64_t>(next_tokens.size());
  if (static_cast<int64_t>(hidden.size()) != rows * width)
    return make_error("internal: MTP hidden rows do not match its tokens");
  const DeviceMtpWeights& mtp = m.weights->mtp[static_cast<size_t>(mtp_index)];
  const float eps = static_cast<float>(c.rms_norm_eps);
  ChunkResult result;
  try {
    reserve_entries(*state.impl_, state.impl_->position + rows, m.stream);
    std::vector<int64_t> row_positions(static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) row_positions[static_cast<size_t>(r)] = state.impl_->position + r;
    m.upload_rows(next_tokens, row_positions);
    // e = enorm(embed(next)), x_j = hnorm(h_j); streams = e_proj(e) + h_proj(x_j).
    float* e = m.slot(kMtpE, rows * dim);
    launch_embed(m.weights->embedding, m.weights->embedding_f32, m.tokens.data(), rows, dim, 1, e, m.stream);
    launch_rms_norm(e, dim, mtp.enorm.data(), eps, rows, dim, e, dim, m.stream);
    float* h = m.slot(kHidden, rows * width);
    check(cudaMemcpyAsync(h, hidden.data(), hidden.size() * sizeof(float), cudaMemcpyHostToDevice, m.stream), "hidden");
    launch_rms_norm(h, dim, mtp.hnorm.data(), eps, rows * hc, dim, h, dim, m.stream);
    float* projected = m.slot(kMtpProjected, rows * dim);
    m.linear(mtp.e_proj, e, rows, projected);
    float* streams = m.slot(kStreams, rows * width);
    m.linear(mtp.h_proj, h, rows * hc, streams);
    launch_add_to_streams(streams, projected, rows, static_cast<int>(hc), dim, m.stream);

    std::vector<RowInfo> infos(static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) infos[static_cast<size_t>(r)] = {&state.impl_->blocks[0], row_positions[static_cast<size_t>(r)]};
    std::vector<BlockChoices> choices(options.trace ? static_cast<size_t>(rows) : 0);
    m.block(mtp.block, streams, infos, options.trace ? &choices : nullptr);
    state.impl_->position += rows;
    if (rows == 0) return result;
    if (options.trace) result.block_choices.push_back(choices.back());
    const int64_t first = options.logits_for_every_token ? 0 : rows - 1;
    result.logits = m.logits(mtp.hc_head, mtp.norm, streams, first, options.logits_for_every_token ? rows : 1);
    if (options.keep_hidden) result.hidden = m.slots[kStreams].download(static_cast<size_t>(rows * width), m.stream);
    check(cudaStreamSynchronize(m.stream), "forward_mtp");
  } catch (const CudaError& e) {
    return make_error(std::string("GPU MTP forward pass: ") + e.what());
  }
  return result;
}

Result<StackState> CudaModel::download(const CudaState& state) {
  try {
    return download_state(*state.impl_, impl_->stream);
  } catch (const CudaError& e) {
    return make_error(e.what());
  }
}

Status CudaModel::upload(const StackState& host, CudaState& state) {
  if (state.impl_->owner != impl_.get()) return make_error("internal: the state belongs to another model");
  try {
    return upload_state(host, *state.impl_, impl_->stream);
  } catch (const CudaError& e) {
    return make_error(e.what());
  }
}

}  // namespace beluga::cuda
