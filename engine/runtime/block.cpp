// Block forward and manifold-constrained hyper-connections (model.py
// Block.hc_pre / hc_post, kernel.py hc_split_sinkhorn, ParallelHead.hc_head).
//
//   xf   = the hc streams flattened [hc*dim]
//   mix  = (fn @ xf) * rsqrt(mean(xf^2) + rms_norm_eps)
//   pre  = sigmoid(mix[0:hc] * scale[0] + base[0:hc]) + hc_eps
//   post = 2 * sigmoid(mix[hc:2hc] * scale[1] + base[hc:2hc])
//   comb = softmax_k(mix[2hc:] * scale[2] + base[2hc:]) + hc_eps, then column
//          normalisation, then (iters - 1) x (row, column) normalisation,
//          each dividing by (sum + hc_eps): Sinkhorn towards doubly stochastic
//   sub-layer input x = sum_j pre[j] h[j];  h'[k] = post[k] f(x) + sum_j comb[j][k] h[j]

#include "engine/runtime/block.h"
#include "engine/runtime/scratch.h"

#include <algorithm>
#include <cmath>

#include "engine/cpu/ops.h"

namespace beluga {
namespace {

// The mix logits into `mix` (resized; its capacity reused).
void mixes(const ModelConfig& c, const HyperConnectionWeights& w, std::span<const float> streams,
           std::vector<float>& mix) {
  const size_t n = streams.size();
  float squares = 0.0f;
  for (float v : streams) squares += v * v;
  const float inverse_rms = 1.0f / std::sqrt(squares / static_cast<float>(n) + static_cast<float>(c.rms_norm_eps));
  const size_t count = w.base.size();
  mix.resize(count);
  for (size_t m = 0; m < count; ++m) {
    const float* row = w.fn.data() + m * n;
    float sum = 0.0f;
    for (size_t i = 0; i < n; ++i) sum += row[i] * streams[i];
    mix[m] = sum * inverse_rms;
  }
}

}  // namespace

HyperMix hyper_mix(const ModelConfig& c, const HyperConnectionWeights& w, std::span<const float> streams) {
  HyperMix out;
  hyper_mix_into(c, w, streams, out);
  return out;
}

void hyper_mix_into(const ModelConfig& c, const HyperConnectionWeights& w, std::span<const float> streams,
                    HyperMix& out) {
  const size_t hc = static_cast<size_t>(c.hc_mult);
  const float eps = static_cast<float>(c.hc_eps);
  thread_local std::vector<float> mix;
  mixes(c, w, streams, mix);
  out.pre.resize(hc);
  out.post.resize(hc);
  out.comb.resize(hc * hc);
  for (size_t j = 0; j < hc; ++j) {
    out.pre[j] = cpu::sigmoid(mix[j] * w.scale[0] + w.base[j]) + eps;
    out.post[j] = 2.0f * cpu::sigmoid(mix[hc + j] * w.scale[1] + w.base[hc + j]);
  }
  float* comb = out.comb.data();
  for (size_t j = 0; j < hc; ++j) {
    float* row = comb + j * hc;
    float peak = -INFINITY;
    for (size_t k = 0; k < hc; ++k) {
      row[k] = mix[2 * hc + j * hc + k] * w.scale[2] + w.base[2 * hc + j * hc + k];
      peak = std::max(peak, row[k]);
    }
    float sum = 0.0f;
    for (size_t k = 0; k < hc; ++k) sum += row[k] = std::exp(row[k] - peak);
    for (size_t k = 0; k < hc; ++k) row[k] = row[k] / sum + eps;
  }
  auto normalise_columns = [&] {
    for (size_t k = 0; k < hc; ++k) {
      float sum = 0.0f;
      for (size_t j = 0; j < hc; ++j) sum += comb[j * hc + k];
      for (size_t j = 0; j < hc; ++j) comb[j * hc + k] /= sum + eps;
    }
  };
  auto normalise_rows = [&] {
    for (size_t j = 0; j < hc; ++j) {
      float sum = 0.0f;
      for (size_t k = 0; k < hc; ++k) sum += comb[j * hc + k];
      for (size_t k = 0; k < hc; ++k) comb[j * hc + k] /= sum + eps;
    }
  };
  normalise_columns();
  for (int64_t i = 1; i < c.hc_sinkhorn_iters; ++i) {
    normalise_rows();
    normalise_columns();
  }
}

void hyper_head(const ModelConfig& c, const HyperConnectionWeights& w, std::span<const float> streams,
                std::span<float> out) {
  const size_t hc = static_cast<size_t>(c.hc_mult), dim = static_cast<size_t>(c.hidden_size);
  thread_local std::vector<float> mix;
  mixes(c, w, streams, mix);
  std::fill(out.begin(), out.end(), 0.0f);
  for (size_t j = 0; j < hc; ++j) {
    const float pre = cpu::sigmoid(mix[j] * w.scale[0] + w.base[j]) + static_cast<float>(c.hc_eps);
    for (size_t i = 0; i < dim; ++i) out[i] += pre * streams[j * dim + i];
  }
}

void block_forward(const BlockContext& block, std::span<float> streams, std::span<const RowContext> rows,
                   std::vector<BlockChoices>* choices) {
  const ModelConfig& c = block.config;
  const size_t hc = static_cast<size_t>(c.hc_mult), dim = static_cast<size_t>(c.hidden_size);
  const size_t n = rows.size();
  const float eps = static_cast<float>(c.rms_norm_eps);
  // Per-thread buffers, reused across blocks and steps (a decode step
  // allocates nothing once warm); references, so the lambdas below see the
  // calling thread's.
  struct Scratch {
    std::vector<float> x, y, mixed;
    std::vector<HyperMix> mixes_per_row;
  };
  thread_local Scratch thread_scratch;
  Scratch& scratch = thread_scratch;
  std::vector<float>& x = scratch.x;
  std::vector<float>& y = scratch.y;
  std::vector<float>& mixed = scratch.mixed;
  std::vector<HyperMix>& mixes_per_row = scratch.mixes_per_row;
  x.resize(n * dim);
  y.resize(n * dim);
  mixed.resize(hc * dim);
  if (mixes_per_row.size() < n) mixes_per_row.resize(n);

  auto sub_layer = [&](const HyperConnectionWeights& hcw, const std::vector<float>& norm, auto&& run) {
    for (size_t r = 0; r < n; ++r) {
      std::span<const float> h = streams.subspan(r * hc * dim, hc * dim);
      hyper_mix_into(c, hcw, h, mixes_per_row[r]);
      std::span<float> xr(x.data() + r * dim, dim);
      std::fill(xr.begin(), xr.end(), 0.0f);
      for (size_t j = 0; j < hc; ++j)
        for (size_t i = 0; i < dim; ++i) xr[i] += mixes_per_row[r].pre[j] * h[j * dim + i];
      cpu::rms_norm(xr, norm, eps, xr);
    }
    run(x, y);
    for (size_t r = 0; r < n; ++r) {
      std::span<float> h = streams.subspan(r * hc * dim, hc * dim);
      const HyperMix& m = mixes_per_row[r];
      for (size_t k = 0; k < hc; ++k)
        for (size_t i = 0; i < dim; ++i) {
          float v = m.post[k] * y[r * dim + i];
          for (size_t j = 0; j < hc; ++j) v += m.comb[j * hc + k] * h[j * dim + i];
          mixed[k * dim + i] = v;
        }
      std::copy(mixed.begin(), mixed.end(), h.begin());
    }
  };

  sub_layer(block.weights.hc_attn, block.weights.attn_norm,
            [&](std::span<const float> in, std::span<float> out) { attention_forward(block, in, rows, out, choices); });
  sub_layer(block.weights.hc_ffn, block.weights.ffn_norm,
            [&](std::span<const float> in, std::span<float> out) { moe_forward(block, in, rows, out, choices); });
  release_after_large_call(n, x, y, scratch.mixes_per_row);
}

}  // namespace beluga
