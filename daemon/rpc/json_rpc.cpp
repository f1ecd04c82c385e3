#include "daemon/rpc/json_rpc.h"

#include <algorithm>

namespace beluga::rpc {
namespace {

Message invalid(int code, std::string message, Json id = nullptr) {
  Message m;
  m.kind = MessageKind::kInvalid;
  m.id = std::move(id);
  m.error = RpcError{code, std::move(message), nullptr};
  return m;
}

// The deepest nesting of arrays and objects in `line` (strings skipped).
// Checked before parsing: a value nested a million levels deep must be
// refused cheaply, not handed to code that may recurse over it.
size_t nesting_depth(std::string_view line) {
  size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : line) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') deepest = std::max(deepest, ++depth);
    else if ((c == ']' || c == '}') && depth > 0) --depth;
  }
  return deepest;
}

bool valid_id(const Json& id) { return id.is_null() || id.is_number_integer() || id.is_number_unsigned() || id.is_string(); }

std::string dump_line(const Json& message) {
  std::string out = message.dump(-1, ' ', false, Json::error_handler_t::replace);
  out += '\n';
  return out;
}

}  // namespace

Message parse_message(std::string_view line) {
  if (nesting_depth(line) > kMaxNestingDepth)
    return invalid(kInvalidRequest, "invalid request: JSON nested deeper than " + std::to_string(kMaxNestingDepth) +
                                        " levels");
  Json doc = Json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return invalid(kParseError, "parse error: the line is not valid JSON");
  if (doc.is_array()) return invalid(kInvalidRequest, "invalid request: batches are not supported");
  if (!doc.is_object()) return invalid(kInvalidRequest, "invalid request: a message must be a JSON object");

  Json id = nullptr;
  const bool has_id = doc.contains("id");
  if (has_id) {
    if (!valid_id(doc["id"])) return invalid(kInvalidRequest, "invalid request: \"id\" must be a number, a string or null");
    id = doc["id"];
  }
  auto version = doc.find("jsonrpc");
  if (version == doc.end() || !version->is_string() || *version != "2.0")
    return invalid(kInvalidRequest, "invalid request: \"jsonrpc\" must be \"2.0\"", id);

  if (auto method = doc.find("method"); method != doc.end()) {
    if (!method->is_string()) return invalid(kInvalidRequest, "invalid request: \"method\" must be a string", id);
    Message m;
    m.kind = has_id ? MessageKind::kRequest : MessageKind::kNotification;
    m.id = id;
    m.method = method->get<std::string>();
    if (auto params = doc.find("params"); params != doc.end()) {
      if (!params->is_object() && !params->is_array() && !params->is_null())
        return invalid(kInvalidRequest, "invalid request: \"params\" must be an object or an array", id);
      m.params = std::move(*params);
    }
    return m;
  }
  if (!has_id) return invalid(kInvalidRequest, "invalid request: neither \"method\" nor \"id\"");
  Message m;
  m.kind = MessageKind::kResponse;
  m.id = id;
  if (auto error = doc.find("error"); error != doc.end() && !error->is_null()) {
    RpcError e;
    if (error->is_object()) {
      if (auto code = error->find("code"); code != error->end() && code->is_number_integer()) e.code = code->get<int>();
      if (auto text = error->find("message"); text != error->end() && text->is_string()) e.message = text->get<std::string>();
      if (auto data = error->find("data"); data != error->end()) e.data = *data;
    } else {
      e.message = "malformed error object";
    }
    m.error = std::move(e);
  } else if (auto result = doc.find("result"); result != doc.end()) {
    m.result = std::move(*result);
  } else {
    return invalid(kInvalidRequest, "invalid response: neither \"result\" nor \"error\"", id);
  }
  return m;
}

std::string encode_request(const Json& id, std::string_view method, const Json& params) {
  Json m = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
  if (!params.is_null()) m["params"] = params;
  return dump_line(m);
}

std::string encode_notification(std::string_view method, const Json& params) {
  Json m = {{"jsonrpc", "2.0"}, {"method", method}};
  if (!params.is_null()) m["params"] = params;
  return dump_line(m);
}

std::string encode_result(const Json& id, const Json& result) {
  return dump_line(Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", result}});
}

std::string encode_error(const Json& id, const RpcError& error) {
  Json e = {{"code", error.code}, {"message", error.message}};
  if (!error.data.is_null()) e["data"] = error.data;
  return dump_line(Json{{"jsonrpc", "2.0"}, {"id", id}, {"error", e}});
}

}  // namespace beluga::rpc
