#include "tools/checkpoint_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <optional>
#include <vector>

#include "tools/checkpoints.h"

namespace beluga::tools::git {
namespace {

class Walker {
 public:
  Walker(git_repository* repo, git_index* index, WalkMode mode)
      : repo_(repo), index_(index), mode_(mode), workdir_(git_repository_workdir(repo)) {}

  // The tree id of folder `rel` ("" = root), or nullopt when it holds no
  // managed file (git has no empty folders).
  Result<std::optional<git_oid>> walk(const std::string& rel) {
    std::vector<std::string> names;
    if (!list_folder(rel, names)) {
      ++out_.skipped;
      return std::optional<git_oid>();
    }
    TreeBuilderPtr builder;
    if (mode_ == WalkMode::kWrite) {
      git_treebuilder* raw = nullptr;
      if (int rc = git_treebuilder_new(&raw, repo_, nullptr); rc < 0) return git_failure("cannot build a tree", rc);
      builder.reset(raw);
    }
    size_t inserted = 0;
    for (const std::string& name : names) {
      if (name == ".git") continue;  // never snapshotted, never touched
      std::string path = rel.empty() ? name : rel + "/" + name;
      std::string full = workdir_ + path;
      struct stat st;
      if (::lstat(full.c_str(), &st) != 0 || !storable_name(name)) {
        ++out_.skipped;
        continue;
      }
      if (S_ISDIR(st.st_mode)) {
        struct stat nested;
        if (::lstat((full + "/.git").c_str(), &nested) == 0) {  // a repository of its own
          ++out_.skipped;
          continue;
        }
        if (ignored(path) && !tracked_under(path)) continue;
        auto sub = walk(path);
        if (!sub) return sub.error();
        if (!*sub) continue;
        if (builder) {
          if (int rc = git_treebuilder_insert(nullptr, builder.get(), name.c_str(), &**sub, GIT_FILEMODE_TREE); rc < 0)
            return git_failure("cannot add folder '" + path + "' to the snapshot", rc);
        }
        ++inserted;
        continue;
      }
      if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
        ++out_.skipped;  // sockets, fifos, devices
        continue;
      }
      if (ignored(path) && !tracked(path)) continue;
      if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) > kMaxCheckpointFileBytes) {
        ++out_.skipped;
        continue;
      }
      TreeFileEntry entry;
      entry.mode = S_ISLNK(st.st_mode)         ? GIT_FILEMODE_LINK
                   : (st.st_mode & S_IXUSR) != 0 ? GIT_FILEMODE_BLOB_EXECUTABLE
                                                 : GIT_FILEMODE_BLOB;
      if (mode_ != WalkMode::kPathsOnly && !blob_id(full, S_ISLNK(st.st_mode), &entry.id)) {
        ++out_.skipped;  // unreadable, or vanished since readdir
        continue;
      }
      if (builder) {
        if (int rc = git_treebuilder_insert(nullptr, builder.get(), name.c_str(), &entry.id, entry.mode); rc < 0)
          return git_failure("cannot add '" + path + "' to the snapshot", rc);
      }
      out_.files.emplace(path, entry);
      ++inserted;
    }
    if (!builder || (inserted == 0 && !rel.empty())) return std::optional<git_oid>();
    git_oid id;
    if (int rc = git_treebuilder_write(&id, builder.get()); rc < 0) return git_failure("cannot write a tree", rc);
    return std::optional<git_oid>(id);
  }

  WorkingTree& out() { return out_; }

 private:
  bool list_folder(const std::string& rel, std::vector<std::string>& names) {
    DIR* dir = ::opendir((workdir_ + rel).c_str());
    if (!dir) return false;
    while (dirent* e = ::readdir(dir)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    ::closedir(dir);
    std::sort(names.begin(), names.end());
    return true;
  }

  bool ignored(const std::string& path) {
    int result = 0;
    return git_ignore_path_is_ignored(&result, repo_, path.c_str()) == 0 && result == 1;
  }
  bool tracked(const std::string& path) {
    size_t pos;
    return git_index_find(&pos, index_, path.c_str()) == 0;
  }
  bool tracked_under(const std::string& folder) {
    size_t pos;
    return git_index_find_prefix(&pos, index_, (folder + "/").c_str()) == 0;
  }

  // A symlink's blob is its target text (git's rule); a file's, its raw
  // bytes (no filters: a restore writes back exactly what was read).
  bool blob_id(const std::string& full, bool symlink, git_oid* id) {
    if (symlink) {
      std::vector<char> target(4096);
      ssize_t n = ::readlink(full.c_str(), target.data(), target.size());
      if (n < 0 || static_cast<size_t>(n) >= target.size()) return false;
      if (mode_ == WalkMode::kWrite)
        return git_blob_create_from_buffer(id, repo_, target.data(), static_cast<size_t>(n)) == 0;
      return git_odb_hash(id, target.data(), static_cast<size_t>(n), GIT_OBJECT_BLOB) == 0;
    }
    if (mode_ != WalkMode::kWrite) return git_odb_hashfile(id, full.c_str(), GIT_OBJECT_BLOB) == 0;
    // Opened without following a symlink swapped in since lstat (it would
    // pull a file from outside the workspace into the snapshot), and
    // streamed into the object database in bounded memory.
    int fd = ::open(full.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return false;
    }
    // Most files of a checkpoint are already in the object database (from
    // the last commit or checkpoint): hashing is far cheaper than
    // compressing and writing a loose object, so small files are hashed
    // first and only written when new (a checkpoint of a 1,000-file tree
    // went from 330 to 125 ms; bench/agent_overhead.sh, docs/agent.md).
    if (st.st_size <= kHashFirstBytes) {
      std::string bytes(static_cast<size_t>(st.st_size), '\0');
      size_t got = 0;
      while (got < bytes.size()) {
        ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<size_t>(n);
      }
      char extra;
      ssize_t more = got == bytes.size() ? ::read(fd, &extra, 1) : 0;
      ::close(fd);
      if (got != bytes.size() || more != 0) return false;  // changed while read: report, as a failed read would
      if (git_odb_hash(id, bytes.data(), bytes.size(), GIT_OBJECT_BLOB) != 0) return false;
      git_odb* odb = nullptr;
      if (git_repository_odb(&odb, repo_) == 0) {
        const bool present = git_odb_exists(odb, id) == 1;
        git_odb_free(odb);
        if (present) return true;
      }
      return git_blob_create_from_buffer(id, repo_, bytes.data(), bytes.size()) == 0;
    }
    git_writestream* stream = nullptr;
    if (git_blob_create_from_stream(&stream, repo_, nullptr) < 0) {
      ::close(fd);
      return false;
    }
    std::vector<char> chunk(64 * 1024);
    bool ok = true;
    for (;;) {
      ssize_t n = ::read(fd, chunk.data(), chunk.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ok = n == 0;
        break;
      }
      if (stream->write(stream, chunk.data(), static_cast<size_t>(n)) < 0) {
        ok = false;
        break;
      }
    }
    ::close(fd);
    if (!ok) {
      stream->free(stream);
      return false;
    }
    return git_blob_create_from_stream_commit(id, stream) == 0;
  }

  static constexpr off_t kHashFirstBytes = 1 << 20;

  git_repository* repo_;
  git_index* index_;
  WalkMode mode_;
  std::string workdir_;  // ends with '/'
  WorkingTree out_;
};

