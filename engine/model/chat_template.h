// DeepSeek V4 prompts: a conversation as plain data, rendered to the exact
// prompt string the model was trained on.
//
// The oracle is DeepSeek's reference encoder, encoding/encoding_dsv4.py of
// deepseek-ai/DeepSeek-V4-Flash (encode_messages); every rule below is
// pinned by a case of ../shared/golden/chat-encoding/render.jsonl, which
// render_prompt reproduces byte for byte. The prompt is one string:
//
//   [BOS] [effort paragraph] message message ...
//
//   system     content, then "\n\n" + the "## Tools" block (one JSON line per
//              declared function) and/or "\n\n## Response Format:..." block;
//              no role marker.
//   developer  <｜User｜> + content (+ the same blocks).
//   user       <｜User｜> + its parts joined by "\n\n". Consecutive user and
//              tool messages merge into one user turn first; a tool result is
//              <tool_result>…</tool_result>, and results are reordered to
//              follow the call order of the last assistant turn with calls.
//   latest_reminder  <｜latest_reminder｜> + content.
//   assistant  [reasoning + "</think>"] + content + ["\n\n" + DSML tool
//              calls] + EOS (none with wo_eos).
//
// After a user or developer message that is last or followed by an
// assistant or latest_reminder message comes the generation point:
// <｜Assistant｜> + "<think>" (thinking mode, at the last user turn or when
// history is kept) or "</think>". A message with a quick-instruction task
// instead appends the task's token. In thinking mode with drop_thinking (the
// default), turns before the last user/developer message lose their
// reasoning and earlier developer messages are removed; declaring tools
// anywhere switches dropping off (agent loops keep their reasoning).
//
// Text is inserted verbatim everywhere: nothing is trimmed or escaped, even
// when it contains special tokens. JSON (tool schemas, response formats,
// tool-call arguments) is re-serialised the way Python's json.dumps does,
// key order kept (py_json.h).
//
// Two revisions of the encoder exist; they differ only in the
// reasoning-effort paragraph (RenderOptions::revision).
//
// Thread contract: plain values and pure functions.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/base/result.h"
#include "engine/model/dsv4_tokens.h"

namespace beluga {

enum class Role { kSystem, kUser, kDeveloper, kAssistant, kTool, kLatestReminder };
std::string_view role_name(Role role);

// Quick-instruction tasks: internal classification prompts that end a
// message with their own token instead of a normal generation point.
enum class ChatTask { kNone, kAction, kQuery, kAuthority, kDomain, kTitle, kReadUrl };
std::string_view chat_task_name(ChatTask task);  // "action", ...; "" for kNone

// One function the model may call (the OpenAI "function" object).
struct ToolDeclaration {
  std::string name;
  std::optional<std::string> description;
  // JSON text of the JSON-schema parameters object (any formatting; it is
  // re-serialised, key order kept). Absent: no "parameters" member.
  std::optional<std::string> parameters_json;
  // Any other members of the function object ("strict", a non-string
  // description, ...), as key and JSON text.
  std::vector<std::pair<std::string, std::string>> other_members_json;
  // The order the members were given in; empty means name, description,
  // parameters, then the others. Python keeps input order, so a client that
  // sends "parameters" first sees it first in the prompt.
  std::vector<std::string> member_order;
};

// One call an assistant turn made.
struct ToolCall {
  std::string id;         // matched by ToolMessage results; may be empty
  std::string name;
  std::string arguments;  // JSON text of an object, as the client or parser gave it
};

// A block of a tool result given as a list (e.g. text plus an image).
struct ContentBlock {
  // "text" blocks contribute their text; any other type renders as
  // "[Unsupported TYPE]" (a missing type renders as "None", as Python does).
  std::optional<std::string> type;
  std::string text;
};

struct Message {
  Role role = Role::kUser;

  // Text content. Absent (null) renders as "" for system and assistant
  // messages and as "None" for latest_reminder and tool messages (the
  // reference's str(None)); it is an error for user and developer messages.
  std::optional<std::string> content;
  // Tool messages only: content given as a list of blocks (used instead of
  // `content` when non-empty).
  std::vector<ContentBlock> content_blocks;

