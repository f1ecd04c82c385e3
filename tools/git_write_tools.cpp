// git tools that change the repository, through libgit2 (no `git` process):
//
//   git_add      stage files, folders (new, modified and deleted files
//                under them; ignored files skipped) or deletions
//   git_commit   commit the index on the current branch, author from the
//                git config (user.name / user.email); hooks are not run
//   git_branch   list, create (from HEAD or a revision), or switch, refusing
//                a switch that would overwrite uncommitted changes
//   git_restore  put a path back from the index (default) or HEAD into the
//                working tree, or unstage it (staged=true: index ← HEAD)
//
// Deliberately absent: push, force, reset --hard, rebase, amend, anything
// that rewrites history or discards commits. git_restore discards
// uncommitted edits to the paths named, which is what it is for.
//
// Path arguments go through resolve_in_workspace; libgit2 pathspecs are not
// used for user paths (they glob: "d[1]" would not match a folder of that
// name): folders are matched by exact prefix in callbacks, files by exact
// path (GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH).
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <set>

#include "tools/file_io.h"
#include "tools/git_support.h"

namespace beluga::tools::git {
namespace {

using nlohmann::json;

ToolResult fail(const std::string& tool, const std::string& message) { return ToolResult::error(tool + ": " + message); }

// True when `path` is `prefix` or below it ("" is the root: everything).
bool under(std::string_view path, std::string_view prefix) {
  if (prefix.empty()) return true;
  if (path.size() < prefix.size() || path.compare(0, prefix.size(), prefix) != 0) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

Result<IndexPtr> open_index(git_repository* repo) {
  git_index* raw = nullptr;
  if (int rc = git_repository_index(&raw, repo); rc < 0) return git_failure("cannot read the index", rc);
  return IndexPtr(raw);
}

std::vector<std::string> index_paths_under(git_index* index, const std::string& prefix) {
  std::vector<std::string> out;
  size_t n = git_index_entrycount(index);
  for (size_t i = 0; i < n; ++i) {
    const git_index_entry* e = git_index_get_byindex(index, i);
    if (git_index_entry_stage(e) == 0 && under(e->path, prefix)) out.push_back(e->path);
  }
  return out;
}

struct TreeFile {
  std::string path;
  git_oid id;
  git_filemode_t mode;
};

std::vector<TreeFile> tree_files_under(git_tree* tree, const std::string& prefix) {
  struct Walk {
    const std::string* prefix;
    std::vector<TreeFile> files;
  } walk{&prefix, {}};
  if (!tree) return {};
  git_tree_walk(
      tree, GIT_TREEWALK_PRE,
      [](const char* root, const git_tree_entry* entry, void* payload) -> int {
        auto* w = static_cast<Walk*>(payload);
        std::string path = std::string(root) + git_tree_entry_name(entry);
        if (git_tree_entry_type(entry) == GIT_OBJECT_TREE) {
          // Descend only into folders on the way to, or inside, the prefix.
          bool relevant = under(path, *w->prefix) || under(*w->prefix, path);
          return relevant ? 0 : 1;
        }
        if (git_tree_entry_type(entry) == GIT_OBJECT_BLOB && under(path, *w->prefix))
          w->files.push_back({path, *git_tree_entry_id(entry), git_tree_entry_filemode(entry)});
        return 0;
      },
      &walk);
  return walk.files;
}

// libgit2's checkout writes through a symlink that stands where the
// repository has a folder ("src" -> /elsewhere, then checking out
// src/a.c writes /elsewhere/a.c). Before any checkout, every target path is
// checked: the first leading folder that is a symlink in the working tree
// is returned ("" when none).
std::string symlinked_folder(const std::string& workdir, const std::vector<std::string>& paths) {
  std::set<std::string> real_folders;
  for (const std::string& path : paths) {
    for (size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
      std::string folder = path.substr(0, slash);
      if (real_folders.count(folder)) continue;
      struct stat st;
      if (::lstat((workdir + folder).c_str(), &st) != 0) break;  // missing: checkout creates real folders
      if (S_ISLNK(st.st_mode)) return folder;
      real_folders.insert(folder);
    }
  }
  return "";
}

std::string symlink_refusal(const std::string& folder) {
  return "'" + folder + "' is a symlink in the working tree where the repository has a folder; git tools do not "
         "write through it (remove or rename the link first); nothing was changed";
}

Result<TreePtr> head_tree(git_repository* repo) {
  auto head = head_commit(repo);
  if (!head) return head.error();
  if (!*head) return TreePtr();
  git_tree* tree = nullptr;
  if (int rc = git_commit_tree(&tree, head->get()); rc < 0) return git_failure("cannot read HEAD's tree", rc);
  return TreePtr(tree);
}

// ---- git_add ---------------------------------------------------------------

ToolResult git_add_tool(const json& args, ToolContext& context) {
  Library library;
  auto repo = open_context_repo(context);
  if (!repo) return fail("git_add", repo.message());
  const json& paths = args.at("paths");
  if (paths.empty()) return fail("git_add", "give at least one path (\".\" stages everything)");
  auto index = open_index(repo->get());
  if (!index) return fail("git_add", index.message());
  std::string workdir = git_repository_workdir(repo->get());

  std::vector<std::string> report;
  for (const json& item : paths) {
    std::string text = item.get<std::string>();
    auto resolved = resolve_repo_path(context, text);
    if (!resolved) return fail("git_add", resolved.message() + " (nothing was staged)");
    const std::string& path = *resolved;
    struct stat st;
    bool exists = ::lstat((workdir + path).c_str(), &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) {
      // Everything under the folder: new and modified files (ignored ones
      // skipped, as `git add dir`), then deletions.
      auto filter = [](const char* p, const char*, void* payload) -> int {
        return under(p, *static_cast<const std::string*>(payload)) ? 0 : 1;
      };
      std::string prefix = path;
      int rc = git_index_add_all(index->get(), nullptr, GIT_INDEX_ADD_DEFAULT, filter, &prefix);
      if (rc >= 0) rc = git_index_update_all(index->get(), nullptr, filter, &prefix);
      if (rc < 0) return fail("git_add", error_text("cannot stage '" + text + "'", rc) + " (nothing was staged)");
      report.push_back((path.empty() ? std::string(".") : path + "/") + " (folder)");
    } else if (exists) {
      int ignored = 0;
      git_ignore_path_is_ignored(&ignored, repo->get(), path.c_str());
      if (ignored && !git_index_get_bypath(index->get(), path.c_str(), 0))
        return fail("git_add", "'" + path + "' is ignored (.gitignore); it was not staged, nor was anything else");
      if (int rc = git_index_add_bypath(index->get(), path.c_str()); rc < 0)
        return fail("git_add", error_text("cannot stage '" + path + "'", rc) + " (nothing was staged)");
      report.push_back(path);
    } else if (git_index_get_bypath(index->get(), path.c_str(), 0)) {
      if (int rc = git_index_remove_bypath(index->get(), path.c_str()); rc < 0)
        return fail("git_add", error_text("cannot stage the deletion of '" + path + "'", rc));
      report.push_back(path + " (deletion)");
    } else if (!index_paths_under(index->get(), path).empty()) {
      if (int rc = git_index_remove_directory(index->get(), path.c_str(), 0); rc < 0)
        return fail("git_add", error_text("cannot stage the deletion of '" + path + "'", rc));
      report.push_back(path + "/ (deletion of the folder)");
    } else {
      return fail("git_add", "'" + text + "' does not exist and is not tracked (nothing was staged)");
    }
  }
  if (int rc = git_index_write(index->get()); rc < 0) return fail("git_add", error_text("cannot write the index", rc));
  std::string text = "staged: ";
  for (size_t i = 0; i < report.size(); ++i) text += (i ? ", " : "") + to_valid_utf8(report[i]);
  return ToolResult::success(text + "\n(see git_status or git_diff staged=true for what the next commit holds)",
                             json{{"staged", report}});
}

// ---- git_commit ------------------------------------------------------------

ToolResult git_commit_tool(const json& args, ToolContext& context) {
  Library library;
  auto repo = open_context_repo(context);
  if (!repo) return fail("git_commit", repo.message());
  git_repository* r = repo->get();
  std::string raw_message = args.at("message").get<std::string>();
  Buffer message;
  if (git_message_prettify(&message.buf, raw_message.c_str(), 0, '#') < 0 || message.str().empty())
    return fail("git_commit", "the commit message is empty");
  if (git_repository_state(r) != GIT_REPOSITORY_STATE_NONE)
    return fail("git_commit", "a merge, rebase, revert or cherry-pick is in progress; the user has to finish or abort "
                              "it with git in a terminal");

  git_signature* sig_raw = nullptr;
  int rc = git_signature_default(&sig_raw, r);
  SignaturePtr signature(sig_raw);
  if (rc < 0)
    return fail("git_commit",
                "no author identity: user.name and user.email must be set in the git config. Ask the user to run "
                "`git config user.name \"Their Name\"` and `git config user.email they@example.com` in the "
                "repository (or with --global); beluga does not invent an author");

  auto index = open_index(r);
  if (!index) return fail("git_commit", index.message());
  if (git_index_has_conflicts(index->get()))
    return fail("git_commit", "the index has unresolved conflicts; fix the files and git_add them first");
  git_oid tree_id;
  if ((rc = git_index_write_tree(&tree_id, index->get())) < 0)
    return fail("git_commit", error_text("cannot write the tree", rc));
  auto parent = head_commit(r);
  if (!parent) return fail("git_commit", parent.message());
  if (*parent ? git_oid_equal(&tree_id, git_commit_tree_id(parent->get())) : git_index_entrycount(index->get()) == 0)
    return fail("git_commit", "nothing is staged (the index matches HEAD); stage changes with git_add first");

  git_tree* tree_raw = nullptr;
  if ((rc = git_tree_lookup(&tree_raw, r, &tree_id)) < 0) return fail("git_commit", error_text("cannot read the tree", rc));
  TreePtr tree(tree_raw);
  const git_commit* parents[1] = {parent->get()};
  git_oid commit_id;
  rc = git_commit_create(&commit_id, r, "HEAD", signature.get(), signature.get(), nullptr, message.str().c_str(),
                         tree.get(), *parent ? 1 : 0, parents);
  if (rc < 0) return fail("git_commit", error_text("cannot create the commit", rc));

  // A one-line summary of what went in.
  TreePtr parent_tree;
  if (*parent) {
    git_tree* t = nullptr;
    if (git_commit_tree(&t, parent->get()) == 0) parent_tree.reset(t);
  }
  std::string stats_text;
  git_diff* diff_raw = nullptr;
  if (git_diff_tree_to_tree(&diff_raw, r, parent_tree.get(), tree.get(), nullptr) == 0) {
    DiffPtr diff(diff_raw);
    git_diff_stats* stats_raw = nullptr;
    if (git_diff_get_stats(&stats_raw, diff.get()) == 0) {
      DiffStatsPtr stats(stats_raw);
      Buffer text;
      if (git_diff_stats_to_buf(&text.buf, stats.get(), GIT_DIFF_STATS_SHORT, 80) == 0) stats_text = text.str();
    }
  }
  std::string branch = "HEAD";
  git_reference* head_raw = nullptr;
  if (git_repository_head(&head_raw, r) == 0) {
    ReferencePtr head(head_raw);
    branch = git_reference_shorthand(head.get());
  }
  std::string subject = message.str().substr(0, message.str().find('\n'));
  std::string text = "[" + branch + " " + short_oid(commit_id) + "] " + to_valid_utf8(subject) + "\n" + stats_text;
  return ToolResult::success(text, json{{"id", oid_text(commit_id)}, {"branch", branch}});
}

// ---- git_branch ------------------------------------------------------------

ToolResult list_branches(git_repository* repo, const ToolContext& context) {
  git_branch_iterator* it_raw = nullptr;
  if (int rc = git_branch_iterator_new(&it_raw, repo, GIT_BRANCH_LOCAL); rc < 0)
    return fail("git_branch", error_text("cannot list branches", rc));
  BranchIteratorPtr it(it_raw);
  std::string text;
  json items = json::array();
  git_reference* ref_raw = nullptr;
  git_branch_t type;
  int64_t count = 0;
  while (git_branch_next(&ref_raw, &type, it.get()) == 0) {
    ReferencePtr ref(ref_raw);
    const char* name = nullptr;
    git_branch_name(&name, ref.get());
    bool current = git_branch_is_head(ref.get()) == 1;
    std::string line = std::string(current ? "* " : "  ") + (name ? name : "?");
    git_object* target = nullptr;
    if (git_reference_peel(&target, ref.get(), GIT_OBJECT_COMMIT) == 0) {
      CommitPtr commit(reinterpret_cast<git_commit*>(target));
      line += "  " + short_oid(*git_commit_id(commit.get())) + " " + summary_of(commit.get());
    }
    if (++count <= context.limits.max_matches) text += to_valid_utf8(line) + "\n";
    items.push_back({{"name", name ? name : ""}, {"current", current}});
  }
  if (count > context.limits.max_matches) text += "... and " + std::to_string(count - context.limits.max_matches) + " more\n";
  if (count == 0) text = "no branches yet (no commits)\n";
  return ToolResult::success(text, std::move(items));
}

ToolResult create_branch(git_repository* repo, const std::string& name, const std::string& start) {
  auto commit = resolve_commit(repo, start);
  if (!commit) return fail("git_branch", commit.message());
  git_reference* ref_raw = nullptr;
  int rc = git_branch_create(&ref_raw, repo, name.c_str(), commit->get(), 0);
  ReferencePtr ref(ref_raw);
  if (rc == GIT_EEXISTS) return fail("git_branch", "branch '" + name + "' already exists; use action \"switch\" to use it");
  if (rc < 0) return fail("git_branch", error_text("cannot create branch '" + name + "'", rc));
  return ToolResult::success("created branch '" + name + "' at " + short_oid(*git_commit_id(commit->get())) + " " +
                             summary_of(commit->get()) + " (still on the previous branch: switch to use it)");
}

ToolResult switch_branch(git_repository* repo, const std::string& name) {
  git_reference* ref_raw = nullptr;
  int rc = git_branch_lookup(&ref_raw, repo, name.c_str(), GIT_BRANCH_LOCAL);
  ReferencePtr ref(ref_raw);
  if (rc == GIT_ENOTFOUND)
    return fail("git_branch", "no local branch '" + name + "' (action \"list\" shows them; \"create\" makes one)");
  if (rc < 0) return fail("git_branch", error_text("cannot read branch '" + name + "'", rc));
  if (git_branch_is_head(ref.get()) == 1) return ToolResult::success("already on branch '" + name + "'");
  git_object* target = nullptr;
  if ((rc = git_reference_peel(&target, ref.get(), GIT_OBJECT_TREE)) < 0)
    return fail("git_branch", error_text("cannot read branch '" + name + "'", rc));
  ObjectPtr tree(target);
  std::vector<std::string> target_files;
  for (const TreeFile& f : tree_files_under(reinterpret_cast<git_tree*>(tree.get()), "")) target_files.push_back(f.path);
  if (std::string link = symlinked_folder(git_repository_workdir(repo), target_files); !link.empty())
    return fail("git_branch", "not switching to '" + name + "': " + symlink_refusal(link));

  // SAFE checkout: files changed in the working tree (or untracked files in
  // the way) that the switch would overwrite are conflicts, and libgit2
  // refuses before writing anything.
  std::vector<std::string> conflicts;
  git_checkout_options options = GIT_CHECKOUT_OPTIONS_INIT;
  options.checkout_strategy = GIT_CHECKOUT_SAFE;
  options.notify_flags = GIT_CHECKOUT_NOTIFY_CONFLICT;
  options.notify_payload = &conflicts;
  options.notify_cb = [](git_checkout_notify_t, const char* path, const git_diff_file*, const git_diff_file*,
                         const git_diff_file*, void* payload) -> int {
    static_cast<std::vector<std::string>*>(payload)->push_back(path);
    return 0;
  };
  rc = git_checkout_tree(repo, tree.get(), &options);
  if (!conflicts.empty() || rc == GIT_ECONFLICT) {
    std::string list;
    for (size_t i = 0; i < conflicts.size() && i < 50; ++i) list += "\n  " + to_valid_utf8(conflicts[i]);
    if (conflicts.size() > 50) list += "\n  ... and " + std::to_string(conflicts.size() - 50) + " more";
    return fail("git_branch", "not switching to '" + name +
                                  "': uncommitted changes (or untracked files) would be overwritten:" + list +
                                  "\nCommit them (git_add + git_commit) or put them back (git_restore) first; "
                                  "nothing was changed");
  }
  if (rc < 0) return fail("git_branch", error_text("cannot check out '" + name + "'", rc));
  if ((rc = git_repository_set_head(repo, git_reference_name(ref.get()))) < 0)
    return fail("git_branch", error_text("checked out the files of '" + name + "' but could not move HEAD", rc));
  return ToolResult::success("switched to branch '" + name + "'");
}

ToolResult git_branch_tool(const json& args, ToolContext& context) {
  Library library;
  auto repo = open_context_repo(context);
  if (!repo) return fail("git_branch", repo.message());
  std::string action = args.value("action", std::string("list"));
  if (action == "list") return list_branches(repo->get(), context);
  if (!args.contains("name")) return fail("git_branch", "action \"" + action + "\" needs a branch name");
  std::string name = args["name"].get<std::string>();
  int valid = 0;
  if (git_branch_name_is_valid(&valid, name.c_str()) < 0 || !valid || name.find("..") != std::string::npos)
    return fail("git_branch", "'" + name + "' is not a valid branch name");
  if (action == "create") return create_branch(repo->get(), name, args.value("start", std::string("HEAD")));
  if (args.contains("start")) return fail("git_branch", "'start' only applies to action \"create\"");
  return switch_branch(repo->get(), name);
}

// ---- git_restore -----------------------------------------------------------

ToolResult unstage(git_repository* repo, git_index* index, const std::string& path, const std::string& shown) {
  auto tree = head_tree(repo);
  if (!tree) return fail("git_restore", tree.message());
  std::vector<TreeFile> in_head = tree_files_under(tree->get(), path);
  std::vector<std::string> in_index = index_paths_under(index, path);
  if (in_head.empty() && in_index.empty()) return fail("git_restore", "'" + shown + "' is neither staged nor in HEAD");
  std::set<std::string> from_head;
  for (const TreeFile& f : in_head) {
    from_head.insert(f.path);
    git_index_entry entry{};
    entry.mode = f.mode;
    entry.id = f.id;
    entry.path = f.path.c_str();
    if (int rc = git_index_add(index, &entry); rc < 0) return fail("git_restore", error_text("cannot unstage " + f.path, rc));
  }
  for (const std::string& p : in_index)
    if (!from_head.count(p)) git_index_remove(index, p.c_str(), 0);
  if (int rc = git_index_write(index); rc < 0) return fail("git_restore", error_text("cannot write the index", rc));
  return ToolResult::success("unstaged '" + shown + "' (the index now matches HEAD there; the working tree is unchanged)");
}

ToolResult git_restore_tool(const json& args, ToolContext& context) {
  Library library;
  auto repo = open_context_repo(context);
  if (!repo) return fail("git_restore", repo.message());
  std::string shown = args.at("path").get<std::string>();
  auto path = resolve_repo_path(context, shown);
  if (!path) return fail("git_restore", path.message());
  std::string source = args.value("source", std::string("index"));
  bool staged = args.value("staged", false);
  auto index = open_index(repo->get());
  if (!index) return fail("git_restore", index.message());
  if (staged) {
    if (args.contains("source") && source != "HEAD")
      return fail("git_restore", "staged=true restores the index from HEAD; source \"index\" makes no sense there");
    return unstage(repo->get(), index->get(), *path, shown);
  }

  // The exact files to put back, as a plain list (no pathspec globbing).
  std::vector<std::string> files;
  TreePtr tree;
  if (source == "HEAD") {
    auto t = head_tree(repo->get());
    if (!t) return fail("git_restore", t.message());
    if (!*t) return fail("git_restore", "there are no commits yet; restore from the index instead");
    tree = std::move(*t);
    for (const TreeFile& f : tree_files_under(tree.get(), *path)) files.push_back(f.path);
  } else {
    files = index_paths_under(index->get(), *path);
  }
  if (files.empty())
    return fail("git_restore", "'" + shown + "' is not in " + (source == "HEAD" ? "HEAD" : "the index") +
                                   " (untracked files cannot be restored; nothing was changed)");
  if (std::string link = symlinked_folder(git_repository_workdir(repo->get()), files); !link.empty())
    return fail("git_restore", symlink_refusal(link));
  // A symlink standing at a restored path is the local change being
  // discarded: remove it first, or the checkout would write through it.
  std::string workdir = git_repository_workdir(repo->get());
  for (const std::string& f : files) {
    struct stat st;
    if (::lstat((workdir + f).c_str(), &st) == 0 && S_ISLNK(st.st_mode)) ::unlink((workdir + f).c_str());
  }
  std::vector<char*> pointers;
  for (std::string& f : files) pointers.push_back(f.data());
  git_checkout_options options = GIT_CHECKOUT_OPTIONS_INIT;
  options.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH;
  // `git restore --source=HEAD` changes only the working tree.
  if (source == "HEAD") options.checkout_strategy |= GIT_CHECKOUT_DONT_UPDATE_INDEX;
  options.paths = {pointers.data(), pointers.size()};
  int rc = source == "HEAD" ? git_checkout_tree(repo->get(), reinterpret_cast<git_object*>(tree.get()), &options)
                            : git_checkout_index(repo->get(), index->get(), &options);
  if (rc < 0) return fail("git_restore", error_text("cannot restore '" + shown + "'", rc));
  std::string text = "restored " + std::to_string(files.size()) + (files.size() == 1 ? " file" : " files") + " under '" +
                     shown + "' from " + (source == "HEAD" ? "HEAD" : "the index") +
                     " (uncommitted edits there are gone; untracked files were left alone)";
  return ToolResult::success(text, json{{"files", files}});
}

}  // namespace

void register_git_write_tools(ToolRegistry& registry) {
  registry.add(ToolSpec{"git_add",
                        "Stage files for the next commit. A folder stages every new, modified and deleted file under "
                        "it (ignored files are skipped); a deleted path stages its deletion; \".\" stages everything.",
                        R"({"type":"object","properties":{
          "paths":{"type":"array","items":{"type":"string","minLength":1},"description":"Files or folders."}},
          "required":["paths"],"additionalProperties":false})",
                        git_add_tool});
  registry.add(ToolSpec{"git_commit",
                        "Commit what is staged on the current branch. The author comes from the git config "
                        "(user.name, user.email); hooks are not run.",
                        R"({"type":"object","properties":{
          "message":{"type":"string","minLength":1,"description":"Subject line, blank line, body."}},
          "required":["message"],"additionalProperties":false})",
                        git_commit_tool});
  registry.add(ToolSpec{"git_branch",
                        "List local branches (default), create one (from HEAD or `start`) without switching, or "
                        "switch to one. Switching is refused when uncommitted changes would be overwritten.",
                        R"({"type":"object","properties":{
          "action":{"type":"string","enum":["list","create","switch"]},
          "name":{"type":"string","minLength":1},
          "start":{"type":"string","minLength":1,"description":"create: the revision to start from (default HEAD)."}},
          "additionalProperties":false})",
                        git_branch_tool});
  registry.add(ToolSpec{"git_restore",
                        "Discard uncommitted changes to a file or folder: put it back from the index (default) or "
                        "from HEAD (source=\"HEAD\"), in the working tree only. staged=true instead unstages it (the "
                        "index entry goes back to HEAD; the working tree is untouched). Untracked files are never "
                        "deleted.",
                        R"({"type":"object","properties":{
          "path":{"type":"string","minLength":1},
          "source":{"type":"string","enum":["index","HEAD"]},
          "staged":{"type":"boolean"}},
          "required":["path"],"additionalProperties":false})",
                        git_restore_tool});
}

}  // namespace beluga::tools::git
