// Each CUDA kernel against its CPU twin, on random data and on the odd
// shapes that take the kernels' fallback paths. Without a usable GPU (or in
// a build without the backend) each test says why and passes vacuously:
// these run in GPU sessions (see docs/cuda.md).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "engine/cpu/linear.h"
#include "engine/cpu/ops.h"
#include "engine/cpu/quant_sim.h"
#include "engine/cuda/cuda_model.h"
#include "engine/cuda/kernel_check.h"
#include "engine/runtime/block.h"
#include "engine/runtime/rope.h"
#include "tests/engine/cuda/cuda_test_support.h"
#include "tests/engine/test_weights.h"
#include "tests/test_support.h"

using namespace beluga;
namespace kc = beluga::cuda::kernel_check;
using beluga::testing::gpu_ready;
using beluga::testing::random_floats;
using beluga::testing::TestWeight;

namespace {

// Close in float32 terms (sums over a few hundred terms in another order):
// the largest difference relative to the output's scale.
void check_close(std::span<const float> gpu, std::span<const float> cpu, float tolerance = 2e-5f) {
  REQUIRE(gpu.size() == cpu.size());
  float worst = 0.0f, scale = 1.0f;
  for (size_t i = 0; i < cpu.size(); ++i) {
    worst = std::max(worst, std::fabs(gpu[i] - cpu[i]));
    scale = std::max(scale, std::fabs(cpu[i]));
  }
  INFO("max |gpu - cpu| = " << worst << " at scale " << scale);
  CHECK(worst <= tolerance * scale);
}

struct LinearCase {
  const char* name;
  WeightStorage storage;
  DType dtype;
  int64_t out, in;
};

const LinearCase kLinearCases[] = {
    {"bf16 vector path", WeightStorage::kBF16, DType::BF16, 37, 256},
    {"bf16 scalar path", WeightStorage::kBF16, DType::BF16, 9, 20},
    {"f32 vector path", WeightStorage::kBF16, DType::F32, 21, 64},
    {"fp8 vector path, partial scale blocks", WeightStorage::kFP8, DType::F8_E4M3, 150, 272},
    {"fp8 scalar path", WeightStorage::kFP8, DType::F8_E4M3, 17, 40},
    {"fp4 vector path", WeightStorage::kFP4, DType::I8, 33, 320},
    {"fp4 scalar path", WeightStorage::kFP4, DType::I8, 12, 48},
    {"fp8 four output rows per warp", WeightStorage::kFP8, DType::F8_E4M3, 8448, 128},
    {"bf16 four output rows per warp", WeightStorage::kBF16, DType::BF16, 8451, 64},
};

ModelConfig tiny_config() {
  auto c = load_model_config(testing::golden_path("tiny-fp8") + "/config.json");
  REQUIRE(c.ok());
  return *c;
}

}  // namespace

TEST_CASE("CUDA linear matches cpu::linear in every storage and path", "[cuda][kernels]") {
  if (!gpu_ready()) return;
  for (const LinearCase& lc : kLinearCases)
    for (int64_t rows : {1, 3, 11})
      for (bool plain : {false, true}) {
        INFO(lc.name << ", rows " << rows << (plain ? ", plain" : ", activation quant"));
        TestWeight tw(lc.storage, lc.dtype, lc.out, lc.in, static_cast<uint32_t>(lc.out * 7 + lc.in));
        const auto x = random_floats(static_cast<size_t>(rows * lc.in), 5);
        std::vector<float> cpu(static_cast<size_t>(rows * lc.out));
        cpu::linear(tw.w, x, rows, cpu, plain ? cpu::ActivationQuant::kPlain : cpu::ActivationQuant::kAsWeight);
        auto gpu = kc::linear(tw.w, x, rows, plain);
        REQUIRE(gpu.ok());
        check_close(*gpu, cpu);
      }
}

