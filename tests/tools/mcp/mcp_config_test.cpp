// MCP server entries from the config file and from ACP session/new.
#include "tools/mcp/mcp_config.h"

#include <catch2/catch.hpp>

using namespace beluga::tools::mcp;
using nlohmann::json;

TEST_CASE("ACP mcpServers entries become server configs") {
  auto stdio = server_from_acp({{"name", "My Notes__v2"},
                                {"command", "/usr/bin/mcp-notes"},
                                {"args", {"--root", "/srv"}},
                                {"env", {{{"name", "TOKEN"}, {"value", "t"}}}}});
  REQUIRE(stdio);
  CHECK(stdio->name == "My-Notes_v2");
  CHECK(check_server_name(stdio->name));
  CHECK(stdio->command == "/usr/bin/mcp-notes");
  CHECK(stdio->args.size() == 2);
  CHECK(stdio->env.at("TOKEN") == "t");
  auto http = server_from_acp({{"type", "http"}, {"name", "remote"}, {"url", "https://x/mcp"}, {"headers", json::array()}});
  REQUIRE(http);
  CHECK(http->url == "https://x/mcp");
  CHECK(http->command.empty());
  CHECK(server_from_acp({{"name", std::string(80, 'a')}, {"command", "c"}})->name.size() == 32);
  CHECK_FALSE(server_from_acp({{"command", "c"}}));
  CHECK_FALSE(server_from_acp({{"name", "n"}}));
  CHECK_FALSE(server_from_acp({{"name", "n"}, {"command", "c"}, {"env", {{"A", "b"}}}}));
  CHECK_FALSE(server_from_acp({{"name", "n"}, {"command", "c"}, {"args", {1, 2}}}));
  CHECK_FALSE(server_from_acp({{"type", "carrier-pigeon"}, {"name", "n"}, {"command", "c"}}));
  CHECK_FALSE(server_from_acp(json::array()));
}

TEST_CASE("config entries are checked key by key") {
  auto ok = server_from_config("memory", {{"command", "npx"}, {"timeout", 2.5}, {"startup_timeout", 10}, {"enabled", false}},
                               "c.toml: 'mcp_servers.memory'");
  REQUIRE(ok);
  CHECK(ok->call_timeout == std::chrono::milliseconds(2500));
  CHECK(ok->startup_timeout == std::chrono::seconds(10));
  CHECK_FALSE(ok->enabled);
  auto typo = server_from_config("memory", {{"command", "npx"}, {"argz", json::array()}}, "w");
  REQUIRE_FALSE(typo);
  CHECK(typo.message().find("argz") != std::string::npos);
  CHECK_FALSE(server_from_config("bad name", {{"command", "x"}}, "w"));
  CHECK_FALSE(server_from_config("m", {{"cwd", "relative"}, {"command", "x"}}, "w"));
  CHECK_FALSE(server_from_config("m", {{"env", {{"A", 1}}}, {"command", "x"}}, "w"));
  CHECK_FALSE(server_from_config("m", json::object(), "w"));
}
