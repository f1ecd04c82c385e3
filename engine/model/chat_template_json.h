// OpenAI-style JSON messages (the format of encoding_dsv4.py and of
// ../shared/golden/chat-encoding) into chat_template.h's types.
//
// A message is {"role", "content", ...}; the keys read are those the
// reference encoder reads:
//
//   role               system | user | developer | assistant | tool | latest_reminder
//   content            string or null; tool messages also a list of blocks
//                      [{"type": "text", "text": ...}, {"type": "image", ...}]
//   reasoning_content  string or null (assistant)
//   tool_calls         [{"id", "type": "function", "function": {"name", "arguments"}}],
//                      arguments a JSON *string* (assistant)
//   tool_call_id, name string (tool)
//   tools              [{"type": "function", "function": {name, description, parameters}}]
//   response_format    any JSON (system, developer)
//   wo_eos             truthy: no EOS after the turn (assistant)
//   task               action | query | authority | domain | title | read_url, or null
//   raw_completion     string: beluga's own field, Message::raw_completion
//
// Other keys ("mask", "refusal", ...) are ignored, as the reference ignores
// them. A missing "content" reads as "" for user and tool messages and as
// null otherwise (Python's msg.get("content", "") vs msg.get("content")).
// Errors name the message by its path ("messages[3].tool_calls[0].function")
// and say what was expected.
//
// Render options are {"thinking_mode": "chat"|"thinking", "drop_thinking",
// "add_default_bos_token", "reasoning_effort": null|"low"|"high"|"max",
// "context": [messages], "encoding_revision": "v4"|"v4-0731"} (the last is
// beluga's: the revision the golden cases cannot name; default "v4").
//
// Thread contract: pure functions.
#pragma once

#include <string>

#include "engine/base/result.h"
#include "engine/model/chat_template.h"
#include "engine/model/py_json.h"

namespace beluga {

// One message; `path` prefixes error messages ("messages[3]").
Result<Message> message_from_json(const JsonValue& message, const std::string& path);

// A JSON array of messages, and optionally the context messages before it.
Result<Conversation> conversation_from_json(const JsonValue& messages, const JsonValue* context = nullptr);

struct RenderRequest {
  Conversation conversation;
  RenderOptions options;
};

// The options object alone (its "context" lands in `context_out` when given).
Result<RenderOptions> render_options_from_json(const JsonValue& options, const JsonValue** context_out = nullptr);

// One line of render.jsonl / `beluga template render --jsonl`:
// {"messages": [...], "options": {...}} (other keys, such as a case's
// "name" or expected "prompt", are ignored).
Result<RenderRequest> render_request_from_json(const JsonValue& request);

}  // namespace beluga
