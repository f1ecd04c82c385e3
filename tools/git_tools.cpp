// register_git_tools: the git tools (git_read_tools.cpp,
// git_write_tools.cpp) and the checkpoint tools over checkpoints.h:
//
//   checkpoint_list     the session's checkpoints (or every session's)
//   checkpoint_diff     changes between two checkpoints, or from one to now
//   checkpoint_restore  put the working tree back to a checkpoint. USER-
//                       INITIATED: the agent or the user rewinds a turn with
//                       it (e.g. a client's "undo"); it is registered so that
//                       clients can call it by name through the same
//                       registry, and its description tells the model not to
//                       call it on its own. The permission layer should ask.
//
// Checkpoint ids are "<session>/<n>"; a bare "<n>" means the calling
// session's. Checkpoints are taken by the agent before each turn
// (create_checkpoint), never by the model.
#include <nlohmann/json.hpp>

#include "engine/base/time_text.h"
#include "tools/checkpoints.h"
#include "tools/git_support.h"
#include "tools/output_cap.h"
#include "tools/registry.h"

namespace beluga::tools {
namespace {

using nlohmann::json;

std::string full_id(const std::string& id, const ToolContext& context) {
  return id.find('/') == std::string::npos ? context.session_id + "/" + id : id;
}

std::string when(int64_t unix_s) { return format_unix_time(unix_s, "%Y-%m-%d %H:%M:%S", TimeZone::kLocal); }

ToolResult checkpoint_list_tool(const json& args, ToolContext& context) {
  if (context.roots.empty()) return ToolResult::error("checkpoint_list: no workspace root is configured");
  bool all = args.value("all", false);
  std::string session = all ? "" : args.value("session", context.session_id);
  auto list = list_checkpoints(context.roots.front(), session);
  if (!list) return ToolResult::error("checkpoint_list: " + list.message());
  std::string text;
  json items = json::array();
  int64_t shown = 0;
  for (const Checkpoint& cp : *list) {
    if (++shown <= context.limits.max_matches)
      text += cp.id + "  " + when(cp.created_unix_s) + "  " + std::to_string(cp.files) + " files" +
              (cp.head.empty() ? "" : "  HEAD " + cp.head.substr(0, 10)) + (cp.label.empty() ? "" : "  " + cp.label) +
              "\n";
    items.push_back({{"id", cp.id}, {"created", cp.created_unix_s}, {"files", cp.files}, {"head", cp.head},
                     {"label", cp.label}, {"commit", cp.commit}});
  }
  if (shown > context.limits.max_matches) text += "... and " + std::to_string(shown - context.limits.max_matches) + " more\n";
  if (list->empty()) text = all ? "no checkpoints yet\n" : "no checkpoints yet for session '" + session + "'\n";
  return ToolResult::success(cap_text(text, context.limits.max_output_bytes), std::move(items));
}

ToolResult checkpoint_diff_tool(const json& args, ToolContext& context) {
  if (context.roots.empty()) return ToolResult::error("checkpoint_diff: no workspace root is configured");
  std::string from = full_id(args.at("from").get<std::string>(), context);
  std::string to = args.contains("to") ? full_id(args["to"].get<std::string>(), context) : "";
  auto diff = diff_checkpoints(context.roots.front(), from, to, context.limits.max_output_bytes);
  if (!diff) return ToolResult::error("checkpoint_diff: " + diff.message());
  std::string what = "changes from checkpoint " + from + " to " + (to.empty() ? "the working tree now" : "checkpoint " + to);
  json data = {{"files", diff->files}};
  if (diff->files.empty()) return ToolResult::success("no " + what, std::move(data));
  return ToolResult::success(what + "\n" + diff->patch, std::move(data));
}

ToolResult checkpoint_restore_tool(const json& args, ToolContext& context) {
  if (context.roots.empty()) return ToolResult::error("checkpoint_restore: no workspace root is configured");
  std::string id = full_id(args.at("id").get<std::string>(), context);
  auto report = restore_checkpoint(context.roots.front(), id);
  if (!report) return ToolResult::error("checkpoint_restore: " + report.message());
  auto list_of = [](const std::vector<std::string>& paths) {
    std::string out;
    for (size_t i = 0; i < paths.size() && i < 20; ++i) out += (i ? ", " : "") + paths[i];
    if (paths.size() > 20) out += ", ... (" + std::to_string(paths.size()) + " in all)";
    return out;
  };
  std::string text = "working tree restored to checkpoint " + id + ": " + std::to_string(report->written.size()) +
                     " written, " + std::to_string(report->removed.size()) + " removed, " +
                     std::to_string(report->modes.size()) + " mode changes, " + std::to_string(report->unchanged) +
                     " unchanged\n";
  if (!report->written.empty()) text += "written: " + list_of(report->written) + "\n";
  if (!report->removed.empty()) text += "removed: " + list_of(report->removed) + "\n";
  if (!report->modes.empty()) text += "mode changed: " + list_of(report->modes) + "\n";
  json data = {{"written", report->written}, {"removed", report->removed}, {"modes", report->modes},
               {"conflicts", report->conflicts}, {"unchanged", report->unchanged}};
  if (!report->conflicts.empty()) {
    text += "not restored:\n";
    for (const std::string& c : report->conflicts) text += "  " + c + "\n";
    return ToolResult::error(cap_text(text, context.limits.max_output_bytes), std::move(data));
  }
  return ToolResult::success(cap_text(text, context.limits.max_output_bytes), std::move(data));
}

}  // namespace

void register_git_tools(ToolRegistry& registry) {
  git::register_git_read_tools(registry);
  git::register_git_write_tools(registry);
  registry.add(ToolSpec{"checkpoint_list",
                        "List the working-tree checkpoints taken before each turn of this session (id, time, file "
                        "count, HEAD then); all=true lists every session's.",
                        R"({"type":"object","properties":{
          "session":{"type":"string","minLength":1},
          "all":{"type":"boolean"}},"additionalProperties":false})",
                        checkpoint_list_tool});
  registry.add(ToolSpec{"checkpoint_diff",
                        "Show what changed in the working tree between two checkpoints, or from a checkpoint to now "
                        "(omit `to`). Ids as checkpoint_list shows them (\"<session>/<n>\", or \"<n>\" for this "
                        "session).",
                        R"({"type":"object","properties":{
          "from":{"type":"string","minLength":1},
          "to":{"type":"string","minLength":1}},
          "required":["from"],"additionalProperties":false})",
                        checkpoint_diff_tool});
  registry.add(ToolSpec{"checkpoint_restore",
                        "USER-INITIATED ONLY: do not call this unless the user explicitly asked to rewind. Puts the "
                        "whole working tree back to a checkpoint: files changed since are rewritten, files created "
                        "since are deleted (ignored files are never touched). HEAD, the index and the stash are left "
                        "alone.",
                        R"({"type":"object","properties":{
          "id":{"type":"string","minLength":1}},
          "required":["id"],"additionalProperties":false})",
                        checkpoint_restore_tool});
}

}  // namespace beluga::tools