bool ascii_iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

bool storable_name(std::string_view name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos) return false;
  // NTFS ignores trailing dots and spaces, and libgit2 protects NTFS by default.
  while (!name.empty() && (name.back() == '.' || name.back() == ' ')) name.remove_suffix(1);
  return !ascii_iequal(name, ".git") && !ascii_iequal(name, "git~1");
}

Result<WorkingTree> walk_working_tree(git_repository* repo, WalkMode mode) {
  git_index* raw = nullptr;
  if (int rc = git_repository_index(&raw, repo); rc < 0) return git_failure("cannot read the index", rc);
  IndexPtr index(raw);
  Walker walker(repo, index.get(), mode);
  auto root = walker.walk("");
  if (!root) return root.error();
  if (mode == WalkMode::kWrite) walker.out().tree = **root;
  return std::move(walker.out());
}

Result<std::map<std::string, TreeFileEntry>> read_snapshot(git_repository* repo, const git_oid& tree_id) {
  git_tree* raw = nullptr;
  if (int rc = git_tree_lookup(&raw, repo, &tree_id); rc < 0) return git_failure("cannot read the snapshot tree", rc);
  TreePtr tree(raw);
  struct State {
    std::map<std::string, TreeFileEntry> files;
    std::string problem;
  } state;
  int rc = git_tree_walk(
      tree.get(), GIT_TREEWALK_PRE,
      [](const char* root, const git_tree_entry* entry, void* payload) -> int {
        auto* s = static_cast<State*>(payload);
        std::string name = git_tree_entry_name(entry);
        std::string path = std::string(root) + name;
        if (!storable_name(name)) {
          s->problem = "it holds an entry named '" + name + "' (at '" + path + "')";
          return -1;
        }
        git_filemode_t mode = git_tree_entry_filemode(entry);
        if (mode == GIT_FILEMODE_TREE) return 0;
        if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE && mode != GIT_FILEMODE_LINK) {
          s->problem = "'" + path + "' is neither a file nor a symlink";
          return -1;
        }
        s->files.emplace(path, TreeFileEntry{*git_tree_entry_id(entry), mode});
        return 0;
      },
      &state);
  if (!state.problem.empty()) return make_error("the snapshot is damaged: " + state.problem);
  if (rc < 0) return git_failure("cannot read the snapshot tree", rc);
  return std::move(state.files);
}

}  // namespace beluga::tools::git
