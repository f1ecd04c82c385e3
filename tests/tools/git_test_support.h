// Scratch workspaces for the shell, git and checkpoint tests: a git
// repository made with libgit2 (explicit initial branch "main", a local
// user.name/user.email), a ToolContext rooted in it, a registry holding the
// shell and git tools, and helpers to snapshot the tree and the parts of
// .git that must stay untouched.
#pragma once

#include <git2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "tests/test_support.h"
#include "tools/registry.h"
#include "tools/tool.h"

namespace beluga::testing {

namespace fs = std::filesystem;

inline void git_check(int rc, const char* what) {
  if (rc < 0) {
    const git_error* e = git_error_last();
    throw std::runtime_error(std::string(what) + ": " + (e ? e->message : "?"));
  }
}

// Sets an environment variable for the scope (restores the old value).
class EnvOverride {
 public:
  EnvOverride(std::string name, const std::string& value) : name_(std::move(name)) {
    if (const char* old = std::getenv(name_.c_str())) old_ = old, had_ = true;
    ::setenv(name_.c_str(), value.c_str(), 1);
  }
  ~EnvOverride() {
    if (had_)
      ::setenv(name_.c_str(), old_.c_str(), 1);
    else
      ::unsetenv(name_.c_str());
  }

 private:
  std::string name_, old_;
  bool had_ = false;
};

// Keeps the machine's own git configuration (system, global, XDG: an
// identity, init.defaultBranch, core.autocrlf...) out of a test: libgit2's
// config search paths point at an empty folder while this lives. The tools
// keep libgit2 initialised for the whole process, so the paths are set
// through git_libgit2_opts (an environment change would not be seen), and
// $HOME / $XDG_CONFIG_HOME are pointed there too for anything reading them.
class IsolatedGitConfig {
 public:
  IsolatedGitConfig() {
    home_.emplace("HOME", dir_.path());
    xdg_.emplace("XDG_CONFIG_HOME", dir_.path());
    git_libgit2_init();
    for (int level : kLevels) git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, dir_.path().c_str());
  }
  ~IsolatedGitConfig() {
    home_.reset();
    xdg_.reset();
    for (int level : kLevels) git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, nullptr);  // back to the defaults
    git_libgit2_shutdown();
  }
  IsolatedGitConfig(const IsolatedGitConfig&) = delete;
  IsolatedGitConfig& operator=(const IsolatedGitConfig&) = delete;

 private:
  static constexpr int kLevels[] = {GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_GLOBAL};
  ScratchDir dir_;
  std::optional<EnvOverride> home_, xdg_;
};

class ScratchRepo {
 public:
  explicit ScratchRepo(bool init_git = true, bool identity = true) {
    root_ = fs::canonical(dir_.path()) / "ws";
    fs::create_directories(root_);
    context_.roots = {root_};
    context_.session_id = "test";
    context_.limits.max_output_bytes = 16 * 1024;
    tools::register_shell_tool(registry_);
    tools::register_git_tools(registry_);
    if (!init_git) return;
    git_libgit2_init();
    git_repository_init_options options = GIT_REPOSITORY_INIT_OPTIONS_INIT;
    options.flags = GIT_REPOSITORY_INIT_MKPATH;
    options.initial_head = "main";
    git_repository* repo = nullptr;
    git_check(git_repository_init_ext(&repo, root_.c_str(), &options), "init");
    if (identity) {
      git_config* config = nullptr;
      git_check(git_repository_config(&config, repo), "config");
      git_check(git_config_set_string(config, "user.name", "Test Author"), "user.name");
      git_check(git_config_set_string(config, "user.email", "author@example.com"), "user.email");
      git_config_free(config);
    }
    git_repository_free(repo);
    git_libgit2_shutdown();
  }

  const fs::path& root() const { return root_; }
  std::string path(const std::string& rel) const { return (root_ / rel).string(); }
  tools::ToolContext& context() { return context_; }

  void write(const std::string& rel, const std::string& text) {
    fs::create_directories(fs::path(path(rel)).parent_path());
    write_text(path(rel), text);
  }
  std::string read(const std::string& rel) const { return read_text(path(rel)); }
  bool exists(const std::string& rel) const {
    std::error_code ec;
    return fs::exists(fs::symlink_status(path(rel), ec));
  }