TEST_CASE("CUDA grouped linear matches the grouped wo_a of the CPU attention", "[cuda][kernels]") {
  if (!gpu_ready()) return;
  const int64_t groups = 4, rank = 8, group_in = 64, rows = 3;
  TestWeight tw(WeightStorage::kFP8, DType::F8_E4M3, groups * rank, group_in, 3);
  const auto o = random_floats(static_cast<size_t>(rows * groups * group_in), 9);
  std::vector<float> cpu(static_cast<size_t>(rows * groups * rank)), row(static_cast<size_t>(group_in));
  for (int64_t out = 0; out < groups * rank; ++out) {
    cpu::dequantize_rows(tw.w, out, out + 1, row);
    for (int64_t r = 0; r < rows; ++r) {
      float sum = 0.0f;
      for (int64_t i = 0; i < group_in; ++i) sum += row[static_cast<size_t>(i)] * o[static_cast<size_t>(r * groups * group_in + out / rank * group_in + i)];
      cpu[static_cast<size_t>(r * groups * rank + out)] = sum;
    }
  }
  auto gpu = kc::linear(tw.w, o, rows, /*plain=*/true, rank);
  REQUIRE(gpu.ok());
  check_close(*gpu, cpu);
}

TEST_CASE("CUDA grouped expert linear matches one cpu::linear per chosen expert", "[cuda][kernels]") {
  if (!gpu_ready()) return;
  for (WeightStorage storage : {WeightStorage::kFP4, WeightStorage::kFP8}) {
    const DType dtype = storage == WeightStorage::kFP4 ? DType::I8 : DType::F8_E4M3;
    std::vector<TestWeight> owned;
    for (int64_t out : {24, 2048}) {  // 2048 x 6 pairs: four output rows per warp
      INFO("out " << out);
      std::vector<TestWeight> owned;
      for (uint32_t e = 0; e < 3; ++e) owned.emplace_back(storage, dtype, out, 128, 40 + e);
      std::vector<LinearWeight> experts;
      for (const auto& t : owned) experts.push_back(t.w);
      const std::vector<int32_t> chosen = {2, 0, 2, 1, 0, 1};  // three rows, two experts each
      const auto x = random_floats(3 * 128, 6);
      auto gpu = kc::expert_linear(experts, chosen, x, 2);
      REQUIRE(gpu.ok());
      std::vector<float> cpu(chosen.size() * static_cast<size_t>(out));
      for (size_t p = 0; p < chosen.size(); ++p)
        cpu::linear(experts[static_cast<size_t>(chosen[p])], std::span<const float>(x).subspan(p / 2 * 128, 128), 1,
                    std::span<float>(cpu).subspan(p * static_cast<size_t>(out), static_cast<size_t>(out)),
                    cpu::ActivationQuant::kPlain);
      check_close(*gpu, cpu);
    }
  }
}

TEST_CASE("CUDA FP8 and FP4 quantisation simulation is bit-identical to the CPU's", "[cuda][kernels]") {
  if (!gpu_ready()) return;
  // Rows with partial blocks, tiny and huge values, exact ties.
  auto x = random_floats(3 * 300, 8, 3.0f);
  x[0] = 1e-9f, x[1] = -0.0f, x[2] = 5000.0f, x[3] = 0.0625f * 1.5f, x[301] = 448.0f;
  for (auto [block, fp4] : {std::pair{int64_t{128}, false}, {int64_t{64}, false}, {int64_t{32}, true}}) {
    INFO("block " << block << (fp4 ? " fp4" : " fp8"));
    std::vector<float> cpu = x;
    for (int r = 0; r < 3; ++r) {
      std::span<float> row(cpu.data() + r * 300, 300);
      fp4 ? cpu::fp4_quant_dequant(row, block) : cpu::fp8_quant_dequant(row, block);
    }
    auto gpu = kc::quant_dequant(x, 3, 300, block, fp4);
    REQUIRE(gpu.ok());
    CHECK(*gpu == cpu);
  }
}

