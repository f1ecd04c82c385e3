// The decode hot path allocates nothing: once the calling thread has seen
// a shape (its activation scratch grown), a linear call of that shape with
// a few input rows makes no heap allocation on any thread, pool hand-offs
// included; and a whole decode step of the model allocates only the results
// it returns. Counted by replacing the global operator new of this test
// binary.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include "engine/cpu/linear.h"
#include "engine/runtime/model.h"
#include "tests/engine/test_weights.h"
#include "tests/test_support.h"

namespace {
std::atomic<long> g_allocations{0};
}

// Every plain and nothrow form is replaced (the aligned ones are left
// alone, in pairs), so that each allocation meets its own release
// (sanitizers check that what operator new gave is not freed elsewhere).
namespace {
void* counted_allocation(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t size) { return counted_allocation(size); }
void* operator new[](std::size_t size) { return counted_allocation(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

using namespace beluga;

TEST_CASE("a warm linear call allocates nothing in every storage", "[cpu][linear]") {
  struct Case {
    WeightStorage storage;
    DType dtype;
    int64_t rows;
  };
  // Large enough (out >= 2 x 64 rows) that parallel_for hands work to the pool.
  for (const Case& k : {Case{WeightStorage::kFP4, DType::I8, 1}, Case{WeightStorage::kFP8, DType::F8_E4M3, 1},
                        Case{WeightStorage::kBF16, DType::BF16, 1}, Case{WeightStorage::kFP8, DType::F8_E4M3, 4}}) {
    beluga::testing::TestWeight tw(k.storage, k.dtype, 512, 256, 23);
    auto x = beluga::testing::random_floats(static_cast<size_t>(k.rows * 256), 29);
    std::vector<float> y(static_cast<size_t>(k.rows * 512));
    for (int warm = 0; warm < 8; ++warm) cpu::linear(tw.w, x, k.rows, y);
    const long before = g_allocations.load();
    for (int i = 0; i < 20; ++i) cpu::linear(tw.w, x, k.rows, y);
    CHECK(g_allocations.load() - before == 0);
  }
}

TEST_CASE("a warm decode step allocates only the results it returns", "[cpu][linear][forward]") {
  auto model = Model::load(beluga::testing::golden_path("tiny-fp8"));
  REQUIRE(model.ok());
  StackState state = (*model)->new_state();
  const int32_t prompt[] = {5, 9, 2, 7, 11, 3};
  SequenceChunk chunk{&state, prompt};
  REQUIRE((*model)->forward(std::span<const SequenceChunk>(&chunk, 1), {}).ok());
  int32_t token = 4;
  bool all_ok = true;  // no Catch macro inside the counted steps (they may allocate)
  auto step = [&] {
    SequenceChunk one{&state, std::span<const int32_t>(&token, 1)};
    auto result = (*model)->forward(std::span<const SequenceChunk>(&one, 1), {});
    all_ok = all_ok && result.ok();
    if (result.ok()) token = static_cast<int32_t>(1 + result->front().logits.size() % 7);
  };
  for (int warm = 0; warm < 4; ++warm) step();  // every buffer at its decode size
  const long before = g_allocations.load();
  constexpr int kSteps = 8;
  for (int i = 0; i < kSteps; ++i) step();
  const long allocations = g_allocations.load() - before;
  REQUIRE(all_ok);
  INFO(allocations << " allocations in " << kSteps << " steps");
  // The results vector and its one ChunkResult's logits; the state's growth
  // (compressed entries appended) is amortised and adds one now and then
  // (23 in 8 steps when written; before the forward reused its buffers, a
  // decode step of the bench checkpoint made about 160).
  CHECK(allocations <= 4 * kSteps);
}
