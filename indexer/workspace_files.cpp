#include "indexer/workspace_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <git2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>

#include "tools/walk.h"
#include "tools/ignore_rules.h"

namespace beluga::indexer {
namespace {

namespace fs = std::filesystem;

// libgit2 stays initialised for the process (an init/shutdown pair per call
// costs milliseconds of TLS and crypto setup).
void ensure_libgit2() {
  struct Holder {
    Holder() { git_libgit2_init(); }
    ~Holder() { git_libgit2_shutdown(); }
  };
  static const Holder holder;
}

struct RepoDeleter {
  void operator()(git_repository* r) const { git_repository_free(r); }
};

int64_t mtime_ns_of(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

std::string join(const std::string& folder, const std::string& name) {
  return folder.empty() ? name : folder + "/" + name;
}


// Git's verdict when the workspace is in a repository; the project's
// .gitignore reader otherwise.
class IgnoreOracle {
 public:
  explicit IgnoreOracle(const fs::path& root) {
    ensure_libgit2();
    git_repository* raw = nullptr;
    if (git_repository_open_ext(&raw, root.c_str(), 0, nullptr) == 0) {
      repo_.reset(raw);
      const char* workdir = git_repository_workdir(raw);
      std::error_code ec;
      fs::path top = workdir ? fs::canonical(workdir, ec) : fs::path();
      if (!workdir || ec) {
        repo_.reset();  // bare repository: no working tree, no ignore rules to ask
      } else {
        fs::path relative = root.lexically_relative(top);
        prefix_ = relative == "." ? std::string() : relative.generic_string() + "/";
      }
    }
  }

  bool git() const { return repo_ != nullptr; }

  // Pushed when entering a folder (only used without git).
  void enter(int dir_fd, const std::string& folder) {
    if (!repo_) rules_.push(tools::IgnoreFile::parse(tools::read_small_file_at(dir_fd, ".gitignore", 1 << 20), folder));
  }
  void leave() {
    if (!repo_) rules_.pop();
  }

  bool ignored(const std::string& path, bool is_dir) {
    if (!repo_) return rules_.ignored(path, is_dir);
    int ignored = 0;
    std::string full = prefix_ + path + (is_dir ? "/" : "");
    if (git_ignore_path_is_ignored(&ignored, repo_.get(), full.c_str()) < 0) return false;
    return ignored == 1;
  }

 private:
  std::unique_ptr<git_repository, RepoDeleter> repo_;
  std::string prefix_;  // the workspace below the repository's top folder, with '/'
  tools::IgnoreMatcher rules_;
};

class Walker {
 public:
  Walker(const fs::path& root, const WalkLimits& limits, WorkspaceListing& out)
      : root_(root), root_text_(root.string()), limits_(limits), out_(out), oracle_(root) {
    out_.git = oracle_.git();
  }

  IgnoreOracle& oracle() { return oracle_; }

  void walk(int dir_fd, const std::string& folder, int depth) {
    const std::vector<std::string> names = tools::sorted_entry_names(dir_fd);
    for (const std::string& name : names) {
      if (!out_.complete) return;
      if (++entries_ > limits_.max_entries) {
        out_.complete = false;
        out_.stopped_because = "the " + std::to_string(limits_.max_entries) + "-entry limit";
        return;
      }
      if (name == ".git") continue;
      std::string path = join(folder, name);
      struct stat st {};
      if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        out_.skipped.push_back({path, std::string("unreadable: ") + std::strerror(errno)});
        continue;
      }
      bool is_dir = S_ISDIR(st.st_mode);
      if (oracle_.ignored(path, is_dir)) {
        ++out_.ignored;
        continue;
      }
      if (is_dir) {
        if (depth >= limits_.max_depth) {
          out_.skipped.push_back({path, "deeper than " + std::to_string(limits_.max_depth) + " folders"});
          continue;
        }
        int child = ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (child < 0) {
          out_.skipped.push_back({path + "/", std::string("unreadable: ") + std::strerror(errno)});
          continue;
        }
        oracle_.enter(child, path);
        walk(child, path, depth + 1);
        oracle_.leave();
        ::close(child);
      } else if (S_ISREG(st.st_mode)) {
        add_file(path, st, false);
      } else if (S_ISLNK(st.st_mode)) {
        add_symlink(path);
      } else {
        out_.skipped.push_back({path, "not a regular file"});
      }
    }
  }

 private:
  void add_file(const std::string& path, const struct stat& st, bool via_symlink) {
    uint64_t size = static_cast<uint64_t>(st.st_size);
    if (size > limits_.max_file_bytes) {
      out_.skipped.push_back({path, "too large (" + std::to_string(size) + " bytes; the limit is " +
                                        std::to_string(limits_.max_file_bytes) + ")"});
      return;
    }
    out_.files.push_back({path, size, mtime_ns_of(st), via_symlink});
  }

  // A symlink is followed only to a regular file inside the workspace.
  void add_symlink(const std::string& path) {
    std::error_code ec;
    fs::path target = fs::canonical(root_ / path, ec);
    if (ec) {
      out_.skipped.push_back({path, "broken symlink"});
      return;
    }
    std::string text = target.string();
    bool inside = text.size() > root_text_.size() && text.compare(0, root_text_.size(), root_text_) == 0 &&
                  (text[root_text_.size()] == '/' || root_text_ == "/");
    if (!inside) {
      out_.skipped.push_back({path, "symlink outside the workspace"});
      return;
    }
    struct stat st {};
    if (::stat(text.c_str(), &st) != 0) {
      out_.skipped.push_back({path, "broken symlink"});
      return;
    }
    if (S_ISDIR(st.st_mode)) {
      out_.skipped.push_back({path, "symlink to a folder (not followed)"});
      return;
    }
    if (!S_ISREG(st.st_mode)) {
      out_.skipped.push_back({path, "not a regular file"});
      return;
    }
    add_file(path, st, true);
  }

  fs::path root_;
  std::string root_text_;
  const WalkLimits& limits_;
  WorkspaceListing& out_;
  IgnoreOracle oracle_;
  int64_t entries_ = 0;
};

}  // namespace

Result<WorkspaceListing> list_workspace_files(const fs::path& root, const WalkLimits& limits) {
  WorkspaceListing listing;
  int root_fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    return make_error("cannot open the workspace " + root.string() + ": " + std::strerror(errno));
  Walker walker(root, limits, listing);
  walker.oracle().enter(root_fd, "");
  walker.walk(root_fd, "", 1);
  walker.oracle().leave();
  ::close(root_fd);
  std::sort(listing.files.begin(), listing.files.end(),
            [](const WorkspaceFile& a, const WorkspaceFile& b) { return a.path < b.path; });
  std::sort(listing.skipped.begin(), listing.skipped.end(),
            [](const SkippedFile& a, const SkippedFile& b) { return a.path < b.path; });
  return listing;
}

}  // namespace beluga::indexer
