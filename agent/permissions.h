// Permissions: may this tool call run, must the user be asked, or is it
// refused?
//
// Rules name a tool and, optionally, a pattern on the call's subject:
//   "read"                 every read call
//   "shell(git status*)"   shell calls whose command matches the pattern
//   "edit(src/*)"          edit calls on paths matching it
// The subject is the argument a user thinks of: shell → command; read,
// write, edit, git_blame → path; glob, grep → pattern; git_commit →
// message; anything else → its arguments as JSON text. Patterns are globs
// over the whole subject: '*' any run of characters ('/' included), '?'
// one character; everything else literal. The tool name is a glob too:
// "*" matches every tool, "memory__*" every tool of the MCP server
// "memory", "*__delete_*" every MCP tool whose name starts with delete_.
// MCP tools ("<server>__<tool>") are never read-only or edit tools here,
// so they ask unless a rule allows them (a server's own readOnlyHint is
// not trusted: it is the third party's claim).
//
// Decision (deny > ask > allow):
//   1. a matching deny rule        → deny (in every mode, yolo included)
//   2. mode plan                   → deny anything but read-only tools
//   3. mode yolo                   → allow
//   4. a matching ask rule         → ask
//   5. a matching allow rule, or an "allow for this session" answer → allow
//   6. the mode's default: read-only tools allow; edit tools (write, edit,
//      apply_patch) allow in auto-edit and ask in default; everything else
//      (shell, git writes, checkpoint_restore) asks.
// Tools the policy does not know are not read-only: they ask.
//
// Where rules come from (permissions_config.cpp): the user's config
// ($XDG_CONFIG_HOME/beluga/config.toml or config.json) may set the mode and
// any rule; a workspace's .beluga/config(.toml|.json) may only add deny and
// ask rules and pick a mode other than yolo, so a cloned repository cannot
// grant itself permissions.
//
// Thread contract: plain values; decide() is a pure function.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/base/result.h"

namespace beluga::agent {

enum class PermissionMode { kDefault, kAutoEdit, kPlan, kYolo };
std::string_view permission_mode_name(PermissionMode mode);  // "default", "auto-edit", "plan", "yolo"
Result<PermissionMode> parse_permission_mode(std::string_view text);

enum class Decision { kAllow, kAsk, kDeny };
std::string_view decision_name(Decision decision);

struct PermissionRule {
  std::string tool;     // a tool name or a glob over tool names ("*", "memory__*")
  std::string pattern;  // "" = any subject
  Decision action = Decision::kAllow;
  std::string source;   // where it was written (for messages): a file, "session"
};

// "shell(git status*)" → {tool "shell", pattern "git status*"}.
Result<PermissionRule> parse_rule(std::string_view text, Decision action, std::string source);
std::string rule_text(const PermissionRule& rule);

struct PermissionPolicy {
  PermissionMode mode = PermissionMode::kDefault;
  std::vector<PermissionRule> rules;
};

struct PermissionVerdict {
  Decision decision = Decision::kAsk;
  std::string reason;  // "deny rule shell(rm *) from ~/.config/beluga/config.toml", "plan mode is read-only"
};

bool is_read_only_tool(std::string_view tool);
bool is_edit_tool(std::string_view tool);
// The subject rules match for a call (see above); args_json as the model wrote it.
std::string permission_subject(std::string_view tool, const std::string& args_json);
bool glob_match(std::string_view pattern, std::string_view text);

PermissionVerdict decide(const PermissionPolicy& policy, std::string_view tool, const std::string& args_json);

}  // namespace beluga::agent
