#include "indexer/workspace_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <git2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>

#include "indexer/walk_cache.h"
#include "tools/ignore_rules.h"
#include "tools/walk.h"

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
        top_ = top;
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

  // The files and `.git` entries this oracle's verdicts depend on, beyond
  // the .gitignore files of walked folders (walk_cache.h).
  void add_inputs(const fs::path& root, std::vector<WalkRecord::Watched>& inputs) const {
    auto watch = [&](const std::string& path) {
      inputs.push_back({path, path_identity(path, path.ends_with("/.git"))});
    };
    if (!repo_) {  // a repository appearing at or above the workspace would make git decide
      for (fs::path folder = root;; folder = folder.parent_path()) {
        watch((folder / ".git").string());
        if (folder == folder.parent_path()) break;
      }
      return;
    }
    // Folders from the workspace up to the repository's top: their .gitignore
    // applies, and a .git appearing in one would move the top.
    for (fs::path folder = root;; folder = folder.parent_path()) {
      watch((folder / ".git").string());
      if (folder != root) watch((folder / ".gitignore").string());
      if (folder == top_ || folder == folder.parent_path()) break;
    }
    std::vector<std::string> configs;
    for (const char* dir : {git_repository_path(repo_.get()), git_repository_commondir(repo_.get())}) {
      if (!dir) continue;
      std::string base = dir;
      if (!base.empty() && base.back() != '/') base += '/';
      watch(base + "info/exclude");
      configs.push_back(base + "config");
    }
    // The config files libgit2 reads (where core.excludesFile may be set),
    // and the XDG default excludes file.
    struct Level {
      int level;
      std::vector<const char*> files;
    };
    for (const Level& level : {Level{GIT_CONFIG_LEVEL_SYSTEM, {"gitconfig"}},
                               Level{GIT_CONFIG_LEVEL_XDG, {"config", "ignore"}},
                               Level{GIT_CONFIG_LEVEL_GLOBAL, {".gitconfig"}}}) {
      git_buf paths = GIT_BUF_INIT;
      if (git_libgit2_opts(GIT_OPT_GET_SEARCH_PATH, level.level, &paths) == 0 && paths.ptr) {
        std::string list = paths.ptr;
        for (size_t at = 0; at <= list.size();) {
          size_t end = std::min(list.find(':', at), list.size());
          std::string dir = list.substr(at, end - at);
          at = end + 1;
          if (dir.empty()) continue;
          for (const char* file : level.files) {
            std::string path = dir + "/" + file;
            if (std::string_view(file) == "ignore") watch(path);
            else configs.push_back(path);
          }
        }
      }
      git_buf_dispose(&paths);
    }
    for (const std::string& config : configs) {
      watch(config);
      for (const std::string& included : included_paths(config)) watch(included);
    }
    git_config* snapshot = nullptr;
    if (git_repository_config_snapshot(&snapshot, repo_.get()) == 0) {
      git_buf excludes = GIT_BUF_INIT;
      if (git_config_get_path(&excludes, snapshot, "core.excludesfile") == 0 && excludes.ptr) watch(excludes.ptr);
      git_buf_dispose(&excludes);
      git_config_free(snapshot);
    }
  }

  bool ignored(const std::string& path, bool is_dir) {
    if (!repo_) return rules_.ignored(path, is_dir);
    int ignored = 0;
    std::string full = prefix_ + path + (is_dir ? "/" : "");
    if (git_ignore_path_is_ignored(&ignored, repo_.get(), full.c_str()) < 0) return false;
    return ignored == 1;
  }

 private:
  // The `path = FILE` lines of a git config file (include and includeIf
  // sections): FILE relative to the config's folder, "~/" from HOME.
  static std::vector<std::string> included_paths(const std::string& config) {
    std::vector<std::string> out;
    std::ifstream in(config);
    std::string line;
    while (std::getline(in, line)) {
      size_t start = line.find_first_not_of(" \t");
      if (start == std::string::npos || line.compare(start, 4, "path") != 0) continue;
      size_t eq = line.find('=', start + 4);
      if (eq == std::string::npos || line.find_first_not_of(" \t", start + 4) != eq) continue;
      std::string value = line.substr(eq + 1);
      value.erase(0, value.find_first_not_of(" \t\""));
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '"' ||
                                value.back() == '\r'))
        value.pop_back();
      if (value.empty()) continue;
      if (value.starts_with("~/")) {
        const char* home = std::getenv("HOME");
        value = std::string(home ? home : "") + value.substr(1);
      } else if (value[0] != '/') {
        value = (fs::path(config).parent_path() / value).string();
      }
      out.push_back(value);
    }
    return out;
  }

  std::unique_ptr<git_repository, RepoDeleter> repo_;
  fs::path top_;
  std::string prefix_;  // the workspace below the repository's top folder, with '/'
  tools::IgnoreMatcher rules_;
};

// Classifying one listed entry from a fresh stat: shared by the walk and
// by a listing rebuilt from a walk record.
class Classifier {
 public:
  Classifier(const fs::path& root, const WalkLimits& limits, WorkspaceListing& out)
      : root_(root), root_text_(root.string()), limits_(limits), out_(out) {}

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

  void too_deep(const std::string& path) {
    out_.skipped.push_back({path, "deeper than " + std::to_string(limits_.max_depth) + " folders"});
  }

 private:
  fs::path root_;
  std::string root_text_;
  const WalkLimits& limits_;
  WorkspaceListing& out_;
};

int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What a walk record must match besides its watched files: the limits and
// the environment that places git's global files.
std::string record_key(const WalkLimits& limits) {
  const char* home = std::getenv("HOME");
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  return "depth " + std::to_string(limits.max_depth) + " entries " + std::to_string(limits.max_entries) +
         " home " + (home ? home : "") + " xdg " + (xdg ? xdg : "");
}

