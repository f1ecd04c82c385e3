// Internal to the git tools and checkpoints (never include from outside
// tools/): libgit2 ownership wrappers, opening the workspace's repository,
// and formatting helpers shared by git_read_tools.cpp, git_write_tools.cpp,
// git_tools.cpp and checkpoints.cpp.
//
// Which repository: the one whose working tree is exactly the workspace
// root. A workspace inside a larger repository is refused rather than
// silently acting on files outside the workspace; a folder that is not a
// repository is refused with a hint (never `git init`-ed behind the user's
// back). Bare repositories have no working tree and are refused too.
//
// libgit2 must be initialised before any use: each entry point constructs a
// git::Library first. The first one takes a reference that is held until
// the process exits (a static's destructor calls git_libgit2_shutdown): an
// init/shutdown cycle per call costs ~7 ms (TLS and crypto setup), holding
// it costs nothing. Thread-safe (C++ static initialisation, libgit2's own
// reference count).
//
// Thread contract: free functions; each call opens its own repository
// handle, so concurrent calls never share libgit2 objects.
#pragma once

#include <git2.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/result.h"
#include "tools/tool.h"

namespace beluga::tools::git {

class Library {
 public:
  Library() { static const Holder holder; }

 private:
  struct Holder {
    Holder() { git_libgit2_init(); }
    ~Holder() { git_libgit2_shutdown(); }
  };
};

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const {
    if (p) Free(p);
  }
};
template <class T, void (*Free)(T*)>
using Owned = std::unique_ptr<T, Deleter<T, Free>>;

using RepoPtr = Owned<git_repository, git_repository_free>;
using ObjectPtr = Owned<git_object, git_object_free>;
using CommitPtr = Owned<git_commit, git_commit_free>;
using TreePtr = Owned<git_tree, git_tree_free>;
using TreeEntryPtr = Owned<git_tree_entry, git_tree_entry_free>;
using BlobPtr = Owned<git_blob, git_blob_free>;
using IndexPtr = Owned<git_index, git_index_free>;
using DiffPtr = Owned<git_diff, git_diff_free>;
using DiffStatsPtr = Owned<git_diff_stats, git_diff_stats_free>;
using ReferencePtr = Owned<git_reference, git_reference_free>;
using ReferenceIteratorPtr = Owned<git_reference_iterator, git_reference_iterator_free>;
using BranchIteratorPtr = Owned<git_branch_iterator, git_branch_iterator_free>;
using RevwalkPtr = Owned<git_revwalk, git_revwalk_free>;
using BlamePtr = Owned<git_blame, git_blame_free>;
using StatusListPtr = Owned<git_status_list, git_status_list_free>;
using SignaturePtr = Owned<git_signature, git_signature_free>;
using TreeBuilderPtr = Owned<git_treebuilder, git_treebuilder_free>;
using TagPtr = Owned<git_tag, git_tag_free>;

// A git_buf that frees itself.
struct Buffer {
  git_buf buf = GIT_BUF_INIT;
  Buffer() = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { git_buf_dispose(&buf); }
  std::string str() const { return buf.ptr ? std::string(buf.ptr, buf.size) : std::string(); }
};

// libgit2's message for the last failure, prefixed with what we were doing.
std::string error_text(const std::string& doing, int rc);
inline Error git_failure(const std::string& doing, int rc) { return make_error(error_text(doing, rc)); }

// The repository whose working tree is `workspace_root`, or an error that
// says why not (not a repository, a subfolder of one, bare).
Result<RepoPtr> open_workspace_repo(const std::filesystem::path& workspace_root);

// The repository for the first workspace root of a tool call.
Result<RepoPtr> open_context_repo(const ToolContext& context);

std::string oid_text(const git_oid& oid);
std::string short_oid(const git_oid& oid);  // 10 hex digits

// Resolves a revision ("HEAD~2", "main", "abc123", "v1.0", "HEAD:path").
Result<ObjectPtr> resolve_revision(git_repository* repo, const std::string& revision);
Result<CommitPtr> resolve_commit(git_repository* repo, const std::string& revision);
// HEAD's commit; an unborn HEAD (no commits yet) is a null pointer, not an error.
Result<CommitPtr> head_commit(git_repository* repo);

// "2024-05-01 12:34 +0200"
std::string format_time(const git_time& time);
// First line of a commit message.
std::string summary_of(const git_commit* commit);

// The patch text of `diff` (with a --stat style summary first), capped to
// `limit_bytes` (head and tail kept) while it is produced, so a huge diff
// never sits whole in memory. Invalid UTF-8 is replaced for display.
Result<std::string> render_diff(git_diff* diff, uint64_t limit_bytes);

// "M  src/a.cpp" per delta (status letter and path, renames as "old -> new").
std::vector<std::string> name_status(git_diff* diff);

// The path of a workspace-relative location as git spells it ("src/a.cpp";
// "" for the root).
std::string repo_path(const std::filesystem::path& relative);

// A path argument of a git tool, confined to the workspace
// (resolve_in_workspace, symlinks resolved) and spelled relative to the
// repository. Paths inside .git are refused.
Result<std::string> resolve_repo_path(const ToolContext& context, const std::string& text);

// Registered by git_tools.cpp's register_git_tools.
void register_git_read_tools(ToolRegistry& registry);   // status, diff, log, show, blame
void register_git_write_tools(ToolRegistry& registry);  // add, commit, branch, restore

}  // namespace beluga::tools::git
