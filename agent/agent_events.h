// What the agent reports while it works: one event type for every client
// (the terminal front end prints them, `--json` writes them one per line,
// the daemon will turn them into ACP session/update notifications).
//
// Kinds and the members they fill (event_to_json adds "type" = the kind's
// name; docs/agent.md documents the JSON):
//   session        session_id, text = model description, resumed
//   turn_started   turn, text = the prompt, checkpoint
//   progress       text = what ("indexing": files, "prefill": tokens), done, total
//   reasoning      text = a piece of reasoning, step
//   assistant_text text = a piece of the answer, step
//   tool_call      step, call_id, tool, arguments (JSON text), summary (one line)
//   permission     call_id, tool, summary, decision (allow|ask|deny), reason,
//                  answer (for asks: allow_once|allow_session|deny)
//   tool_result    call_id, tool, ok, text (what the model sees), diff
//                  (unified diff of an edit, may be empty)
//   plan           call_id, plan (the whole plan after an update_plan call:
//                  entries of content, status, priority)
//   warning        text
//   compaction     text = the summary, through_seq
//   error          text
//   done           turn, stop_reason, text (why, in words), steps,
//                  changed_files, tokens_generated, timings_ms, model_calls
//                  (per model call: prompt tokens, and how many of them the
//                  KV cache already held)
//
// Thread contract: plain values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace beluga::agent {

enum class EventKind {
  kSession, kTurnStarted, kProgress, kReasoning, kAssistantText, kToolCall, kPermission, kToolResult,
  kWarning, kCompaction, kError, kDone, kPlan,
};
std::string_view event_kind_name(EventKind kind);

// One step of the model's plan (tools/plan_tool.cpp; ACP PlanEntry).
struct PlanEntry {
  std::string content;
  std::string status;    // pending | in_progress | completed
  std::string priority;  // high | medium | low
};

// The plan an update_plan call sets, from its arguments (JSON text);
// nullopt when they are not a valid plan.
std::optional<std::vector<PlanEntry>> plan_from_arguments(const std::string& arguments_json);

// One model call of a turn: the prompt's length in tokens and how many of
// them were reused from the KV cache (not prefilled).
struct ModelCallUsage {
  int64_t prompt_tokens = 0;
  int64_t reused_tokens = 0;
};

struct AgentEvent {
  AgentEvent() = default;
  explicit AgentEvent(EventKind k) : kind(k) {}

  EventKind kind = EventKind::kWarning;
  std::string session_id;
  std::string text;
  int64_t turn = 0;
  int64_t step = 0;
  std::string call_id;
  std::string tool;
  std::string arguments;
  std::string summary;
  std::string decision;
  std::string reason;
  std::string answer;
  bool ok = true;
  bool resumed = false;
  std::string diff;
  std::string checkpoint;
  std::string stop_reason;
  int64_t done = 0, total = 0;
  int64_t steps = 0;
  int64_t tokens_generated = 0;
  int64_t through_seq = 0;
  std::vector<std::string> changed_files;
  std::map<std::string, double> timings_ms;
  std::vector<PlanEntry> plan;
  std::vector<ModelCallUsage> model_calls;
};

nlohmann::json event_to_json(const AgentEvent& event);

// "read src/a.cpp", "shell: make test", "edit src/b.cpp": a call in one line
// (at most ~100 characters).
std::string summarize_call(const std::string& tool, const std::string& arguments_json);

}  // namespace beluga::agent
