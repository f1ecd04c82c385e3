// daemon/rpc/json_rpc.h: classifying lines and encoding messages.
#include <catch2/catch.hpp>

#include "daemon/rpc/json_rpc.h"

using namespace beluga::rpc;

TEST_CASE("requests notifications and responses are told apart") {
  Message request = parse_message(R"({"jsonrpc":"2.0","id":7,"method":"session/new","params":{"cwd":"/x"}})");
  CHECK(request.kind == MessageKind::kRequest);
  CHECK(request.id == 7);
  CHECK(request.method == "session/new");
  CHECK(request.params["cwd"] == "/x");

  Message note = parse_message(R"({"jsonrpc":"2.0","method":"session/cancel","params":{"sessionId":"a"}})");
  CHECK(note.kind == MessageKind::kNotification);

  Message string_id = parse_message(R"({"jsonrpc":"2.0","id":"abc","method":"m"})");
  CHECK(string_id.kind == MessageKind::kRequest);
  CHECK(string_id.params.is_null());

  Message result = parse_message(R"({"jsonrpc":"2.0","id":"b-1","result":{"outcome":{}}})");
  CHECK(result.kind == MessageKind::kResponse);
  CHECK_FALSE(result.error.has_value());

  Message error = parse_message(R"({"jsonrpc":"2.0","id":"b-2","error":{"code":-32000,"message":"no"}})");
  CHECK(error.kind == MessageKind::kResponse);
  REQUIRE(error.error.has_value());
  CHECK(error.error->code == -32000);
  CHECK(error.error->message == "no");
}

TEST_CASE("unknown members are ignored") {
  Message m = parse_message(R"({"jsonrpc":"2.0","id":1,"method":"m","params":{},"_meta":{"x":1},"extra":true})");
  CHECK(m.kind == MessageKind::kRequest);
}

TEST_CASE("malformed lines get the standard error codes") {
  struct Row {
    const char* line;
    int code;
    bool id_kept;
  };
  // Each row: a line, the error it must get, and whether its id is echoed.
  const Row rows[] = {
      {"{not json", kParseError, false},
      {"", kParseError, false},
      {"[1,2]", kInvalidRequest, false},
      {"42", kInvalidRequest, false},
      {R"({"id":1,"method":"m"})", kInvalidRequest, true},
      {R"({"jsonrpc":"1.0","id":1,"method":"m"})", kInvalidRequest, true},
      {R"({"jsonrpc":"2.0","id":1,"method":5})", kInvalidRequest, true},
      {R"({"jsonrpc":"2.0","id":{"a":1},"method":"m"})", kInvalidRequest, false},
      {R"({"jsonrpc":"2.0","id":1,"method":"m","params":"text"})", kInvalidRequest, true},
      {R"({"jsonrpc":"2.0"})", kInvalidRequest, false},
      {R"({"jsonrpc":"2.0","id":3})", kInvalidRequest, true},
  };
  for (const Row& row : rows) {
    INFO(row.line);
    Message m = parse_message(row.line);
    CHECK(m.kind == MessageKind::kInvalid);
    REQUIRE(m.error.has_value());
    CHECK(m.error->code == row.code);
    CHECK_FALSE(m.error->message.empty());
    if (row.id_kept) CHECK_FALSE(m.id.is_null());
    else CHECK(m.id.is_null());
  }
}

TEST_CASE("encoded messages are single lines of JSON-RPC 2.0") {
  const std::string lines[] = {
      encode_request(1, "session/request_permission", {{"a", "x\ny"}}),
      encode_notification("session/update", {{"update", {{"text", "multi\nline"}}}}),
      encode_result("id", Json::object()),
      encode_error(nullptr, RpcError{kParseError, "parse error", nullptr}),
      encode_result(2, std::string("bad utf-8: \xff\xfe")),
  };
  for (const std::string& line : lines) {
    INFO(line);
    REQUIRE(line.back() == '\n');
    CHECK(line.find('\n') == line.size() - 1);
    auto doc = Json::parse(line);
    CHECK(doc["jsonrpc"] == "2.0");
  }
  CHECK(Json::parse(encode_error(5, RpcError{kMethodNotFound, "method not found: x", nullptr}))["error"]["code"] ==
        -32601);
}

TEST_CASE("deeply nested JSON is refused before it is parsed") {
  const std::string deep = R"({"jsonrpc":"2.0","id":1,"method":"m","params":)" + std::string(1000000, '[') +
                           std::string(1000000, ']') + "}";
  Message m = parse_message(deep);
  CHECK(m.kind == MessageKind::kInvalid);
  REQUIRE(m.error.has_value());
  CHECK(m.error->code == kInvalidRequest);
  // Brackets inside strings do not count; ordinary nesting passes.
  Message quoted = parse_message(R"({"jsonrpc":"2.0","id":2,"method":"m","params":{"s":")" + std::string(5000, '[') +
                                 R"(\"]"}})");
  CHECK(quoted.kind == MessageKind::kRequest);
  std::string nested = R"({"jsonrpc":"2.0","id":3,"method":"m","params":)" + std::string(100, '[') +
                       std::string(100, ']') + "}";
  CHECK(parse_message(nested).kind == MessageKind::kRequest);
}
