// The benchmark's synthetic checkpoint cache: a folder holding the checkpoint
// synthesize_checkpoint() writes for one config.json (seed 0, storage as the
// config says), reused by later runs.
//
// synth writes config.json first (re-serialised, keys sorted) and the shards
// after it, so neither the presence nor the text of DIR/config.json proves a
// finished checkpoint of this config. The cache therefore keeps its own stamp,
// DIR/bench-source.config.json, a byte copy of the source config written
// atomically only after synthesis succeeded: the cache is valid iff the stamp
// equals the source text byte for byte and DIR/config.json exists. Anything
// else (another config, an interrupted run) re-synthesises.
//
// Thread contract: plain function; one process per cache folder.
#pragma once

#include <string>

#include "engine/base/result.h"

namespace beluga::bench {

struct CachedCheckpoint {
  std::string folder;
  bool synthesized_now = false;  // false: reused from an earlier run
  double synth_seconds = 0.0;
};

// Reads `config_path`, and synthesises its checkpoint into `cache_dir` unless
// the cache already holds it. Progress goes to stderr.
Result<CachedCheckpoint> ensure_synthetic_checkpoint(const std::string& config_path, const std::string& cache_dir);

}  // namespace beluga::bench