TEST_CASE("CUDA rms_norm, Hadamard and RoPE match their CPU twins", "[cuda][kernels]") {
  if (!gpu_ready()) return;
  const auto x = random_floats(4 * 96, 2);
  const auto weight = random_floats(96, 3);
  std::vector<float> cpu(x.size()), scaled = x;
  for (int r = 0; r < 4; ++r) {
    cpu::rms_norm(std::span<const float>(x).subspan(r * 96, 96), weight, 1e-6f, std::span<float>(cpu).subspan(r * 96, 96));
    cpu::rms_scale(std::span<float>(scaled).subspan(r * 96, 96), 1e-6f);
  }
  auto gpu = kc::rms_norm(x, weight, 1e-6f, 4);
  REQUIRE(gpu.ok());
  check_close(*gpu, cpu, 1e-6f);
  auto gpu_scaled = kc::rms_norm(x, {}, 1e-6f, 4);
  REQUIRE(gpu_scaled.ok());
  check_close(*gpu_scaled, scaled, 1e-6f);

  for (int64_t n : {16, 128}) {
    auto h = random_floats(static_cast<size_t>(3 * n), 4);
    std::vector<float> cpu_h = h;
    for (int r = 0; r < 3; ++r) cpu::hadamard(std::span<float>(cpu_h).subspan(static_cast<size_t>(r * n), static_cast<size_t>(n)));
    auto gpu_h = kc::hadamard(h, 3);
    REQUIRE(gpu_h.ok());
    CHECK(*gpu_h == cpu_h);  // the same butterflies in the same order
  }

  const ModelConfig c = tiny_config();
  for (int64_t ratio : {0, 4}) {
    const Rope rope(c, ratio);
    const int64_t heads = 3, hd = c.head_dim, pairs = static_cast<int64_t>(rope.frequencies().size());
    const std::vector<int64_t> positions = {0, 7, 12345};
    const auto q = random_floats(static_cast<size_t>(3 * heads * hd), 5);
    for (bool inverse : {false, true}) {
      std::vector<float> cpu_q = q;
      for (int64_t r = 0; r < 3; ++r)
        for (int64_t h = 0; h < heads; ++h)
          rope.apply(std::span<float>(cpu_q).subspan(static_cast<size_t>((r * heads + h) * hd + hd - 2 * pairs), static_cast<size_t>(2 * pairs)),
                     positions[static_cast<size_t>(r)], inverse);
      auto gpu_q = kc::rope(q, 3, heads, positions, rope.frequencies(), inverse);
      REQUIRE(gpu_q.ok());
      check_close(*gpu_q, cpu_q, 1e-5f);
    }
  }
}

