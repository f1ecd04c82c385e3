// Checkpoint storage, restore, listing and diff (format in checkpoints.h;
// the working-tree walk in checkpoint_tree.cpp).
#include "tools/checkpoints.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <set>
#include <sstream>

#include "tools/checkpoint_tree.h"
#include "tools/git_support.h"

namespace beluga::tools {
namespace {

namespace fs = std::filesystem;
using git::TreeFileEntry;

constexpr const char* kRefPrefix = "refs/beluga/checkpoints/";

Status check_session(const std::string& session) {
  bool ok = !session.empty() && session.size() <= 100 && session.front() != '.' &&
            session.find("..") == std::string::npos &&
            !(session.size() >= 5 && session.compare(session.size() - 5, 5, ".lock") == 0);
  for (char c : session) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
  if (!ok)
    return make_error("'" + session + "' is not a valid checkpoint session name (1-100 letters, digits, '.', '_' "
                      "or '-', not starting with '.')");
  return {};
}

struct ParsedId {
  std::string session;
  int64_t number = 0;
};

Result<ParsedId> parse_id(const std::string& id) {
  size_t slash = id.rfind('/');
  if (slash == std::string::npos || slash + 1 == id.size())
    return make_error("'" + id + "' is not a checkpoint id (expected <session>/<n>, as checkpoint_list shows)");
  ParsedId parsed{id.substr(0, slash), 0};
  if (Status s = check_session(parsed.session); !s) return s.error();
  std::string digits = id.substr(slash + 1);
  if (digits.size() > 12 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return make_error("'" + id + "' is not a checkpoint id (the part after '/' must be a number)");
  parsed.number = std::stoll(digits);
  if (parsed.number <= 0) return make_error("checkpoint numbers start at 1");
  return parsed;
}

std::string ref_name(const std::string& session, int64_t number) {
  return kRefPrefix + session + "/" + std::to_string(number);
}

// The commit a checkpoint ref points to, its format checked.
Result<Checkpoint> read_checkpoint(git_repository* repo, const std::string& session, int64_t number) {
  Checkpoint cp;
  cp.session = session;
  cp.number = number;
  cp.id = session + "/" + std::to_string(number);
  cp.ref = ref_name(session, number);
  git_oid commit_id;
  int rc = git_reference_name_to_id(&commit_id, repo, cp.ref.c_str());
  if (rc == GIT_ENOTFOUND) return make_error("no checkpoint " + cp.id + " in this repository (see checkpoint_list)");
  if (rc < 0) return git::git_failure("cannot read checkpoint " + cp.id, rc);
  git_commit* raw = nullptr;
  if ((rc = git_commit_lookup(&raw, repo, &commit_id)) < 0)
    return make_error("checkpoint " + cp.id + " does not point to a commit; it is not a checkpoint this beluga understands");
  git::CommitPtr commit(raw);
  cp.commit = git::oid_text(commit_id);
  cp.tree = git::oid_text(*git_commit_tree_id(commit.get()));
  cp.created_unix_s = static_cast<int64_t>(git_commit_time(commit.get()));
  std::istringstream message(git_commit_message(commit.get()) ? git_commit_message(commit.get()) : "");
  std::string line;
  int format = 0;
  bool first = true, in_label = false;
  while (std::getline(message, line)) {
    if (first) {
      first = false;
      in_label = true;
      continue;
    }
    auto value_of = [&](const char* key) -> std::optional<std::string> {
      std::string prefix = std::string(key) + ": ";
      if (line.rfind(prefix, 0) != 0) return std::nullopt;
      return line.substr(prefix.size());
    };
    if (auto v = value_of("Beluga-Checkpoint-Format")) {
      format = std::atoi(v->c_str());
      in_label = false;
    } else if (auto v = value_of("Beluga-Head")) {
      cp.head = *v == "none" ? "" : *v;
    } else if (auto v = value_of("Beluga-Files")) {
      cp.files = std::atoll(v->c_str());
    } else if (in_label && !line.empty()) {
      cp.label += (cp.label.empty() ? "" : "\n") + line;
    }
  }
  if (format != kCheckpointFormat)
    return make_error("checkpoint " + cp.id + " has format " + std::to_string(format) + ", not " +
                      std::to_string(kCheckpointFormat) + "; it is not a checkpoint this beluga understands");
  return cp;
}

Result<int64_t> last_number(git_repository* repo, const std::string& session) {
  git_reference_iterator* raw = nullptr;
  std::string glob = kRefPrefix + session + "/*";
  if (int rc = git_reference_iterator_glob_new(&raw, repo, glob.c_str()); rc < 0)
    return git::git_failure("cannot list checkpoints", rc);
  git::ReferenceIteratorPtr it(raw);
  int64_t last = 0;
  const char* name = nullptr;
  std::string prefix = kRefPrefix + session + "/";
  while (git_reference_next_name(&name, it.get()) == 0) {
    std::string rest = std::string(name).substr(prefix.size());
    if (!rest.empty() && rest.size() <= 12 && std::all_of(rest.begin(), rest.end(), ::isdigit))
      last = std::max<int64_t>(last, std::stoll(rest));
  }
  return last;
}

Result<git::TreePtr> tree_of_checkpoint(git_repository* repo, const std::string& id) {
  auto parsed = parse_id(id);
  if (!parsed) return parsed.error();
  auto cp = read_checkpoint(repo, parsed->session, parsed->number);
  if (!cp) return cp.error();
  git_oid tree_id;
  git_oid_fromstr(&tree_id, cp->tree.c_str());
  git_tree* tree = nullptr;
  if (int rc = git_tree_lookup(&tree, repo, &tree_id); rc < 0)
    return git::git_failure("checkpoint " + id + " is damaged (its tree is missing)", rc);
  return git::TreePtr(tree);
}

// ---- restore ---------------------------------------------------------------

class Restorer {
 public:
  Restorer(git_repository* repo, const std::map<std::string, TreeFileEntry>& snapshot,
           const std::map<std::string, TreeFileEntry>& before, RestoreReport& report)
      : repo_(repo), workdir_(git_repository_workdir(repo)), snapshot_(snapshot), before_(before), report_(report) {}

  void restore(const std::string& path, const TreeFileEntry& want) {
    auto it = before_.find(path);
    if (it != before_.end() && git_oid_equal(&it->second.id, &want.id)) {
      if (it->second.mode == want.mode) {
        ++report_.unchanged;
        return;
      }
      if (it->second.mode != GIT_FILEMODE_LINK && want.mode != GIT_FILEMODE_LINK) {
        set_executable(path, want.mode == GIT_FILEMODE_BLOB_EXECUTABLE);
        return;
      }
    }
    std::string problem = write(path, want);
    if (problem.empty())
      report_.written.push_back(path);
    else
      report_.conflicts.push_back(path + ": " + problem);
  }

  // Removes a file created since the checkpoint, then the folders that
  // removal left empty (rmdir only removes empty folders: nothing else,
  // ignored files included, can go with them).
  void remove(const std::string& path) {
    if (::unlink((workdir_ + path).c_str()) != 0 && errno != ENOENT) {
      report_.conflicts.push_back(path + ": cannot remove it: " + std::strerror(errno));
      return;
    }
    report_.removed.push_back(path);
    remove_empty_parents(path);
  }

 private:
  bool obsolete(const std::string& path) const { return before_.count(path) && !snapshot_.count(path); }

  void remove_empty_parents(std::string path) {
    for (size_t slash = path.rfind('/'); slash != std::string::npos; slash = path.rfind('/')) {
      path.resize(slash);
      if (::rmdir((workdir_ + path).c_str()) != 0) return;
    }
  }

  void set_executable(const std::string& path, bool executable) {
    struct stat st;
    std::string full = workdir_ + path;
    if (::lstat(full.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      report_.conflicts.push_back(path + ": cannot change its mode: it is no longer a file");
      return;
    }
    mode_t mode = st.st_mode & 07777;
    mode = executable ? mode | ((mode & 0444) >> 2) : mode & ~static_cast<mode_t>(0111);
    if (::chmod(full.c_str(), mode) != 0) {
      report_.conflicts.push_back(path + ": cannot change its mode: " + std::strerror(errno));
      return;
    }
    report_.modes.push_back(path);
  }

  // Empties a folder that stands where the snapshot has a file: files that
  // are not part of the checkpoint go, then empty folders; anything else
  // (ignored or unmanaged files) stays, and so does the folder.
  void clear_folder(const std::string& folder) {
    for (auto it = before_.lower_bound(folder + "/"); it != before_.end() && it->first.rfind(folder + "/", 0) == 0; ++it)
      if (obsolete(it->first) && ::unlink((workdir_ + it->first).c_str()) == 0) report_.removed.push_back(it->first);
    std::error_code ec;
    std::vector<fs::path> folders;
    for (auto i = fs::recursive_directory_iterator(workdir_ + folder, ec); !ec && i != fs::recursive_directory_iterator();
         i.increment(ec))
      if (i->is_directory(ec) && !i->is_symlink(ec)) folders.push_back(i->path());
    std::sort(folders.rbegin(), folders.rend());  // deepest first
    for (const fs::path& f : folders) ::rmdir(f.c_str());
    ::rmdir((workdir_ + folder).c_str());
  }

  // Writes one snapshot entry in place; returns "" or why it could not.
  std::string write(const std::string& path, const TreeFileEntry& want) {
    // Parent folders: create what is missing; a file or symlink in the way
    // goes only if it is not part of the checkpoint (never followed).
    for (size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
      std::string folder = path.substr(0, slash);
      std::string full = workdir_ + folder;
      struct stat st;
      if (::lstat(full.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) continue;
        if (!obsolete(folder)) return "'" + folder + "' is in the way (a file that is not part of the checkpoint)";
        if (::unlink(full.c_str()) != 0) return "cannot remove '" + folder + "': " + std::strerror(errno);
        report_.removed.push_back(folder);
      }
      if (::mkdir(full.c_str(), 0777) != 0 && errno != EEXIST)
        return "cannot create folder '" + folder + "': " + std::strerror(errno);
    }
    std::string full = workdir_ + path;
    struct stat st;
    if (::lstat(full.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      clear_folder(path);
      if (::lstat(full.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        return "a folder holding files that are not part of the checkpoint (ignored ones?) is in the way";
    }
    git_blob* raw = nullptr;
    if (int rc = git_blob_lookup(&raw, repo_, &want.id); rc < 0)
      return git::error_text("the snapshot is damaged (a file's content is missing)", rc);
    git::BlobPtr blob(raw);
    const char* bytes = static_cast<const char*>(git_blob_rawcontent(blob.get()));
    size_t size = static_cast<size_t>(git_blob_rawsize(blob.get()));

    static std::atomic<uint64_t> counter{0};
    std::string temp = full.substr(0, full.rfind('/') + 1) + ".beluga-restore-" + std::to_string(::getpid()) + "-" +
                       std::to_string(counter++);
    if (want.mode == GIT_FILEMODE_LINK) {
      if (::symlink(std::string(bytes, size).c_str(), temp.c_str()) != 0)
        return std::string("cannot create the symlink: ") + std::strerror(errno);
    } else {
      mode_t mode = want.mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0777 : 0666;  // less the umask, as git does
      int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
      if (fd < 0) return std::string("cannot write: ") + std::strerror(errno);
      size_t done = 0;
      while (done < size) {
        ssize_t n = ::write(fd, bytes + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += static_cast<size_t>(n);
      }
      int close_rc = ::close(fd);
      if (done < size || close_rc != 0) {
        ::unlink(temp.c_str());
        return "cannot write (disk full?)";
      }
    }
    if (::rename(temp.c_str(), full.c_str()) != 0) {
      std::string why = std::strerror(errno);
      ::unlink(temp.c_str());
      return "cannot put it in place: " + why;
    }
    return "";
  }

  git_repository* repo_;
  std::string workdir_;
  const std::map<std::string, TreeFileEntry>& snapshot_;
  const std::map<std::string, TreeFileEntry>& before_;
  RestoreReport& report_;
};

}  // namespace

Result<Checkpoint> create_checkpoint(const fs::path& workspace, const std::string& session, const std::string& label) {
  if (Status s = check_session(session); !s) return s.error();
  git::Library library;
  auto repo = git::open_workspace_repo(workspace);
  if (!repo) return repo.error();
  git_repository* r = repo->get();
  auto tree = git::walk_working_tree(r, git::WalkMode::kWrite);
  if (!tree) return make_error("cannot snapshot the working tree: " + tree.message());

  auto head = git::head_commit(r);
  std::string head_id = head && *head ? git::oid_text(*git_commit_id(head->get())) : "";
  git_signature* sig_raw = nullptr;
  if (int rc = git_signature_now(&sig_raw, "beluga", "beluga@localhost"); rc < 0)
    return git::git_failure("cannot make the checkpoint signature", rc);
  git::SignaturePtr signature(sig_raw);
  git_tree* tree_raw = nullptr;
  if (int rc = git_tree_lookup(&tree_raw, r, &tree->tree); rc < 0) return git::git_failure("cannot read the snapshot", rc);
  git::TreePtr snapshot(tree_raw);

  for (int attempt = 0; attempt < 8; ++attempt) {
    auto last = last_number(r, session);
    if (!last) return last.error();
    int64_t number = *last + 1;
    std::string message = "beluga checkpoint " + session + "/" + std::to_string(number) + "\n\n";
    if (!label.empty()) message += label + "\n\n";
    message += "Beluga-Checkpoint-Format: " + std::to_string(kCheckpointFormat) + "\nBeluga-Session: " + session +
               "\nBeluga-Head: " + (head_id.empty() ? "none" : head_id) +
               "\nBeluga-Files: " + std::to_string(tree->files.size()) + "\n";
    git_oid commit_id;
    if (int rc = git_commit_create(&commit_id, r, nullptr, signature.get(), signature.get(), nullptr, message.c_str(),
                                   snapshot.get(), 0, nullptr);
        rc < 0)
      return git::git_failure("cannot write the checkpoint commit", rc);
    std::string ref = ref_name(session, number);
    git_reference* ref_raw = nullptr;
    int rc = git_reference_create(&ref_raw, r, ref.c_str(), &commit_id, 0, "beluga checkpoint");
    git::ReferencePtr owned(ref_raw);
    if (rc == GIT_EEXISTS) continue;  // another writer took this number
    if (rc < 0) return git::git_failure("cannot create " + ref, rc);
    return read_checkpoint(r, session, number);
  }
  return make_error("cannot allocate a checkpoint number for session '" + session + "' (too much contention)");
}

Result<RestoreReport> restore_checkpoint(const fs::path& workspace, const std::string& id) {
  git::Library library;
  auto repo = git::open_workspace_repo(workspace);
  if (!repo) return repo.error();
  git_repository* r = repo->get();
  auto tree = tree_of_checkpoint(r, id);
  if (!tree) return tree.error();
  auto snapshot = git::read_snapshot(r, *git_tree_id(tree->get()));
  if (!snapshot) return make_error("checkpoint " + id + ": " + snapshot.message());
  auto before = git::walk_working_tree(r, git::WalkMode::kHash);
  if (!before) return make_error("cannot read the working tree: " + before.message());

  RestoreReport report;
  Restorer restorer(r, *snapshot, before->files, report);
  for (const auto& [path, entry] : *snapshot) restorer.restore(path, entry);
  // Files created since the checkpoint go, unless ignored under the
  // restored rules (the .gitignore files are back now) as well as under the
  // current ones (`before` already left those out).
  auto after = git::walk_working_tree(r, git::WalkMode::kPathsOnly);
  if (!after) return make_error("cannot read the working tree: " + after.message());
  std::set<std::string> removed_early(report.removed.begin(), report.removed.end());
  for (const auto& [path, entry] : before->files)
    if (!snapshot->count(path) && after->files.count(path) && !removed_early.count(path)) restorer.remove(path);
  return report;
}

Result<std::vector<Checkpoint>> list_checkpoints(const fs::path& workspace, const std::string& session) {
  if (!session.empty())
    if (Status s = check_session(session); !s) return s.error();
  git::Library library;
  auto repo = git::open_workspace_repo(workspace);
  if (!repo) return repo.error();
  git_reference_iterator* raw = nullptr;
  if (int rc = git_reference_iterator_new(&raw, repo->get()); rc < 0)
    return git::git_failure("cannot list checkpoints", rc);
  git::ReferenceIteratorPtr it(raw);
  std::vector<Checkpoint> out;
  const char* name = nullptr;
  std::string prefix = kRefPrefix;
  while (git_reference_next_name(&name, it.get()) == 0) {
    std::string ref = name;
    if (ref.rfind(prefix, 0) != 0) continue;
    auto parsed = parse_id(ref.substr(prefix.size()));
    if (!parsed || (!session.empty() && parsed->session != session)) continue;
    auto cp = read_checkpoint(repo->get(), parsed->session, parsed->number);
    if (cp) out.push_back(std::move(*cp));  // foreign or damaged refs are left out
  }
  std::sort(out.begin(), out.end(), [](const Checkpoint& a, const Checkpoint& b) {
    return a.session != b.session ? a.session < b.session : a.number < b.number;
  });
  return out;
}

Result<CheckpointDiff> diff_checkpoints(const fs::path& workspace, const std::string& from_id, const std::string& to_id,
                                        uint64_t limit_bytes) {
  git::Library library;
  auto repo = git::open_workspace_repo(workspace);
  if (!repo) return repo.error();
  git_repository* r = repo->get();
  auto from = tree_of_checkpoint(r, from_id);
  if (!from) return from.error();
  git::TreePtr to;
  if (to_id.empty()) {
    auto now = git::walk_working_tree(r, git::WalkMode::kWrite);
    if (!now) return make_error("cannot snapshot the working tree: " + now.message());
    git_tree* raw = nullptr;
    if (int rc = git_tree_lookup(&raw, r, &now->tree); rc < 0) return git::git_failure("cannot read the snapshot", rc);
    to.reset(raw);
  } else {
    auto t = tree_of_checkpoint(r, to_id);
    if (!t) return t.error();
    to = std::move(*t);
  }
  git_diff* raw = nullptr;
  if (int rc = git_diff_tree_to_tree(&raw, r, from->get(), to.get(), nullptr); rc < 0)
    return git::git_failure("cannot compare the snapshots", rc);
  git::DiffPtr diff(raw);
  git_diff_find_options find = GIT_DIFF_FIND_OPTIONS_INIT;
  git_diff_find_similar(diff.get(), &find);
  auto patch = git::render_diff(diff.get(), limit_bytes);
  if (!patch) return patch.error();
  return CheckpointDiff{git::name_status(diff.get()), std::move(*patch)};
}

}  // namespace beluga::tools
