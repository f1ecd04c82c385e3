// Streaming parser of DeepSeek V4 completions: reasoning, content and DSML
// tool calls, fed chunk by chunk as tokens are decoded.
//
// The oracle is parse_message_from_completion_text of DeepSeek's
// encoding_dsv4.py; every case of ../shared/golden/chat-encoding/parse.jsonl
// (results and error messages) is reproduced exactly. The grammar, on the
// text the model produced after the prompt's "<｜Assistant｜><think>" (thinking
// mode) or "<｜Assistant｜></think>" (chat mode):
//
//   completion := [reasoning "</think>"]          (thinking mode only)
//                 content ( EOS | tool-block [EOS] )
//   tool-block := "\n\n<｜DSML｜tool_calls" ">\n"
//                 ( "<｜DSML｜invoke" ` name="NAME">\n` params "</｜DSML｜invoke" ">\n" )*
//                 "</｜DSML｜tool_calls>"
//   params     := ( "<｜DSML｜parameter" ` name="P" string="true|false">VALUE<`
//                   "/｜DSML｜parameter" ">\n" )*
//
// Exactly as the reference reads it: the reasoning runs to the first
// </think> (a tool block before it is an error); the content runs to the
// first EOS or "\n\n<｜DSML｜tool_calls"; each separator between tags must be
// exactly ">\n"; a parameter value ends at the first "/｜DSML｜parameter"
// (there is no escaping); string="true" values are JSON-quoted into the
// arguments, string="false" values are inserted as written, unvalidated;
// a repeated parameter name is an error; nothing but EOS may follow the
// block, nothing may follow EOS; and BOS, EOS, <think>, </think> or
// ｜DSML｜ inside the reasoning or content is an error. A tool block may
// end without EOS (generation stopped by a stop string or token budget),
// even inside an invoke at a tag boundary: that call is kept with `closed`
// false. Error messages are the reference's, word for word, except that
// quoted text longer than 4 KiB has its middle elided.
//
// Two things the reference leaves to its caller are reported here rather
// than silently passed on: a string="false" value that is not JSON (the
// call's `arguments_error`, the message to hand back to the model) and a
// call cut off before its closing tag (`closed`). check_tool_calls() turns
// both into an error before anything is executed.
//
// Streaming: events are emitted as soon as the text decides them. Reasoning
// and content deltas hold back only what could be the start of a stop
// string, and never split a UTF-8 character; a tool call starts when its
// invoke tag is complete; argument deltas stream the JSON text of the
// arguments object (their concatenation is ParsedToolCall::arguments).
// The events, merged where consecutive deltas of one kind meet, and the
// result are the same however the text is split into chunks. Errors whose
// message quotes the rest of the text are decided at the next tag or at
// the end, as the reference decides them.
//
// Thread contract: a DsmlStreamParser is used by one thread at a time.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/result.h"
#include "engine/model/chat_template.h"
#include "engine/model/dsv4_tokens.h"
#include "engine/model/py_json.h"

namespace beluga {

struct DsmlParameter {
  std::string name;
  std::string value;  // as written between the tags
  bool is_string = false;
};

struct ParsedToolCall {
  std::string name;
  std::vector<DsmlParameter> parameters;
  // The reference's arguments text: {"P": "escaped string", "Q": raw value}
  // joined by ", " (valid JSON exactly when arguments_error is empty).
  std::string arguments;
  // Empty, or why the arguments are not a JSON object (a string="false"
  // value that is not JSON), worded for the model.
  std::string arguments_error;
  bool closed = false;  // its </｜DSML｜invoke> was seen
};

struct ParsedCompletion {
  std::string reasoning_content;
  std::string content;
  std::vector<ParsedToolCall> tool_calls;
  bool ended_with_eos = false;
};

struct DsmlEvent {
  enum class Kind {
    kReasoningDelta,     // text: more reasoning
    kContentDelta,       // text: more content
    kToolCallStarted,    // call_index, text: the tool's name
    kArgumentsDelta,     // call_index, text: the next piece of the arguments JSON text
    kParameterComplete,  // call_index, parameter
    kToolCallComplete,   // call_index, call
    kEnd,                // the text parsed; DsmlStreamParser::result() holds the completion
    kFailed,             // text: why the text is malformed; nothing more is parsed
  };
  Kind kind = Kind::kEnd;
  std::string text;
  size_t call_index = 0;
  DsmlParameter parameter;
  ParsedToolCall call;
};

class DsmlStreamParser {
 public:
  explicit DsmlStreamParser(ThinkingMode mode);

