// Attention of a DeepSeek V4 block (model.py Attention, Compressor, Indexer),
// one query row at a time against the sequence's state.
//
// Per row at position p:
//   q     = wq_b(q_norm(wq_a x)), split into heads, each scaled to unit RMS,
//           RoPE on its last rd dims
//   kv    = kv_norm(wkv x), RoPE on the last rd dims, FP8 quant-dequant of the
//           other dims in blocks of 64; written to window slot p mod window
//   compressor (ratio m > 0): softmax-pools kv over each block of m tokens
//           per channel (ratio 4 overlaps the previous block through the first
//           half of its channels); a finished entry j is RMS-normed, RoPE'd at
//           position j*m and FP8-simulated like kv
//   indexer (ratio 4): scores entries with relu(q_I . k_I) weighted per head
//           and keeps the top index_topk; HCA blocks (other ratios) attend
//           every finished entry
//   attend: window positions (p - window, p] plus chosen entries, softmax
//           with the attention sink in the denominator, values = keys;
//           de-rotate the output's rope dims at p
//   out   = wo_b(grouped wo_a(o))

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/cpu/linear.h"
#include "engine/cpu/ops.h"
#include "engine/cpu/quant_sim.h"
#include "engine/cpu/thread_pool.h"
#include "engine/runtime/block.h"
#include "engine/runtime/scratch.h"

