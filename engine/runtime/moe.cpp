// Mixture of experts of a DeepSeek V4 block (model.py Gate, Expert, MoE).
//
//   s       = sqrt(softplus(gate.weight @ x))                (fp32)
//   chosen  = tid2eid[token] on hash layers, else top-k of s + bias
//             (the bias steers selection only)
//   weights = s[chosen] / sum(s[chosen]) * routed_scaling_factor
//   expert  = w2(weight * silu(min(w1 x, L)) * clamp(w3 x, -L, L)), L = swiglu_limit
//   out     = sum of the chosen experts + the shared expert (weight 1)

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/cpu/linear.h"
#include "engine/cpu/ops.h"
#include "engine/runtime/block.h"
#include "engine/runtime/scratch.h"

namespace beluga {
namespace {

// Runs one expert on the rows `x` [count, dim] with per-row `weights`, adding
// into `out_rows` (pointers to the rows' outputs).
void run_expert(const ExpertWeights& e, std::span<const float> x, size_t count, std::span<const float> weights,
                float limit, std::span<float* const> out_rows, int64_t dim) {
  const int64_t inter = e.w1.out;
  // Per-thread buffers, reused (see MoEScratch).
  thread_local std::vector<float> gate, up, down;
  gate.resize(count * static_cast<size_t>(inter));
  up.resize(gate.size());
  cpu::linear(e.w1, x, static_cast<int64_t>(count), gate);
  cpu::linear(e.w3, x, static_cast<int64_t>(count), up);
  for (size_t r = 0; r < count; ++r)
    for (int64_t i = 0; i < inter; ++i) {
      float& g = gate[r * inter + i];
      float u = up[r * inter + i];
      if (limit > 0.0f) {
        u = std::clamp(u, -limit, limit);
        g = std::min(g, limit);
      }
      g = weights[r] * (cpu::silu(g) * u);
    }
  down.resize(count * static_cast<size_t>(dim));
  cpu::linear(e.w2, gate, static_cast<int64_t>(count), down);
  for (size_t r = 0; r < count; ++r)
    for (int64_t i = 0; i < dim; ++i) out_rows[r][i] += down[r * dim + i];
  release_after_large_call(count, gate, up, down);
}

// The buffers of one moe_forward call, kept per thread so that a decode
// step allocates nothing once warm (the per-expert lists keep their
// capacity when cleared).
struct MoEScratch {
  std::vector<float> logits, score, biased, weights, gathered, ones;
  std::vector<std::vector<size_t>> expert_rows;
  std::vector<std::vector<float>> expert_weights;
  std::vector<int64_t> order;
  std::vector<int32_t> chosen;
  std::vector<float*> targets;
};

}  // namespace

void moe_forward(const BlockContext& block, std::span<const float> x, std::span<const RowContext> rows,
                 std::span<float> out, std::vector<BlockChoices>* choices) {
  const ModelConfig& c = block.config;
  const MoEWeights& w = block.weights.ffn;
  const size_t n = rows.size();
  const int64_t dim = c.hidden_size, experts = c.n_routed_experts, k = c.num_experts_per_tok;
  const float limit = static_cast<float>(c.swiglu_limit);

  thread_local MoEScratch thread_scratch;
  MoEScratch& scratch = thread_scratch;
  std::vector<float>& logits = scratch.logits;
  logits.resize(n * static_cast<size_t>(experts));
  cpu::linear(w.gate, x, static_cast<int64_t>(n), logits, cpu::ActivationQuant::kPlain);

  // Routing: for each expert, the rows it serves and their weights.
  std::vector<std::vector<size_t>>& expert_rows = scratch.expert_rows;
  std::vector<std::vector<float>>& expert_weights = scratch.expert_weights;
  expert_rows.resize(static_cast<size_t>(experts));
  expert_weights.resize(static_cast<size_t>(experts));
  for (auto& list : expert_rows) list.clear();
  for (auto& list : expert_weights) list.clear();
  std::vector<int64_t>& order = scratch.order;
  std::vector<float>& score = scratch.score;
  std::vector<float>& biased = scratch.biased;
  order.resize(static_cast<size_t>(experts));
  score.resize(static_cast<size_t>(experts));
  biased.resize(score.size());
  for (size_t r = 0; r < n; ++r) {
    for (int64_t e = 0; e < experts; ++e) {
      score[static_cast<size_t>(e)] = std::sqrt(cpu::softplus(logits[r * experts + e]));
      biased[static_cast<size_t>(e)] = score[static_cast<size_t>(e)] + (w.gate_bias.empty() ? 0.0f : w.gate_bias[static_cast<size_t>(e)]);
    }
    std::vector<int32_t>& chosen = scratch.chosen;
    chosen.resize(static_cast<size_t>(k));
    if (!w.tid2eid.empty()) {
      std::copy_n(w.tid2eid.begin() + rows[r].token * k, k, chosen.begin());
    } else {
      std::iota(order.begin(), order.end(), 0);
      std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) {
        const float sa = biased[static_cast<size_t>(a)], sb = biased[static_cast<size_t>(b)];
        return sa != sb ? sa > sb : a < b;
      });
      for (int64_t i = 0; i < k; ++i) chosen[static_cast<size_t>(i)] = static_cast<int32_t>(order[static_cast<size_t>(i)]);
    }
    float total = 0.0f;
    for (int32_t e : chosen) total += score[static_cast<size_t>(e)];
    std::vector<float>& weights = scratch.weights;
    weights.resize(static_cast<size_t>(k));
    for (int64_t i = 0; i < k; ++i)
      weights[static_cast<size_t>(i)] = score[static_cast<size_t>(chosen[static_cast<size_t>(i)])] / total *
                                        static_cast<float>(c.routed_scaling_factor);
    for (int64_t i = 0; i < k; ++i) {
      expert_rows[static_cast<size_t>(chosen[static_cast<size_t>(i)])].push_back(r);
      expert_weights[static_cast<size_t>(chosen[static_cast<size_t>(i)])].push_back(weights[static_cast<size_t>(i)]);
    }
    if (choices) {
      (*choices)[r].experts = chosen;
      (*choices)[r].expert_weights = weights;
    }
  }

  std::fill(out.begin(), out.end(), 0.0f);
  std::vector<float>& gathered = scratch.gathered;
  std::vector<float*>& targets = scratch.targets;
  for (int64_t e = 0; e < experts; ++e) {
    const auto& served = expert_rows[static_cast<size_t>(e)];
    if (served.empty()) continue;
    gathered.resize(served.size() * static_cast<size_t>(dim));
    targets.clear();
    for (size_t i = 0; i < served.size(); ++i) {
      std::copy_n(x.begin() + served[i] * dim, dim, gathered.begin() + i * dim);
      targets.push_back(out.data() + served[i] * dim);
    }
    run_expert(w.experts[static_cast<size_t>(e)], gathered, served.size(), expert_weights[static_cast<size_t>(e)], limit,
               targets, dim);
  }
  if (!w.shared.empty()) {
    targets.clear();
    for (size_t r = 0; r < n; ++r) targets.push_back(out.data() + r * dim);
    scratch.ones.assign(n, 1.0f);
    run_expert(w.shared[0], x, n, scratch.ones, limit, targets, dim);
  }
  release_after_large_call(n, logits, gathered);
}

}  // namespace beluga