TEST_CASE("CUDA mHC pre-mix, post-mix and head match hyper_mix and hyper_head", "[cuda][kernels]") {
  if (!gpu_ready()) return;
  const ModelConfig c = tiny_config();
  const int64_t hc = c.hc_mult, dim = c.hidden_size, rows = 3;
  HyperConnectionWeights w;
  w.fn = random_floats(static_cast<size_t>((2 + hc) * hc * hc * dim), 1, 0.05f);
  w.base = random_floats(static_cast<size_t>((2 + hc) * hc), 2, 0.5f);
  w.scale = {0.7f, 1.1f, 0.9f};
  const auto streams = random_floats(static_cast<size_t>(rows * hc * dim), 3);
  const auto norm = random_floats(static_cast<size_t>(dim), 4);
  auto pre = kc::hc_pre(c, w, streams, norm, rows);
  REQUIRE(pre.ok());
  std::vector<float> cpu_x(static_cast<size_t>(rows * dim)), cpu_mix;
  for (int64_t r = 0; r < rows; ++r) {
    std::span<const float> h = std::span<const float>(streams).subspan(static_cast<size_t>(r * hc * dim), static_cast<size_t>(hc * dim));
    const HyperMix m = hyper_mix(c, w, h);
    std::span<float> xr(cpu_x.data() + r * dim, static_cast<size_t>(dim));
    for (int64_t j = 0; j < hc; ++j)
      for (int64_t i = 0; i < dim; ++i) xr[static_cast<size_t>(i)] += m.pre[static_cast<size_t>(j)] * h[static_cast<size_t>(j * dim + i)];
    cpu::rms_norm(xr, norm, static_cast<float>(c.rms_norm_eps), xr);
    cpu_mix.insert(cpu_mix.end(), m.post.begin(), m.post.end());
    cpu_mix.insert(cpu_mix.end(), m.comb.begin(), m.comb.end());
  }
  check_close(pre->x, cpu_x, 1e-5f);
  check_close(pre->mix, cpu_mix, 1e-5f);

  const auto y = random_floats(static_cast<size_t>(rows * dim), 5);
  auto post = kc::hc_post(c, streams, y, cpu_mix, rows);
  REQUIRE(post.ok());
  std::vector<float> cpu_post(streams.size());
  for (int64_t r = 0; r < rows; ++r) {
    const float* post_w = cpu_mix.data() + r * (hc + hc * hc);
    const float* comb = post_w + hc;
    for (int64_t k = 0; k < hc; ++k)
      for (int64_t i = 0; i < dim; ++i) {
        float v = post_w[k] * y[static_cast<size_t>(r * dim + i)];
        for (int64_t j = 0; j < hc; ++j) v += comb[j * hc + k] * streams[static_cast<size_t>(r * hc * dim + j * dim + i)];
        cpu_post[static_cast<size_t>(r * hc * dim + k * dim + i)] = v;
      }
  }
  check_close(*post, cpu_post, 1e-5f);

  HyperConnectionWeights head;
  head.fn = random_floats(static_cast<size_t>(hc * hc * dim), 6, 0.05f);
  head.base = random_floats(static_cast<size_t>(hc), 7, 0.5f);
  head.scale = {0.8f};
  auto reduced = kc::hc_head(c, head, streams, norm, rows);
  REQUIRE(reduced.ok());
  std::vector<float> cpu_head(static_cast<size_t>(rows * dim));
  for (int64_t r = 0; r < rows; ++r) {
    std::span<float> out(cpu_head.data() + r * dim, static_cast<size_t>(dim));
    hyper_head(c, head, std::span<const float>(streams).subspan(static_cast<size_t>(r * hc * dim), static_cast<size_t>(hc * dim)), out);
    cpu::rms_norm(out, norm, static_cast<float>(c.rms_norm_eps), out);
  }
  check_close(*reduced, cpu_head, 1e-5f);
}

