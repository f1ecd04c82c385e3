// JSON-RPC 2.0 messages, one per line (the framing of ACP's stdio
// transport, used unchanged on the daemon's socket).
//
// A line is classified before anything acts on it:
//   request       {"jsonrpc":"2.0","id":N|"s","method":"m","params":{..}|[..]}
//   notification  the same without "id"
//   response      {"jsonrpc":"2.0","id":..,"result":..} or {..,"error":{code,message,data?}}
//   invalid       anything else, with the error to answer it by:
//                 -32700 when the line is not JSON, -32600 when it is JSON
//                 but not a JSON-RPC 2.0 message (wrong "jsonrpc", a
//                 method that is not a string, an id that is neither a
//                 number, a string nor null, params that are neither an
//                 object nor an array, a batch).
// A line nested deeper than kMaxNestingDepth arrays/objects is refused
// with -32600 before it is parsed. Unknown members are ignored (ACP adds "_meta" everywhere). Batches (JSON
// arrays) are refused with -32600: ACP never sends them, and answering
// them would need the whole batch held before replying.
//
// JSON-RPC error codes are chosen here and in the protocol handlers only
// (STYLE.md: errors cross the lower layers as values with messages).
//
// Thread contract: pure functions over values.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace beluga::rpc {

using Json = nlohmann::json;

enum ErrorCode : int {
  kParseError = -32700,
  kInvalidRequest = -32600,
  kMethodNotFound = -32601,
  kInvalidParams = -32602,
  kInternalError = -32603,
  kRequestCancelled = -32800,  // ACP: the request was cancelled
  kResourceNotFound = -32002,  // ACP: e.g. an unknown session
};

inline constexpr size_t kMaxNestingDepth = 256;

struct RpcError {
  int code = kInternalError;
  std::string message;
  Json data;  // null: absent
};

enum class MessageKind { kRequest, kNotification, kResponse, kInvalid };

struct Message {
  MessageKind kind = MessageKind::kInvalid;
  Json id;              // requests and responses (null for an invalid message whose id is unknown)
  std::string method;   // requests and notifications
  Json params;          // null when absent
  Json result;          // responses without error
  std::optional<RpcError> error;  // responses with an error; for kInvalid: what to answer
};

// Classifies one line (without its '\n'); never throws.
Message parse_message(std::string_view line);

// Serialised messages, each ending in '\n'. Text that is not valid UTF-8
// is replaced (U+FFFD) rather than failing the write.
std::string encode_request(const Json& id, std::string_view method, const Json& params);
std::string encode_notification(std::string_view method, const Json& params);
std::string encode_result(const Json& id, const Json& result);
std::string encode_error(const Json& id, const RpcError& error);

}  // namespace beluga::rpc