  // Assistant turns.
  std::optional<std::string> reasoning_content;
  std::vector<ToolCall> tool_calls;
  bool wo_eos = false;  // no EOS after this turn: a prefill the model continues
  // The exact text of this turn after "<｜Assistant｜>": the "<think>" or
  // "</think>" the prompt opened it with, then what the model generated
  // (to_assistant_message in dsml_parser.h builds it). When set it is
  // rendered instead of reasoning_content, content and tool_calls, so a
  // re-rendered history reproduces the tokens the model saw. A "<think>"
  // text holds "reasoning</think>" then the body; a "</think>" text holds
  // only the body. The reasoning is written when the turn renders a thinking
  // part (else the body alone follows the prompt's "</think>"); one
  // trailing EOS is dropped and the usual EOS rule (wo_eos) applies.
  std::optional<std::string> raw_completion;

  // Tool results.
  std::string tool_call_id;  // the ToolCall::id answered; empty when unknown
  std::string name;          // the tool's name (informational; not rendered)

  // System and developer messages: functions to declare and a response
  // format (JSON text; rendered when it is truthy in Python's sense).
  // Tools on other roles are not rendered; on assistant and latest_reminder
  // messages they still switch history dropping off, as in the reference.
  std::vector<ToolDeclaration> tools;
  std::optional<std::string> response_format_json;

  ChatTask task = ChatTask::kNone;
};

struct Conversation {
  // Messages that precede `messages` and were rendered already (a prompt
  // prefix): they take part in merging, ordering, dropping and generation
  // point decisions but are not rendered, and no BOS is written.
  std::vector<Message> context;
  std::vector<Message> messages;
};

// reasoning_effort of encode_messages. kDefault is Python's None.
enum class ReasoningEffort { kDefault, kLow, kHigh, kMax };
std::string_view reasoning_effort_name(ReasoningEffort effort);  // "low", ...; "" for kDefault

enum class EncodingRevision {
  // The April 2026 V4 release (DeepSeek-V4-Flash / -Pro): efforts high and
  // the default add nothing, max adds the "Absolute maximum" paragraph, low
  // is an error.
  kV4,
  // DeepSeek-V4-Flash-0731: default and low add nothing, high adds the
  // "Absolute maximum" paragraph, max a "Beyond maximum" one.
  kV4_0731,
};

struct RenderOptions {
  ThinkingMode thinking_mode = ThinkingMode::kThinking;
  bool drop_thinking = true;  // drop reasoning (and developer messages) before the last user turn
  bool add_bos = true;        // ignored when the conversation has a context
  ReasoningEffort reasoning_effort = ReasoningEffort::kDefault;  // thinking mode only
  EncodingRevision revision = EncodingRevision::kV4;
};

// encode_messages(messages, thinking_mode, context, drop_thinking,
// add_default_bos_token, reasoning_effort). Errors (a developer message
// without content, a user message with null content, tool-call arguments
// that are JSON but not an object, an effort the revision does not accept,
// invalid JSON in a schema) name the message by its index in `messages`.
Result<std::string> render_prompt(const Conversation& conversation, const RenderOptions& options);

// The text a model generates for `assistant` after the generation point,
// as render_prompt writes that turn when it renders its thinking part (or
// in chat mode): [reasoning_content + "</think>" in thinking mode] +
// content + ["\n\n" + the DSML tool-call block], without EOS. A provider
// that receives a turn as structured fields (a remote OpenAI-compatible
// server) rebuilds V4 completion text with it, byte-identical to what the
// prompt will hold. raw_completion is ignored. Errors: arguments that are
// JSON but not an object.
Result<std::string> render_assistant_completion(const Message& assistant, ThinkingMode mode);

// A stricter check for conversations beluga builds itself: every tool result
// answers a call of the closest preceding assistant turn with calls, by id.
// The reference encoder accepts unmatched results (it sorts them first), so
// render_prompt does too; the agent runs this before sending a request.
Status check_tool_results(const Conversation& conversation);

}  // namespace beluga
