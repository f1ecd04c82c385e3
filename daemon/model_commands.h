// `beluga model ...`: offline commands on checkpoints (no daemon involved).
// Each returns the process exit code: 0 success, 1 failure or an invalid
// checkpoint; messages go to stderr, results to stdout.
#pragma once

#include <cstdint>
#include <string>

namespace beluga {

struct ManifestCommand {
  std::string config_path;
  bool json = false;
};
int run_model_manifest(const ManifestCommand& cmd);

struct InspectCommand {
  std::string folder;
  bool json = false;
};
int run_model_inspect(const InspectCommand& cmd);

struct SynthCommand {
  std::string config_path;
  std::string out_dir;
  uint64_t seed = 0;
  std::string storage;  // "", "bf16" or "fp8"
  int shards = 1;
};
int run_model_synth(const SynthCommand& cmd);

}  // namespace beluga
