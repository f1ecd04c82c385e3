#include "daemon/tool_command.h"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>

#include "tools/registry.h"
#include "tools/tool.h"

namespace beluga {

CLI::App* add_tool_command(CLI::App& app, ToolCommand& cmd) {
  CLI::App* sub = app.add_subcommand(
      "tool", "Run one agent tool (read, write, edit, apply_patch, glob, list, grep, ...) once, confined to --root");
  sub->add_option("NAME", cmd.name, "Tool name, e.g. read")->required();
  sub->add_option("--args", cmd.args_json, "The tool's arguments as a JSON object, e.g. '{\"path\": \"a.txt\"}'")
      ->required();
  sub->add_option("--root", cmd.root, "Workspace root folder: every path the tool touches must lie inside it")
      ->required();
  sub->add_flag("--json", cmd.json, "Print {\"ok\": bool, \"text\": \"...\", \"data\": ...} instead of the text");
  return sub;
}

int run_tool_command(const ToolCommand& cmd) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path root = fs::canonical(cmd.root.empty() ? fs::path(".") : fs::path(cmd.root), ec);
  if (ec || !fs::is_directory(root)) {
    std::string why = ec ? ec.message() : "not a folder";
    if (cmd.json) {
      tools::ToolResult r = tools::ToolResult::error("beluga tool: --root " + cmd.root + ": " + why);
      std::cout << r.to_json_text() << "\n";
    } else {
      std::cerr << "beluga tool: --root " << cmd.root << ": " << why << "\n";
    }
    return 1;
  }
  tools::ToolRegistry registry = tools::make_default_registry();
  tools::ToolContext context;
  context.roots = {root};
  tools::ToolResult result = registry.call(cmd.name, cmd.args_json, context);
  if (cmd.json) {
    std::cout << result.to_json_text() << "\n";
  } else {
    std::ostream& out = result.ok ? std::cout : std::cerr;
    out << result.text;
    if (!result.text.empty() && result.text.back() != '\n') out << "\n";
  }
  return result.ok ? 0 : 1;
}

}  // namespace beluga
