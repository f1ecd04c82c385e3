// `beluga context`: the workspace packed into the model's context
// (indexer/context_packer.h), on the command line.
//
//   beluga context PATH --budget N [--focus FILE|FOLDER|SYMBOL ...] [--reserve F]
//                  [--since ID] [--tokenizer FILE] [--out FILE] [--json]
//
// Brings PATH's index up to date first (as `beluga symbols` does), then
// renders a base packing, or with --since only what changed since the
// recorded context ID. The text goes to stdout (or FILE with --out); a
// one-line summary to stderr (stdout with --out). --json prints one object
// instead: docs/indexer.md gives its keys. Runs from its CLI11 callback.
#pragma once

namespace CLI {
class App;
}

namespace beluga {

void add_context_command(CLI::App& app);

}  // namespace beluga
