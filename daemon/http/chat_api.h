// API-neutral chat requests and results: where the HTTP serving endpoints
// (OpenAI chat completions, Anthropic messages, OpenAI responses) meet the
// generation that runs them on the daemon's shared model.
//
//   client JSON --ApiFormat::parse--> ChatRequest --generation--> ChatEvent... ChatOutcome
//   client JSON / SSE <--ApiFormat encoders-------------------------'
//
// Each API is an ApiFormat: it reads its request body into a ChatRequest
// and writes a ChatOutcome (non-streaming) or a ChatEvent sequence
// (streaming, server-sent events in the API's own event format) back.
// Formats are pure translation: no sockets, no model, no clock except what
// they are given, so each is tested alone on JSON in, JSON/SSE text out.
//
// Conventions every format keeps:
//   - Tools the request declares go on the Conversation's first message
//     when it is a system message, else on a system message with empty
//     content inserted first (V4 declares tools in the system prompt).
//   - Thinking: RenderOptions::thinking_mode from the API's own switch
//     (see each format's header); reasoning comes back in the API's field
//     for it (reasoning_content, thinking blocks, reasoning items).
//   - Tool-call ids are made by the generation (ChatEvent::call_id) with
//     the format's prefix; a client re-sending the history sends them back
//     on the assistant turn and its tool results, which is how the
//     generation finds the exact text it sampled (KV prefix reuse).
//
// Thread contract: plain values; a StreamEncoder is used by one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "engine/base/result.h"
#include "engine/model/chat_template.h"

namespace beluga::daemon::http {

struct ChatRequest {
  std::string model;                 // as the client named it; echoed back
  Conversation conversation;         // `context` stays empty
  RenderOptions render;              // thinking mode, reasoning effort
  std::optional<int64_t> max_tokens; // absent: the server's default
  float temperature = 0.0f;          // 0: greedy
  std::vector<std::string> stop;     // stop strings on the content (the API's "stop"/"stop_sequences")
  bool stream = false;
  // OpenAI's stream_options.include_usage: a final chunk carries the usage
  // (formats whose streams always carry usage ignore it).
  bool stream_usage = false;
  // "auto" (default), "none", "required" or a tool's name, as the API said
  // it; V4 has no forced-call mechanism, so the generation honours only
  // "none" (the declared tools are dropped from the prompt).
  std::string tool_choice = "auto";
  // Echoed back by the formats that carry it (Responses "metadata", ...).
  std::string user;
};

// One streamed piece of the answer, in order. Text deltas never split a
// UTF-8 character. Tool calls are numbered from 0 in the order the model
// made them; a call's arguments arrive as consecutive pieces of its JSON
// text after its kToolCallStarted.
struct ChatEvent {
  enum class Kind {
    kReasoningDelta,   // text
    kContentDelta,     // text
    kToolCallStarted,  // call_index, call_id, name
    kArgumentsDelta,   // call_index, text
    kToolCallDone,     // call_index, text: the whole arguments JSON text
  };
  Kind kind = Kind::kContentDelta;
  std::string text;
  size_t call_index = 0;
  std::string call_id;
  std::string name;
};

enum class FinishReason {
  kStop,       // the model ended its turn (or hit a stop string)
  kToolCalls,  // the turn ended with tool calls
  kLength,     // max_tokens or the context ran out
  kCancelled,  // the client went away; nothing is sent
};

struct ChatUsage {
  int64_t prompt_tokens = 0;
  int64_t cached_prompt_tokens = 0;  // of prompt_tokens, reused from the KV cache (not prefilled)
  int64_t completion_tokens = 0;
  int64_t reasoning_tokens = 0;      // of completion_tokens, spent thinking (0 when unknown)
};

struct OutcomeToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // JSON text of an object
};

struct ChatOutcome {
  std::string id;          // the response id the generation made ("chatcmpl-…", "msg_…", "resp_…")
  int64_t created = 0;     // Unix seconds
  std::string model;
  std::string reasoning;
  std::string content;
  std::vector<OutcomeToolCall> tool_calls;
  FinishReason finish = FinishReason::kStop;
  ChatUsage usage;
  // kStop by one of the request's stop strings: that string (Anthropic's
  // stop_reason "stop_sequence" reports it); empty when the model ended its turn.
  std::string stop_sequence;
};

// An error in the API's own error shape, with its HTTP status.
struct ApiError {
  int status = 400;
  std::string type;     // "invalid_request_error", "authentication_error", "not_found_error", "api_error", ...
  std::string message;
};

class StreamEncoder {
 public:
  virtual ~StreamEncoder() = default;
  // Each returns the bytes to send (zero or more complete SSE events).
  virtual std::string begin(const ChatOutcome& head) = 0;  // id, created, model known
  virtual std::string event(const ChatEvent& event) = 0;
  virtual std::string end(const ChatOutcome& outcome) = 0;  // with usage
  virtual std::string error(const ApiError& error) = 0;      // mid-stream failure
};

class ApiFormat {
 public:
  virtual ~ApiFormat() = default;
  virtual std::string_view path() const = 0;          // "/v1/chat/completions", ...
  virtual std::string_view id_prefix() const = 0;     // response ids: "chatcmpl-", "msg_", "resp_"
  virtual std::string_view call_id_prefix() const = 0;// tool-call ids: "call_", "toolu_", "call_"
  virtual Result<ChatRequest> parse(const nlohmann::json& body) const = 0;  // errors: 400 messages
  virtual nlohmann::json response(const ChatOutcome& outcome) const = 0;
  virtual std::unique_ptr<StreamEncoder> stream() const = 0;
  // The encoder for one request, for formats whose stream depends on the
  // request's options (OpenAI's include_usage); the server calls this one.
  virtual std::unique_ptr<StreamEncoder> stream_for(const ChatRequest& request) const {
    (void)request;
    return stream();
  }
  virtual nlohmann::json error_body(const ApiError& error) const = 0;
};

}  // namespace beluga::daemon::http
