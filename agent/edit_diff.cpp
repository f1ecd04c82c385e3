#include "agent/edit_diff.h"

#include <git2.h>

namespace beluga::agent {

std::string unified_diff(const std::string& path, const std::string& before, bool before_exists,
                         const std::string& after, uint64_t limit_bytes) {
  if (before_exists && before == after) return "";
  git_libgit2_init();
  git_diff_options options = GIT_DIFF_OPTIONS_INIT;
  options.context_lines = 3;
  options.flags = GIT_DIFF_FORCE_TEXT;
  git_patch* patch = nullptr;
  const std::string old_name = before_exists ? path : std::string();
  int rc = git_patch_from_buffers(&patch, before_exists ? before.data() : nullptr, before_exists ? before.size() : 0,
                                  before_exists ? old_name.c_str() : nullptr, after.data(), after.size(), path.c_str(),
                                  &options);
  std::string out;
  if (rc == 0 && patch) {
    git_buf buf = GIT_BUF_INIT;
    if (git_patch_to_buf(&buf, patch) == 0) out.assign(buf.ptr, buf.size);
    git_buf_dispose(&buf);
  }
  git_patch_free(patch);
  git_libgit2_shutdown();
  // libgit2 starts with a "diff --git" header line; clients want the hunks.
  if (out.rfind("diff --git", 0) == 0) {
    size_t header = out.find("\n--- ");
    if (header == std::string::npos) header = out.find("\n+++ ");
    if (header != std::string::npos) out.erase(0, header + 1);
  }
  if (out.size() > limit_bytes) {
    size_t cut = out.rfind('\n', limit_bytes);
    cut = cut == std::string::npos ? limit_bytes : cut + 1;
    out = out.substr(0, cut) + "... [diff truncated: " + std::to_string(out.size() - cut) + " more bytes]\n";
  }
  return out;
}

}  // namespace beluga::agent
