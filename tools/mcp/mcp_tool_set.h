// A session's MCP servers and their tools as beluga tools.
//
// Each server's tools become ToolSpecs named "<server>__<tool>"
// (model_tool_name; a clash after sanitising gets "_2", "_3"...), described
// as coming from that server, with the server's input schema. Their
// arguments get basic checks only (ToolSpec::lenient_schema): the server
// validates the rest. Running one calls the server (McpServer::call).
//
// registry() joins the built-in tools and the servers' current tools in one
// ToolRegistry snapshot; it returns the same snapshot until a server's tool
// list changes, so the agent re-declares tools (and re-renders its prompt)
// only then. HTTP entries are not started: they are listed in
// unsupported() with the reason.
//
// Thread contract: registry(), report() and server() may be called from any
// thread; the snapshots are immutable. The servers stop when the set is
// destroyed; tools of a snapshot that outlives the set answer that their
// server has been stopped.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tools/mcp/mcp_server.h"
#include "tools/tool.h"

namespace beluga::tools::mcp {

struct ServerReport {
  std::string name;
  std::string state;                    // server_state_name, or "unsupported"/"disabled"
  std::string protocol;
  std::vector<std::string> tools;       // names the model sees
  std::string error;
};

class McpToolSet {
 public:
  // Invalid entries (bad names, duplicates, neither command nor url) are
  // reported by report() and not started.
  McpToolSet(ToolRegistry base, std::vector<McpServerConfig> servers, McpOptions options);
  ~McpToolSet();
  McpToolSet(const McpToolSet&) = delete;
  McpToolSet& operator=(const McpToolSet&) = delete;

  // Starts every enabled stdio server, then waits at most `wait` for their
  // first connection attempts (they go on in the background after that).
  void start(std::chrono::milliseconds wait);
  std::shared_ptr<const ToolRegistry> registry();
  std::vector<ServerReport> report() const;
  std::shared_ptr<McpServer> server(const std::string& name) const;

 private:
  const ToolRegistry base_;
  std::vector<std::shared_ptr<McpServer>> servers_;
  std::vector<ServerReport> rejected_;  // not started, with why
  std::atomic<uint64_t> generation_{1};
  mutable std::mutex mutex_;
  uint64_t cached_generation_ = 0;
  std::shared_ptr<const ToolRegistry> cached_;
};

// The servers of `servers` started for a session in `workspace` (their
// default working folder) beside the tools of `base`; waits for their first
// connection attempts (each server's startup timeout plus the probe's, at
// most). Null when `servers` is empty.
std::unique_ptr<McpToolSet> start_mcp_servers(const ToolRegistry& base, std::vector<McpServerConfig> servers,
                                              const std::filesystem::path& workspace,
                                              std::function<void(const std::string&)> log);

}  // namespace beluga::tools::mcp
