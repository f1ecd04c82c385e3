#include "agent/agent_events.h"

#include <nlohmann/json.hpp>

namespace beluga::agent {

using nlohmann::json;

std::string_view event_kind_name(EventKind kind) {
  switch (kind) {
    case EventKind::kSession: return "session";
    case EventKind::kTurnStarted: return "turn_started";
    case EventKind::kProgress: return "progress";
    case EventKind::kReasoning: return "reasoning";
    case EventKind::kAssistantText: return "assistant_text";
    case EventKind::kToolCall: return "tool_call";
    case EventKind::kPermission: return "permission";
    case EventKind::kToolResult: return "tool_result";
    case EventKind::kWarning: return "warning";
    case EventKind::kCompaction: return "compaction";
    case EventKind::kError: return "error";
    case EventKind::kDone: return "done";
    case EventKind::kPlan: return "plan";
  }
  return "?";
}

json event_to_json(const AgentEvent& e) {
  json j = {{"type", std::string(event_kind_name(e.kind))}};
  switch (e.kind) {
    case EventKind::kSession:
      j["session_id"] = e.session_id, j["model"] = e.text, j["resumed"] = e.resumed;
      break;
    case EventKind::kTurnStarted:
      j["turn"] = e.turn, j["prompt"] = e.text, j["checkpoint"] = e.checkpoint;
      break;
    case EventKind::kProgress:
      j["what"] = e.text, j["done"] = e.done, j["total"] = e.total;
      break;
    case EventKind::kReasoning:
    case EventKind::kAssistantText:
      j["step"] = e.step, j["text"] = e.text;
      break;
    case EventKind::kToolCall:
      j["step"] = e.step, j["call_id"] = e.call_id, j["tool"] = e.tool, j["summary"] = e.summary;
      if (auto args = json::parse(e.arguments, nullptr, false); !args.is_discarded())
        j["arguments"] = args;
      else
        j["arguments"] = e.arguments;
      break;
    case EventKind::kPermission:
      j["call_id"] = e.call_id, j["tool"] = e.tool, j["summary"] = e.summary, j["decision"] = e.decision,
      j["reason"] = e.reason;
      if (!e.answer.empty()) j["answer"] = e.answer;
      break;
    case EventKind::kToolResult:
      j["call_id"] = e.call_id, j["tool"] = e.tool, j["ok"] = e.ok, j["text"] = e.text;
      if (!e.diff.empty()) j["diff"] = e.diff;
      break;
    case EventKind::kWarning:
    case EventKind::kError:
      j["message"] = e.text;
      break;
    case EventKind::kCompaction:
      j["summary"] = e.text, j["through_seq"] = e.through_seq;
      break;
    case EventKind::kPlan: {
      j["call_id"] = e.call_id;
      json entries = json::array();
      for (const PlanEntry& p : e.plan)
        entries.push_back({{"content", p.content}, {"status", p.status}, {"priority", p.priority}});
      j["entries"] = std::move(entries);
      break;
    }
    case EventKind::kDone:
      j["turn"] = e.turn, j["stop_reason"] = e.stop_reason, j["message"] = e.text, j["steps"] = e.steps,
      j["changed_files"] = e.changed_files, j["tokens_generated"] = e.tokens_generated, j["timings_ms"] = e.timings_ms;
      j["model_calls"] = nlohmann::json::array();
      for (const ModelCallUsage& call : e.model_calls)
        j["model_calls"].push_back({{"prompt_tokens", call.prompt_tokens}, {"reused_tokens", call.reused_tokens}});
      break;
  }
  return j;
}

std::optional<std::vector<PlanEntry>> plan_from_arguments(const std::string& arguments_json) {
  json args = json::parse(arguments_json, nullptr, false);
  if (!args.is_object() || !args.contains("entries") || !args["entries"].is_array()) return std::nullopt;
  std::vector<PlanEntry> plan;
  for (const json& e : args["entries"]) {
    if (!e.is_object()) return std::nullopt;
    auto text = [&](const char* key) -> std::optional<std::string> {
      auto it = e.find(key);
      if (it == e.end() || !it->is_string()) return std::nullopt;
      return it->get<std::string>();
    };
    auto content = text("content"), status = text("status"), priority = text("priority");
    if (!content || !status || !priority) return std::nullopt;
    plan.push_back(PlanEntry{*content, *status, *priority});
  }
  return plan;
}

std::string summarize_call(const std::string& tool, const std::string& arguments_json) {
  json args = json::parse(arguments_json, nullptr, false);
  std::string detail;
  auto field = [&](const char* key) -> std::string {
    if (!args.is_object()) return "";
    auto it = args.find(key);
    if (it == args.end()) return "";
    return it->is_string() ? it->get<std::string>() : it->dump();
  };
  for (const char* key : {"command", "path", "pattern", "message", "rev", "paths", "id"}) {
    detail = field(key);
    if (!detail.empty()) break;
  }
  if (detail.empty() && args.is_object() && !args.empty()) detail = args.dump(-1, ' ', false, json::error_handler_t::replace);
  if (detail.empty() && !args.is_object()) detail = arguments_json;
  for (char& c : detail)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  constexpr size_t kMax = 100;
  if (detail.size() > kMax) {
    size_t cut = kMax;
    while (cut > 0 && (static_cast<unsigned char>(detail[cut]) & 0xC0) == 0x80) --cut;
    detail = detail.substr(0, cut) + "...";
  }
  return detail.empty() ? tool : tool + " " + detail;
}

}  // namespace beluga::agent
