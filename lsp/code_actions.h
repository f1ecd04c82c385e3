// The editor's actions on a selection or a diagnostic, and the prompts
// they become. Pure functions: the protocol parts live in agent_turns.cpp.
//
// Commands (workspace/executeCommand; docs/protocol.md "LSP bridge"):
//   beluga.explain    {uri, range}              "Explain (beluga)"                     refactor
//   beluga.fix        {uri, range, diagnostic}  "Fix this diagnostic (beluga)"         quickfix (one per diagnostic)
//   beluga.implement  {uri, range}              "Implement / complete this (beluga)"   refactor.rewrite
//   beluga.writeTests {uri, range}              "Write tests for this (beluga)"        source
//   beluga.ask        {uri?, range?, prompt}    "Ask beluga…"                          refactor
// A prompt names the file (relative to the workspace), the lines, the
// selected text as the editor holds it (unsaved changes included), and for
// fix the diagnostic (severity, source, code, message); it tells the
// model to change files with its tools (the bridge turns those writes into
// editor edits) or, for explain, not to change anything.
//
// Thread contract: pure functions over values.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/base/result.h"
#include "lsp/positions.h"

namespace beluga::lsp {

inline const std::vector<std::string>& command_names() {
  static const std::vector<std::string> names = {"beluga.explain", "beluga.fix", "beluga.implement",
                                                 "beluga.writeTests", "beluga.ask"};
  return names;
}

// The title progress and messages show for a command ("Fix this diagnostic").
std::string command_title(const std::string& command);

// textDocument/codeAction's result for `uri` and `range`, with the
// request's context.diagnostics and context.only (a kind filter).
nlohmann::json code_actions(const std::string& uri, const Range& range, const nlohmann::json& context);

struct PromptInput {
  std::string command;         // one of command_names()
  std::string relative_path;   // empty: no file
  std::string language_id;
  Range range;                 // 0-based, in the negotiated encoding
  bool has_range = false;
  std::string selected_text;   // the range's text from the buffer
  nlohmann::json diagnostic;   // beluga.fix
  std::string user_prompt;     // beluga.ask
};

// The user message of the agent turn; an error names a missing argument.
Result<std::string> build_prompt(const PromptInput& input);

}  // namespace beluga::lsp
