#include "tools/paths.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace beluga::tools {
namespace {

namespace fs = std::filesystem;

// True when `path` is `root` or below it (component-wise, not by string prefix).
bool is_within(const fs::path& path, const fs::path& root) {
  auto p = path.begin(), r = root.begin();
  for (; r != root.end(); ++r, ++p)
    if (p == path.end() || *p != *r) return false;
  return true;
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

}  // namespace

Result<ConfinedPath> resolve_in_workspace(const ToolContext& context, std::string_view text, PathUse use) {
  if (context.roots.empty()) return make_error("no workspace root is configured");
  if (text.empty()) return make_error("the path is empty");
  if (text.find('\0') != std::string_view::npos) return make_error("the path contains a NUL byte");
  fs::path requested(text);
  fs::path joined = (requested.is_absolute() ? requested : context.roots.front() / requested).lexically_normal();

  // Canonicalise the deepest existing ancestor (resolving every symlink on
  // the way), then append the components that do not exist yet.
  std::error_code ec;
  fs::path existing = joined, rest;
  while (!existing.empty() && !fs::exists(fs::symlink_status(existing, ec))) {
    rest = existing.filename() / rest;
    existing = existing.parent_path();
  }
  fs::path canonical = fs::canonical(existing, ec);
  if (ec) return make_error("cannot resolve " + quoted(text) + ": " + ec.message() + " (a symlink loop?)");
  fs::path resolved = (rest.empty() ? canonical : canonical / rest).lexically_normal();
  if (!rest.empty() && use == PathUse::kRead) return make_error(quoted(text) + " does not exist");

  for (const fs::path& root : context.roots) {
    if (!is_within(resolved, root)) continue;
    fs::path relative = resolved.lexically_relative(root);
    if (relative.empty()) relative = ".";
    if (use == PathUse::kWrite)
      for (const auto& part : relative)
        if (part == ".git") return make_error(quoted(text) + " is inside a .git folder, which file tools never modify");
    return ConfinedPath{resolved, root, relative};
  }
  return make_error(quoted(text) + " resolves to " + resolved.string() +
                    ", outside the workspace (" + context.roots.front().string() + "); only files inside it can be used");
}

Result<int> open_confined(const ConfinedPath& path, int flags, int mode) {
  int dir = ::open(path.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return make_error("cannot open the workspace root " + path.root.string() + ": " + std::strerror(errno));
  std::vector<std::string> parts;
  for (const auto& part : path.relative)
    if (part != ".") parts.push_back(part.string());
  if (parts.empty()) {
    if ((flags & O_ACCMODE) != O_RDONLY) {
      ::close(dir);
      return make_error("cannot open the workspace root itself for writing");
    }
    return dir;
  }
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    int next = ::openat(dir, parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int err = errno;
    ::close(dir);
    if (next < 0)
      return make_error("cannot open folder '" + parts[i] + "' of " + path.relative.string() + ": " +
                        (err == ELOOP || err == ENOTDIR ? "it is (or was replaced by) a symlink or not a folder"
                                                        : std::strerror(err)));
    dir = next;
  }
  int fd = ::openat(dir, parts.back().c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode);
  int err = errno;
  ::close(dir);
  if (fd < 0)
    return make_error("cannot open " + path.relative.string() + ": " +
                      (err == ELOOP ? "it is (or was replaced by) a symlink" : std::strerror(err)));
  return fd;
}

}  // namespace beluga::tools
