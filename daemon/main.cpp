// beluga: one binary, subcommands. This file only parses the command line
// and dispatches; each command lives in its own file.
#include <CLI/CLI.hpp>

#include <iostream>

#include "daemon/bench_command.h"
#include "daemon/daemon_command.h"
#include "daemon/chat_command.h"
#include "daemon/context_command.h"
#include "daemon/index_commands.h"
#include "daemon/model_commands.h"
#include "daemon/run_command.h"
#include "daemon/template_command.h"
#include "daemon/tokenize_command.h"
#include "daemon/tool_command.h"
#include "lsp/lsp_command.h"

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
  synth_cmd->add_option("--tokenizer", synth.tokenizer_path,
                        "tokenizer.json to copy into the checkpoint (its ids must fit the config's vocab_size)")
      ->check(CLI::ExistingFile);

  beluga::LogitsCommand logits;
  CLI::App* logits_cmd = model->add_subcommand(
      "logits", "Prefill token ids, decode greedily, and print the logits (reference output for tests)");
  logits_cmd->add_option("--model", logits.model_dir, "Checkpoint folder")->required();
  logits_cmd->add_option("--prompt-ids", logits.prompt_ids, "Comma-separated token ids, e.g. 1,2,3")->required();
  logits_cmd->add_option("--decode", logits.decode_steps, "Greedy decode steps after the prefill (default 0)")
      ->check(CLI::Range(0, 1 << 20));
  logits_cmd->add_option("--chunk", logits.chunk, "Prefill in chunks of K tokens (default: all at once)")
      ->check(CLI::Range(1, 1 << 30));
  logits_cmd->add_option("--device", logits.device, "cpu (default) or cuda (needs the CUDA backend and a GPU)");
  logits_cmd->add_flag("--json", logits.json,
                       "Print {\"prefill\": [logits], \"steps\": [{\"token\": t, \"logits\": [...]}, ...]}");

  beluga::GenerateCommand generate;
  CLI::App* generate_cmd = model->add_subcommand("generate", "Sample tokens from a checkpoint and stream them");
  generate_cmd->add_option("--model", generate.model_dir, "Checkpoint folder")->required();
  auto* prompt_text = generate_cmd->add_option("--prompt", generate.prompt, "Prompt text");
  auto* prompt_ids = generate_cmd->add_option("--prompt-ids", generate.prompt_ids, "Comma-separated prompt token ids");
  prompt_text->excludes(prompt_ids);
  generate_cmd->add_option("-n", generate.max_tokens, "Tokens to generate (default 64)")->check(CLI::Range(0, 1 << 24));
  generate_cmd->add_option("--temp", generate.temperature, "Temperature; 0 = greedy (default 0)");
  generate_cmd->add_option("--top-k", generate.top_k, "Keep the k most likely tokens (0 = off)");
  generate_cmd->add_option("--top-p", generate.top_p, "Nucleus sampling threshold (1 = off)");
  generate_cmd->add_option("--min-p", generate.min_p, "Drop tokens below min-p times the best probability (0 = off)");
  generate_cmd->add_option("--seed", generate.seed, "Sampling seed (default 0)");
  generate_cmd->add_option("--device", generate.device, "cpu (default) or cuda (no speculative decoding yet)");
  generate_cmd->add_flag("--no-speculation", generate.no_speculation, "Do not draft tokens with the MTP block");

  beluga::TokenizeCommand tokenize;
  CLI::App* tokenize_cmd = beluga::add_tokenize_command(app, tokenize);

  beluga::ToolCommand tool;
  CLI::App* tool_cmd = beluga::add_tool_command(app, tool);

  beluga::IndexCommand index;
  CLI::App* index_cmd = beluga::add_index_command(app, index);

  beluga::SymbolsCommand symbols;
  CLI::App* symbols_cmd = beluga::add_symbols_command(app, symbols);

  beluga::RunCommand run;
  CLI::App* run_cmd = beluga::add_run_command(app, run);

  beluga::DaemonCommand daemon;
  CLI::App* daemon_cmd = beluga::add_daemon_command(app, daemon);
  beluga::AcpCommand acp;
  CLI::App* acp_cmd = beluga::add_acp_command(app, acp);
  beluga::LspCommand lsp;
  CLI::App* lsp_cmd = beluga::add_lsp_command(app, lsp);
  beluga::ChatCommand chat;
  CLI::App* chat_cmd = beluga::add_chat_command(app, chat);

  beluga::add_template_commands(app);  // runs from its callbacks: no dispatch line below
  beluga::add_context_command(app);    // likewise
  beluga::add_bench_commands(app);     // likewise

  CLI11_PARSE(app, argc, argv);

  if (*generate_cmd && generate.prompt.empty() && generate.prompt_ids.empty()) {
    std::cerr << "beluga: model generate needs --prompt or --prompt-ids\n";
    return 1;
  }

  if (*manifest_cmd) return beluga::run_model_manifest(manifest);
  if (*inspect_cmd) return beluga::run_model_inspect(inspect);
  if (*synth_cmd) return beluga::run_model_synth(synth);
  if (*logits_cmd) return beluga::run_model_logits(logits);
  if (*generate_cmd) return beluga::run_model_generate(generate);
  if (*tokenize_cmd) return beluga::run_tokenize(tokenize);
  if (*tool_cmd) return beluga::run_tool_command(tool);
  if (*index_cmd) return beluga::run_index(index);
  if (*symbols_cmd) return beluga::run_symbols(symbols);
  if (*run_cmd) return beluga::run_run_command(run);
  if (*daemon_cmd) return beluga::run_daemon_command(daemon);
  if (*acp_cmd) return beluga::run_acp_command(acp);
  if (*chat_cmd) return beluga::run_chat_command(chat);
  if (*lsp_cmd) return beluga::run_lsp_command(lsp);
  return 1;
}
