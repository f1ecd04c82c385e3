// The golden-reference checks of the forward pass, shared by the CPU
// backend (tests/engine/runtime/golden_forward_test.cpp) and the CUDA
// backend (tests/engine/cuda/backend_test.cpp): every golden folder
// (../shared/golden/tiny-*/ with a golden.safetensors) is replayed — long and
// short prompts, greedy decoding, per-block residual streams, routed experts,
// indexer choices and the MTP block — and compared with the tolerances the
// golden READMEs recommend for a float32 implementation: 1e-4 absolute on
// logits and streams, exact on discrete choices.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/model/safetensors.h"
#include "engine/runtime/model.h"

namespace beluga::testing {

// One backend's forward pass over one main-model sequence.
class GoldenBackend {
 public:
  virtual ~GoldenBackend() = default;
  virtual const ModelConfig& config() const = 0;
  // Starts a fresh sequence.
  virtual void reset() = 0;
  // Appends `tokens` to the sequence.
  virtual ChunkResult run(std::span<const int32_t> tokens, const ForwardOptions& options) = 0;
  // MTP block 0 on a fresh MTP state.
  virtual ChunkResult run_mtp(std::span<const float> hidden, std::span<const int32_t> next,
                              const ForwardOptions& options) = 0;
};


inline constexpr float kTolerance = 1e-4f;

struct Golden {
  SafetensorsFile file;