  tools::ToolResult call(const std::string& tool, const nlohmann::json& args) {
    return registry_.call(tool, args.dump(), context_);
  }

  // Stages everything and commits with libgit2 (independent of the tools
  // under test). Returns the commit id.
  std::string commit_all(const std::string& message) {
    git_libgit2_init();
    git_repository* repo = nullptr;
    git_check(git_repository_open(&repo, root_.c_str()), "open");
    git_index* index = nullptr;
    git_check(git_repository_index(&index, repo), "index");
    git_check(git_index_add_all(index, nullptr, 0, nullptr, nullptr), "add_all");
    git_check(git_index_update_all(index, nullptr, nullptr, nullptr), "update_all");
    git_check(git_index_write(index), "index write");
    git_oid tree_id, commit_id;
    git_check(git_index_write_tree(&tree_id, index), "write_tree");
    git_tree* tree = nullptr;
    git_check(git_tree_lookup(&tree, repo, &tree_id), "tree");
    git_signature* sig = nullptr;
    git_check(git_signature_now(&sig, "Test Author", "author@example.com"), "sig");
    git_commit* parent = nullptr;
    git_object* head = nullptr;
    if (git_revparse_single(&head, repo, "HEAD") == 0) {
      git_commit_lookup(&parent, repo, git_object_id(head));
      git_object_free(head);
    }
    const git_commit* parents[1] = {parent};
    git_check(git_commit_create(&commit_id, repo, "HEAD", sig, sig, nullptr, message.c_str(), tree, parent ? 1 : 0, parents),
              "commit");
    char hex[GIT_OID_HEXSZ + 1];
    git_oid_tostr(hex, sizeof hex, &commit_id);
    git_commit_free(parent);
    git_signature_free(sig);
    git_tree_free(tree);
    git_index_free(index);
    git_repository_free(repo);
    git_libgit2_shutdown();
    return hex;
  }

  // Saves the working-tree changes as a stash (so tests can check it stays).
  void stash(const std::string& message) {
    git_libgit2_init();
    git_repository* repo = nullptr;
    git_check(git_repository_open(&repo, root_.c_str()), "open");
    git_signature* sig = nullptr;
    git_check(git_signature_now(&sig, "Test Author", "author@example.com"), "sig");
    git_oid id;
    git_check(git_stash_save(&id, repo, sig, message.c_str(), GIT_STASH_DEFAULT), "stash");
    git_signature_free(sig);
    git_repository_free(repo);
    git_libgit2_shutdown();
  }

  // What must never change behind the user's back: HEAD, the index, the
  // stash, branches (bytes of the files that hold them).
  std::map<std::string, std::string> git_state() const {
    std::map<std::string, std::string> state;
    for (const char* rel : {".git/HEAD", ".git/index", ".git/refs/stash", ".git/logs/refs/stash", ".git/logs/HEAD",
                            ".git/packed-refs", ".git/refs/heads/main", ".git/config"}) {
      std::string p = path(rel);
      state[rel] = fs::exists(p) ? read_text(p) : "<absent>";
    }
    return state;
  }

  // Every file and symlink under the root except .git: content, exec bit,
  // link target. Equal maps mean an exactly restored tree.
  std::map<std::string, std::string> tree_state() const {
    std::map<std::string, std::string> state;
    for (auto it = fs::recursive_directory_iterator(root_); it != fs::recursive_directory_iterator(); ++it) {
      fs::path rel = fs::relative(it->path(), root_);
      if (*rel.begin() == ".git") {
        if (it->is_directory() && !it->is_symlink()) it.disable_recursion_pending();
        continue;
      }
      struct stat st;
      ::lstat(it->path().c_str(), &st);
      if (S_ISLNK(st.st_mode))
        state[rel.string()] = "link:" + fs::read_symlink(it->path()).string();
      else if (S_ISREG(st.st_mode))
        state[rel.string()] = std::string((st.st_mode & S_IXUSR) ? "exec:" : "file:") + read_text(it->path().string());
    }
    return state;
  }

 private:
  ScratchDir dir_;
  fs::path root_;
  tools::ToolContext context_;
  tools::ToolRegistry registry_;
};

}  // namespace beluga::testing
