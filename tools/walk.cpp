#include "tools/walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "tools/ignore_rules.h"

namespace beluga::tools {

std::string read_small_file_at(int dir_fd, const char* name, uint64_t max_bytes) {
  int fd = ::openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return "";
  struct stat st {};
  std::string text;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) <= max_bytes) {
    text.resize(static_cast<size_t>(st.st_size));
    size_t done = 0;
    while (done < text.size()) {
      ssize_t n = ::read(fd, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    text.resize(done);
  }
  ::close(fd);
  return text;
}

std::vector<std::string> sorted_entry_names(int dir_fd, const std::function<bool()>& on_entry) {
  std::vector<std::string> names;
  int dup_fd = ::dup(dir_fd);
  if (dup_fd < 0) return names;
  DIR* dir = ::fdopendir(dup_fd);
  if (!dir) {
    ::close(dup_fd);
    return names;
  }
  while (dirent* e = ::readdir(dir)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    names.emplace_back(e->d_name);
    if (on_entry && !on_entry()) break;
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

namespace {

std::string join(const std::string& folder, const std::string& name) {
  return folder.empty() ? name : folder + "/" + name;
}

class Walker {
 public:
  Walker(const ToolContext& context, const WalkOptions& options, const Deadline& deadline, WalkResult& result)
      : context_(context), options_(options), deadline_(deadline), result_(result) {}

  IgnoreMatcher& rules() { return rules_; }

  void push_rules(int dir_fd, const std::string& folder) {
    std::string text = read_small_file_at(dir_fd, ".gitignore", context_.limits.max_ignore_file_bytes);
    rules_.push(IgnoreFile::parse(text, folder));
  }

  // Walks the folder open at `dir_fd` (owned by the caller).
  void walk(int dir_fd, const std::string& folder, int depth) {
    if (!result_.complete || !still_going()) return;
    const std::vector<std::string> names = sorted_entry_names(dir_fd, [&] { return charge(); });
    for (const std::string& name : names) {
      if (!result_.complete) return;
      if (!(++visited_ % 256) && !still_going()) return;
      struct stat st {};
      if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      WalkEntry entry;
      entry.path = join(folder, name);
      entry.depth = depth;
      if (S_ISDIR(st.st_mode)) entry.type = WalkEntry::Type::kFolder;
      else if (S_ISREG(st.st_mode)) entry.type = WalkEntry::Type::kFile, entry.size_bytes = static_cast<uint64_t>(st.st_size);
      else if (S_ISLNK(st.st_mode)) entry.type = WalkEntry::Type::kSymlink;
      else entry.type = WalkEntry::Type::kOther;
      bool is_dir = entry.type == WalkEntry::Type::kFolder;
      if (rules_.ignored(entry.path, is_dir)) {
        ++result_.ignored;
        continue;
      }
      result_.entries.push_back(entry);
      if (!is_dir || !options_.recursive || depth >= options_.max_depth ||
          depth >= context_.limits.max_walk_depth)
        continue;
      if (options_.enter && !options_.enter(entry.path)) continue;
      int child = ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child < 0) continue;
      push_rules(child, entry.path);
      walk(child, entry.path, depth + 1);
      rules_.pop();
      ::close(child);
    }
  }

 private:
  bool charge() {
    if (++charged_ > context_.limits.max_walk_entries) {
      stop("the " + std::to_string(context_.limits.max_walk_entries) + "-entry limit");
      return false;
    }
    return true;
  }
  bool still_going() {
    if (deadline_.passed()) {
      stop("the time limit (" + std::to_string(context_.limits.search_timeout.count()) + " ms)");
      return false;
    }
    if (!keep_going(context_)) {
      stop("cancellation");
      return false;
    }
    return true;
  }
  void stop(std::string why) {
    if (!result_.complete) return;
    result_.complete = false;
    result_.stopped_because = std::move(why);
  }

  const ToolContext& context_;
  const WalkOptions& options_;
  const Deadline& deadline_;
  WalkResult& result_;
  IgnoreMatcher rules_;
  int64_t charged_ = 0, visited_ = 0;
};

}  // namespace

std::string walk_path(const ConfinedPath& path) {
  std::string p = path.relative.generic_string();
  return p == "." ? std::string() : p;
}

Result<WalkResult> walk_workspace(const ConfinedPath& start, const ToolContext& context, const WalkOptions& options,
                                  const Deadline& deadline) {
  WalkResult result;
  Result<int> opened = open_confined(start, O_RDONLY | O_NONBLOCK);
  if (!opened) return opened.error();
  int fd = *opened;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return make_error("cannot stat " + display_path(start) + ": " + std::strerror(errno));
  }
  std::string start_path = walk_path(start);
  if (!S_ISDIR(st.st_mode)) {
    ::close(fd);
    WalkEntry entry;
    entry.path = start_path;
    entry.type = S_ISREG(st.st_mode) ? WalkEntry::Type::kFile : WalkEntry::Type::kOther;
    entry.size_bytes = static_cast<uint64_t>(st.st_size);
    result.entries.push_back(entry);
    return result;
  }

  Walker walker(context, options, deadline, result);
  // Rules from the root down to the start folder.
  int root_fd = ::open(start.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) {
    ::close(fd);
    return make_error("cannot open the workspace root: " + std::string(std::strerror(errno)));
  }
  if (int git = ::openat(root_fd, ".git", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC); git >= 0) {
    if (int info = ::openat(git, "info", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC); info >= 0) {
      walker.rules().push(IgnoreFile::parse(read_small_file_at(info, "exclude", context.limits.max_ignore_file_bytes), ""));
      ::close(info);
    }
    ::close(git);
  }
  walker.push_rules(root_fd, "");
  std::string folder;
  int current = root_fd;
  for (const auto& part : start.relative) {
    if (part == "." || part.empty()) continue;
    int next = ::openat(current, part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    ::close(current);
    current = next;
    if (current < 0) break;
    folder = join(folder, part.string());
    walker.push_rules(current, folder);
  }
  if (current >= 0) ::close(current);
  walker.walk(fd, start_path, 1);
  ::close(fd);
  return result;
}

}  // namespace beluga::tools
