// `beluga index` and `beluga symbols`: the workspace index on the command
// line (offline; no daemon).
//
//   beluga index PATH [--json] [--tokenizer FILE] [--max-file-bytes N] [--threads N]
//       brings PATH's index up to date (incrementally) and prints files,
//       symbols, references, tokens, languages and time; a progress bar on
//       stderr when it is a terminal.
//   beluga symbols PATH NAME [--json]
//       brings the index up to date the same way, then lists the
//       definitions and references of NAME (exact match).
//
// Token counts: with --tokenizer, the project's tokenizer (a tokenizer.json);
// without, an estimate (bytes/3) marked as such. `beluga symbols` counts the
// way the index was last built (the tokenizer recorded in it, if it still
// loads). The JSON shapes are documented in docs/indexer.md and checked by
// tests/cli/index_cli_test.cpp.
#pragma once

#include <cstdint>
#include <string>

#include "engine/base/result.h"
#include "indexer/indexer.h"

namespace CLI {
class App;
}

namespace beluga {

struct IndexCommand {
  std::string workspace;
  std::string tokenizer_path;
  uint64_t max_file_bytes = 1 << 20;
  int threads = 0;
  bool json = false;
};

struct SymbolsCommand {
  std::string workspace;
  std::string name;
  bool json = false;
};

CLI::App* add_index_command(CLI::App& app, IndexCommand& cmd);
CLI::App* add_symbols_command(CLI::App& app, SymbolsCommand& cmd);
int run_index(const IndexCommand& cmd);
int run_symbols(const SymbolsCommand& cmd);

// For commands that answer from the index (`beluga symbols`, `beluga
// context`): brings PATH's default index up to date, with a progress bar on
// a terminal, counting with `tokenizer_path` when given, else the way the
// index was last built (the tokenizer recorded in it, if it still loads).
struct UpdatedIndex {
  indexer::IndexOptions options;  // workspace (canonical), database_path, counter
  indexer::IndexReport report;
};
Result<UpdatedIndex> update_index_for_query(const std::string& workspace, const std::string& tokenizer_path);

}  // namespace beluga
