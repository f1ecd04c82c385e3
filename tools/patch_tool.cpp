#include "tools/patch_tool.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "tools/patch.h"
#include "tools/paths.h"
#include "tools/registry.h"
#include "tools/tool_support.h"

namespace beluga::tools {
namespace {

using nlohmann::json;

constexpr const char* kApplyPatchSchema = R"({
  "type": "object",
  "properties": {
    "patch": {"type": "string", "minLength": 1, "description": "A unified diff (as git diff writes it) over one or more files: '--- a/path' and '+++ b/path' headers ('/dev/null' to add or delete a file, 'rename from'/'rename to' lines to rename), then '@@ -l,s +l,s @@' hunks with ' ' context, '-' removed and '+' added lines. Paths are relative to the workspace root."}
  },
  "required": ["patch"],
  "additionalProperties": false
})";

struct Touched {
  ConfinedPath where;
  FileContent original;
  bool loaded = false;
};

}  // namespace

ToolResult run_apply_patch(const std::string& patch_text, ToolContext& context, const PatchFileOps& ops) {
  const ToolLimits& limits = context.limits;
  if (patch_text.size() > limits.max_file_bytes)
    return ToolResult::error("apply_patch: the patch is " + std::to_string(patch_text.size()) +
                             " bytes, more than the limit of " + std::to_string(limits.max_file_bytes));
  Result<std::vector<FilePatch>> parsed = parse_patch(patch_text);
  if (!parsed) return ToolResult::error("apply_patch: " + parsed.message() + "; nothing was changed");
  std::vector<FilePatch> patches = std::move(*parsed);

  // Resolve every path; key files by their display path so that two
  // spellings of one file ("./a", "a") share one in-memory state.
  std::map<std::string, Touched> files;
  for (FilePatch& patch : patches) {
    for (std::string* path : {&patch.old_path, &patch.new_path}) {
      if (path->empty()) continue;
      Result<ConfinedPath> where = resolve_in_workspace(context, *path, PathUse::kWrite);
      if (!where) return ToolResult::error("apply_patch: " + where.message() + "; nothing was changed");
      std::string key = where->root == context.roots.front() ? display_path(*where) : where->absolute.string();
      if (key == ".") return ToolResult::error("apply_patch: '" + *path + "' names the workspace root, not a file");
      files[key].where = *where;
      *path = key;
    }
    // "a.txt" renamed to "./a.txt" is the same file: a modification.
    if (patch.kind == FilePatch::Kind::kRename && patch.old_path == patch.new_path) patch.kind = FilePatch::Kind::kModify;
  }
  ReadFileFn read = [&](const std::string& key) -> Result<std::optional<std::string>> {
    Touched& t = files.at(key);
    Result<FileContent> content = read_current(context, t.where, limits.max_file_bytes);
    if (!content) return content.error();
    auto seen = context.seen_hashes.find(t.where.absolute);
    if (content->exists && seen != context.seen_hashes.end() && seen->second != content_hash(content->bytes))
      return make_error(key + " changed since you last read it (another program or the user modified it); read it "
                              "again and regenerate the patch");
    t.original = std::move(*content);
    t.loaded = true;
    if (!t.original.exists) return std::optional<std::string>();
    return std::optional<std::string>(t.original.bytes);
  };
  if (!keep_going(context)) return ToolResult::error("apply_patch: cancelled; nothing was changed");
  Result<std::vector<FileChange>> plan = plan_patch(patches, read);
  if (!plan) return ToolResult::error("apply_patch: " + plan.message() + "; nothing was changed");
  for (const FileChange& change : *plan)
    if (change.content && change.content->size() > limits.max_file_bytes)
      return ToolResult::error("apply_patch: the new " + change.path + " would be larger than the " +
                               std::to_string(limits.max_file_bytes) + "-byte limit; nothing was changed");

  // Commit: writes first, removals last (a rename removes its source only
  // once its destination is in place).
  std::vector<const FileChange*> steps;
  for (const FileChange& c : *plan)
    if (c.content) steps.push_back(&c);
  for (const FileChange& c : *plan)
    if (!c.content) steps.push_back(&c);
  std::vector<const FileChange*> done;
  for (const FileChange* step : steps) {
    Touched& t = files.at(step->path);
    std::optional<mode_t> mode;
    if (t.original.exists) mode = t.original.mode;
    else if (step->renamed_from) mode = files.at(*step->renamed_from).original.mode;
    // Through the front end when it keeps the files (ToolContext::files); removals on the disk.
    Status s = !step->content ? ops.remove(t.where)
               : context.files ? write_current(context, t.where, *step->content, mode)
                               : ops.write(t.where, *step->content, mode);
    if (s) {
      done.push_back(step);
      continue;
    }
    // Roll back, newest first, with the real file operations.
    std::string unrestored;
    for (auto it = done.rbegin(); it != done.rend(); ++it) {
      Touched& u = files.at((*it)->path);
      Status undo = u.original.exists ? write_current(context, u.where, u.original.bytes, u.original.mode)
                                      : remove_confined(u.where);
      if (!undo) unrestored += (unrestored.empty() ? "" : ", ") + (*it)->path;
    }
    std::string message = "apply_patch: " + s.message() + " (while changing " + step->path + ")";
    if (done.empty()) return ToolResult::error(message + "; nothing was changed");
    if (unrestored.empty())
      return ToolResult::error(message + "; the " + std::to_string(done.size()) +
                               " file(s) already changed were restored, so nothing was changed");
    return ToolResult::error(message + "; restoring failed for " + unrestored +
                             ", which may be left changed: check them with read");
  }

  // Record what the model now knows, and summarise.
  for (const FileChange* step : done) {
    const Touched& t = files.at(step->path);
    if (step->content) context.seen_hashes[t.where.absolute] = content_hash(*step->content);
    else context.seen_hashes.erase(t.where.absolute);
  }
  std::string text = "Applied the patch: " + std::to_string(done.size()) + " file(s) changed.\n";
  json summary = json::array();
  for (const FilePatch& patch : patches) {
    int64_t added = 0, removed = 0;
    for (const Hunk& h : patch.hunks)
      for (const PatchLine& l : h.lines) added += l.kind == '+', removed += l.kind == '-';
    std::string counts = " (+" + std::to_string(added) + " -" + std::to_string(removed) + ")";
    std::string line;
    const char* action = "modified";
    switch (patch.kind) {
      case FilePatch::Kind::kAdd: line = "A " + patch.new_path + counts, action = "added"; break;
      case FilePatch::Kind::kDelete: line = "D " + patch.old_path, action = "deleted"; break;
      case FilePatch::Kind::kModify: line = "M " + patch.old_path + counts; break;
      case FilePatch::Kind::kRename: line = "R " + patch.old_path + " -> " + patch.new_path + counts, action = "renamed"; break;
    }
    text += line + "\n";
    summary.push_back({{"action", action}, {"path", patch.path()}, {"added", added}, {"removed", removed}});
    if (patch.kind == FilePatch::Kind::kRename) summary.back()["to"] = patch.new_path;
  }
  return ToolResult::success(text, json{{"files", summary}, {"changed", done.size()}});
}

void register_patch_tool(ToolRegistry& registry) {
  registry.add({"apply_patch",
                "Apply a unified diff to one or more files (modify, add, delete, rename), all or nothing: every hunk "
                "is checked against the current files first, and if anything does not apply, nothing is changed. "
                "Hunks are located by their context lines (line numbers may be off); CRLF files keep CRLF.",
                kApplyPatchSchema,
                [](const json& args, ToolContext& context) {
                  return run_apply_patch(args.at("patch").get<std::string>(), context);
                }});
}

}  // namespace beluga::tools
