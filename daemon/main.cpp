// beluga: one binary, subcommands. This file only parses the command line
// and dispatches; each command lives in its own file.
#include <CLI/CLI.hpp>

#include "daemon/model_commands.h"

#ifndef BELUGA_VERSION
#define BELUGA_VERSION "dev"
#endif

int main(int argc, char** argv) {
  CLI::App app{"beluga: a coding-assistant daemon with an embedded DeepSeek V4 engine"};
  app.set_version_flag("--version", std::string("beluga ") + BELUGA_VERSION);
  app.require_subcommand(1);

  CLI::App* model = app.add_subcommand("model", "Work with DeepSeek V4 checkpoints (offline)");
  model->require_subcommand(1);

  beluga::ManifestCommand manifest;
  CLI::App* manifest_cmd = model->add_subcommand(
      "manifest", "Print the tensors (count per dtype, total bytes) a checkpoint of this config holds");
  manifest_cmd->add_option("--config", manifest.config_path, "config.json of a DeepSeek V4 model")
      ->required()
      ->check(CLI::ExistingFile);
  manifest_cmd->add_flag("--json", manifest.json,
                         "Print {\"tensors\": N, \"bytes\": N, \"dtypes\": {\"BF16\": N, ...}}");

  beluga::InspectCommand inspect;
  CLI::App* inspect_cmd = model->add_subcommand(
      "inspect", "Check a checkpoint folder against its config; list missing, unexpected and mismatched tensors");
  inspect_cmd->add_option("DIR", inspect.folder, "Checkpoint folder (config.json + safetensors)")->required();
  inspect_cmd->add_flag("--json", inspect.json, "Print the report as JSON");

  beluga::SynthCommand synth;
  CLI::App* synth_cmd = model->add_subcommand(
      "synth", "Write a checkpoint in the released format with seeded random weights");
  synth_cmd->add_option("--config", synth.config_path, "config.json describing the shapes")
      ->required()
      ->check(CLI::ExistingFile);
  synth_cmd->add_option("--out", synth.out_dir, "Folder to write (created if needed)")->required();
  synth_cmd->add_option("--seed", synth.seed, "Random seed (default 0)");
  synth_cmd->add_option("--storage", synth.storage,
                        "bf16: every linear BF16; fp8: FP8 linears + FP4 routed experts, as released "
                        "(default: as the config says)")
      ->check(CLI::IsMember({"bf16", "fp8"}));
  synth_cmd->add_option("--shards", synth.shards, "Number of safetensors shards (default 1)")
      ->check(CLI::Range(1, 100000));

  CLI11_PARSE(app, argc, argv);

  if (*manifest_cmd) return beluga::run_model_manifest(manifest);
  if (*inspect_cmd) return beluga::run_model_inspect(inspect);
  if (*synth_cmd) return beluga::run_model_synth(synth);
  return 1;
}