class Walker {
 public:
  Walker(const fs::path& root, const WalkLimits& limits, WorkspaceListing& out)
      : root_(root), limits_(limits), out_(out), oracle_(root), classify_(root, limits, out) {
    out_.git = oracle_.git();
    record_.walked_ns = wall_ns();  // before anything is read: see walk_cache.h
    record_.key = record_key(limits);
    record_.git = out_.git;
  }

  IgnoreOracle& oracle() { return oracle_; }

  void walk(int dir_fd, const std::string& folder, int depth) {
    record_.folders.push_back({folder, folder_identity_at(dir_fd, "")});  // before its names are read
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
      if (name == ".gitignore") record_.inputs.push_back({(root_ / path).string(), path_identity((root_ / path).string())});
      struct stat st {};
      if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        out_.skipped.push_back({path, std::string("unreadable: ") + std::strerror(errno)});
        reusable_ = false;
        continue;
      }
      bool is_dir = S_ISDIR(st.st_mode);
      if (oracle_.ignored(path, is_dir)) {
        ++out_.ignored;
        continue;
      }
      if (is_dir) {
        if (depth >= limits_.max_depth) {
          classify_.too_deep(path);
          record_.entries.push_back({WalkRecord::Kind::kTooDeep, path});
          continue;
        }
        int child = ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (child < 0) {
          out_.skipped.push_back({path + "/", std::string("unreadable: ") + std::strerror(errno)});
          reusable_ = false;
          continue;
        }
        oracle_.enter(child, path);
        walk(child, path, depth + 1);
        oracle_.leave();
        ::close(child);
      } else if (S_ISREG(st.st_mode)) {
        classify_.add_file(path, st, false);
        record_.entries.push_back({WalkRecord::Kind::kFile, path});
      } else if (S_ISLNK(st.st_mode)) {
        classify_.add_symlink(path);
        record_.entries.push_back({WalkRecord::Kind::kSymlink, path});
      } else {
        out_.skipped.push_back({path, "not a regular file"});
        record_.entries.push_back({WalkRecord::Kind::kOther, path});
      }
    }
  }

  // The record of this walk, or "" when it must not be reused (incomplete,
  // or something could not be read: the next run should try again).
  std::string record() {
    if (!out_.complete || !reusable_) return "";
    record_.ignored = out_.ignored;
    oracle_.add_inputs(root_, record_.inputs);
    return serialize_walk_record(record_);
  }

 private:
  fs::path root_;
  const WalkLimits& limits_;
  WorkspaceListing& out_;
  IgnoreOracle oracle_;
  Classifier classify_;
  WalkRecord record_;
  bool reusable_ = true;
  int64_t entries_ = 0;
};

// The listing again from a walk record, if every watched identity is
// unchanged and settled and every listed entry still has its kind; false
// (and `out` to be discarded) otherwise.
bool listing_from_record(int root_fd, const fs::path& root, const WalkLimits& limits, std::string_view text,
                         WorkspaceListing& out) {
  auto record = parse_walk_record(text);
  if (!record || record->key != record_key(limits)) return false;
  for (const auto& input : record->inputs)
    if (!identity_settled(input.identity, record->walked_ns) ||
        path_identity(input.path, input.path.ends_with("/.git")) != input.identity)
      return false;
  for (const auto& folder : record->folders)
    if (!identity_settled(folder.identity, record->walked_ns) ||
        folder_identity_at(root_fd, folder.path.c_str()) != folder.identity)
      return false;
  out.git = record->git;
  out.ignored = record->ignored;
  Classifier classify(root, limits, out);
  for (const auto& entry : record->entries) {
    struct stat st {};
    bool exists = ::fstatat(root_fd, entry.path.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
    switch (entry.kind) {
      case WalkRecord::Kind::kFile:
        if (!exists || !S_ISREG(st.st_mode)) return false;
        classify.add_file(entry.path, st, false);
        break;
      case WalkRecord::Kind::kSymlink:
        if (!exists || !S_ISLNK(st.st_mode)) return false;
        classify.add_symlink(entry.path);
        break;
      case WalkRecord::Kind::kOther:
        if (!exists || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode)) return false;
        out.skipped.push_back({entry.path, "not a regular file"});
        break;
      case WalkRecord::Kind::kTooDeep:
        if (!exists || !S_ISDIR(st.st_mode)) return false;
        classify.too_deep(entry.path);
        break;
    }
  }
  out.from_record = true;
  return true;
}

}  // namespace

Result<WorkspaceListing> list_workspace_files(const fs::path& root, const WalkLimits& limits,
                                              std::string_view previous_record, std::string* record) {
  WorkspaceListing listing;
  int root_fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    return make_error("cannot open the workspace " + root.string() + ": " + std::strerror(errno));
  if (!previous_record.empty() && listing_from_record(root_fd, root, limits, previous_record, listing)) {
    if (record) *record = std::string(previous_record);
  } else {
    listing = WorkspaceListing{};
    Walker walker(root, limits, listing);
    walker.oracle().enter(root_fd, "");
    walker.walk(root_fd, "", 1);
    walker.oracle().leave();
    if (record) *record = walker.record();
  }
  ::close(root_fd);
  std::sort(listing.files.begin(), listing.files.end(),
            [](const WorkspaceFile& a, const WorkspaceFile& b) { return a.path < b.path; });
  std::sort(listing.skipped.begin(), listing.skipped.end(),
            [](const SkippedFile& a, const SkippedFile& b) { return a.path < b.path; });
  return listing;
}

}  // namespace beluga::indexer
