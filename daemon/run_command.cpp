#include "daemon/run_command.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <unistd.h>

#include "agent/agent_config.h"
#include "daemon/command_output.h"
#include "indexer/indexer.h"
#include "tools/registry.h"

namespace beluga {
namespace {

std::atomic<bool>* g_cancel = nullptr;

extern "C" void on_sigint(int) {
  if (g_cancel == nullptr || g_cancel->load()) _exit(130);
  g_cancel->store(true);
}

}  // namespace

void cancel_on_interrupt(agent::Agent* agent) {
  g_cancel = agent ? &agent->cancel_flag() : nullptr;
  struct sigaction action {};
  action.sa_handler = on_sigint;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
}

CLI::App* add_run_command(CLI::App& app, RunCommand& cmd) {
  CLI::App* run = app.add_subcommand("run", "Run one agent task in a workspace (headless) and stream what happens");
  run->add_option("TASK", cmd.task, "What to do, in words")->required();
  run->add_option("--model", cmd.args.model, "Checkpoint folder, replay:FILE (recorded model outputs, JSONL) or remote:URL (docs/remote.md)")->required();
  run->add_option("--mode", cmd.args.mode, "Permission mode: default (ask before writes and shell), auto-edit, plan "
                                           "(read-only), yolo (allow all but deny rules)")
      ->check(CLI::IsMember({"default", "auto-edit", "plan", "yolo"}));
  run->add_flag("--json", cmd.args.json, "Write one JSON event per line (docs/agent.md)");
  run->add_option("--max-steps", cmd.args.max_steps, "Model calls at most (default 50)")->check(CLI::Range(1, 100000));
  run->add_option("--record", cmd.args.record, "Write the model's outputs to FILE (JSONL, replayable with replay:FILE)");
  run->add_flag("--no-think", cmd.args.no_think, "Chat mode: the model answers without reasoning first");
  run->add_option("--workspace", cmd.args.workspace, "The repository to work in (default: the current folder)");
  run->add_option("--session", cmd.args.session, "Continue this session (its transcript and settings)");
  return run;
}

Result<OpenedAgent> open_agent(const AgentArgs& args, TerminalOutput& output,
                               std::unique_ptr<agent::ModelProvider> provider) {
  auto workspace = indexer::canonical_workspace(args.workspace);
  if (!workspace) return make_error("--workspace: " + workspace.message());
  auto config = agent::load_agent_config(*workspace);
  if (!config) return config.error();

  agent::AgentSetup setup;
  const bool reused = provider != nullptr;  // already wrapped for --record when it was first opened
  if (reused) {
    setup.provider = std::move(provider);
  } else {
    auto opened_provider = agent::open_model_provider(args.model);
    if (!opened_provider) return opened_provider.error();
    setup.provider = std::move(opened_provider).value();
  }
  if (!args.record.empty() && !reused) {
    auto recording = agent::wrap_recording(std::move(setup.provider), args.record);
    if (!recording) return recording.error();
    setup.provider = std::move(recording).value();
  }
  auto db = agent::default_session_db_path();
  if (!db) return db.error();
  auto store = agent::SessionStore::open(*db);
  if (!store) return store.error();

  OpenedAgent opened;
  opened.store = std::make_unique<agent::SessionStore>(std::move(store).value());
  opened.registry = std::make_unique<tools::ToolRegistry>(tools::make_default_registry());
  setup.store = opened.store.get();
  setup.registry = opened.registry.get();
  opened.mcp = tools::mcp::start_mcp_servers(*opened.registry, config->mcp_servers, *workspace,
                                 [](const std::string& line) { std::fprintf(stderr, "beluga: %s\n", line.c_str()); });
  if (opened.mcp) setup.tool_source = [mcp = opened.mcp.get()] { return mcp->registry(); };
  setup.workspace = *workspace;
  setup.policy.rules = config->rules;
  setup.policy.mode = config->mode.value_or(agent::PermissionMode::kDefault);
  if (!args.mode.empty()) {
    auto mode = agent::parse_permission_mode(args.mode);
    if (!mode) return make_error("--mode: " + mode.message());
    setup.policy.mode = *mode;
  }
  agent::AgentOptions& o = setup.options;
  if (config->max_steps) o.max_steps = *config->max_steps;
  if (args.max_steps > 0) o.max_steps = args.max_steps;
  if (config->max_output_tokens) o.max_output_tokens = *config->max_output_tokens;
  if (config->max_turn_tokens) o.max_turn_tokens = *config->max_turn_tokens;
  if (config->context_tokens) o.context_tokens = *config->context_tokens;
  if (config->compact_at) o.compact_at = *config->compact_at;
  o.thinking = args.no_think ? ThinkingMode::kChat : ThinkingMode::kThinking;
  setup.callbacks.on_event = [&output](const agent::AgentEvent& e) { output.on_event(e); };
  if (interactive_terminal())
    setup.callbacks.ask = [&output](const agent::PermissionRequest& r) { return output.ask(r); };

  if (args.session.empty()) {
    auto created = agent::Agent::create(std::move(setup));
    if (!created) return created.error();
    opened.agent = std::move(created).value();
  } else {
    const bool mode_given = !args.mode.empty();
    auto resumed = agent::Agent::resume(std::move(setup), args.session);
    if (!resumed) return resumed.error();
    opened.agent = std::move(resumed).value();
    if (!mode_given) {
      auto mode = agent::parse_permission_mode((*opened.agent).session().mode);
      if (mode) opened.agent->policy().mode = *mode;
    }
  }
  return opened;
}

int run_run_command(const RunCommand& cmd) {
  TerminalOutput output(cmd.args.json);
  auto opened = open_agent(cmd.args, output);
  if (!opened) return fail(opened.message());
  cancel_on_interrupt(opened->agent.get());
  agent::TurnResult result = opened->agent->run_turn(cmd.task);
  cancel_on_interrupt(nullptr);
  return exit_status(result.reason);
}

}  // namespace beluga
