// update_plan (tools/plan_tool.cpp): the whole plan per call, checked
// against its schema, acknowledged with counts; the structured result is
// the plan as given.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/tools/file_test_support.h"
#include "tools/registry.h"

using beluga::testing::Workspace;
using nlohmann::json;
namespace tools = beluga::tools;

TEST_CASE("update_plan accepts a whole plan and reports its progress", "[tools]") {
  Workspace ws;
  const json entries = json::array({{{"content", "Read the code"}, {"status", "completed"}, {"priority", "high"}},
                                    {{"content", "Fix the bug"}, {"status", "in_progress"}, {"priority", "high"}},
                                    {{"content", "Add a test"}, {"status", "pending"}, {"priority", "low"}}});
  tools::ToolResult r = ws.call("update_plan", {{"entries", entries}});
  REQUIRE(r.ok);
  CHECK(r.text == "Plan updated: 3 step(s), 1 completed, 1 in progress.");
  REQUIRE(r.data);
  CHECK((*r.data)["entries"] == entries);
  tools::ToolResult cleared = ws.call("update_plan", {{"entries", json::array()}});
  REQUIRE(cleared.ok);
  CHECK(cleared.text == "Plan cleared.");
}

TEST_CASE("update_plan refuses entries that are not a plan", "[tools]") {
  Workspace ws;
  struct Case {
    json args;
    const char* expected;
  };
  const std::vector<Case> cases = {
      {json::object(), "entries"},
      {{{"entries", json::array({{{"content", "x"}, {"status", "maybe"}, {"priority", "high"}}})}}, "status"},
      {{{"entries", json::array({{{"content", "x"}, {"status", "pending"}, {"priority", "urgent"}}})}}, "priority"},
      {{{"entries", json::array({{{"content", ""}, {"status", "pending"}, {"priority", "low"}}})}}, "content"},
      {{{"entries", json::array({{{"content", "x"}, {"status", "pending"}}})}}, "priority"},
      {{{"entries", json::array({{{"content", "x"}, {"status", "pending"}, {"priority", "low"}, {"owner", "me"}}})}}, "owner"},
  };
  for (const Case& c : cases) {
    INFO(c.args.dump());
    tools::ToolResult r = ws.call("update_plan", c.args);
    CHECK_FALSE(r.ok);
    CHECK(r.text.find(c.expected) != std::string::npos);
  }
  json many = json::array();
  for (int i = 0; i < 51; ++i) many.push_back({{"content", "step"}, {"status", "pending"}, {"priority", "low"}});
  tools::ToolResult r = ws.call("update_plan", {{"entries", many}});
  CHECK_FALSE(r.ok);
  CHECK(r.text.find("at most 50") != std::string::npos);
}
