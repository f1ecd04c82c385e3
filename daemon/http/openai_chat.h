// OpenAI chat completions (POST /v1/chat/completions) as an ApiFormat.
//
// Request: model, messages (system, developer, user, assistant, tool;
// content a string, null or an array of {"type":"text","text"} parts),
// tools ({"type":"function","function":{...}}), tool_choice, max_tokens or
// max_completion_tokens, stop (a string or up to 16 strings), temperature
// (0..2), stream, stream_options.include_usage. Assistant turns may carry
// reasoning_content and tool_calls; tool turns a tool_call_id. Unknown
// members are ignored (clients send many: top_p, n=1, user, ...); n other
// than 1 and non-text content parts are refused (400).
//
// Thinking, the DeepSeek API's conventions: thinking mode by default;
// {"thinking": {"type": "disabled"}} or reasoning_effort "none"/"minimal"
// switch to chat mode; reasoning_effort "low", "high", "max" ("xhigh" is
// max) pick V4's effort where the encoding revision accepts it (the April
// release has no "low": it means the default); "medium" is the default.
// Reasoning comes back as reasoning_content, in the message and in deltas.
//
// "developer" messages are OpenAI's new name for system messages (its
// reasoning models take them instead), so they render as V4 system
// messages, not as V4's own developer role.
//
// Responses: chat.completion with usage {prompt_tokens, completion_tokens,
// total_tokens, prompt_tokens_details.cached_tokens,
// completion_tokens_details.reasoning_tokens}; streams of
// chat.completion.chunk events ("data: {...}\n\n"), the first delta
// carrying the role, a tool call's first delta its index, id, type, name and
// empty arguments, the next ones argument pieces; the last chunk with a
// choice carries finish_reason, then (include_usage) a chunk with no
// choices and the usage, then "data: [DONE]". Errors:
// {"error": {"message", "type", "param", "code"}}.
//
// Thread contract: stateless; the format is shared by every connection.
#pragma once

#include <memory>

#include "daemon/http/chat_api.h"

namespace beluga::daemon::http {

std::unique_ptr<ApiFormat> make_openai_chat_format();

}  // namespace beluga::daemon::http
