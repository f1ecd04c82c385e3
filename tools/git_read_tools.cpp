// Read-only git tools, through libgit2 (no `git` process):
//
//   git_status   branch, staged / unstaged / untracked / conflicted files
//   git_diff     working tree vs index (default), staged (index vs HEAD),
//                a revision vs the working tree, or two revisions
//   git_log      the last n commits, optionally only those touching a path
//   git_show     a commit (header + patch), tag, tree listing or file blob
//   git_blame    who last changed each line of a committed file
//
// Every output is capped (ToolLimits::max_output_bytes, head and tail kept;
// list lengths by max_matches) and written for the model: short ids,
// paths relative to the repository, a hint when the request cannot be met.
#include <nlohmann/json.hpp>

#include <algorithm>

#include "tools/file_io.h"
#include "tools/git_support.h"
#include "tools/output_cap.h"
#include "tools/tool_support.h"

namespace beluga::tools::git {
namespace {

using nlohmann::json;

ToolResult fail(const std::string& tool, const std::string& message) { return ToolResult::error(tool + ": " + message); }

// "On branch main", "HEAD detached at 1a2b3c4d5e", "On branch main (no commits yet)".
std::string branch_line(git_repository* repo, std::string* branch_name) {
  git_reference* raw = nullptr;
  std::string line;
  if (git_reference_lookup(&raw, repo, "HEAD") == 0) {
    ReferencePtr head(raw);
    if (git_reference_type(head.get()) == GIT_REFERENCE_SYMBOLIC) {
      std::string target = git_reference_symbolic_target(head.get());
      std::string name = target.rfind("refs/heads/", 0) == 0 ? target.substr(11) : target;
      if (branch_name) *branch_name = name;
      line = "On branch " + name;
      if (git_repository_head_unborn(repo) == 1) line += " (no commits yet)";
    } else if (const git_oid* oid = git_reference_target(head.get())) {
      line = "HEAD detached at " + short_oid(*oid);
    }
  }
  switch (git_repository_state(repo)) {
    case GIT_REPOSITORY_STATE_NONE: break;
    case GIT_REPOSITORY_STATE_MERGE: line += " (a merge is in progress)"; break;
    case GIT_REPOSITORY_STATE_REVERT:
    case GIT_REPOSITORY_STATE_REVERT_SEQUENCE: line += " (a revert is in progress)"; break;
    case GIT_REPOSITORY_STATE_CHERRYPICK:
    case GIT_REPOSITORY_STATE_CHERRYPICK_SEQUENCE: line += " (a cherry-pick is in progress)"; break;
    default: line += " (a rebase, bisect or patch application is in progress)"; break;
  }
  return line;
}

const char* change_word(git_delta_t status) {
  switch (status) {
    case GIT_DELTA_ADDED: return "new file";
    case GIT_DELTA_DELETED: return "deleted";
    case GIT_DELTA_MODIFIED: return "modified";
    case GIT_DELTA_RENAMED: return "renamed";
    case GIT_DELTA_TYPECHANGE: return "typechange";
    case GIT_DELTA_UNTRACKED: return "untracked";
    case GIT_DELTA_CONFLICTED: return "conflict";
    default: return "changed";
  }
}

std::string delta_path(const git_diff_delta* d) {
  if (d->status == GIT_DELTA_RENAMED) return std::string(d->old_file.path) + " -> " + d->new_file.path;
  return d->new_file.path ? d->new_file.path : d->old_file.path;
}

ToolResult git_status_tool(const json&, ToolContext& context) {
  Library library;
  auto repo = open_context_repo(context);
  if (!repo) return fail("git_status", repo.message());
  std::string branch;
  std::string text = branch_line(repo->get(), &branch) + "\n";

  git_status_options options = GIT_STATUS_OPTIONS_INIT;
  options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
  options.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RENAMES_HEAD_TO_INDEX |
                  GIT_STATUS_OPT_SORT_CASE_SENSITIVELY;
  git_status_list* raw = nullptr;
  int rc = git_status_list_new(&raw, repo->get(), &options);
  StatusListPtr list(raw);
  if (rc < 0) return fail("git_status", error_text("cannot compute the status", rc));

  struct Group {
    const char* title;
    const char* key;
    std::vector<std::string> lines;
    json items = json::array();
  };
  Group staged{"Changes staged for commit", "staged", {}, json::array()};
  Group unstaged{"Changes not staged for commit", "unstaged", {}, json::array()};
  Group untracked{"Untracked files (folders end with /)", "untracked", {}, json::array()};
  Group conflicted{"Unmerged (conflicts)", "conflicted", {}, json::array()};
  auto add = [](Group& g, const std::string& word, const std::string& path) {
    g.lines.push_back(word.empty() ? path : word + ": " + path);
    g.items.push_back({{"status", word.empty() ? "untracked" : word}, {"path", path}});
  };
  size_t count = git_status_list_entrycount(list.get());
  for (size_t i = 0; i < count; ++i) {
    const git_status_entry* e = git_status_byindex(list.get(), i);
    if (e->status & GIT_STATUS_CONFLICTED) {
      const git_diff_delta* d = e->index_to_workdir ? e->index_to_workdir : e->head_to_index;
      add(conflicted, "both changed", d ? delta_path(d) : "?");
      continue;
    }
    if (e->head_to_index) add(staged, change_word(e->head_to_index->status), delta_path(e->head_to_index));
    if (e->index_to_workdir) {
      if (e->status & GIT_STATUS_WT_NEW)
        add(untracked, "", delta_path(e->index_to_workdir));
      else if (e->index_to_workdir->status != GIT_DELTA_IGNORED)
        add(unstaged, change_word(e->index_to_workdir->status), delta_path(e->index_to_workdir));
    }
  }
  json data = {{"branch", branch}};
  size_t max_lines = static_cast<size_t>(std::max<int64_t>(1, context.limits.max_matches));
  bool clean = true;
  for (Group* g : {&conflicted, &staged, &unstaged, &untracked}) {
    data[g->key] = g->items;
    if (g->lines.empty()) continue;
    clean = false;
    text += "\n" + std::string(g->title) + ":\n";
    for (size_t i = 0; i < g->lines.size() && i < max_lines; ++i) text += "  " + to_valid_utf8(g->lines[i]) + "\n";
    if (g->lines.size() > max_lines) text += "  ... and " + std::to_string(g->lines.size() - max_lines) + " more\n";
  }
  if (clean) text += "nothing to commit, working tree clean\n";
  return ToolResult::success(cap_text(text, context.limits.max_output_bytes), std::move(data));
}

Result<TreePtr> tree_of(git_repository* repo, const std::string& revision) {
  auto commit = resolve_commit(repo, revision);
  if (!commit) {
    // A tree-ish that is not a commit ("HEAD:src") is fine too.
    auto object = resolve_revision(repo, revision);
    if (!object) return object.error();
    git_object* peeled = nullptr;
    if (git_object_peel(&peeled, object->get(), GIT_OBJECT_TREE) < 0)
      return make_error("'" + revision + "' names neither a commit nor a tree");
    return TreePtr(reinterpret_cast<git_tree*>(peeled));
  }
  git_tree* tree = nullptr;
  int rc = git_commit_tree(&tree, commit->get());
  if (rc < 0) return git_failure("cannot read the tree of '" + revision + "'", rc);
  return TreePtr(tree);
}

ToolResult git_diff_tool(const json& args, ToolContext& context) {
  Library library;
  auto repo = open_context_repo(context);
  if (!repo) return fail("git_diff", repo.message());
  bool staged = args.value("staged", false);
  std::string from = args.value("from", std::string());
  std::string to = args.value("to", std::string());
  if (staged && (!from.empty() || !to.empty()))
    return fail("git_diff", "use either staged or from/to, not both");
  if (!to.empty() && from.empty()) return fail("git_diff", "'to' needs 'from' (the older revision)");

  git_diff_options options = GIT_DIFF_OPTIONS_INIT;
  std::string path;
  char* pathspec[1];
  if (args.contains("path")) {
    auto resolved = resolve_repo_path(context, args["path"].get<std::string>());
    if (!resolved) return fail("git_diff", resolved.message());
    path = *resolved;
    if (!path.empty()) {
      pathspec[0] = path.data();
      options.pathspec = {pathspec, 1};
      options.flags |= GIT_DIFF_DISABLE_PATHSPEC_MATCH;
    }
  }

  git_diff* raw = nullptr;
  int rc = 0;
  std::string what;
  if (!from.empty()) {
    auto old_tree = tree_of(repo->get(), from);
    if (!old_tree) return fail("git_diff", old_tree.message());
    if (!to.empty()) {
      auto new_tree = tree_of(repo->get(), to);
      if (!new_tree) return fail("git_diff", new_tree.message());
      rc = git_diff_tree_to_tree(&raw, repo->get(), old_tree->get(), new_tree->get(), &options);
      what = from + " → " + to;
    } else {
      rc = git_diff_tree_to_workdir_with_index(&raw, repo->get(), old_tree->get(), &options);
      what = from + " → working tree";
    }
  } else if (staged) {
    auto head = head_commit(repo->get());
    if (!head) return fail("git_diff", head.message());
    TreePtr head_tree;
    if (*head) {
      git_tree* tree = nullptr;
      if (git_commit_tree(&tree, head->get()) == 0) head_tree.reset(tree);
    }
    rc = git_diff_tree_to_index(&raw, repo->get(), head_tree.get(), nullptr, &options);
    what = "staged changes (index vs HEAD)";
  } else {
    rc = git_diff_index_to_workdir(&raw, repo->get(), nullptr, &options);
    what = "unstaged changes (working tree vs index)";
  }
  DiffPtr diff(raw);
  if (rc < 0) return fail("git_diff", error_text("cannot compute the diff", rc));
  if (staged || !from.empty()) {
    git_diff_find_options find = GIT_DIFF_FIND_OPTIONS_INIT;
    git_diff_find_similar(diff.get(), &find);
  }
  auto patch = render_diff(diff.get(), context.limits.max_output_bytes);
  if (!patch) return fail("git_diff", patch.message());
  json data = {{"files", name_status(diff.get())}, {"what", what}};
  if (patch->empty()) {
    std::string text = "no differences: " + what + (path.empty() ? "" : " in " + path);
    if (!staged && from.empty()) text += " (untracked files are not shown: see git_status; staged changes: staged=true)";
    return ToolResult::success(text, std::move(data));
  }
  return ToolResult::success(what + "\n" + *patch, std::move(data));
}

// Whether `commit` changed `path` relative to its first parent (or added it,
// for a root commit).
bool touches(git_commit* commit, const std::string& path) {
  auto entry_id = [&](git_commit* c, git_oid* out) {
    git_tree* tree = nullptr;
    if (git_commit_tree(&tree, c) < 0) return false;
    TreePtr owned(tree);
    git_tree_entry* entry = nullptr;
    if (git_tree_entry_bypath(&entry, tree, path.c_str()) < 0) return false;
    TreeEntryPtr owned_entry(entry);
    git_oid_cpy(out, git_tree_entry_id(entry));
    return true;
  };
  git_oid mine, theirs;
  bool have_mine = entry_id(commit, &mine);
  if (git_commit_parentcount(commit) == 0) return have_mine;
  git_commit* parent = nullptr;
  if (git_commit_parent(&parent, commit, 0) < 0) return have_mine;
  CommitPtr owned(parent);
  bool have_theirs = entry_id(parent, &theirs);
  if (have_mine != have_theirs) return true;
  return have_mine && !git_oid_equal(&mine, &theirs);
}

ToolResult git_log_tool(const json& args, ToolContext& context) {
  Library library;
  auto repo = open_context_repo(context);
  if (!repo) return fail("git_log", repo.message());
  int64_t n = args.value("n", int64_t{20});
  std::string path;
  if (args.contains("path")) {
    auto resolved = resolve_repo_path(context, args["path"].get<std::string>());
    if (!resolved) return fail("git_log", resolved.message());
    path = *resolved;
  }
  if (git_repository_head_unborn(repo->get()) == 1) return ToolResult::success("no commits yet", json::array());
  git_revwalk* raw = nullptr;
  if (int rc = git_revwalk_new(&raw, repo->get()); rc < 0) return fail("git_log", error_text("cannot walk history", rc));
  RevwalkPtr walk(raw);
  git_revwalk_sorting(walk.get(), GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
  if (int rc = git_revwalk_push_head(walk.get()); rc < 0) return fail("git_log", error_text("cannot read HEAD", rc));

  constexpr int64_t kMaxScanned = 100000;  // bounds a path filter on a huge history
  std::string text;
  json items = json::array();
  git_oid oid;
  int64_t scanned = 0, shown = 0;
  while (shown < n && scanned < kMaxScanned && git_revwalk_next(&oid, walk.get()) == 0) {
    ++scanned;
    git_commit* commit_raw = nullptr;
    if (git_commit_lookup(&commit_raw, repo->get(), &oid) < 0) continue;
    CommitPtr commit(commit_raw);
    if (!path.empty() && !touches(commit.get(), path)) continue;
    ++shown;
    const git_signature* author = git_commit_author(commit.get());
    std::string name = to_valid_utf8(author && author->name ? author->name : "?");
    std::string when = author ? format_time(author->when) : "";
    std::string subject = summary_of(commit.get());
    text += short_oid(oid) + " " + when + " " + name + ": " + subject + "\n";
    items.push_back({{"id", oid_text(oid)}, {"author", name}, {"date", when}, {"subject", subject}});
  }
  if (shown == 0) text = path.empty() ? "no commits\n" : "no commit touches " + path + "\n";
  return ToolResult::success(cap_text(text, context.limits.max_output_bytes), std::move(items));
}

std::string commit_header(git_commit* commit) {
  std::string text = "commit " + oid_text(*git_commit_id(commit)) + "\n";
  unsigned parents = git_commit_parentcount(commit);
  if (parents > 1) {
    text += "Merge:";
    for (unsigned i = 0; i < parents; ++i) text += " " + short_oid(*git_commit_parent_id(commit, i));
    text += "\n";
  }
  const git_signature* author = git_commit_author(commit);
  if (author)
    text += "Author: " + to_valid_utf8(std::string(author->name) + " <" + author->email + ">") + "\nDate:   " +
            format_time(author->when) + "\n";
  text += "\n";
  std::string message = to_valid_utf8(git_commit_message(commit) ? git_commit_message(commit) : "");
  size_t start = 0;
  while (start < message.size()) {
    size_t end = message.find('\n', start);
    if (end == std::string::npos) end = message.size();
    text += "    " + message.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return text + "\n";
}

ToolResult show_commit(git_repository* repo, git_commit* commit, const ToolContext& context, std::string prefix) {
  std::string text = prefix + commit_header(commit);
  git_tree* tree_raw = nullptr;
  if (int rc = git_commit_tree(&tree_raw, commit); rc < 0) return fail("git_show", error_text("cannot read the tree", rc));
  TreePtr tree(tree_raw);
  TreePtr parent_tree;
  if (git_commit_parentcount(commit) > 0) {
    git_commit* parent = nullptr;
    if (git_commit_parent(&parent, commit, 0) == 0) {
      CommitPtr owned(parent);
      git_tree* t = nullptr;
      if (git_commit_tree(&t, parent) == 0) parent_tree.reset(t);
    }
    if (git_commit_parentcount(commit) > 1) text += "(diff against the first parent)\n";
  }
  git_diff* raw = nullptr;
  git_diff_options options = GIT_DIFF_OPTIONS_INIT;
  if (int rc = git_diff_tree_to_tree(&raw, repo, parent_tree.get(), tree.get(), &options); rc < 0)
    return fail("git_show", error_text("cannot compute the diff", rc));
  DiffPtr diff(raw);
  git_diff_find_options find = GIT_DIFF_FIND_OPTIONS_INIT;
  git_diff_find_similar(diff.get(), &find);
  auto patch = render_diff(diff.get(), context.limits.max_output_bytes);
  if (!patch) return fail("git_show", patch.message());
  text += patch->empty() ? "(no changes)\n" : *patch;
  json data = {{"id", oid_text(*git_commit_id(commit))}, {"files", name_status(diff.get())}};
  return ToolResult::success(cap_text(text, context.limits.max_output_bytes + 4096), std::move(data));
}

ToolResult git_show_tool(const json& args, ToolContext& context) {
  Library library;
  auto repo = open_context_repo(context);
  if (!repo) return fail("git_show", repo.message());
  std::string revision = args.value("rev", std::string("HEAD"));
  auto object = resolve_revision(repo->get(), revision);
  if (!object) return fail("git_show", object.message());
  std::string prefix;
  git_object* current = object->get();
  ObjectPtr peeled_tag;
  if (git_object_type(current) == GIT_OBJECT_TAG) {
    auto* tag = reinterpret_cast<git_tag*>(current);
    prefix = "tag " + to_valid_utf8(git_tag_name(tag)) + "\n" +
             to_valid_utf8(git_tag_message(tag) ? git_tag_message(tag) : "") + "\n";
    git_object* target = nullptr;
    if (int rc = git_tag_peel(&target, tag); rc < 0) return fail("git_show", error_text("cannot peel the tag", rc));
    peeled_tag.reset(target);
    current = target;
  }
  switch (git_object_type(current)) {
    case GIT_OBJECT_COMMIT:
      return show_commit(repo->get(), reinterpret_cast<git_commit*>(current), context, prefix);
    case GIT_OBJECT_TREE: {
      auto* tree = reinterpret_cast<git_tree*>(current);
      std::string text = prefix + "tree " + oid_text(*git_object_id(current)) + "\n";
      size_t count = git_tree_entrycount(tree);
      for (size_t i = 0; i < count; ++i) {
        const git_tree_entry* e = git_tree_entry_byindex(tree, i);
        bool folder = git_tree_entry_type(e) == GIT_OBJECT_TREE;
        text += to_valid_utf8(git_tree_entry_name(e)) + (folder ? "/" : "") + "\n";
      }
      return ToolResult::success(cap_text(text, context.limits.max_output_bytes));
    }
    case GIT_OBJECT_BLOB: {
      auto* blob = reinterpret_cast<git_blob*>(current);
      std::string_view bytes(static_cast<const char*>(git_blob_rawcontent(blob)),
                             static_cast<size_t>(git_blob_rawsize(blob)));
      if (looks_binary(bytes))
        return ToolResult::success(prefix + "binary file, " + std::to_string(bytes.size()) + " bytes");
      return ToolResult::success(prefix + cap_text(to_valid_utf8(bytes), context.limits.max_output_bytes));
    }
    default:
      return fail("git_show", "'" + revision + "' names an object git_show cannot display");
  }
}

ToolResult git_blame_tool(const json& args, ToolContext& context) {
  Library library;
  auto repo = open_context_repo(context);
  if (!repo) return fail("git_blame", repo.message());
  auto path = resolve_repo_path(context, args.at("path").get<std::string>());
  if (!path) return fail("git_blame", path.message());
  if (path->empty()) return fail("git_blame", "give a file, not the workspace root");
  auto head = head_commit(repo->get());
  if (!head) return fail("git_blame", head.message());
  if (!*head) return fail("git_blame", "there are no commits yet, so nothing to blame");

  // The committed (HEAD) version is blamed and shown: uncommitted edits
  // have no author yet.
  git_tree* tree_raw = nullptr;
  if (int rc = git_commit_tree(&tree_raw, head->get()); rc < 0) return fail("git_blame", error_text("cannot read HEAD", rc));
  TreePtr tree(tree_raw);
  git_tree_entry* entry_raw = nullptr;
  if (git_tree_entry_bypath(&entry_raw, tree.get(), path->c_str()) < 0)
    return fail("git_blame", "'" + *path + "' is not in the last commit (HEAD); only committed files can be blamed");
  TreeEntryPtr entry(entry_raw);
  if (git_tree_entry_type(entry.get()) != GIT_OBJECT_BLOB) return fail("git_blame", "'" + *path + "' is a folder");
  git_blob* blob_raw = nullptr;
  if (int rc = git_blob_lookup(&blob_raw, repo->get(), git_tree_entry_id(entry.get())); rc < 0)
    return fail("git_blame", error_text("cannot read the file", rc));
  BlobPtr blob(blob_raw);
  std::string_view content(static_cast<const char*>(git_blob_rawcontent(blob.get())),
                           static_cast<size_t>(git_blob_rawsize(blob.get())));
  if (looks_binary(content)) return fail("git_blame", "'" + *path + "' is a binary file");
  std::vector<std::string_view> lines;
  for (size_t start = 0; start < content.size();) {
    size_t end = content.find('\n', start);
    if (end == std::string_view::npos) end = content.size();
    lines.push_back(content.substr(start, end - start));
    start = end + 1;
  }
  if (lines.empty()) return ToolResult::success("'" + *path + "' is empty");
  int64_t total = static_cast<int64_t>(lines.size());
  int64_t first = args.value("start_line", int64_t{1});
  int64_t last = args.value("end_line", total);
  if (first > total) return fail("git_blame", "start_line " + std::to_string(first) + " is past the end (" + std::to_string(total) + " lines)");
  last = std::min(last, total);
  if (last < first) return fail("git_blame", "end_line is before start_line");
  bool cut = last - first + 1 > context.limits.max_read_lines;
  if (cut) last = first + context.limits.max_read_lines - 1;

  git_blame_options options = GIT_BLAME_OPTIONS_INIT;
  options.min_line = static_cast<size_t>(first);
  options.max_line = static_cast<size_t>(last);
  git_blame* blame_raw = nullptr;
  if (int rc = git_blame_file(&blame_raw, repo->get(), path->c_str(), &options); rc < 0)
    return fail("git_blame", error_text("cannot blame '" + *path + "'", rc));
  BlamePtr blame(blame_raw);
  std::string text;
  for (int64_t line = first; line <= last; ++line) {
    const git_blame_hunk* hunk = git_blame_get_hunk_byline(blame.get(), static_cast<size_t>(line));
    std::string who = "?", when;
    std::string id = "??????????";
    if (hunk) {
      id = short_oid(hunk->final_commit_id);
      if (hunk->final_signature) {
        who = to_valid_utf8(hunk->final_signature->name);
        when = format_time(hunk->final_signature->when).substr(0, 10);
      }
    }
    text += id + " (" + who + " " + when + ") " +
            numbered_line(line, lines[static_cast<size_t>(line - 1)], context.limits.max_line_bytes) + "\n";
  }
  if (cut) text += "... output stops at " + std::to_string(context.limits.max_read_lines) + " lines; ask for a later start_line\n";
  return ToolResult::success(cap_text(text, context.limits.max_output_bytes));
}

}  // namespace

void register_git_read_tools(ToolRegistry& registry) {
  registry.add(ToolSpec{"git_status",
                        "Show the current branch and the staged, unstaged, untracked and conflicted files of the "
                        "workspace's git repository.",
                        R"({"type":"object","properties":{},"additionalProperties":false})", git_status_tool});
  registry.add(ToolSpec{
      "git_diff",
      "Show a diff (with a summary of changed files). Default: unstaged changes (working tree vs index). "
      "staged=true: staged changes (index vs HEAD). from only: that revision vs the working tree. from and to: "
      "between two revisions. path limits it to a file or folder. Long diffs keep their beginning and end.",
      R"({"type":"object","properties":{
          "staged":{"type":"boolean","description":"Show what is staged for the next commit."},
          "from":{"type":"string","minLength":1,"description":"Older revision (branch, tag, commit id, HEAD~N)."},
          "to":{"type":"string","minLength":1,"description":"Newer revision (needs from)."},
          "path":{"type":"string","minLength":1,"description":"Only this file or folder."}},
          "additionalProperties":false})",
      git_diff_tool});
  registry.add(ToolSpec{"git_log",
                        "List the last n commits of the current branch (short id, date, author, subject), "
                        "optionally only those that changed a path.",
                        R"({"type":"object","properties":{
          "n":{"type":"integer","minimum":1,"maximum":500,"description":"How many commits (default 20)."},
          "path":{"type":"string","minLength":1,"description":"Only commits that changed this file or folder."}},
          "additionalProperties":false})",
                        git_log_tool});
  registry.add(ToolSpec{"git_show",
                        "Show a commit (author, date, message and its patch), a tag, a folder listing or a file "
                        "as of a revision (e.g. \"HEAD~1\", \"a1b2c3d\", \"main:src/app.cpp\").",
                        R"({"type":"object","properties":{
          "rev":{"type":"string","minLength":1,"description":"The revision or object (default HEAD)."}},
          "required":["rev"],"additionalProperties":false})",
                        git_show_tool});
  registry.add(ToolSpec{"git_blame",
                        "Show, for each line of a committed file (its HEAD version), the commit, author and date "
                        "that last changed it. start_line/end_line (1-based, inclusive) limit the range.",
                        R"({"type":"object","properties":{
          "path":{"type":"string","minLength":1},
          "start_line":{"type":"integer","minimum":1},
          "end_line":{"type":"integer","minimum":1}},
          "required":["path"],"additionalProperties":false})",
                        git_blame_tool});
}

}  // namespace beluga::tools::git
