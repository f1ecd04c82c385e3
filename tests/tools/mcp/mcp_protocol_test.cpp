// The MCP protocol's pure rules: the era probe (the specification's stdio
// backward-compatibility rules), version negotiation, tool pages, result
// rendering and tool names.
#include "tools/mcp/mcp_protocol.h"

#include <catch2/catch.hpp>

using namespace beluga::tools::mcp;

namespace {

RpcOutcome error(int64_t code, Json data = Json()) { return {RpcOutcome::Kind::kError, {}, code, "boom", data}; }
RpcOutcome result(Json r) { return {RpcOutcome::Kind::kResult, std::move(r), 0, "", {}}; }

}  // namespace

TEST_CASE("a DiscoverResult naming 2026-07-28 selects the stateless era") {
  ProbeDecision d = classify_probe(result({{"resultType", "complete"},
                                           {"supportedVersions", {"2026-07-28"}},
                                           {"capabilities", {{"tools", {{"listChanged", true}}}}},
                                           {"_meta", {{"io.modelcontextprotocol/serverInfo", {{"name", "x"}, {"version", "1"}}}}}}));
  CHECK(d.era == Era::kModern);
  CHECK(d.version == "2026-07-28");
  CHECK(d.error.empty());
  CHECK(d.capabilities["tools"]["listChanged"] == true);
  CHECK(d.server_info == "x 1");
}

TEST_CASE("a modern server without a common version is modern and unusable rather than legacy") {
  ProbeDecision d = classify_probe(result({{"supportedVersions", {"2027-01-01"}}}));
  CHECK(d.era == Era::kModern);
  CHECK_FALSE(d.error.empty());
  ProbeDecision e = classify_probe(error(kUnsupportedProtocolVersion, {{"supported", {"2027-01-01"}}, {"requested", "2026-07-28"}}));
  CHECK(e.era == Era::kModern);
  CHECK(e.error.find("2027-01-01") != std::string::npos);
  ProbeDecision f = classify_probe(error(kUnsupportedProtocolVersion, {{"supported", {"2026-07-28", "2025-11-25"}}}));
  CHECK(f.era == Era::kModern);
  CHECK(f.version == "2026-07-28");
  CHECK(f.error.empty());
}

TEST_CASE("any other probe error or silence falls back to the legacy handshake whatever the code") {
  for (int64_t code : {-32601, -32602, -32600, -32603, -32000, 42})
    CHECK(classify_probe(error(code)).era == Era::kLegacy);
  CHECK(classify_probe({RpcOutcome::Kind::kTimeout, {}, 0, "", {}}).era == Era::kLegacy);
  CHECK(classify_probe({RpcOutcome::Kind::kClosed, {}, 0, "", {}}).era == Era::kLegacy);
  // An answer that is not a DiscoverResult.
  CHECK(classify_probe(result(Json::object())).era == Era::kLegacy);
  // Other recognised modern errors mean a modern server.
  CHECK(classify_probe(error(kMissingClientCapability)).era == Era::kModern);
}

TEST_CASE("modern requests carry the version and capabilities in _meta") {
  Json p = with_modern_meta({{"name", "t"}}, "2026-07-28");
  CHECK(p["name"] == "t");
  CHECK(p["_meta"]["io.modelcontextprotocol/protocolVersion"] == "2026-07-28");
  CHECK(p["_meta"]["io.modelcontextprotocol/clientCapabilities"].is_object());
  CHECK(discover_params()["_meta"]["io.modelcontextprotocol/protocolVersion"] == kModernVersion);
}

TEST_CASE("the initialize answer's version must be one beluga speaks") {
  CHECK(initialize_params()["protocolVersion"] == "2025-11-25");
  CHECK(*negotiated_version({{"protocolVersion", "2025-06-18"}}) == "2025-06-18");
  CHECK_FALSE(negotiated_version({{"protocolVersion", "2024-11-05"}}));
  CHECK_FALSE(negotiated_version(Json::array()));
}

TEST_CASE("tool pages keep good entries skip bad ones and carry the cursor") {
  auto page = parse_tools_page({{"tools",
                                 {{{"name", "a"}, {"inputSchema", {{"type", "object"}}}},
                                  {{"name", "b"}},
                                  {{"description", "no name"}}}},
                                {"nextCursor", "c2"}});
  REQUIRE(page);
  REQUIRE(page->tools.size() == 1);
  CHECK(page->tools[0].name == "a");
  CHECK(page->skipped.size() == 2);
  CHECK(page->next_cursor == "c2");
  CHECK_FALSE(parse_tools_page({{"nothing", 1}}));
}

TEST_CASE("call results render text summaries structured content and errors") {
  auto ok = render_call_result({{"content",
                                 {{{"type", "text"}, {"text", "hello"}},
                                  {{"type", "image"}, {"mimeType", "image/png"}, {"data", "AAAA"}},
                                  {{"type", "resource"}, {"resource", {{"uri", "file:///x"}, {"text", "body"}}}}}}},
                               "s__t");
  CHECK(ok.ok);
  CHECK(ok.text.find("hello") == 0);
  CHECK(ok.text.find("[image content (image/png") != std::string::npos);
  CHECK(ok.text.find("[resource file:///x]\nbody") != std::string::npos);
  CHECK(ok.text.find("2 non-text items were summarised") != std::string::npos);
  auto structured = render_call_result({{"content", Json::array()}, {"structuredContent", {{"n", 3}}}}, "s__t");
  CHECK(structured.text == "{\"n\":3}");
  REQUIRE(structured.data);
  CHECK((*structured.data)["structuredContent"]["n"] == 3);
  auto failed = render_call_result({{"content", {{{"type", "text"}, {"text", "no such entity"}}}}, {"isError", true}}, "s__t");
  CHECK_FALSE(failed.ok);
  CHECK(failed.text == "s__t failed: no such entity");
  CHECK_FALSE(render_call_result(Json::array(), "s__t").ok);
}

TEST_CASE("tool names are sanitised and server names checked") {
  CHECK(model_tool_name("memory", "create_entities") == "memory__create_entities");
  CHECK(model_tool_name("gh", "search.issues/v2") == "gh__search_issues_v2");
  CHECK(model_tool_name("s", std::string(100, 'x')).size() == 64);
  CHECK(check_server_name("my-server_2"));
  CHECK_FALSE(check_server_name(""));
  CHECK_FALSE(check_server_name("a__b"));
  CHECK_FALSE(check_server_name("a b"));
}
