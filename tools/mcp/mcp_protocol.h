// The Model Context Protocol as pure functions: the messages beluga sends,
// the answers it accepts, and how a server's tools and results become
// beluga tools and tool results. No I/O here (mcp_connection.h moves the
// bytes, mcp_server.h keeps a server running), so every rule is testable
// without a server.
//
// Two protocol eras (see docs/mcp.md):
//   modern  (2026-07-28): stateless. Every request carries
//           _meta["io.modelcontextprotocol/protocolVersion"] and
//           ["io.modelcontextprotocol/clientCapabilities"]; server/discover
//           says which versions a server speaks; tool-list changes arrive on
//           a subscriptions/listen stream.
//   legacy  (2025-11-25, 2025-06-18): initialize → notifications/initialized,
//           then requests in that session.
// On stdio a client of both eras probes with server/discover first and
// reads the answer as the specification's backward-compatibility rules say
// (classify_probe): a DiscoverResult or a recognised modern error
// (UnsupportedProtocolVersionError and the other -32020..-32099 codes) means
// a modern server; any other error, or silence until the probe timeout,
// means a legacy one, whatever the error code.
//
// Thread contract: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/base/result.h"
#include "tools/tool.h"

namespace beluga::tools::mcp {

using Json = nlohmann::json;

inline constexpr const char* kModernVersion = "2026-07-28";
// Legacy versions beluga speaks, preferred first.
inline const std::vector<std::string> kLegacyVersions = {"2025-11-25", "2025-06-18"};
// JSON-RPC error codes the modern revision defines (schema 2026-07-28).
inline constexpr int64_t kHeaderMismatch = -32020;
inline constexpr int64_t kMissingClientCapability = -32021;
inline constexpr int64_t kUnsupportedProtocolVersion = -32022;

// The answer to one request, as the connection saw it.
struct RpcOutcome {
  enum class Kind { kResult, kError, kTimeout, kCancelled, kClosed };
  Kind kind = Kind::kClosed;
  Json result;            // kResult
  int64_t code = 0;       // kError
  std::string message;    // kError: the server's; otherwise why there is no answer
  Json data;              // kError: the error's data member (may be null)
};

enum class Era { kModern, kLegacy };

// What to do after the server/discover probe.
struct ProbeDecision {
  Era era = Era::kLegacy;
  std::string version;     // modern: the version to use ("" with kLegacy)
  Json capabilities;       // modern: the server's capabilities (from DiscoverResult)
  std::string server_info; // "name version", for logs
  std::string error;       // modern server but no version in common: why (then unusable)
};

// The server/discover probe's params: our preferred modern version in _meta.
Json discover_params(const std::string& version = kModernVersion);
// Reads the probe's outcome (timeout and closed count as "no answer").
ProbeDecision classify_probe(const RpcOutcome& outcome);

// Modern requests: `params` with the per-request _meta added.
Json with_modern_meta(Json params, const std::string& version);

// Legacy handshake.
Json initialize_params();
// The negotiated version from an initialize result; an error when the
// server answered with a version beluga does not speak.
Result<std::string> negotiated_version(const Json& initialize_result);

// One tool a server offers.
struct McpTool {
  std::string name;         // the server's name for it
  std::string title;
  std::string description;
  Json input_schema;        // an object schema
};

struct ToolPage {
  std::vector<McpTool> tools;
  std::optional<std::string> next_cursor;
  std::vector<std::string> skipped;  // tools left out, with why
};
// A tools/list result; entries without a name or with a schema that is not
// an object are skipped (named in `skipped`), the rest kept.
Result<ToolPage> parse_tools_page(const Json& result);

// True when a result asks for more input (modern MRTR): beluga does not
// answer such requests.
bool is_input_required(const Json& result);

// A tools/call result as a beluga tool result: text content joined;
// images, audio and resources summarised with a note; structuredContent
// added when no text says it already; isError → an error result. `label`
// ("memory__create_entities") names the tool in messages.
ToolResult render_call_result(const Json& result, const std::string& label);

// The name a server's tool has for the model: "<server>__<tool>" with every
// character outside [A-Za-z0-9_-] replaced by '_', at most 64 characters.
std::string model_tool_name(const std::string& server, const std::string& tool);
// A server name usable in tool names and permission rules: non-empty,
// [A-Za-z0-9_-] only, no "__", at most 32 characters.
Status check_server_name(const std::string& name);

}  // namespace beluga::tools::mcp
