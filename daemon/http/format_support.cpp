#include "daemon/http/format_support.h"

#include <cmath>

namespace beluga::daemon::http {

std::string sse_event(std::string_view name, const nlohmann::json& data) {
  std::string out;
  if (!name.empty()) {
    out += "event: ";
    out += name;
    out += '\n';
  }
  // dump() escapes control characters, so the data is one line as SSE needs;
  // invalid UTF-8 from a model is replaced rather than thrown on.
  out += "data: ";
  out += data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  out += "\n\n";
  return out;
}

std::string_view json_type_name(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::boolean: return "boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float: return "number";
    case nlohmann::json::value_t::string: return "string";
    case nlohmann::json::value_t::array: return "array";
    case nlohmann::json::value_t::object: return "object";
    default: return "value";
  }
}

const nlohmann::json* member(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

namespace {

Error wrong_type(const std::string& path, std::string_view key, std::string_view expected,
                 const nlohmann::json& got) {
  std::string where = path.empty() ? std::string(key) : path + "." + std::string(key);
  return make_error(where + ": expected " + std::string(expected) + ", got " + std::string(json_type_name(got)));
}

}  // namespace

Result<std::optional<std::string>> optional_string(const nlohmann::json& object, std::string_view key,
                                                   const std::string& path) {
  const nlohmann::json* value = member(object, key);
  if (value == nullptr) return std::optional<std::string>();
  if (!value->is_string()) return wrong_type(path, key, "a string", *value);
  return std::optional<std::string>(value->get<std::string>());
}

Result<std::optional<bool>> optional_bool(const nlohmann::json& object, std::string_view key,
                                          const std::string& path) {
  const nlohmann::json* value = member(object, key);
  if (value == nullptr) return std::optional<bool>();
  if (!value->is_boolean()) return wrong_type(path, key, "a boolean", *value);
  return std::optional<bool>(value->get<bool>());
}

Result<std::optional<double>> optional_number(const nlohmann::json& object, std::string_view key,
                                              const std::string& path) {
  const nlohmann::json* value = member(object, key);
  if (value == nullptr) return std::optional<double>();
  if (!value->is_number()) return wrong_type(path, key, "a number", *value);
  return std::optional<double>(value->get<double>());
}

Result<std::optional<int64_t>> optional_integer(const nlohmann::json& object, std::string_view key,
                                                const std::string& path) {
  const nlohmann::json* value = member(object, key);
  if (value == nullptr) return std::optional<int64_t>();
  if (value->is_number_unsigned()) {
    if (value->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      return wrong_type(path, key, "an integer in range", *value);
    }
    return std::optional<int64_t>(static_cast<int64_t>(value->get<uint64_t>()));
  }
  if (value->is_number_integer()) return std::optional<int64_t>(value->get<int64_t>());
  if (value->is_number_float()) {
    // JavaScript clients may send 4096.0; accept whole numbers.
    double d = value->get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) {
      return std::optional<int64_t>(static_cast<int64_t>(d));
    }
  }
  return wrong_type(path, key, "an integer", *value);
}

nlohmann::json arguments_object(const std::string& arguments) {
  nlohmann::json parsed = nlohmann::json::parse(arguments, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object()) return parsed;
  return nlohmann::json{{"arguments", arguments}};
}

Result<float> checked_temperature(double value, const std::string& path) {
  if (!(value >= 0.0 && value <= 2.0)) {
    return make_error(path + ": temperature must be between 0 and 2");
  }
  return static_cast<float>(value);
}

Status read_common_members(const nlohmann::json& body, const std::string& max_tokens_key, bool max_tokens_required,
                           ChatRequest& request) {
  auto model = optional_string(body, "model", "");
  if (!model.ok()) return model.error();
  if (!model->has_value() || (*model)->empty()) return make_error("model: required");
  request.model = **model;

  auto max_tokens = optional_integer(body, max_tokens_key, "");
  if (!max_tokens.ok()) return max_tokens.error();
  if (!max_tokens->has_value() && max_tokens_required) return make_error(max_tokens_key + ": required");
  if (max_tokens->has_value()) {
    if (**max_tokens < 1) return make_error(max_tokens_key + ": must be at least 1");
    request.max_tokens = **max_tokens;
  }

  auto stream = optional_bool(body, "stream", "");
  if (!stream.ok()) return stream.error();
  request.stream = stream->value_or(false);

  auto temperature = optional_number(body, "temperature", "");
  if (!temperature.ok()) return temperature.error();
  if (temperature->has_value()) {
    auto checked = checked_temperature(**temperature, "temperature");
    if (!checked.ok()) return checked.error();
    request.temperature = *checked;
  }
  return {};
}

}  // namespace beluga::daemon::http
