// The CUDA backend end to end: every golden checkpoint replayed on the GPU
// with the CPU backend's checks and tolerances, and the two backends run
// side by side on synthetic checkpoints of several shapes (chunked
// prefill, batches, decode, MTP, snapshots through host memory). Without
// a usable GPU each test says why and passes vacuously.
#include <catch2/catch.hpp>

#include <filesystem>

#include "engine/cuda/cuda_model.h"
#include "engine/model/synth.h"
#include "engine/runtime/model.h"
#include "tests/engine/cuda/cuda_test_support.h"
#include "tests/engine/golden_checks.h"
#include "tests/engine/synthetic_checkpoints.h"
#include "tests/test_support.h"

using namespace beluga;
using namespace beluga::testing;

namespace {

class CudaBackend : public GoldenBackend {
 public:
  explicit CudaBackend(const std::string& folder) {
    auto weights = ModelWeights::load(folder);
    INFO(folder);
    REQUIRE(weights.ok());
    auto model = cuda::CudaModel::load(**weights);
    REQUIRE(model.ok());
    model_ = std::move(model).value();
  }
  const ModelConfig& config() const override { return model_->config(); }
  void reset() override {
    auto state = model_->new_state();
    REQUIRE(state.ok());
    state_ = std::move(state).value();
  }
  ChunkResult run(std::span<const int32_t> tokens, const ForwardOptions& options) override {
    cuda::CudaChunk chunk{state_.get(), tokens};
    auto result = model_->forward(std::span<const cuda::CudaChunk>(&chunk, 1), options);
    INFO((result.ok() ? std::string() : result.message()));
    REQUIRE(result.ok());
    return std::move(result->front());
  }
  ChunkResult run_mtp(std::span<const float> hidden, std::span<const int32_t> next,
                      const ForwardOptions& options) override {
    auto mtp_state = model_->new_mtp_state();
    REQUIRE(mtp_state.ok());
    auto result = model_->forward_mtp(**mtp_state, hidden, next, options);
    INFO((result.ok() ? std::string() : result.message()));
    REQUIRE(result.ok());
    return std::move(result).value();
  }
  cuda::CudaModel& model() { return *model_; }

 private:
  std::unique_ptr<cuda::CudaModel> model_;
  std::unique_ptr<cuda::CudaState> state_;
};

using Shape = SynthShape;

const Shape kShapes[] = {
    {"micro fp8 (window 4, ratios 0/4/16)", "v4-micro.config.json", SynthStorage::kFP8},
    {"micro bf16", "v4-micro.config.json", SynthStorage::kBF16},
    {"tiny fp8 (window 16, ratios 0/0/4/16/4/16)", "v4-tiny.config.json", SynthStorage::kFP8},
    {"tiny bf16", "v4-tiny.config.json", SynthStorage::kBF16},
};

const std::string& checkpoint(const Shape& shape) { return synthetic_checkpoint(shape); }

// Logits (or streams) agree to `tolerance` relative to their scale.
void check_close(std::span<const float> gpu, std::span<const float> cpu, float tolerance) {
  REQUIRE(gpu.size() == cpu.size());
  float scale = 1.0f, worst = 0.0f;
  for (float v : cpu) scale = std::max(scale, std::fabs(v));
  for (size_t i = 0; i < cpu.size(); ++i) worst = std::max(worst, std::fabs(gpu[i] - cpu[i]));
  INFO("max |gpu - cpu| = " << worst << " at scale " << scale);
  CHECK(worst <= tolerance * scale);
}

// BF16 checkpoints differ between the backends only by float32 summation
// order. FP8/FP4 ones also quantise activations to e4m3 before each linear:
// a value within float32 noise of a rounding midpoint can round the other
// way (the tiny-fp8 golden case at position 23 shows one), moving that
// activation by one e4m3 step, so their tolerance is looser.
float tolerance_for(const Shape& shape) { return shape.storage == SynthStorage::kBF16 ? 1e-4f : 3e-3f; }

std::vector<float> gpu_logits(cuda::CudaModel& model, cuda::CudaState& state, std::span<const int32_t> tokens,
                              const ForwardOptions& options = {}) {
  cuda::CudaChunk chunk{&state, tokens};
  auto out = model.forward(std::span<const cuda::CudaChunk>(&chunk, 1), options);
  INFO((out.ok() ? std::string() : out.message()));
  REQUIRE(out.ok());
  return std::move(out->front().logits);
}

}  // namespace

TEST_CASE("the CUDA forward pass reproduces the official reference on tiny-bf16", "[cuda][golden]") {
  if (!gpu_ready()) return;
  CudaBackend backend(golden_path("tiny-bf16"));
  check_golden_folder(backend, golden_path("tiny-bf16"));
}

