// What an ACP client sees of the agent: AgentEvents and stored transcripts
// turned into session/update payloads (ACP v1, schema SessionUpdate), and
// the other small mappings between agent/ values and ACP's.
//
//   reasoning        → agent_thought_chunk   {content: {type: text}}
//   assistant_text   → agent_message_chunk
//   tool_call        → tool_call             {toolCallId, title, kind, status: pending, rawInput, locations}
//   permission       → tool_call_update      status in_progress once allowed (a denial shows in the result)
//   tool_result      → tool_call_update      status completed|failed, content: the text the
//                                            model sees, plus for edits a diff {path, oldText, newText}
//   warning, compaction → agent_thought_chunk (prefixed "warning: ", "context compacted: ")
//   error            → agent_message_chunk   ("error: ...")
//   plan             → plan                  {entries: [{content, priority, status}]} (the whole plan)
//   session, turn_started, progress, done → nothing (the prompt's response carries the stop reason;
//                                            usage_update is sent by the session after each call and turn)
//
// Edits: ACP's diff content wants whole texts, the agent reports unified
// diffs. EditTracker reads the file an edit tool names when the call is
// announced (before it runs: events arrive on the turn thread, in order)
// and again after its result, so the diff is exact. Files over 1 MiB are
// left to the text content. When the session's tools write through the
// editor (tools::FileAccess), both texts are the editor's.
//
// Thread contract: pure functions; an EditTracker belongs to one turn thread.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/agent_events.h"
#include "agent/agent_loop.h"
#include "agent/permissions.h"
#include "agent/transcript.h"
#include "tools/tool.h"

namespace beluga::daemon {

using Json = nlohmann::json;

// ACP ToolKind of a beluga tool: read, edit, delete, move, search, execute, fetch, other.
std::string_view tool_kind(std::string_view tool);

// ACP StopReason for a finished turn; nullopt when the turn failed (the
// prompt is then answered with a JSON-RPC error).
std::optional<std::string_view> acp_stop_reason(agent::StopReason reason);

// SessionModeState: beluga's permission modes, current first-class.
Json mode_state(agent::PermissionMode current);
// configOptions: the session's mode as ACP's session config option "mode" (a select).
Json config_options(agent::PermissionMode current);
// What announces a mode change: current_mode_update and config_option_update.
std::vector<Json> mode_updates(agent::PermissionMode mode);
std::string_view mode_title(agent::PermissionMode mode);

// The options session/request_permission offers, and the answer an
// optionId (or a cancelled outcome) stands for.
Json permission_options();
agent::PermissionAnswer permission_answer_of(const Json& outcome);

Json text_block(std::string_view text);
Json chunk(std::string_view kind, std::string_view text);  // {sessionUpdate: kind, content: text}
Json usage_update(int64_t used_tokens, int64_t size_tokens);
Json plan_update(const std::vector<agent::PlanEntry>& plan);

class EditTracker {
 public:
  // `files`: the session's FileAccess (the editor's buffers), when it has one.
  explicit EditTracker(std::filesystem::path workspace, std::shared_ptr<tools::FileAccess> files = nullptr)
      : workspace_(std::move(workspace)), files_(std::move(files)) {}
  // The updates for one event (zero or more).
  std::vector<Json> updates_for(const agent::AgentEvent& event);

 private:
  struct Before {
    std::filesystem::path path;
    std::optional<std::string> text;  // nullopt: the file did not exist (or was too large)
    bool readable = true;
  };
  std::optional<std::string> read_text(const std::filesystem::path& path, bool& readable) const;
  std::filesystem::path workspace_;
  std::shared_ptr<tools::FileAccess> files_;
  std::map<std::string, Before> edits_;  // by call id, until the result
};

// The session/update payloads that retell a stored transcript (session/load).
std::vector<Json> replay_transcript(const std::vector<agent::TranscriptEntry>& transcript);

// A tool call's rawInput: its arguments as JSON, or the text when they are not JSON.
Json raw_input(const std::string& arguments);

}  // namespace beluga::daemon
