#include "tools/git_support.h"

#include <ctime>

#include "tools/file_io.h"
#include "tools/output_cap.h"
#include "tools/paths.h"

namespace beluga::tools::git {

namespace fs = std::filesystem;

std::string error_text(const std::string& doing, int rc) {
  const ::git_error* e = git_error_last();
  std::string detail = e && e->message ? e->message : "libgit2 error " + std::to_string(rc);
  return doing + ": " + detail;
}

Result<RepoPtr> open_workspace_repo(const fs::path& workspace_root) {
  git_repository* raw = nullptr;
  int rc = git_repository_open_ext(&raw, workspace_root.c_str(), 0, nullptr);
  RepoPtr repo(raw);
  if (rc == GIT_ENOTFOUND)
    return make_error("the workspace " + workspace_root.string() +
                      " is not a git repository; git tools and checkpoints need one (the user can run "
                      "`git init` there to enable them)");
  if (rc < 0) return git_failure("cannot open the git repository at " + workspace_root.string(), rc);
  if (git_repository_is_bare(repo.get()))
    return make_error("the repository at " + workspace_root.string() + " is bare: it has no working tree");
  std::error_code ec;
  fs::path workdir = fs::canonical(fs::path(git_repository_workdir(repo.get())), ec);
  fs::path root = fs::canonical(workspace_root, ec);
  if (ec || workdir != root)
    return make_error("the workspace " + workspace_root.string() + " is inside the git repository at " +
                      workdir.string() +
                      " but is not its top folder; git tools and checkpoints only act on a repository whose "
                      "top folder is the workspace (open " + workdir.string() + " as the workspace to use them)");
  return repo;
}

Result<RepoPtr> open_context_repo(const ToolContext& context) {
  if (context.roots.empty()) return make_error("no workspace root is configured");
  return open_workspace_repo(context.roots.front());
}

std::string oid_text(const git_oid& oid) {
  char text[GIT_OID_HEXSZ + 1];
  git_oid_tostr(text, sizeof text, &oid);
  return text;
}

std::string short_oid(const git_oid& oid) { return oid_text(oid).substr(0, 10); }

Result<ObjectPtr> resolve_revision(git_repository* repo, const std::string& revision) {
  if (revision.empty()) return make_error("the revision is empty");
  git_object* raw = nullptr;
  int rc = git_revparse_single(&raw, repo, revision.c_str());
  if (rc == GIT_ENOTFOUND || rc == GIT_EAMBIGUOUS || rc == GIT_EINVALIDSPEC)
    return make_error("unknown revision '" + revision + "'" +
                      (rc == GIT_EAMBIGUOUS ? " (ambiguous: give more hex digits)" : "") +
                      "; use a branch name, a tag, a commit id or HEAD~N (see git_log)");
  if (rc < 0) return git_failure("cannot resolve '" + revision + "'", rc);
  return ObjectPtr(raw);
}

Result<CommitPtr> resolve_commit(git_repository* repo, const std::string& revision) {
  auto object = resolve_revision(repo, revision);
  if (!object) return object.error();
  git_object* peeled = nullptr;
  int rc = git_object_peel(&peeled, object->get(), GIT_OBJECT_COMMIT);
  if (rc < 0) return make_error("'" + revision + "' does not name a commit");
  return CommitPtr(reinterpret_cast<git_commit*>(peeled));
}

Result<CommitPtr> head_commit(git_repository* repo) {
  if (git_repository_head_unborn(repo) == 1) return CommitPtr();
  git_reference* head = nullptr;
  int rc = git_repository_head(&head, repo);
  ReferencePtr owned(head);
  if (rc < 0) return git_failure("cannot read HEAD", rc);
  git_object* peeled = nullptr;
  rc = git_reference_peel(&peeled, head, GIT_OBJECT_COMMIT);
  if (rc < 0) return git_failure("HEAD does not point to a commit", rc);
  return CommitPtr(reinterpret_cast<git_commit*>(peeled));
}

std::string format_time(const git_time& time) {
  std::time_t local = static_cast<std::time_t>(time.time + time.offset * 60);
  std::tm tm{};
  gmtime_r(&local, &tm);
  char text[40];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M", &tm);
  int offset = time.offset < 0 ? -time.offset : time.offset;
  char zone[16];
  std::snprintf(zone, sizeof zone, " %c%02d%02d", time.offset < 0 ? '-' : '+', offset / 60, offset % 60);
  return std::string(text) + zone;
}

std::string summary_of(const git_commit* commit) {
  const char* message = git_commit_message(commit);
  std::string text = message ? message : "";
  if (auto nl = text.find('\n'); nl != std::string::npos) text.resize(nl);
  return to_valid_utf8(text);
}

namespace {

int print_line(const git_diff_delta*, const git_diff_hunk*, const git_diff_line* line, void* payload) {
  auto* out = static_cast<HeadTailBuffer*>(payload);
  char origin = line->origin;
  if (origin == GIT_DIFF_LINE_CONTEXT || origin == GIT_DIFF_LINE_ADDITION || origin == GIT_DIFF_LINE_DELETION)
    out->append(std::string_view(&origin, 1));
  out->append(std::string_view(line->content, line->content_len));
  return 0;
}

}  // namespace

Result<std::string> render_diff(git_diff* diff, uint64_t limit_bytes) {
  if (git_diff_num_deltas(diff) == 0) return std::string();
  HeadTailBuffer out(limit_bytes);
  git_diff_stats* raw_stats = nullptr;
  if (git_diff_get_stats(&raw_stats, diff) == 0) {
    DiffStatsPtr stats(raw_stats);
    Buffer text;
    if (git_diff_stats_to_buf(&text.buf, stats.get(), static_cast<git_diff_stats_format_t>(GIT_DIFF_STATS_FULL | GIT_DIFF_STATS_INCLUDE_SUMMARY), 80) == 0) {
      out.append(text.str());
      out.append("\n");
    }
  }
  int rc = git_diff_print(diff, GIT_DIFF_FORMAT_PATCH, print_line, &out);
  if (rc < 0) return git_failure("cannot format the diff", rc);
  return to_valid_utf8(out.text());
}

std::vector<std::string> name_status(git_diff* diff) {
  std::vector<std::string> lines;
  size_t n = git_diff_num_deltas(diff);
  for (size_t i = 0; i < n; ++i) {
    const git_diff_delta* d = git_diff_get_delta(diff, i);
    std::string line(1, git_diff_status_char(d->status));
    line += "  ";
    if (d->status == GIT_DELTA_RENAMED || d->status == GIT_DELTA_COPIED)
      line += std::string(d->old_file.path) + " -> " + d->new_file.path;
    else
      line += d->new_file.path ? d->new_file.path : d->old_file.path;
    lines.push_back(to_valid_utf8(line));
  }
  return lines;
}

Result<std::string> resolve_repo_path(const ToolContext& context, const std::string& text) {
  // git acts on a symlink itself, not on what it points to: the folder part
  // is resolved (symlinks included) and must stay in the workspace; the last
  // component is kept as written. "link" names the link even when it points
  // outside; "link/x" goes through it and is refused if that leaves.
  fs::path lexical = fs::path(text).lexically_normal();
  if (!lexical.empty() && lexical.filename().empty()) lexical = lexical.parent_path();  // "dir/"
  std::string last = lexical.filename().string();
  bool plain_name = !last.empty() && last != "." && last != ".." && lexical.has_parent_path();
  bool bare_name = !last.empty() && last != "." && last != ".." && !lexical.has_parent_path();
  std::string folder = plain_name ? lexical.parent_path().string() : bare_name ? "." : text;
  auto resolved = resolve_in_workspace(context, folder, PathUse::kAny);
  if (!resolved) return make_error(resolved.message() + (folder == text ? "" : " (in '" + text + "')"));
  if (resolved->root != context.roots.front())
    return make_error("'" + text + "' is in the workspace root " + resolved->root.string() +
                      "; git tools act on the repository of the first root, " + context.roots.front().string());
  fs::path relative = resolved->relative;
  if (plain_name || bare_name) relative = relative == "." ? fs::path(last) : relative / last;
  for (const auto& part : relative)
    if (part == ".git") return make_error("'" + text + "' is inside the .git folder, which git tools never touch directly");
  return repo_path(relative);
}

std::string repo_path(const fs::path& relative) {
  std::string text = relative.generic_string();
  if (text == ".") return "";
  while (!text.empty() && text.back() == '/') text.pop_back();
  return text;
}

}  // namespace beluga::tools::git
