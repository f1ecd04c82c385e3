// ToolRegistry: argument validation against each tool's JSON schema, and the
// schemas themselves (closed objects, typed and described properties).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/tools/file_test_support.h"
#include "tools/registry.h"

using beluga::testing::Workspace;
using nlohmann::json;
namespace tools = beluga::tools;

TEST_CASE("every file and search tool has a closed schema with typed, described properties", "[tools]") {
  tools::ToolRegistry registry = tools::make_default_registry();
  for (const char* name : {"read", "write", "edit", "apply_patch", "glob", "list", "grep"}) {
    INFO(name);
    const tools::ToolSpec* spec = registry.find(name);
    REQUIRE(spec != nullptr);
    CHECK(!spec->description.empty());
    json schema = json::parse(spec->parameters_schema);
    CHECK(schema["type"] == "object");
    CHECK(schema["additionalProperties"] == false);
    REQUIRE(schema["properties"].is_object());
    for (const auto& [key, property] : schema["properties"].items()) {
      INFO(key);
      CHECK(property.contains("type"));
      CHECK(property.value("description", "").size() > 10);
    }
    for (const auto& required : schema["required"]) CHECK(schema["properties"].contains(required.get<std::string>()));
  }
}

TEST_CASE("bad arguments are refused with a message naming the field", "[tools]") {
  Workspace ws;
  ws.write("a.txt", "hello\n");
  struct Case {
    const char* tool;
    const char* args;
    const char* expected;
  };
  // A table: each row a bad call and a phrase its error must contain.
  const Case cases[] = {
      {"read", R"({})", "missing required argument 'path'"},
      {"read", R"({"path": 3})", "argument 'path' must be a string, got an integer"},
      {"read", R"({"path": "a.txt", "offset": "2"})", "argument 'offset' must be an integer, got a string"},
      {"read", R"({"path": "a.txt", "offset": 0})", "argument 'offset' must be at least 1"},
      {"read", R"({"path": "a.txt", "bogus": true})", "unknown argument 'bogus'; accepted: limit, offset, path"},
      {"edit", R"({"path": "a.txt", "old": "", "new": "x"})", "argument 'old' must have at least 1 characters"},
      {"edit", R"({"path": "a.txt", "old": "a", "new": "b", "replace_all": "yes"})", "'replace_all' must be a boolean"},
      {"grep", R"({"regex": "x", "context": 99})", "argument 'context' must be at most 20"},
      {"read", R"([1, 2])", "the arguments must be an object, got an array"},
      {"read", R"({"path": )", "not valid JSON"},
      {"frobnicate", R"({})", "unknown tool 'frobnicate'; available tools:"},
  };
  for (const Case& c : cases) {
    INFO(c.tool << " " << c.args);
    tools::ToolResult r = ws.registry.call(c.tool, c.args, ws.context);
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.text, Catch::Contains(c.expected));
  }
}

TEST_CASE("the schema validator supports enums, nested objects and arrays", "[tools]") {
  json schema = json::parse(R"({
    "type": "object",
    "properties": {
      "mode": {"type": "string", "enum": ["fast", "slow"]},
      "items": {"type": "array", "items": {"type": "object", "properties": {"n": {"type": "integer", "maximum": 5}},
                "required": ["n"], "additionalProperties": false}},
      "ratio": {"type": "number", "minimum": 0}
    },
    "additionalProperties": false
  })");
  CHECK(tools::validate_against_schema(schema, json::parse(R"({"mode": "fast", "items": [{"n": 1}], "ratio": 0.5})")) == "");
  CHECK_THAT(tools::validate_against_schema(schema, json::parse(R"({"mode": "medium"})")),
             Catch::Contains("'mode' must be one of \"fast\", \"slow\""));
  CHECK_THAT(tools::validate_against_schema(schema, json::parse(R"({"items": [{"n": 1}, {"n": 9}]})")),
             Catch::Contains("'items[1].n' must be at most 5"));
  CHECK_THAT(tools::validate_against_schema(schema, json::parse(R"({"items": [{}]})")),
             Catch::Contains("missing required argument 'items[0].n'"));
  CHECK(tools::validate_against_schema(schema, json::parse(R"({"items": [{"n": 2.0}]})")) == "");
}

TEST_CASE("a tool's result serialises to the CLI's JSON shape even with invalid UTF-8", "[tools]") {
  tools::ToolResult r = tools::ToolResult::error(std::string("bad \xff byte"));
  json j = json::parse(r.to_json_text());
  CHECK(j["ok"] == false);
  CHECK(j["data"].is_null());
  CHECK(j["text"].get<std::string>().find("bad") == 0);
}
