// Internal to openai_responses.cpp: the /v1/responses request body into a
// ChatRequest (the mapping is documented in openai_responses.h).
//
// Thread contract: a pure function.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "daemon/http/chat_api.h"

namespace beluga::daemon::http {

Result<ChatRequest> parse_responses_request(const nlohmann::json& body);

}  // namespace beluga::daemon::http
