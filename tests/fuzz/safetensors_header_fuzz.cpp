// Fuzzes the safetensors header parser with whole files. Whatever the bytes,
// parse_safetensors must return a value (never crash, overflow or leak), and
// an accepted layout must describe tensors inside the data section.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "engine/model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto layout = beluga::parse_safetensors(std::span<const uint8_t>(data, size), "fuzz");
  if (!layout) return 0;
  const uint64_t data_bytes = size - layout->data_offset;
  for (const auto& t : layout->tensors) {
    if (t.data_begin > t.data_end || t.data_end > data_bytes) std::abort();
    if (t.byte_count() != static_cast<uint64_t>(t.element_count()) * beluga::dtype_size_bytes(t.dtype))
      std::abort();
  }
  return 0;
}
