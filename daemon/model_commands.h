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
  std::string tokenizer_path;  // copied to OUT/tokenizer.json when set
};
int run_model_synth(const SynthCommand& cmd);

// `beluga model logits`: prefill token ids, then greedy decode steps, and
// print every logit as JSON {"prefill": [...], "steps": [{"token": t, "logits": [...]}]}.
struct LogitsCommand {
  std::string model_dir;
  std::string prompt_ids;  // "1,2,3"
  int decode_steps = 0;
  int chunk = 0;           // 0: the whole prompt in one pass
  std::string device = "cpu";
  bool json = false;
};
int run_model_logits(const LogitsCommand& cmd);

// `beluga model generate`: stream sampled tokens.
struct GenerateCommand {
  std::string model_dir;
  std::string prompt;      // text (needs a tokenizer)
  std::string prompt_ids;  // "1,2,3"
  int max_tokens = 64;
  float temperature = 0.0f;
  int top_k = 0;
  float top_p = 1.0f;
  float min_p = 0.0f;
  uint64_t seed = 0;
  bool no_speculation = false;
  std::string device = "cpu";  // cpu | cuda
};
int run_model_generate(const GenerateCommand& cmd);

}  // namespace beluga
