// The agent: one session's loop of model calls and tool calls.
//
// A turn (run_turn):
//   1. checkpoint the workspace (tools/checkpoints.h) so the turn can be
//      rewound, shell-made changes included; record the turn and the user's
//      message in the session store;
//   2. step: render the conversation (system message with tool
//      declarations and repository context, then the transcript) to V4's
//      prompt, compacting first when it nears the context budget; the
//      provider generates; the completion streams through the DSML parser
//      (reasoning and answer text go out as events as they come);
//   3. the model's turn is stored (exact text and sampled ids) before any
//      of its calls runs; each call is checked (closed, JSON arguments),
//      then permission is decided (permissions.h; "ask" goes to the ask
//      callback), then the tool runs; each result is stored as soon as it
//      exists, and streamed as an event (with a diff for edits);
//   4. repeat until the model answers without a call (stop "completed"),
//      or max steps, the token limits, a cancel, repeated malformed output
//      or an error stops it.
// Malformed output (text the parser rejects, a call cut off, arguments
// that are not JSON) is answered like a failed tool: the model is told
// what was wrong and tries again; max_malformed consecutive malformed
// steps stop the turn.
//
// Cancellation (cancel(), from any thread): the flag is polled between
// prefill chunks, decode steps and tool calls, and a running shell command
// is killed (ToolContext::keep_going). A cancelled generation is not
// stored; a cancelled call gets a "cancelled" result and calls not yet run
// a "not run" one, so every call stored has its answer.
//
// Events and permission questions go through callbacks (any client: the
// terminal, the daemon's socket); they are called on the thread running
// the turn.
//
// Thread contract: one turn at a time per Agent; cancel() may be called
// from any thread (also from a signal handler through cancel_flag()).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/agent_events.h"
#include "agent/model_provider.h"
#include "agent/permissions.h"
#include "agent/session_store.h"
#include "agent/system_prompt.h"
#include "engine/base/result.h"
#include "engine/model/chat_template.h"
#include "tools/tool.h"

namespace beluga::agent {

enum class StopReason {
  kCompleted,    // the model answered without a tool call
  kMaxSteps,     // max_steps model calls in this turn
  kOutputLimit,  // a model call or the turn ran out of tokens
  kContextFull,  // the transcript no longer fits the context, even compacted
  kCancelled,
  kMalformed,    // max_malformed malformed steps in a row
  kError,        // the model, store or workspace failed
};
std::string_view stop_reason_name(StopReason reason);  // "completed", "max_steps", ...

struct AgentOptions {
  int64_t max_steps = 50;
  int64_t max_output_tokens = 8192;    // per model call
  int64_t max_turn_tokens = 200000;    // generated per turn, all calls
  int64_t context_tokens = 0;          // 0: the provider's window
  double compact_at = 0.8;             // share of the context that triggers compaction
  int64_t keep_recent_turns = 1;       // turns compaction keeps verbatim (besides the running one)
  int64_t max_malformed = 3;
  int64_t summary_tokens = 2048;       // the compaction summary's limit
  ThinkingMode thinking = ThinkingMode::kThinking;
};

struct PermissionRequest {
  std::string call_id;
  std::string tool;
  std::string arguments;
  std::string summary;
  std::string reason;
};
enum class PermissionAnswer { kAllowOnce, kAllowSession, kDeny };
std::string_view permission_answer_name(PermissionAnswer answer);

struct AgentCallbacks {
  std::function<void(const AgentEvent&)> on_event;
  // Absent: every "ask" is denied (a client that cannot ask).
  std::function<PermissionAnswer(const PermissionRequest&)> ask;
};

struct AgentSetup {
  std::unique_ptr<ModelProvider> provider;
  SessionStore* store = nullptr;        // outlives the agent
  std::filesystem::path workspace;      // canonical
  const tools::ToolRegistry* registry = nullptr;
  // Tools that change during a session (MCP servers, tools/mcp): when set
  // it is used instead of `registry`, asked at creation and at the start of
  // each turn; a registry other than the current one replaces it and the
  // tool declarations are rendered anew (a changed list costs one
  // re-prefill of the prompt, so changes wait for the next turn).
  std::function<std::shared_ptr<const tools::ToolRegistry>()> tool_source;
  PermissionPolicy policy;
  AgentOptions options;
  AgentCallbacks callbacks;
  RepoContextSource repo_context;       // empty: file_list_context
  // Where write/edit/apply_patch read and write text (tools/tool.h
  // FileAccess; the daemon: the editor's buffers); null: the disk.
  std::shared_ptr<tools::FileAccess> files;
};

struct TurnResult {
  int64_t turn = 0;
  StopReason reason = StopReason::kCompleted;
  std::string message;                   // why, in words
  int64_t steps = 0;
  int64_t tokens_generated = 0;
  std::string checkpoint;                // taken before the turn ("" if none)
  std::vector<std::string> changed_files;  // "M  a.txt" since the checkpoint
  std::string final_text;                // the model's last answer
  std::vector<ModelCallUsage> model_calls;  // one per step, in order
  // Time outside the model, summed over the turn's steps.
  double render_ms = 0, parse_ms = 0, permission_ms = 0, checkpoint_ms = 0, model_ms = 0, tools_ms = 0, store_ms = 0;
};

struct RewindResult {
  int64_t to_turn = 0;                 // the first turn removed
  std::string checkpoint;              // restored
  std::string saved_checkpoint;        // the state before the rewind, kept
  std::vector<std::string> written, removed, conflicts;
};

class Agent {
 public:
  // A new session in `setup.store`.
  static Result<std::unique_ptr<Agent>> create(AgentSetup setup);
  // An existing one: its transcript, system message and thinking mode.
  // Calls the last run left without a result are answered "interrupted".
  static Result<std::unique_ptr<Agent>> resume(AgentSetup setup, const std::string& session_id);
  ~Agent();

