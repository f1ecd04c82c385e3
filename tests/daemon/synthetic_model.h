// A synthetic V4 checkpoint (engine/model/synth.h: v4-micro shapes, random
// weights) with the real V4 tokenizer, made once per test process: enough
// for the embedded engine to tokenize, prefill and generate, so the daemon's
// model paths (beluga/complete) run without weights.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "engine/model/synth.h"
#include "engine/model/tokenizer_assembly.h"
#include "tests/test_support.h"

namespace beluga::testing {

inline const std::string& synthetic_model_dir() {
  static ScratchDir dir;
  static const std::string folder = [] {
    const std::string out = dir.file("v4-micro");
    auto config = nlohmann::json::parse(read_text(source_path("scripts/configs/v4-micro.config.json")));
    config["vocab_size"] = 129280;  // the tokenizer's ids
    config["max_position_embeddings"] = 8192;
    SynthOptions options;
    options.seed = 11;
    if (auto made = synthesize_checkpoint(config.dump(), "v4-micro (V4 vocabulary)", options, out); !made)
      throw std::runtime_error(made.message());
    if (auto made = assemble_tokenizer_file(golden_path("tokenizer/tokenizer.json"),
                                            golden_path("tokenizer/v4_added_tokens.json"), out + "/tokenizer.json");
        !made)
      throw std::runtime_error(made.message());
    return out;
  }();
  return folder;
}

}  // namespace beluga::testing