  // Appends the events `chunk` decides to `events`. Ignored once done().
  void feed(std::string_view chunk, std::vector<DsmlEvent>& events);
  // The text is complete: decides everything left, ending with End or Failed.
  void finish(std::vector<DsmlEvent>& events);

  bool done() const { return state_ == State::kDone || state_ == State::kFailed; }
  // The completion parsed so far; complete after End.
  const ParsedCompletion& completion() const { return completion_; }
  // After End: the completion; after Failed: the error. Before either: an
  // error saying the text is not finished.
  Result<ParsedCompletion> result() const;

 private:
  enum class State {
    kReasoning,     // until </think>
    kContent,       // until EOS or "\n\n<｜DSML｜tool_calls"
    kAfterEos,      // only the end of the text may follow
    kBlockGap,      // ">\n" before an invoke or the block's closing tag
    kInvokeHeader,  // ` name="…">\n` up to the first parameter or </invoke
    kParamBody,     // ` name="…" string="…">value<` up to /｜DSML｜parameter
    kParamGap,      // ">\n" before the next parameter or </invoke
    kAfterBlock,    // after </｜DSML｜tool_calls>: EOS or the end
    kDone,
    kFailed,
  };

  // Each returns true when it moved to another state (call again), false
  // when it needs more text. With at_end it always moves.
  bool step_text(bool at_end, std::vector<DsmlEvent>& events);
  bool step_after_eos(bool at_end, std::vector<DsmlEvent>& events);
  bool step_block_gap(bool at_end, std::vector<DsmlEvent>& events);
  bool step_invoke_header(bool at_end, std::vector<DsmlEvent>& events);
  bool step_param_body(bool at_end, std::vector<DsmlEvent>& events);
  bool step_param_gap(bool at_end, std::vector<DsmlEvent>& events);
  bool step_after_block(bool at_end, std::vector<DsmlEvent>& events);
  void run(bool at_end, std::vector<DsmlEvent>& events);

  std::string_view segment() const { return std::string_view(buffer_).substr(pos_); }
  void advance(size_t bytes, State next);
  void emit_text(std::string_view text, std::vector<DsmlEvent>& events);
  void stream_parameter(size_t limit, std::vector<DsmlEvent>& events);
  void start_call(std::string name, std::vector<DsmlEvent>& events);
  void complete_call(bool closed, std::vector<DsmlEvent>& events);
  void succeed(std::vector<DsmlEvent>& events);
  bool fail(std::string message, std::vector<DsmlEvent>& events);

  // Finds BOS, EOS, <think>, </think> and ｜DSML｜ across the pieces of one
  // text (reasoning or content) fed in order.
  struct TokenScanner {
    std::string tail;
    unsigned found = 0;  // bit i: kCheckedTokens[i] seen
    void feed(std::string_view text);
  };

  State state_;
  std::string buffer_;
  size_t pos_ = 0;          // start of the current state's text in buffer_
  size_t search_from_ = 0;  // relative to pos_: no stop string starts before it
  ParsedCompletion completion_;
  TokenScanner reasoning_tokens_;
  TokenScanner content_tokens_;
  std::string error_;

  // The parameter being read (kParamBody), relative to pos_.
  bool header_known_ = false;
  bool header_duplicate_ = false;
  size_t header_search_from_ = 0;
  size_t value_start_ = 0;
  size_t value_emitted_ = 0;
  bool value_is_string_ = false;
};

// One-shot parse built on DsmlStreamParser.
Result<ParsedCompletion> parse_completion(std::string_view text, ThinkingMode mode);

// Before executing the calls: an error when a call was cut off before its
// closing tag or its arguments are not a JSON object (the message names the
// call and parameter and can be handed back to the model).
Status check_tool_calls(const ParsedCompletion& completion);

// The assistant turn to append to the conversation: its fields, and
// `raw_completion` ("<think>" or "</think>" as `mode` opened the turn, then
// `text`, the completion parsed) so the prompt re-renders it exactly. Tool
// call ids are left empty for the caller to assign.
Message to_assistant_message(const ParsedCompletion& completion, std::string_view text, ThinkingMode mode);

// The reference parser's return value: {"role": "assistant", "content",
// "reasoning_content", "tool_calls": [{"type": "function", "function":
// {"name", "arguments"}}]} (what `beluga template parse` prints).
JsonValue completion_to_json(const ParsedCompletion& completion);

}  // namespace beluga