  const std::string& session_id() const { return session_.id; }
  const SessionRecord& session() const { return session_; }
  const std::vector<TranscriptEntry>& transcript() const { return transcript_; }
  PermissionPolicy& policy() { return policy_; }
  Status set_mode(PermissionMode mode);

  TurnResult run_turn(const std::string& prompt);

  void cancel() { cancelled_.store(true); }
  std::atomic<bool>& cancel_flag() { return cancelled_; }

  // Undoes the last `turns` turns: files back to the checkpoint taken
  // before the first of them (the current state is checkpointed first),
  // transcript truncated.
  Result<RewindResult> rewind(int64_t turns);

  // Replaces all but the recent turns by a model-written summary.
  Status compact();

  // Hands the model back (e.g. to resume another session without loading
  // it again); the agent cannot run turns afterwards.
  std::unique_ptr<ModelProvider> take_provider() { return std::move(provider_); }

  // The prompt the next model call would see (for tests and inspection).
  Result<std::string> render() const;

 private:
  Agent(AgentSetup setup, SessionRecord session);
  void emit(AgentEvent event) const;
  bool keep_going() const { return !cancelled_.load(); }
  Result<std::string> render_with(const std::vector<Message>& extra, ThinkingMode mode) const;
  // A model call's request: the prompt and the conversation it was
  // rendered from (CompletionRequest::conversation).
  Result<CompletionRequest> request_with(const std::vector<Message>& extra, ThinkingMode mode) const;
  Status store_message(int64_t turn, Message message, const std::vector<int32_t>& tokens = {});
  Status answer_dangling_calls(int64_t turn, const std::string& why);
  // Compacts when `prompt` nears the context budget; true when it did (the
  // prompt must be rendered again).
  Result<bool> maybe_compact(const std::string& prompt, TurnResult& result);
  int64_t prompt_tokens(const std::string& prompt) const;
  Status compact_through(size_t keep_from);
  // One model call and its tool calls; false when the turn ends (result set).
  bool run_step(int64_t turn, int64_t& malformed, TurnResult& result);
  tools::ToolResult run_call(const ToolCall& call, int64_t step, TurnResult& result);
  // Takes the tool source's current registry (see AgentSetup::tool_source).
  void refresh_tools();

  std::unique_ptr<ModelProvider> provider_;
  SessionStore* store_;
  std::filesystem::path workspace_;
  const tools::ToolRegistry* registry_;
  std::function<std::shared_ptr<const tools::ToolRegistry>()> tool_source_;
  std::shared_ptr<const tools::ToolRegistry> live_registry_;  // the source's, kept alive while used
  PermissionPolicy policy_;
  AgentOptions options_;
  AgentCallbacks callbacks_;
  RepoContextSource repo_context_;
  SessionRecord session_;
  std::vector<TranscriptEntry> transcript_;
  std::string summary_;                 // the active compaction's summary, "" if none
  std::vector<ToolDeclaration> tools_;
  tools::ToolContext tool_context_;
  std::vector<PermissionRule> session_grants_;
  std::string last_diff_;               // of the edit run_call just ran
  std::string counted_text_;            // the last model call's prompt + output ...
  int64_t counted_tokens_ = 0;          // ... and its length in tokens
  std::atomic<bool> cancelled_{false};
};

// A new session id: "YYYYMMDD-HHMMSS-" + 6 random hex digits (valid as a
// checkpoint session name).
std::string new_session_id();

}  // namespace beluga::agent