namespace beluga {
namespace {

using cpu::ActivationQuant;

// y = W x into `y` (resized; its capacity reused across calls).
void run_linear(const LinearWeight& w, std::span<const float> x, size_t rows, std::vector<float>& y,
                ActivationQuant mode = ActivationQuant::kAsWeight) {
  y.resize(rows * static_cast<size_t>(w.out));
  cpu::linear(w, x, static_cast<int64_t>(rows), y, mode);
}

// The buffers of one attention_forward call, kept per thread so that a
// decode step allocates nothing once warm (they grow to the largest chunk
// the thread has run and stay). Used through a reference: a lambda run on
// a pool worker must see the calling thread's buffers, not its own.
struct AttentionScratch {
  std::vector<float> qr, q, kv, ckv, cscore, iq, iweights, ikv, iscore, o, entry, index_score, low, slice, part;
  std::vector<const float*> keys;
  std::vector<int64_t> chosen;
};

// Adds one token's kv/score rows to a compressor; returns true (and the
// pooled entry in `entry`, before norm) when the token completes a block.
bool compressor_step(CompressorState& s, std::span<const float> kv, std::span<const float> score,
                     std::span<const float> ape, int64_t position, std::span<float> entry) {
  const int64_t m = s.ratio, d = s.head_dim, coff = s.overlap ? 2 : 1, width = coff * d;
  const int64_t slot = (s.overlap ? m : 0) + position % m;
  for (int64_t i = 0; i < width; ++i) {
    s.kv[static_cast<size_t>(slot * width + i)] = kv[static_cast<size_t>(i)];
    s.score[static_cast<size_t>(slot * width + i)] = score[static_cast<size_t>(i)] + ape[static_cast<size_t>((position % m) * width + i)];
  }
  if ((position + 1) % m != 0) return false;
  // Rows [0, m) of an overlapping state hold the previous block, whose first
  // d channels pool into this entry; rows [m, 2m) hold this block's last d.
  const int64_t rows = coff * m;
  for (int64_t ch = 0; ch < d; ++ch) {
    auto column = [&](int64_t row) { return row * width + (s.overlap && row >= m ? d : 0) + ch; };
    float peak = -INFINITY;
    for (int64_t r = 0; r < rows; ++r) peak = std::max(peak, s.score[static_cast<size_t>(column(r))]);
    float total = 0.0f, pooled = 0.0f;
    for (int64_t r = 0; r < rows; ++r) {
      const float e = std::exp(s.score[static_cast<size_t>(column(r))] - peak);
      total += e;
      pooled += e * s.kv[static_cast<size_t>(column(r))];
    }
    entry[static_cast<size_t>(ch)] = pooled / total;
  }
  if (s.overlap) {  // this block becomes the previous one
    std::copy(s.kv.begin() + m * width, s.kv.end(), s.kv.begin());
    std::copy(s.score.begin() + m * width, s.score.end(), s.score.begin());
  }
  return true;
}

}  // namespace

void attention_forward(const BlockContext& block, std::span<const float> x, std::span<const RowContext> rows,
                       std::span<float> out, std::vector<BlockChoices>* choices) {
  const ModelConfig& c = block.config;
  const AttentionWeights& w = block.weights.attn;
  const size_t n = rows.size();
  const int64_t heads = c.num_attention_heads, hd = c.head_dim, rd = c.qk_rope_head_dim, nope = hd - rd;
  const int64_t window = c.sliding_window;
  const float eps = static_cast<float>(c.rms_norm_eps);

  thread_local AttentionScratch thread_scratch;
  AttentionScratch& scratch = thread_scratch;
  std::vector<float>& qr = scratch.qr;
  std::vector<float>& q = scratch.q;
  std::vector<float>& kv = scratch.kv;

  // Projections for every row at once.
  run_linear(w.wq_a, x, n, qr);
  for (size_t r = 0; r < n; ++r) {
    std::span<float> row(qr.data() + r * static_cast<size_t>(c.q_lora_rank), static_cast<size_t>(c.q_lora_rank));
    cpu::rms_norm(row, w.q_norm, eps, row);
  }
  run_linear(w.wq_b, qr, n, q);
  run_linear(w.wkv, x, n, kv);
  for (size_t r = 0; r < n; ++r) {
    for (int64_t h = 0; h < heads; ++h) {
      std::span<float> head(q.data() + (r * heads + h) * hd, static_cast<size_t>(hd));
      cpu::rms_scale(head, eps);
      block.rope.apply(head.subspan(static_cast<size_t>(nope)), rows[r].position);
    }
    std::span<float> k(kv.data() + r * hd, static_cast<size_t>(hd));
    cpu::rms_norm(k, w.kv_norm, eps, k);
    block.rope.apply(k.subspan(static_cast<size_t>(nope)), rows[r].position);
    cpu::fp8_quant_dequant(k.first(static_cast<size_t>(nope)), 64);
  }

  const CompressorWeights* cw = w.compressor.get();
  const IndexerWeights* iw = w.indexer.get();
  if (choices && !iw)  // no indexer here: no choices (the vector is reused across blocks)
    for (BlockChoices& row : *choices) row.indexer_entries.clear();
  std::vector<float>& ckv = scratch.ckv;
  std::vector<float>& cscore = scratch.cscore;
  std::vector<float>& iq = scratch.iq;
  std::vector<float>& iweights = scratch.iweights;
  std::vector<float>& ikv = scratch.ikv;
  std::vector<float>& iscore = scratch.iscore;
  const int64_t ih = c.index_n_heads, ihd = c.index_head_dim;
  if (cw) {
    run_linear(cw->wkv, x, n, ckv);
    run_linear(cw->wgate, x, n, cscore);
  }
  if (iw) {
    run_linear(iw->wq_b, qr, n, iq);
    run_linear(iw->weights_proj, x, n, iweights);
    run_linear(iw->compressor.wkv, x, n, ikv);
    run_linear(iw->compressor.wgate, x, n, iscore);
    const float weight_scale = 1.0f / std::sqrt(static_cast<float>(ihd)) / std::sqrt(static_cast<float>(ih));
    for (float& v : iweights) v *= weight_scale;
    for (size_t r = 0; r < n; ++r)
      for (int64_t h = 0; h < ih; ++h) {
        std::span<float> head(iq.data() + (r * ih + h) * ihd, static_cast<size_t>(ihd));
        block.rope.apply(head.subspan(static_cast<size_t>(ihd - rd)), rows[r].position);
        cpu::hadamard(head);
        cpu::fp4_quant_dequant(head, 32);
      }
  }

  std::vector<float>& o = scratch.o;
  o.resize(n * static_cast<size_t>(heads * hd));
  std::vector<float>& entry = scratch.entry;
  entry.resize(static_cast<size_t>(std::max(hd, ihd)));
  std::vector<const float*>& keys = scratch.keys;
  const float softmax_scale = 1.0f / std::sqrt(static_cast<float>(hd));
  for (size_t r = 0; r < n; ++r) {
    BlockState& s = *rows[r].state;
    const int64_t p = rows[r].position;
    std::copy(kv.begin() + r * hd, kv.begin() + (r + 1) * hd, s.window.begin() + (p % window) * hd);

    if (cw) {
      std::span<float> e(entry.data(), static_cast<size_t>(hd));
      const size_t width = static_cast<size_t>((cw->overlap ? 2 : 1) * hd);
      if (compressor_step(s.compressor, std::span<const float>(ckv).subspan(r * width, width),
                          std::span<const float>(cscore).subspan(r * width, width), cw->ape, p, e)) {
        cpu::rms_norm(e, cw->norm, eps, e);
        block.rope.apply(e.subspan(static_cast<size_t>(nope)), p + 1 - cw->ratio);
        cpu::fp8_quant_dequant(e.first(static_cast<size_t>(nope)), 64);
        s.compressor.entries.insert(s.compressor.entries.end(), e.begin(), e.end());
      }
    }
    if (iw) {
      std::span<float> e(entry.data(), static_cast<size_t>(ihd));
      if (compressor_step(s.indexer, std::span<const float>(ikv).subspan(r * 2 * ihd, static_cast<size_t>(2 * ihd)),
                          std::span<const float>(iscore).subspan(r * 2 * ihd, static_cast<size_t>(2 * ihd)),
                          iw->compressor.ape, p, e)) {
        cpu::rms_norm(e, iw->compressor.norm, eps, e);
        block.rope.apply(e.subspan(static_cast<size_t>(ihd - rd)), p + 1 - 4);
        cpu::hadamard(e);
        cpu::fp4_quant_dequant(e, 32);
        s.indexer.entries.insert(s.indexer.entries.end(), e.begin(), e.end());
      }
    }

    // The keys this row attends: its window, then compressed entries.
    keys.clear();
    for (int64_t pos = std::max<int64_t>(0, p - window + 1); pos <= p; ++pos)
      keys.push_back(s.window.data() + (pos % window) * hd);
    if (cw) {
      const int64_t available = s.compressor.entry_count();
      std::vector<int64_t>& chosen = scratch.chosen;
      if (iw) {
        std::vector<float>& index_score = scratch.index_score;
        index_score.resize(static_cast<size_t>(available));  // every entry is written below
        // Entries are independent: split across the pool (long contexts
        // have hundreds of thousands).
        auto score_entries = [&](int64_t begin, int64_t end) {
          for (int64_t j = begin; j < end; ++j) {
            const float* k = s.indexer.entries.data() + j * ihd;
            float total = 0.0f;
            for (int64_t h = 0; h < ih; ++h) {
              const float dot = cpu::dot(iq.data() + (r * ih + h) * ihd, k, ihd);
              total += std::max(dot, 0.0f) * iweights[r * ih + h];
            }
            index_score[static_cast<size_t>(j)] = total;
          }
        };
        // One captured reference: fits std::function's local storage, no allocation.
        cpu::parallel_for(available, 256, [&score_entries](int64_t b, int64_t e) { score_entries(b, e); });
        chosen.resize(static_cast<size_t>(available));
        std::iota(chosen.begin(), chosen.end(), 0);
        const size_t keep = static_cast<size_t>(std::min<int64_t>(c.index_topk, available));
        std::partial_sort(chosen.begin(), chosen.begin() + keep, chosen.end(), [&](int64_t a, int64_t b) {
          const float sa = index_score[static_cast<size_t>(a)], sb = index_score[static_cast<size_t>(b)];
          return sa != sb ? sa > sb : a < b;
        });
        chosen.resize(keep);
        if (choices) (*choices)[r].indexer_entries.assign(chosen.begin(), chosen.end());
      } else {
        chosen.resize(static_cast<size_t>(available));
        std::iota(chosen.begin(), chosen.end(), 0);
      }
      for (int64_t j : chosen) keys.push_back(s.compressor.entries.data() + j * hd);
    }

    // Heads are independent: split across the pool. Each thread scores
    // into its own buffer (thread_local here is the running thread's).
    auto attend_heads = [&](int64_t h0, int64_t h1) {
      thread_local std::vector<float> scores;
      scores.resize(keys.size());
      for (int64_t h = h0; h < h1; ++h) {
        const float* qh = q.data() + (r * heads + h) * hd;
        float peak = w.attn_sink[static_cast<size_t>(h)];
        for (size_t k = 0; k < keys.size(); ++k) {
          scores[k] = cpu::dot(qh, keys[k], hd) * softmax_scale;
          peak = std::max(peak, scores[k]);
        }
        float total = std::exp(w.attn_sink[static_cast<size_t>(h)] - peak);
        for (float& v : scores) total += v = std::exp(v - peak);
        float* oh = o.data() + (r * heads + h) * hd;
        std::fill(oh, oh + hd, 0.0f);
        for (size_t k = 0; k < keys.size(); ++k) cpu::add_scaled(oh, scores[k] / total, keys[k], hd);
        block.rope.apply(std::span<float>(oh + nope, static_cast<size_t>(rd)), p, /*inverse=*/true);
      }
    };
    cpu::parallel_for(heads, 8, [&attend_heads](int64_t h0, int64_t h1) { attend_heads(h0, h1); });
  }

  // Grouped low-rank output: group g of the heads goes through rows
  // [g*o_lora, (g+1)*o_lora) of wo_a (the weight as stored, no activation
  // quant): one linear per group over that group's slice of every row.
  const int64_t groups = c.o_groups, rank = c.o_lora_rank, group_in = heads * hd / groups;
  std::vector<float>& low = scratch.low;
  std::vector<float>& slice = scratch.slice;
  std::vector<float>& part = scratch.part;
  low.resize(n * static_cast<size_t>(groups * rank));
  slice.resize(n * static_cast<size_t>(group_in));
  part.resize(n * static_cast<size_t>(rank));
  for (int64_t g = 0; g < groups; ++g) {
    for (size_t r = 0; r < n; ++r)
      std::copy_n(o.data() + r * heads * hd + g * group_in, group_in, slice.data() + r * group_in);
    cpu::linear_row_range(w.wo_a, g * rank, rank, slice, static_cast<int64_t>(n), part, cpu::ActivationQuant::kPlain);
    for (size_t r = 0; r < n; ++r)
      std::copy_n(part.data() + r * rank, rank, low.data() + r * groups * rank + g * rank);
  }
  cpu::linear(w.wo_b, low, static_cast<int64_t>(n), out);
  release_after_large_call(n, qr, q, kv, ckv, cscore, iq, iweights, ikv, iscore, o, low, slice, part);
}

}  // namespace beluga
