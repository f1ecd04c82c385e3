// Fuzzes config.json parsing and, for accepted configs, the manifest derived
// from it: neither may crash, and an accepted config must give a manifest
// whose tensors have positive-size dims and names that are unique.
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>

#include "engine/model/config.h"
#include "engine/model/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = beluga::parse_model_config(text, "fuzz");
  if (!config) return 0;
  // Bound the work per input: huge (but valid) models are legal configs.
  if (config->num_blocks() * config->n_routed_experts > 4096) return 0;
  std::set<std::string> names;
  beluga::for_each_tensor(*config, [&](const beluga::TensorSpec& spec) {
    if (!names.insert(spec.name).second) std::abort();
    for (int64_t d : spec.shape)
      if (d <= 0) std::abort();
  });
  return 0;
}
