// The forward pass's per-thread buffers (thread_local in model.cpp,
// block.cpp, attention.cpp, moe.cpp) are kept between calls so that a decode
// step allocates nothing once warm. They are kept only while small: after a
// call of more than kKeptRows rows (a prefill chunk, whose allocations are
// spread over its tokens anyway) they are freed, so that a thread which
// once prefilled does not hold that chunk's memory for the rest of its life.
#pragma once

#include <cstddef>
#include <vector>

namespace beluga {

inline constexpr size_t kKeptRows = 16;

template <typename... Vectors>
void release_after_large_call(size_t rows, Vectors&... vectors) {
  if (rows <= kKeptRows) return;
  ((vectors = std::remove_reference_t<Vectors>()), ...);
}

}  // namespace beluga
