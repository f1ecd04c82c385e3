// Small pieces every HTTP serving format shares: JSON members read the
// same way in each API, the server-sent-event framing, and the OpenAI error
// shape (also the shape of errors on paths no format owns).
//
// Thread contract: pure functions.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "daemon/http/chat_api.h"

namespace beluga::daemon::http {

// A function declaration from an object {"name", "description",
// "parameters", ...} (OpenAI's "function"; Anthropic's tool with its
// "input_schema" renamed by the caller). Members other than name,
// description and parameters are kept as other members. `where` names the
// object in errors.
Result<ToolDeclaration> tool_declaration_of(const nlohmann::json& function, const std::string& where);

// Puts `tools` on the conversation's first message when it is a system
// message, else on an empty system message inserted first (chat_api.h).
void attach_tools(Conversation& conversation, std::vector<ToolDeclaration> tools);

// A stop member: null, a string or an array of at most 16 strings.
Result<std::vector<std::string>> stop_strings_of(const nlohmann::json& stop, const std::string& name);

// A temperature member: null (0, greedy) or a number in [0, max].
Result<float> temperature_of(const nlohmann::json& value, double max);

// reasoning_effort (OpenAI and DeepSeek words): "none"/"minimal" switch to
// chat mode; "low", "high", "max"/"xhigh" set the effort where
// render.revision accepts it ("low" is the default on the April release);
// "medium" is the default. Anything else is an error.
Status apply_reasoning_effort(const std::string& effort, RenderOptions& render);

// "data: <json>\n\n", invalid UTF-8 replaced; with `event`, an "event:"
// line first (Anthropic's and Responses' named events).
std::string sse_data(const nlohmann::json& data, const std::string& event = "");

// {"error": {"message", "type", "param": null, "code": null}}.
nlohmann::json openai_error_body(const ApiError& error);

// Text with every invalid UTF-8 sequence replaced by U+FFFD (what the
// JSON encoders would write), so what the client sees is what it sends back.
std::string valid_utf8(std::string_view text);

}  // namespace beluga::daemon::http
