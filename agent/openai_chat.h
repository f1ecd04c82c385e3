// OpenAI chat completions, as the remote provider speaks them: a V4
// conversation turned into a request body, and the streamed answer turned
// back into V4 completion text.
//
// Request (POST .../chat/completions):
//   {"model", "messages": [...], "tools": [{"type": "function", "function":
//    {...}}] (the functions declared on system/developer messages, in order),
//    "thinking": {"type": "enabled"|"disabled"} (the DeepSeek API's switch),
//    "chat_template_kwargs": {"thinking": bool[, "reasoning_effort"]}
//    (vLLM's and SGLang's switch for DeepSeek chat templates; left out for
//    api.deepseek.com), "reasoning_effort" (when RenderOptions sets one), "max_tokens",
//    "temperature", "stream": true, "stream_options": {"include_usage": true}}
// Messages: system → "system"; user, developer and latest_reminder → "user"
// (V4 renders all three as user turns); tool → {"role": "tool",
// "tool_call_id", "content"}; assistant → {"content", "reasoning_content"
// (thinking mode, when present), "tool_calls": [{"id", "type": "function",
// "function": {"name", "arguments"}}]}. An assistant turn kept only as raw
// text (a malformed reply the agent answered with a correction) is sent as
// its text: reasoning before "</think>", the rest as content.
//
// Answer: chat.completion.chunk events; their reasoning_content, content
// and tool_calls deltas (calls by index, arguments in pieces) become the
// text V4 itself would have generated: [reasoning "</think>"] content
// ["\n\n" DSML tool-call block], the block rendered by
// render_assistant_completion (chat_template.h), so the agent's parser, its
// stored turns and the next prompt are the same as with the embedded
// model. Reasoning and content are handed on as they arrive; the tool block
// when the stream ends.
//
// Thread contract: plain values and pure functions; a ChatStreamDecoder is
// used by one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/result.h"
#include "engine/model/chat_template.h"

namespace beluga::agent {

struct ChatRequestOptions {
  std::string model;
  int64_t max_tokens = 4096;
  float temperature = 0.0f;
  bool template_kwargs = true;  // add chat_template_kwargs (vLLM, SGLang)
};

// The JSON body. Errors: a tool schema or call arguments that are not
// valid JSON where JSON is required.
Result<std::string> chat_request_body(const Conversation& conversation, const RenderOptions& render,
                                      const ChatRequestOptions& options);

// The server's explanation in an error body: error.message (OpenAI,
// DeepSeek), message (vLLM), detail (FastAPI), else the text itself, cut to
// 300 bytes. `code` receives error.code / error.type when present.
std::string error_body_message(std::string_view body, std::string* code = nullptr);

enum class ChatFinish { kNone, kStop, kLength };

class ChatStreamDecoder {
 public:
  // `emit` receives the V4 completion text in order; false stops (the
  // caller's cancel).
  ChatStreamDecoder(ThinkingMode mode, std::function<bool(std::string_view)> emit)
      : mode_(mode), emit_(std::move(emit)) {}

  // One event's data (a chunk's JSON, or "[DONE]"). Errors: not JSON, a
  // chunk that is not an object, an error object the server sent in the
  // stream, reasoning after the answer started. `stopped` turns true when
  // emit returned false.
  Status feed(std::string_view data);
  // The stream ended: emits what is left ("</think>", the tool block).
  // Errors: the stream ended before a finish_reason (cut off), a tool call
  // without a name, arguments the template cannot render.
  Status finish();

  bool done_seen() const { return done_seen_; }
  bool stopped() const { return stopped_; }
  bool emitted_any() const { return !text_.empty(); }
  ChatFinish finish_reason() const { return finish_; }
  const std::string& text() const { return text_; }
  std::optional<int64_t> prompt_tokens() const { return prompt_tokens_; }
  std::optional<int64_t> cached_tokens() const { return cached_tokens_; }
  std::optional<int64_t> completion_tokens() const { return completion_tokens_; }
  // The server's ids of the tool calls, in order ("" where it sent none).
  std::vector<std::string> tool_call_ids() const;

 private:
  bool out(std::string_view piece);
  bool close_reasoning();
  struct PendingCall {
    std::string id, name, arguments;
  };
  ThinkingMode mode_;
  std::function<bool(std::string_view)> emit_;
  std::string text_;
  bool reasoning_closed_ = false;
  bool done_seen_ = false, stopped_ = false;
  ChatFinish finish_ = ChatFinish::kNone;
  std::vector<PendingCall> calls_;
  std::optional<int64_t> prompt_tokens_, cached_tokens_, completion_tokens_;
};

}  // namespace beluga::agent