TEST_CASE("CUDA routing and SwiGLU follow the CPU MoE's rules", "[cuda][kernels]") {
  if (!gpu_ready()) return;
  const int64_t rows = 4, experts = 40;
  const int k = 6;
  auto logits = random_floats(static_cast<size_t>(rows * experts), 11);
  auto bias = random_floats(static_cast<size_t>(experts), 12, 0.1f);
  logits[3] = logits[4] = 3.0f;  // a tie near the top: the lower expert id wins
  bias[3] = bias[4];
  const std::vector<int32_t> tokens = {0, 1, 2, 3};
  auto gpu = kc::route(logits, rows, experts, k, bias, {}, tokens, 1.5f);
  REQUIRE(gpu.ok());
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<float> score(static_cast<size_t>(experts)), biased(score.size());
    for (int64_t e = 0; e < experts; ++e) {
      score[static_cast<size_t>(e)] = std::sqrt(cpu::softplus(logits[static_cast<size_t>(r * experts + e)]));
      biased[static_cast<size_t>(e)] = score[static_cast<size_t>(e)] + bias[static_cast<size_t>(e)];
    }
    std::vector<int32_t> order(static_cast<size_t>(experts));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return biased[static_cast<size_t>(a)] > biased[static_cast<size_t>(b)]; });
    float total = 0.0f;
    for (int i = 0; i < k; ++i) total += score[static_cast<size_t>(order[static_cast<size_t>(i)])];
    for (int i = 0; i < k; ++i) {
      CHECK(gpu->chosen[static_cast<size_t>(r * k + i)] == order[static_cast<size_t>(i)]);
      CHECK(gpu->weights[static_cast<size_t>(r * k + i)] ==
            Approx(score[static_cast<size_t>(order[static_cast<size_t>(i)])] / total * 1.5f).epsilon(1e-6));
    }
  }
  // Hash routing copies tid2eid rows.
  std::vector<int32_t> tid2eid(static_cast<size_t>(4 * k));
  std::iota(tid2eid.begin(), tid2eid.end(), 0);
  auto hashed = kc::route(logits, rows, experts, k, {}, tid2eid, std::vector<int32_t>{3, 0, 1, 2}, 1.0f);
  REQUIRE(hashed.ok());
  CHECK(std::vector<int32_t>(hashed->chosen.begin(), hashed->chosen.begin() + k) ==
        std::vector<int32_t>(tid2eid.begin() + 3 * k, tid2eid.begin() + 4 * k));

  const auto gate = random_floats(3 * 50, 13, 4.0f), up = random_floats(3 * 50, 14, 4.0f);
  const std::vector<float> weights = {0.5f, 1.0f, 2.0f};
  auto act = kc::swiglu(gate, up, weights, 3, 2.5f);
  REQUIRE(act.ok());
  std::vector<float> cpu_act(gate.size());
  for (size_t i = 0; i < gate.size(); ++i) {
    const float u = std::clamp(up[i], -2.5f, 2.5f), g = std::min(gate[i], 2.5f);
    cpu_act[i] = weights[i / 50] * (cpu::silu(g) * u);
  }
  check_close(*act, cpu_act, 1e-6f);
}

TEST_CASE("CUDA indexer selection keeps the best entries in the CPU's order", "[cuda][kernels]") {
  if (!gpu_ready()) return;
  const int64_t heads = 2, head_dim = 16;
  for (auto [available, keep] : {std::pair{int64_t{5}, int64_t{4}}, {int64_t{3}, int64_t{3}}, {int64_t{1000}, int64_t{64}},
                                 {int64_t{70000}, int64_t{512}}}) {
    INFO(available << " entries, keep " << keep);
    // Small integers and binary-fraction weights make every score exact in
    // any summation order, so the two sides agree bit for bit and many
    // scores tie (ties go to the lower id).
    std::mt19937 rng(static_cast<uint32_t>(available));
    auto small = [&] { return static_cast<float>(static_cast<int>(rng() % 7) - 3); };
    std::vector<float> q(static_cast<size_t>(heads * head_dim)), entries(static_cast<size_t>(available * head_dim));
    for (float& v : q) v = small();
    for (float& v : entries) v = small();
    const std::vector<float> head_weights = {0.75f, -0.25f};
    auto gpu = kc::indexer_select(q, head_weights, heads, entries, available, keep);
    REQUIRE(gpu.ok());
    std::vector<float> score(static_cast<size_t>(available));
    for (int64_t j = 0; j < available; ++j) {
      float total = 0.0f;
      for (int64_t h = 0; h < heads; ++h) {
        float dot = 0.0f;
        for (int64_t i = 0; i < head_dim; ++i) dot += q[static_cast<size_t>(h * head_dim + i)] * entries[static_cast<size_t>(j * head_dim + i)];
        total += std::max(dot, 0.0f) * head_weights[static_cast<size_t>(h)];
      }
      score[static_cast<size_t>(j)] = total;
    }
    std::vector<int32_t> order(static_cast<size_t>(available));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return score[static_cast<size_t>(a)] > score[static_cast<size_t>(b)]; });
    order.resize(static_cast<size_t>(keep));
    CHECK(*gpu == order);
  }
}
