#include "daemon/acp/acp_updates.h"

#include <fstream>
#include <sstream>
#include <system_error>

namespace beluga::daemon {
namespace {

constexpr uintmax_t kMaxDiffFileBytes = 1 << 20;

// The text of `path`, nullopt when it does not exist; `readable` false when
// it exists but is too large or cannot be read.
std::optional<std::string> read_whole(const std::filesystem::path& path, bool& readable) {
  readable = true;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec || size > kMaxDiffFileBytes) {
    readable = false;
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    readable = false;
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The path argument of a call, resolved against the workspace ("" if none).
std::filesystem::path call_path(const std::filesystem::path& workspace, const std::string& arguments) {
  Json args = Json::parse(arguments, nullptr, false);
  if (!args.is_object()) return {};
  auto it = args.find("path");
  if (it == args.end() || !it->is_string()) return {};
  std::filesystem::path p = it->get<std::string>();
  return p.is_absolute() ? p.lexically_normal() : (workspace / p).lexically_normal();
}

Json status_update(const std::string& call_id, std::string_view status) {
  return {{"sessionUpdate", "tool_call_update"}, {"toolCallId", call_id}, {"status", status}};
}

}  // namespace

std::string_view tool_kind(std::string_view tool) {
  if (tool == "read" || tool == "list" || tool == "git_status" || tool == "git_diff" || tool == "git_log" ||
      tool == "git_show" || tool == "git_blame" || tool == "checkpoint_list" || tool == "checkpoint_diff")
    return "read";
  if (tool == "write" || tool == "edit" || tool == "apply_patch" || tool == "git_restore" ||
      tool == "checkpoint_restore")
    return "edit";
  if (tool == "glob" || tool == "grep") return "search";
  if (tool == "shell") return "execute";
  if (tool == "update_plan") return "think";
  return "other";
}

std::optional<std::string_view> acp_stop_reason(agent::StopReason reason) {
  switch (reason) {
    case agent::StopReason::kCompleted: return "end_turn";
    case agent::StopReason::kMaxSteps: return "max_turn_requests";
    case agent::StopReason::kOutputLimit:
    case agent::StopReason::kContextFull: return "max_tokens";
    case agent::StopReason::kCancelled: return "cancelled";
    case agent::StopReason::kMalformed:
    case agent::StopReason::kError: return std::nullopt;
  }
  return std::nullopt;
}

std::string_view mode_title(agent::PermissionMode mode) {
  switch (mode) {
    case agent::PermissionMode::kDefault: return "Ask before edits and commands";
    case agent::PermissionMode::kAutoEdit: return "Edit files freely, ask before commands";
    case agent::PermissionMode::kPlan: return "Plan: read-only";
    case agent::PermissionMode::kYolo: return "Allow everything but deny rules";
  }
  return "";
}

Json mode_state(agent::PermissionMode current) {
  Json modes = Json::array();
  for (auto m : {agent::PermissionMode::kDefault, agent::PermissionMode::kAutoEdit, agent::PermissionMode::kPlan,
                 agent::PermissionMode::kYolo})
    modes.push_back({{"id", agent::permission_mode_name(m)}, {"name", mode_title(m)}});
  return {{"currentModeId", agent::permission_mode_name(current)}, {"availableModes", modes}};
}

namespace {

std::string_view mode_short_name(agent::PermissionMode mode) {
  switch (mode) {
    case agent::PermissionMode::kDefault: return "Default";
    case agent::PermissionMode::kAutoEdit: return "Auto-edit";
    case agent::PermissionMode::kPlan: return "Plan";
    case agent::PermissionMode::kYolo: return "Yolo";
  }
  return "";
}

}  // namespace

Json config_options(agent::PermissionMode current) {
  Json options = Json::array();
  for (auto m : {agent::PermissionMode::kDefault, agent::PermissionMode::kAutoEdit, agent::PermissionMode::kPlan,
                 agent::PermissionMode::kYolo})
    options.push_back(
        {{"value", agent::permission_mode_name(m)}, {"name", mode_short_name(m)}, {"description", mode_title(m)}});
  return Json::array({{{"id", "mode"},
                       {"name", "Mode"},
                       {"description", "What beluga may do without asking"},
                       {"category", "mode"},
                       {"type", "select"},
                       {"currentValue", agent::permission_mode_name(current)},
                       {"options", options}}});
}

std::vector<Json> mode_updates(agent::PermissionMode mode) {
  return {Json{{"sessionUpdate", "current_mode_update"}, {"currentModeId", agent::permission_mode_name(mode)}},
          Json{{"sessionUpdate", "config_option_update"}, {"configOptions", config_options(mode)}}};
}

Json permission_options() {
  return Json::array({
      {{"optionId", "allow_once"}, {"name", "Allow once"}, {"kind", "allow_once"}},
      {{"optionId", "allow_always"}, {"name", "Allow for this session"}, {"kind", "allow_always"}},
      {{"optionId", "reject_once"}, {"name", "Deny"}, {"kind", "reject_once"}},
  });
}

agent::PermissionAnswer permission_answer_of(const Json& response) {
  if (!response.is_object()) return agent::PermissionAnswer::kDeny;
  auto outcome = response.find("outcome");
  if (outcome == response.end() || !outcome->is_object()) return agent::PermissionAnswer::kDeny;
  if (outcome->value("outcome", "") != "selected") return agent::PermissionAnswer::kDeny;
  auto option = outcome->find("optionId");
  if (option == outcome->end() || !option->is_string()) return agent::PermissionAnswer::kDeny;
  if (*option == "allow_once") return agent::PermissionAnswer::kAllowOnce;
  if (*option == "allow_always") return agent::PermissionAnswer::kAllowSession;
  return agent::PermissionAnswer::kDeny;
}

Json text_block(std::string_view text) { return {{"type", "text"}, {"text", text}}; }

Json chunk(std::string_view kind, std::string_view text) {
  return {{"sessionUpdate", kind}, {"content", text_block(text)}};
}

Json usage_update(int64_t used_tokens, int64_t size_tokens) {
  return {{"sessionUpdate", "usage_update"},
          {"used", std::max<int64_t>(0, used_tokens)},
          {"size", std::max<int64_t>(0, size_tokens)}};
}

Json raw_input(const std::string& arguments) {
  Json args = Json::parse(arguments, nullptr, false);
  return args.is_discarded() ? Json(arguments) : args;
}

std::optional<std::string> EditTracker::read_text(const std::filesystem::path& path, bool& readable) const {
  std::optional<std::string> text = read_whole(path, readable);
  if (!text || !files_ || !files_->read) return text;
  auto front = files_->read(path);
  if (front && *front && (*front)->size() <= kMaxDiffFileBytes) return std::move(*front);
  return text;
}

std::vector<Json> EditTracker::updates_for(const agent::AgentEvent& e) {
  using agent::EventKind;
  switch (e.kind) {
    case EventKind::kReasoning: return {chunk("agent_thought_chunk", e.text)};
    case EventKind::kAssistantText: return {chunk("agent_message_chunk", e.text)};
    case EventKind::kWarning: return {chunk("agent_thought_chunk", "warning: " + e.text)};
    case EventKind::kCompaction: return {chunk("agent_thought_chunk", "context compacted: " + e.text)};
    case EventKind::kError: return {chunk("agent_message_chunk", "error: " + e.text)};
    case EventKind::kToolCall: {
      Json update = {{"sessionUpdate", "tool_call"},
                     {"toolCallId", e.call_id},
                     {"title", e.summary.empty() ? e.tool : e.summary},
                     {"kind", tool_kind(e.tool)},
                     {"status", "pending"},
                     {"rawInput", raw_input(e.arguments)}};
      const std::filesystem::path path = call_path(workspace_, e.arguments);
      if (!path.empty()) update["locations"] = Json::array({{{"path", path.string()}}});
      if (!path.empty() && agent::is_edit_tool(e.tool)) {
        Before before;
        before.path = path;
        before.text = read_text(path, before.readable);
        edits_[e.call_id] = std::move(before);
      }
      return {update};
    }
    case EventKind::kPermission:
      if (e.decision == "allow" || e.answer == "allow_once" || e.answer == "allow_session")
        return {status_update(e.call_id, "in_progress")};
      return {};
    case EventKind::kToolResult: {
      Json update = status_update(e.call_id, e.ok ? "completed" : "failed");
      Json content = Json::array();
      auto edit = edits_.find(e.call_id);
      if (edit != edits_.end()) {
        if (e.ok && edit->second.readable) {
          bool readable = true;
          std::optional<std::string> after = read_text(edit->second.path, readable);
          if (readable && after) {
            Json diff = {{"type", "diff"}, {"path", edit->second.path.string()}, {"newText", *after}};
            diff["oldText"] = edit->second.text ? Json(*edit->second.text) : Json(nullptr);
            content.push_back(std::move(diff));
          }
        }
        edits_.erase(edit);
      }
      content.push_back({{"type", "content"}, {"content", text_block(e.text)}});
      update["content"] = std::move(content);
      return {update};
    }
    case EventKind::kPlan: return {plan_update(e.plan)};
    case EventKind::kSession:
    case EventKind::kTurnStarted:
    case EventKind::kProgress:
    case EventKind::kDone: return {};
  }
  return {};
}

Json plan_update(const std::vector<agent::PlanEntry>& plan) {
  Json entries = Json::array();
  for (const agent::PlanEntry& p : plan)
    entries.push_back({{"content", p.content}, {"priority", p.priority}, {"status", p.status}});
  return {{"sessionUpdate", "plan"}, {"entries", std::move(entries)}};
}

std::vector<Json> replay_transcript(const std::vector<agent::TranscriptEntry>& transcript) {
  std::vector<Json> out;
  std::map<std::string, std::string> plan_calls;  // update_plan call id -> its arguments
  for (const agent::TranscriptEntry& entry : transcript) {
    const Message& m = entry.message;
    const std::string content = m.content.value_or("");
    switch (m.role) {
      case Role::kUser:
        if (entry.turn == 0)
          out.push_back(chunk("agent_thought_chunk", "summary of the earlier conversation: " + content));
        else
          out.push_back(chunk("user_message_chunk", content));
        break;
      case Role::kAssistant:
        if (m.reasoning_content && !m.reasoning_content->empty())
          out.push_back(chunk("agent_thought_chunk", *m.reasoning_content));
        if (!content.empty()) out.push_back(chunk("agent_message_chunk", content));
        for (const ToolCall& call : m.tool_calls) {
          if (call.name == "update_plan") plan_calls[call.id] = call.arguments;
          out.push_back({{"sessionUpdate", "tool_call"},
                         {"toolCallId", call.id},
                         {"title", agent::summarize_call(call.name, call.arguments)},
                         {"kind", tool_kind(call.name)},
                         {"status", "pending"},
                         {"rawInput", raw_input(call.arguments)}});
        }
        break;
      case Role::kTool: {
        Json update = status_update(m.tool_call_id, "completed");
        update["content"] = Json::array({{{"type", "content"}, {"content", text_block(content)}}});
        out.push_back(std::move(update));
        // A plan the tool accepted (its success texts, tools/plan_tool.cpp) is the plan from then on.
        auto call = plan_calls.find(m.tool_call_id);
        if (call != plan_calls.end() && (content.rfind("Plan updated", 0) == 0 || content == "Plan cleared."))
          if (auto plan = agent::plan_from_arguments(call->second)) out.push_back(plan_update(*plan));
        break;
      }
      case Role::kSystem:
      case Role::kDeveloper:
      case Role::kLatestReminder:
        break;
    }
  }
  return out;
}

}  // namespace beluga::daemon
