// Synthetic checkpoints for engine tests: one folder per shape, written once
// per test process by the synthesiser `beluga model synth` uses, and seeded
// prompt token ids. Shared by tests/engine/engine_test.cpp (CPU runtime
// guarantees) and tests/engine/cuda/backend_test.cpp (CPU vs GPU).
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/model/synth.h"
#include "tests/test_support.h"

namespace beluga::testing {

struct SynthShape {
  const char* name;
  const char* config;  // under scripts/configs
  SynthStorage storage;
};

inline const std::string& synthetic_checkpoint(const SynthShape& shape) {
  static std::map<std::string, std::string> folders;
  static ScratchDir root;
  auto it = folders.find(shape.name);
  if (it != folders.end()) return it->second;
  const std::string folder = root.file(std::to_string(folders.size()));
  SynthOptions options;
  options.seed = 11;
  options.storage = shape.storage;
  auto result = synthesize_checkpoint(read_text(source_path(std::string("scripts/configs/") + shape.config)),
                                      shape.config, options, folder);
  REQUIRE(result.ok());
  return folders[shape.name] = folder;
}

// n token ids in [0, vocab) from a xorshift sequence seeded by `seed`.
inline std::vector<int32_t> prompt_tokens(size_t n, int64_t vocab, uint32_t seed) {
  std::vector<int32_t> ids(n);
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto& id : ids) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    id = static_cast<int32_t>(x % static_cast<uint64_t>(vocab));
  }
  return ids;
}

}  // namespace beluga::testing