TEST_CASE("the CUDA forward pass reproduces the official reference on tiny-fp8", "[cuda][golden]") {
  if (!gpu_ready()) return;
  CudaBackend backend(golden_path("tiny-fp8"));
  check_golden_folder(backend, golden_path("tiny-fp8"));
}

TEST_CASE("the CUDA forward pass reproduces every other golden checkpoint present", "[cuda][golden]") {
  if (!gpu_ready()) return;
  for (const auto& entry : std::filesystem::directory_iterator(golden_dir())) {
    const std::string name = entry.path().filename().string();
    if (name == "tiny-bf16" || name == "tiny-fp8" || name.rfind("tiny-", 0) != 0) continue;
    if (!std::filesystem::exists(entry.path() / "golden.safetensors")) continue;
    CudaBackend backend(entry.path().string());
    check_golden_folder(backend, entry.path().string());
  }
}

TEST_CASE("CUDA final streams match the reference at every prompt position of tiny-bf16", "[cuda][golden]") {
  if (!gpu_ready()) return;
  CudaBackend backend(golden_path("tiny-bf16"));
  check_streams_at_every_position(backend, golden_path("tiny-bf16"));
}

TEST_CASE("the CUDA backend is chunking- and batching-invariant and agrees with the CPU", "[cuda][backends]") {
  if (!gpu_ready()) return;
  for (const Shape& shape : kShapes) {
    INFO(shape.name);
    const float tolerance = tolerance_for(shape);
    const std::string& folder = checkpoint(shape);
    auto cpu_model = Model::load(folder);
    REQUIRE(cpu_model.ok());
    auto weights = ModelWeights::load(folder);
    REQUIRE(weights.ok());
    auto loaded = cuda::CudaModel::load(**weights);
    REQUIRE(loaded.ok());
    cuda::CudaModel& gpu = **loaded;
    const int64_t vocab = (*cpu_model)->config().vocab_size;
    const auto a = prompt_tokens(70, vocab, 1), b = prompt_tokens(23, vocab, 2);
    ForwardOptions every;
    every.logits_for_every_token = true;

    // One shot per sequence, then both in one batch with `a` in uneven
    // chunks: every token's logits are bit-identical on the GPU too.
    auto solo_a = gpu.new_state(), solo_b = gpu.new_state();
    REQUIRE(solo_a.ok());
    REQUIRE(solo_b.ok());
    const std::vector<float> whole_a = gpu_logits(gpu, **solo_a, a, every), whole_b = gpu_logits(gpu, **solo_b, b, every);
    auto batch_a = gpu.new_state(), batch_b = gpu.new_state();
    REQUIRE(batch_a.ok());
    REQUIRE(batch_b.ok());
    std::vector<float> chunked_a, chunked_b;
    size_t done_a = 0, done_b = 0;
    for (size_t step : {size_t{33}, size_t{16}, size_t{21}}) {
      const auto chunk_a = std::span<const int32_t>(a).subspan(done_a, step);
      const auto chunk_b = std::span<const int32_t>(b).subspan(done_b, std::min<size_t>(8, b.size() - done_b));
      cuda::CudaChunk chunks[] = {{batch_a->get(), chunk_a}, {batch_b->get(), chunk_b}};
      auto out = gpu.forward(chunks, every);
      REQUIRE(out.ok());
      chunked_a.insert(chunked_a.end(), (*out)[0].logits.begin(), (*out)[0].logits.end());
      chunked_b.insert(chunked_b.end(), (*out)[1].logits.begin(), (*out)[1].logits.end());
      done_a += chunk_a.size();
      done_b += chunk_b.size();
    }
    CHECK(chunked_a == whole_a);
    CHECK(chunked_b == whole_b);
    CHECK((*batch_a)->position() == 70);

    // CPU and GPU from the same state, token by token: the CPU's state is
    // uploaded before each token, so differences cannot accumulate. A token
    // whose routed experts or indexer entries differ between the backends
    // took the other side of a near-tie (gate scores are sums in another
    // order); that is rare, and such a token's logits are not compared.
    StackState cpu_state = (*cpu_model)->new_state();
    int choice_flips = 0;
    for (size_t t = 0; t < a.size(); ++t) {
      INFO("token " << t);
      auto same = gpu.new_state();
      REQUIRE(same.ok());
      REQUIRE(gpu.upload(cpu_state, **same).ok());
      ForwardOptions traced;
      traced.trace = true;
      traced.keep_hidden = true;
      const auto one = std::span<const int32_t>(a).subspan(t, 1);
      cuda::CudaChunk gpu_chunk{same->get(), one};
      SequenceChunk cpu_chunk{&cpu_state, one};
      auto gpu_out = gpu.forward(std::span<const cuda::CudaChunk>(&gpu_chunk, 1), traced);
      auto cpu_out = (*cpu_model)->forward(std::span<const SequenceChunk>(&cpu_chunk, 1), traced);
      REQUIRE(gpu_out.ok());
      REQUIRE(cpu_out.ok());
      const auto& gc = gpu_out->front().block_choices;
      const auto& cc = cpu_out->front().block_choices;
      REQUIRE(gc.size() == cc.size());
      bool same_choices = true;
      for (size_t b = 0; b < gc.size(); ++b)
        same_choices = same_choices && gc[b].experts == cc[b].experts && gc[b].indexer_entries == cc[b].indexer_entries;
      if (!same_choices) {
        if (choice_flips++ == 0)
          for (size_t b = 0; b < gc.size(); ++b) {
            auto list = [](const auto& v) {
              std::string out;
              for (auto e : v) out += std::to_string(e) + " ";
              return out;
            };
            if (gc[b].experts != cc[b].experts || gc[b].indexer_entries != cc[b].indexer_entries)
              WARN("first choice difference, block " << b << ": experts gpu " << list(gc[b].experts) << "cpu "
                   << list(cc[b].experts) << "; entries gpu " << list(gc[b].indexer_entries) << "cpu "
                   << list(cc[b].indexer_entries));
          }
        continue;
      }
      check_close(gpu_out->front().logits, cpu_out->front().logits, tolerance);
      check_close(gpu_out->front().hidden, cpu_out->front().hidden, tolerance);
    }
    CHECK(choice_flips <= 2);

    // Snapshot through host memory: the state downloaded from one GPU
    // sequence and uploaded into a fresh one continues bit-identically.
    auto saved = gpu.download(**batch_a);
    REQUIRE(saved.ok());
    CHECK(saved->position == 70);
    auto copy = gpu.new_state();
    REQUIRE(copy.ok());
    REQUIRE(gpu.upload(*saved, **copy).ok());
    for (int32_t token : prompt_tokens(5, vocab, 3)) {
      const auto one = std::span<const int32_t>(&token, 1);
      CHECK(gpu_logits(gpu, **copy, one) == gpu_logits(gpu, **batch_a, one));
    }

    // The MTP block on the same hidden rows.
    if ((*cpu_model)->config().num_nextn_predict_layers > 0) {
      StackState cpu_mtp = (*cpu_model)->new_mtp_state();
      auto gpu_mtp = gpu.new_mtp_state();
      REQUIRE(gpu_mtp.ok());
      StackState fresh = (*cpu_model)->new_state();
      SequenceChunk whole{&fresh, std::span<const int32_t>(a).first(20)};
      ForwardOptions keep;
      keep.keep_hidden = true;
      auto main = (*cpu_model)->forward(std::span<const SequenceChunk>(&whole, 1), keep);
      REQUIRE(main.ok());
      const auto shifted = std::span<const int32_t>(a).subspan(1, 20);
      auto cpu_m = (*cpu_model)->forward_mtp(cpu_mtp, main->front().hidden, shifted, every);
      auto gpu_m = gpu.forward_mtp(**gpu_mtp, main->front().hidden, shifted, every);
      REQUIRE(cpu_m.ok());
      REQUIRE(gpu_m.ok());
      check_close(gpu_m->logits, cpu_m->logits, tolerance);
    }
  }
}

TEST_CASE("the CUDA backend refuses bad input with a message and keeps its state", "[cuda][backends]") {
  if (!gpu_ready()) return;
  const std::string& folder = checkpoint(kShapes[0]);
  auto weights = ModelWeights::load(folder);
  REQUIRE(weights.ok());
  auto model = cuda::CudaModel::load(**weights);
  REQUIRE(model.ok());
  auto state = (*model)->new_state();
  REQUIRE(state.ok());
  const std::vector<int32_t> bad = {1, static_cast<int32_t>((*model)->config().vocab_size)};
  cuda::CudaChunk chunk{state->get(), bad};
  auto out = (*model)->forward(std::span<const cuda::CudaChunk>(&chunk, 1), {});
  REQUIRE_FALSE(out.ok());
  CHECK_THAT(out.message(), Catch::Contains("outside the vocabulary"));
  CHECK((*state)->position() == 0);
  StackState wrong;
  wrong.blocks.resize(1);
  CHECK_FALSE((*model)->upload(wrong, **state).ok());
  CHECK_FALSE((*model)->new_mtp_state(7).ok());
}
