// Small pieces the Anthropic Messages and OpenAI Responses formats share:
// server-sent event framing, JSON type names for error messages, checked
// readers of optional request members, and parsing tool-call arguments.
//
// Readers return an Error naming the member by its path
// ("messages[2].content[0].text") and what was expected.
//
// Thread contract: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "daemon/http/chat_api.h"
#include "engine/base/result.h"

namespace beluga::daemon::http {

// "event: NAME\ndata: JSON\n\n" (no event line when `name` is empty).
std::string sse_event(std::string_view name, const nlohmann::json& data);

// "string", "number", "object", ... for "expected X, got Y" messages.
std::string_view json_type_name(const nlohmann::json& value);

// `object[key]` when present and not null, else nullptr.
const nlohmann::json* member(const nlohmann::json& object, std::string_view key);

// Present-and-typed readers: nullopt when absent or null, an error when of
// another type.
Result<std::optional<std::string>> optional_string(const nlohmann::json& object, std::string_view key,
                                                   const std::string& path);
Result<std::optional<bool>> optional_bool(const nlohmann::json& object, std::string_view key,
                                          const std::string& path);
Result<std::optional<double>> optional_number(const nlohmann::json& object, std::string_view key,
                                              const std::string& path);
Result<std::optional<int64_t>> optional_integer(const nlohmann::json& object, std::string_view key,
                                                const std::string& path);

// Tool-call arguments as a JSON object for the APIs that send them parsed
// (Anthropic's tool_use input). Text that is not a JSON object (the model
// wrote something unparsable) is kept whole as {"arguments": TEXT} rather
// than lost.
nlohmann::json arguments_object(const std::string& arguments);

// A temperature request value checked to [0, 2].
Result<float> checked_temperature(double value, const std::string& path);

// The members both formats read alike into `request`: "model" (required,
// non-empty), the answer's length limit under `max_tokens_key` (at least 1;
// an error when absent and `max_tokens_required`), "stream" and
// "temperature".
Status read_common_members(const nlohmann::json& body, const std::string& max_tokens_key, bool max_tokens_required,
                           ChatRequest& request);

}  // namespace beluga::daemon::http
