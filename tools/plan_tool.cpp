// update_plan: the model's plan for the task, as ACP's agent plan has it —
// entries {content, status pending|in_progress|completed, priority
// high|medium|low}, each call replacing the whole plan (the client replaces
// its plan with each update). The tool only checks and acknowledges; the
// agent turns a successful call into a `plan` event (agent_events.h), the
// daemon into session/update `plan`, and the call stored in the transcript
// is the plan's record (session/load replays it from there).
//
// Thread contract: pure.
#include <nlohmann/json.hpp>

#include "tools/registry.h"

namespace beluga::tools {
namespace {

using nlohmann::json;

constexpr size_t kMaxEntries = 50;

constexpr const char* kUpdatePlanSchema = R"({
  "type": "object",
  "properties": {
    "entries": {
      "type": "array",
      "description": "The whole plan, every entry with its current status (it replaces the previous plan). Keep entries short; at most one in_progress at a time.",
      "items": {
        "type": "object",
        "properties": {
          "content": {"type": "string", "minLength": 1, "maxLength": 500, "description": "What this step does, in a few words."},
          "status": {"type": "string", "enum": ["pending", "in_progress", "completed"]},
          "priority": {"type": "string", "enum": ["high", "medium", "low"]}
        },
        "required": ["content", "status", "priority"],
        "additionalProperties": false
      }
    }
  },
  "required": ["entries"],
  "additionalProperties": false
})";

ToolResult run_update_plan(const json& args, ToolContext&) {
  const json& entries = args.at("entries");
  if (entries.size() > kMaxEntries)
    return ToolResult::error("update_plan: " + std::to_string(entries.size()) + " entries; a plan holds at most " +
                             std::to_string(kMaxEntries) + ", so merge steps");
  int64_t done = 0, running = 0;
  for (const json& e : entries) {
    done += e["status"] == "completed";
    running += e["status"] == "in_progress";
  }
  std::string text = entries.empty() ? "Plan cleared."
                                     : "Plan updated: " + std::to_string(entries.size()) + " step(s), " +
                                           std::to_string(done) + " completed, " + std::to_string(running) +
                                           " in progress.";
  return ToolResult::success(std::move(text), json{{"entries", entries}});
}

}  // namespace

void register_plan_tool(ToolRegistry& registry) {
  registry.add(ToolSpec{"update_plan",
                        "Record your plan for a task of several steps, and keep it current: call it with the whole "
                        "plan when you start, and again whenever a step's status changes. The user sees the plan.",
                        kUpdatePlanSchema, run_update_plan});
}

}  // namespace beluga::tools
