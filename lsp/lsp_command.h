// `beluga lsp [--model DIR|replay:FILE|remote:URL] [--log-level info|debug]`: the
// Language Server an editor starts (lsp_server.h; docs/protocol.md, "LSP
// bridge"). stdout carries only LSP messages; logs go to stderr.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace beluga {

struct LspCommand {
  std::string model;
  std::string log_level = "info";
};

CLI::App* add_lsp_command(CLI::App& app, LspCommand& cmd);
int run_lsp_command(const LspCommand& cmd);

}  // namespace beluga