  std::vector<float> floats(const std::string& name) const {
    const TensorEntry* e = find(name);
    std::vector<float> out(static_cast<size_t>(e->element_count()));
    std::memcpy(out.data(), file.view(*e).bytes.data(), out.size() * 4);
    return out;
  }
  std::vector<int64_t> ints(const std::string& name) const {
    const TensorEntry* e = find(name);
    std::vector<int64_t> out(static_cast<size_t>(e->element_count()));
    std::memcpy(out.data(), file.view(*e).bytes.data(), out.size() * 8);
    return out;
  }
  std::vector<int32_t> tokens(const std::string& name) const {
    std::vector<int32_t> out;
    for (int64_t v : ints(name)) out.push_back(static_cast<int32_t>(v));
    return out;
  }
  const TensorEntry* find(const std::string& name) const {
    for (const auto& e : file.tensors())
      if (e.name == name) return &e;
    FAIL("golden tensor missing: " << name);
    return nullptr;
  }
};

inline float max_abs_diff(std::span<const float> a, std::span<const float> b) {
  REQUIRE(a.size() == b.size());
  float worst = 0.0f;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
  return worst;
}

inline int32_t argmax(std::span<const float> v) {
  return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}


// Prefill `prompt`, then decode feeding the golden greedy tokens.
inline void check_prompt(GoldenBackend& model, const Golden& g, const std::string& prefix) {
  const int64_t vocab = model.config().vocab_size;
  const std::vector<int32_t> prompt = g.tokens(prefix + "_prompt_ids");
  const std::vector<int32_t> greedy = g.tokens(prefix + "_greedy_tokens");
  const std::vector<float> prefill_logits = g.floats(prefix + "_prefill_logits");
  const std::vector<float> decode_logits = g.floats(prefix + "_decode_logits");

  model.reset();
  ForwardOptions options;
  options.trace = true;
  ChunkResult prefill = model.run(prompt, options);
  INFO(prefix << " prefill");
  CHECK(max_abs_diff(prefill.logits, prefill_logits) < kTolerance);
  CHECK(argmax(prefill.logits) == greedy[0]);

  if (prefix == "long") {
    const std::vector<float> hidden = g.floats("long_prefill_hidden");
    const size_t width = prefill.block_streams.front().size();
    REQUIRE(prefill.block_streams.size() * width == hidden.size());
    for (size_t b = 0; b < prefill.block_streams.size(); ++b) {
      INFO("streams after block " << static_cast<int64_t>(b) - 1);
      CHECK(max_abs_diff(prefill.block_streams[b], std::span<const float>(hidden).subspan(b * width, width)) < kTolerance);
    }
    const std::vector<int64_t> experts = g.ints("long_prefill_topk_experts");
    const std::vector<float> weights = g.floats("long_prefill_topk_weights");
    const size_t k = static_cast<size_t>(model.config().num_experts_per_tok);
    for (size_t b = 0; b < prefill.block_choices.size(); ++b) {
      INFO("block " << b);
      const auto& chosen = prefill.block_choices[b];
      CHECK(std::vector<int64_t>(chosen.experts.begin(), chosen.experts.end()) ==
            std::vector<int64_t>(experts.begin() + b * k, experts.begin() + (b + 1) * k));
      CHECK(max_abs_diff(chosen.expert_weights, std::span<const float>(weights).subspan(b * k, k)) < kTolerance);
    }
    const std::vector<int64_t> indexer = g.ints("long_prefill_indexer_topk");
    const size_t topk = static_cast<size_t>(model.config().index_topk);
    size_t layer = 0;
    for (size_t b = 0; b < prefill.block_choices.size(); ++b) {
      if (model.config().attention_kind(static_cast<int64_t>(b)) != AttentionKind::kCSA) continue;
      INFO("indexer of block " << b);
      std::vector<int64_t> expected(indexer.begin() + layer * topk, indexer.begin() + (layer + 1) * topk);
      expected.erase(std::remove(expected.begin(), expected.end(), -1), expected.end());
      CHECK(prefill.block_choices[b].indexer_entries == expected);
      ++layer;
    }
  }

  for (size_t step = 0; step + 1 < greedy.size(); ++step) {
    INFO(prefix << " decode step " << step);
    ChunkResult decoded = model.run(std::span<const int32_t>(&greedy[step], 1), {});
    CHECK(max_abs_diff(decoded.logits, std::span<const float>(decode_logits).subspan(step * vocab, vocab)) < kTolerance);
    CHECK(argmax(decoded.logits) == greedy[step + 1]);
  }
}

inline void check_mtp(GoldenBackend& model, const Golden& g) {
  const std::vector<int32_t> prompt = g.tokens("long_prompt_ids");
  model.reset();
  ForwardOptions options;
  options.keep_hidden = true;
  ChunkResult main = model.run(prompt, options);
  // The MTP block reads our own streams; the test below compares them with
  // the reference's at every position.

  ForwardOptions trace;
  trace.trace = true;
  std::optional<ChunkResult> mtp = model.run_mtp(main.hidden, g.tokens("mtp_input_ids"), trace);
  CHECK(max_abs_diff(mtp->logits, g.floats("mtp_logits")) < kTolerance);
  const std::vector<int64_t> experts = g.ints("mtp_topk_experts");
  CHECK(std::vector<int64_t>(mtp->block_choices[0].experts.begin(), mtp->block_choices[0].experts.end()) == experts);
  CHECK(max_abs_diff(mtp->block_choices[0].expert_weights, g.floats("mtp_topk_weights")) < kTolerance);
}

inline Golden open_golden(const std::string& folder) {
  auto file = SafetensorsFile::open(folder + "/golden.safetensors");
  REQUIRE(file.ok());
  return Golden{std::move(file).value()};
}

// Every check of one golden folder on `model` (loaded from that folder).
inline void check_golden_folder(GoldenBackend& model, const std::string& folder) {
  INFO(folder);
  Golden g = open_golden(folder);
  SECTION("long prompt: prefill, streams, experts, indexer, decode") { check_prompt(model, g, "long"); }
  SECTION("short prompt: prefill and decode") { check_prompt(model, g, "short"); }
  SECTION("MTP block") { check_mtp(model, g); }
}

// Every prompt position's final streams (the MTP input), not only the last.
inline void check_streams_at_every_position(GoldenBackend& model, const std::string& folder) {
  Golden g = open_golden(folder);
  model.reset();
  ForwardOptions options;
  options.keep_hidden = true;
  ChunkResult main = model.run(g.tokens("long_prompt_ids"), options);
  const std::vector<float> expected = g.floats("mtp_input_hidden");
  const size_t positions = g.tokens("long_prompt_ids").size(), width = expected.size() / positions;
  for (size_t p = 0; p < positions; ++p) {
    INFO("position " << p);
    CHECK(max_abs_diff(std::span<const float>(main.hidden).subspan(p * width, width),
                       std::span<const float>(expected).subspan(p * width, width)) < kTolerance);
  }
}

}  // namespace beluga::testing
