#include "lsp/lsp_command.h"

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "lsp/lsp_server.h"

namespace beluga {

CLI::App* add_lsp_command(CLI::App& app, LspCommand& cmd) {
  CLI::App* lsp = app.add_subcommand(
      "lsp", "Language Server on stdio for editors (code actions, inline completion, chat), bridged to the daemon");
  lsp->add_option("--model", cmd.model, "Checkpoint folder, replay:FILE or remote:URL, used if the daemon has to be started");
  lsp->add_option("--log-level", cmd.log_level, "info (default) or debug: what goes to stderr")
      ->check(CLI::IsMember({"info", "debug"}));
  return lsp;
}

int run_lsp_command(const LspCommand& cmd) {
  ::signal(SIGPIPE, SIG_IGN);
  lsp::LspOptions options;
  options.model = cmd.model;
  options.log_level = cmd.log_level == "debug" ? lsp::LogLevel::kDebug : lsp::LogLevel::kInfo;
  return lsp::run_lsp_server(STDIN_FILENO, STDOUT_FILENO, options);
}

}  // namespace beluga
