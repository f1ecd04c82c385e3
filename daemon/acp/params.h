// Reading method params: each accessor names the field it wanted, so a
// client sent -32602 knows what to fix ("sessionId: a string is
// required"). Unknown fields are ignored, as ACP asks.
//
// Thread contract: pure functions; they throw InvalidParams, which the
// handler wrapper (guarded) turns into a -32602 answer.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "daemon/rpc/rpc_server.h"

namespace beluga::daemon {

using Json = nlohmann::json;

struct InvalidParams : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// A named resource (a session, a checkpoint) does not exist: -32002.
struct NotFound : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const Json& params_object(const Json& params);
std::string required_string(const Json& params, const char* key);
std::optional<std::string> optional_string(const Json& params, const char* key);
std::optional<int64_t> optional_int(const Json& params, const char* key);
const Json& required_array(const Json& params, const char* key);

// Wraps a handler: InvalidParams → -32602, NotFound → -32002.
rpc::Handler guarded(rpc::Handler handler);

}  // namespace beluga::daemon
