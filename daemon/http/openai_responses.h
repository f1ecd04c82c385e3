// POST /v1/responses: the OpenAI Responses API (what Codex CLI speaks with
// wire_api = "responses"), translated to and from chat_api.h's types.
//
// beluga stores nothing server-side: every request carries the whole
// conversation in `input` (Codex sends store: false and does so).
// previous_response_id, conversation and background mode are refused with
// a 400 that says so; `store` is accepted and has no effect.
//
// Request (keys read; others such as include, text, truncation,
// parallel_tool_calls, top_p and prompt_cache_key are accepted and ignored):
//
//   model              string, required; echoed back
//   instructions       string → the system message
//   input              string (one user message) or a list of items:
//     {"type":"message" (or no type), "role": user|assistant|system|developer,
//      "content": string | [parts]}; parts input_text / output_text {text},
//      refusal {refusal}; input_image / input_file become the text
//      "[Unsupported image]" / "[Unsupported file]" (V4 reads text only).
//      system and developer messages before the first user or assistant
//      item join the instructions in the system message (where V4
//      declares tools); later ones are V4 developer messages.
//     {"type":"reasoning", content:[{type reasoning_text, text}],
//      encrypted_content} → reasoning_content of the assistant turn that
//      follows (encrypted_content only when beluga wrote it, see below)
//     {"type":"function_call", call_id, name, arguments} → a tool call of
//      the assistant turn (a turn is reasoning, message text and calls)
//     {"type":"function_call_output", call_id, output: string | [parts]}
//      → a tool result
//     item_reference and other item types: 400.
//   tools              [{"type":"function", name, description, parameters,
//                      strict}]; any other tool type (web_search, file_search,
//                      custom, local_shell, mcp, ...) is a 400: beluga cannot
//                      run it and will not hide it from the caller
//   tool_choice        "auto" | "none" | "required" | {"type":"function",
//                      "name"} (→ the name) | {"type":"allowed_tools",...} (→ auto)
//   max_output_tokens  integer >= 1; temperature number; stream bool; user
//   reasoning          {"effort"}: absent → thinking mode at the default
//                      effort; "none" / "minimal" → chat mode; "low" /
//                      "medium" → default effort; "high" → high; "xhigh" /
//                      "max" → max (V4's efforts)
//
// Response: {"id":"resp_…","object":"response","created_at","status":
// "completed"|"incomplete","incomplete_details":null|{"reason":
// "max_output_tokens"},"model","output":[reasoning item, message item,
// function_call items], "usage":{"input_tokens","input_tokens_details":
// {"cached_tokens"},"output_tokens","output_tokens_details":
// {"reasoning_tokens"},"total_tokens"}, plus the fields the SDK types
// declare (error, instructions, metadata, tools, tool_choice, ...) with
// neutral values (the outcome does not carry the request). Item ids are
// the response id's suffix with the item's kind and output index
// ("rs_X_0", "msg_X_1", "fc_X_2"). cached_tokens is the prompt prefix
// beluga reused from its KV cache.
//
// A reasoning item carries its text twice: in content (reasoning_text) and
// in encrypted_content as "beluga-reasoning:" + the text (not encrypted:
// nothing is secret from the client). Codex drops reasoning_text content
// when it sends history back but keeps encrypted_content, so this is how
// beluga gets the exact reasoning back for the re-rendered prompt.
//
// Streaming: response.created, response.in_progress; per item
// response.output_item.added, for text and reasoning
// response.content_part.added, response.output_text.delta /
// response.reasoning_text.delta, then their .done and
// response.content_part.done; for calls response.function_call_arguments
// .delta / .done; response.output_item.done; finally response.completed
// (or response.incomplete). Every event has a sequence_number from 0. A
// failure mid-stream is an "error" event then response.failed.
//
// Errors: {"error":{"message","type","param":null,"code"}}.
//
// Thread contract: the format is stateless and shared; each stream()
// encoder is used by one thread.
#pragma once

#include <memory>

#include "daemon/http/chat_api.h"

namespace beluga::daemon::http {

std::unique_ptr<ApiFormat> openai_responses_format();

}  // namespace beluga::daemon::http
