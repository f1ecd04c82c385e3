// The agent's configuration files.
//
//   $XDG_CONFIG_HOME/beluga/config.toml (or config.json; ~/.config when
//   XDG_CONFIG_HOME is unset)        the user's: any key below
//   <workspace>/.beluga/config.toml (or .json, or .beluga/config as TOML)
//                                    the workspace's: only "mode" (not
//                                    yolo) and deny/ask rules (see
//                                    permissions.h for why)
//
// Keys (TOML shown; JSON has the same structure):
//   mode = "default"                 default | auto-edit | plan | yolo
//   max_steps = 50                   model calls per turn
//   max_output_tokens = 8192         tokens per model call
//   max_turn_tokens = 200000         tokens generated per turn, all calls
//   context_tokens = 0               context budget (0: the model's window)
//   compact_at = 0.8                 compact when the prompt passes this share
//   [permissions]
//   allow = ["shell(git status*)", "read"]
//   ask   = ["git_commit"]
//   deny  = ["shell(rm *)"]
//   [mcp_servers.memory]             MCP servers (tools/mcp/mcp_config.h;
//   command = "npx"                  user config only: a workspace config
//   args = ["-y", "@modelcontextprotocol/server-memory"]   cannot start programs)
//   [remote]                         `--model remote:URL` (remote_provider.h;
//   model = "deepseek-ai/DeepSeek-V4-Flash"   user config only)
//   api_key_env = "MY_KEY_VAR"       the environment variable holding the key
//   context_tokens = 1048576         the remote model's window
//   slots = 4                        the daemon's concurrent calls to it
//   max_attempts = 5                 tries per call (429, 5xx, connection)
//   connect_timeout_s = 15           first_byte_timeout_s = 300, idle_timeout_s = 120
//   tokenizer = "/path/tokenizer.json"  count tokens exactly (else bytes/3)
// An unknown key, a wrong type or a bad rule is an error naming the file
// and key (a typo must not silently weaken a deny rule).
//
// Thread contract: pure functions (they read files).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "agent/permissions.h"
#include "engine/base/result.h"
#include "tools/mcp/mcp_server.h"

namespace beluga::agent {

// The [remote] table; unset members take remote_provider.h's defaults.
struct RemoteConfig {
  std::optional<std::string> model;
  std::optional<std::string> api_key_env;
  std::optional<int64_t> context_tokens;
  std::optional<int64_t> slots;
  std::optional<int64_t> max_attempts;
  std::optional<int64_t> connect_timeout_s;
  std::optional<int64_t> first_byte_timeout_s;
  std::optional<int64_t> idle_timeout_s;
  std::optional<std::string> tokenizer;
};

struct AgentConfig {
  std::optional<PermissionMode> mode;
  std::vector<PermissionRule> rules;
  std::optional<int64_t> max_steps;
  std::optional<int64_t> max_output_tokens;
  std::optional<int64_t> max_turn_tokens;
  std::optional<int64_t> context_tokens;
  std::optional<double> compact_at;
  std::vector<tools::mcp::McpServerConfig> mcp_servers;  // in the order written
  RemoteConfig remote;
  std::vector<std::string> files;  // the files read, in order
};

enum class ConfigTrust { kUser, kWorkspace };

// One file's text; `label` names it in errors; TOML unless it ends in ".json".
Result<AgentConfig> parse_agent_config(const std::string& text, const std::string& label, ConfigTrust trust);

// The user's file then the workspace's (later values win; rules add up).
Result<AgentConfig> load_agent_config(const std::filesystem::path& workspace);
// The user's file alone (what `--model remote:URL` reads: a workspace
// cannot choose where the API key comes from).
Result<AgentConfig> load_user_agent_config();

}  // namespace beluga::agent
