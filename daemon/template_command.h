// `beluga template ...`: the V4 chat format on the command line, no model
// needed. A contract checked by external tools; keep the shapes exactly.
//
//   beluga template render --jsonl [--revision v4|v4-0731]
//       stdin: one request per line, {"messages": [...], "options": {...}}
//       (the case format of shared/golden/chat-encoding/render.jsonl);
//       stdout: one line per request, {"prompt": "..."}, or
//       {"error": {"line": N, "message": "..."}} for a bad line (also on
//       stderr); the exit code is 1 when any line failed. Blank lines are
//       skipped.
//   beluga template render [--revision ...]
//       stdin: one request; stdout: the prompt itself.
//   beluga template parse [--thinking-mode thinking|chat]
//       stdin: exactly the completion text (bytes as given: use printf, not
//       echo); stdout: {"role": "assistant", "content", "reasoning_content",
//       "tool_calls": [{"type": "function", "function": {"name",
//       "arguments"}}]} on one line; malformed: the error on stderr, exit 1.
//   beluga template parse --jsonl
//       stdin: lines {"completion": "...", "options": {"thinking_mode"}}
//       (the case format of parse.jsonl); stdout: {"result": {...}} or
//       {"error": {"line": N, "message": "..."}} per line.
//
// JSON is read and written with py_json.h (key order kept, non-ASCII raw).
#pragma once

#include <CLI/CLI.hpp>

namespace beluga {

// Adds the `template` subcommand to `app`. The subcommands run from CLI11
// callbacks and end parsing with CLI::RuntimeError(exit code), so main()
// needs no dispatch line (CLI11_PARSE returns that code, printing nothing).
void add_template_commands(CLI::App& app);

}  // namespace beluga
