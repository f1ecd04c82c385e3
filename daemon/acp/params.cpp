#include "daemon/acp/params.h"

namespace beluga::daemon {

const Json& params_object(const Json& params) {
  static const Json empty = Json::object();
  if (params.is_null()) return empty;
  if (!params.is_object()) throw InvalidParams("params must be an object");
  return params;
}

std::string required_string(const Json& params, const char* key) {
  const Json& p = params_object(params);
  auto it = p.find(key);
  if (it == p.end() || !it->is_string()) throw InvalidParams(std::string(key) + ": a string is required");
  return it->get<std::string>();
}

std::optional<std::string> optional_string(const Json& params, const char* key) {
  const Json& p = params_object(params);
  auto it = p.find(key);
  if (it == p.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) throw InvalidParams(std::string(key) + ": must be a string");
  return it->get<std::string>();
}

std::optional<int64_t> optional_int(const Json& params, const char* key) {
  const Json& p = params_object(params);
  auto it = p.find(key);
  if (it == p.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) throw InvalidParams(std::string(key) + ": must be an integer");
  return it->get<int64_t>();
}

const Json& required_array(const Json& params, const char* key) {
  const Json& p = params_object(params);
  auto it = p.find(key);
  if (it == p.end() || !it->is_array()) throw InvalidParams(std::string(key) + ": an array is required");
  return *it;
}

rpc::Handler guarded(rpc::Handler handler) {
  return [handler = std::move(handler)](const rpc::Call& call, rpc::Responder& reply) {
    try {
      handler(call, reply);
    } catch (const InvalidParams& e) {
      if (!reply.answered()) reply.error(rpc::kInvalidParams, std::string("invalid params: ") + e.what());
    } catch (const NotFound& e) {
      if (!reply.answered()) reply.error(rpc::kResourceNotFound, e.what());
    }
  };
}

}  // namespace beluga::daemon
