// POST /v1/messages: the Anthropic Messages API (what Claude Code speaks
// with ANTHROPIC_BASE_URL pointing at beluga), translated to and from
// chat_api.h's ChatRequest / ChatEvent / ChatOutcome.
//
// Request (keys read; others, such as top_p, top_k, service_tier and
// cache_control on blocks, are accepted and ignored):
//
//   model           string, required; echoed back
//   max_tokens      integer >= 1, required (as Anthropic requires it)
//   system          string, or [{"type":"text","text"}...] joined by "\n\n"
//   messages        [{"role":"user"|"assistant","content": string | [block]}]
//     user blocks       text; tool_result {tool_use_id, content: string |
//                       [text/image blocks], is_error}; image and document
//                       blocks become the text "[Unsupported image]" /
//                       "[Unsupported document]" (V4 reads text only), the
//                       way the V4 encoder renders non-text tool results
//     assistant blocks  text; thinking {thinking, signature} (the thinking
//                       becomes the turn's reasoning_content; the signature
//                       is not verified); redacted_thinking (dropped: it is
//                       unreadable); tool_use {id, name, input}
//     A user message's blocks become one message each, in order (a tool
//     result a tool message, text a user message); V4's encoder merges
//     them back into one user turn and orders the results by call. A last
//     assistant message is a prefill the model continues (wo_eos).
//   tools           [{name, description, input_schema}] (custom tools;
//                   server tools such as web_search_* are a 400: beluga
//                   cannot run them)
//   tool_choice     {"type": "auto"|"any"|"tool" (with name)|"none"}
//                   → "auto" | "required" | name | "none"
//   thinking        {"type":"enabled","budget_tokens":N} or {"type":
//                   "adaptive"}: thinking mode; {"type":"disabled"} or
//                   absent: chat mode. The budget is not enforced (V4 has
//                   no thinking budget); max_tokens still bounds the turn.
//   stop_sequences  [string]; temperature number; stream bool;
//   metadata        {"user_id"} → ChatRequest::user
//
// Response: {"id":"msg_…","type":"message","role":"assistant","model",
// "content":[thinking {thinking, signature}, text {text}, tool_use {id,
// name, input (the arguments parsed to an object)}...], "stop_reason":
// "end_turn"|"max_tokens"|"tool_use"|"stop_sequence", "stop_sequence",
// "usage":{"input_tokens","output_tokens","cache_read_input_tokens",
// "cache_creation_input_tokens"}}. Anthropic counts input_tokens without
// the cache reads: input_tokens + cache_read_input_tokens is the whole
// prompt, and cache_read_input_tokens is the prefix beluga reused from its
// KV cache. cache_creation_input_tokens is 0 (nothing is billed for
// writing the cache).
//
// Thinking signatures: the SDKs require a string. beluga's is
// "beluga-fnv1a64:" + the FNV-1a 64-bit digest of the thinking text in
// hex: it identifies the text but proves nothing, and beluga does not
// verify the signatures clients send back.
//
// Streaming (text/event-stream, each event "event: NAME\ndata: JSON\n\n"):
// message_start (the message with empty content and the usage known at
// the start), ping, then per block content_block_start / content_block_delta
// (thinking_delta, then one signature_delta; text_delta; input_json_delta
// with partial_json) / content_block_stop, then message_delta (stop_reason,
// stop_sequence, usage) and message_stop. A failure mid-stream is
// "event: error" with the error body.
//
// Errors: {"type":"error","error":{"type","message"}}.
//
// Thread contract: the format is stateless and shared; each stream()
// encoder is used by one thread.
#pragma once

#include <memory>

#include "daemon/http/chat_api.h"

namespace beluga::daemon::http {

std::unique_ptr<ApiFormat> anthropic_messages_format();

// The thinking block signature beluga writes for `thinking` (see above).
std::string thinking_signature(std::string_view thinking);

}  // namespace beluga::daemon::http
