// MCP server entries as configured: the `mcp_servers` table of beluga's
// config file (agent/agent_config.h) and the `mcpServers` array of ACP's
// session/new. Both become McpServerConfig.
//
// Config file (TOML shown; JSON has the same structure):
//   [mcp_servers.memory]
//   command = "npx"                     # or url = "https://..." (not supported yet)
//   args = ["-y", "@modelcontextprotocol/server-memory"]
//   env = { MEMORY_FILE_PATH = "/home/me/memory.jsonl" }
//   timeout = 60                        # seconds per tool call (default 60)
//   startup_timeout = 30                # seconds for the handshake and tool list
//   enabled = true
// ACP (session/new): {"name", "command", "args": [...], "env": [{"name",
// "value"}]} for stdio; {"type": "http"|"sse", "name", "url", "headers"}
// otherwise. ACP names are human-readable: they are turned into server
// names (characters outside [A-Za-z0-9_-] become '-').
//
// Thread contract: pure functions.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "engine/base/result.h"
#include "tools/mcp/mcp_server.h"

namespace beluga::tools::mcp {

// One `mcp_servers.NAME` entry; `where` prefixes messages ("config.toml: 'mcp_servers.memory'").
Result<McpServerConfig> server_from_config(const std::string& name, const nlohmann::json& entry,
                                           const std::string& where);
// One ACP McpServer object.
Result<McpServerConfig> server_from_acp(const nlohmann::json& entry);

}  // namespace beluga::tools::mcp
