// Where the reference MCP servers the tests run against live
// (tests/mcp-servers, installed by scripts/setup.sh with `npm ci`), and
// configurations for them. Tests that need them warn and return when node
// or the packages are missing locally; CI installs both.
#pragma once

#include <filesystem>
#include <string>

#include "tests/test_support.h"
#include "tools/mcp/mcp_server.h"

namespace beluga::testing {

inline std::string mcp_server_bin(const std::string& name) {
  return source_path("tests/mcp-servers/node_modules/.bin/" + name);
}

// Empty when the server can run here, else why not (for WARN).
inline std::string mcp_servers_missing() {
  const std::string bin = mcp_server_bin("mcp-server-memory");
  if (!std::filesystem::exists(bin) || !std::filesystem::exists(mcp_server_bin("mcp-server-filesystem")))
    return "skipped: the reference MCP servers are not installed (run scripts/setup.sh, or npm ci in tests/mcp-servers)";
  if (std::system("command -v node >/dev/null 2>&1") != 0) return "skipped: node is not installed";
  return "";
}

// The memory server, keeping its graph in `memory_file`.
inline tools::mcp::McpServerConfig memory_server(const std::string& memory_file, const std::string& name = "memory") {
  tools::mcp::McpServerConfig c;
  c.name = name;
  c.command = mcp_server_bin("mcp-server-memory");
  c.env["MEMORY_FILE_PATH"] = memory_file;
  c.source = "test";
  return c;
}

// The filesystem server, allowed into `root`.
inline tools::mcp::McpServerConfig filesystem_server(const std::string& root, const std::string& name = "fs") {
  tools::mcp::McpServerConfig c;
  c.name = name;
  c.command = mcp_server_bin("mcp-server-filesystem");
  c.args = {root};
  c.source = "test";
  return c;
}

}  // namespace beluga::testing
