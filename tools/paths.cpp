#include "tools/paths.h"

#include <fcntl.h>
#include <sys/stat.h>
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

std::vector<std::string> components(const fs::path& relative) {
  std::vector<std::string> parts;
  for (const auto& part : relative)
    if (part != "." && !part.empty()) parts.push_back(part.string());
  return parts;
}

// Opens folders parts[0..count) below `dir` one at a time with O_NOFOLLOW;
// takes ownership of `dir`. Missing folders are created when asked.
Result<int> walk_folders(int dir, const std::vector<std::string>& parts, size_t count, const fs::path& relative,
                         bool create_missing) {
  for (size_t i = 0; i < count; ++i) {
    int next = ::openat(dir, parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0 && errno == ENOENT && create_missing) {
      if (::mkdirat(dir, parts[i].c_str(), 0777) != 0 && errno != EEXIST) {
        int err = errno;
        ::close(dir);
        return make_error("cannot create folder '" + parts[i] + "' of " + relative.string() + ": " + std::strerror(err));
      }
      next = ::openat(dir, parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    int err = errno;
    ::close(dir);
    if (next < 0)
      return make_error("cannot open folder '" + parts[i] + "' of " + relative.string() + ": " +
                        (err == ELOOP || err == ENOTDIR ? "it is (or was replaced by) a symlink or not a folder"
                                                        : std::strerror(err)));
    dir = next;
  }
  return dir;
}

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
    rest = rest.empty() ? existing.filename() : existing.filename() / rest;
    existing = existing.parent_path();
  }
  fs::path canonical = fs::canonical(existing, ec);
  if (ec)
    return make_error("cannot resolve " + quoted(text) + ": " + ec.message() +
                      (ec == std::errc::too_many_symbolic_link_levels ? " (a symlink loop)"
                                                                       : " (a symlink whose target is missing?)"));
  fs::path resolved = (rest.empty() ? canonical : canonical / rest).lexically_normal();

  for (const fs::path& root : context.roots) {
    if (!is_within(resolved, root)) continue;
    if (!rest.empty() && use == PathUse::kRead) return make_error(quoted(text) + " does not exist");
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
  std::vector<std::string> parts = components(path.relative);
  if (parts.empty()) {
    if ((flags & O_ACCMODE) != O_RDONLY) {
      ::close(dir);
      return make_error("cannot open the workspace root itself for writing");
    }
    return dir;
  }
  Result<int> parent = walk_folders(dir, parts, parts.size() - 1, path.relative, false);
  if (!parent) return parent.error();
  dir = *parent;
  int fd = ::openat(dir, parts.back().c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode);
  int err = errno;
  ::close(dir);
  if (fd < 0)
    return make_error("cannot open " + path.relative.string() + ": " +
                      (err == ELOOP ? "it is (or was replaced by) a symlink" : std::strerror(err)));
  return fd;
}

Result<ConfinedParent> open_confined_parent(const ConfinedPath& path, bool create_missing) {
  std::vector<std::string> parts = components(path.relative);
  if (parts.empty()) return make_error("the workspace root itself cannot be created, replaced or removed");
  int dir = ::open(path.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return make_error("cannot open the workspace root " + path.root.string() + ": " + std::strerror(errno));
  Result<int> parent = walk_folders(dir, parts, parts.size() - 1, path.relative, create_missing);
  if (!parent) return parent.error();
  return ConfinedParent{*parent, parts.back()};
}

}  // namespace beluga::tools
