// Scratch workspaces for the file and search tool tests: a folder holding
// ws/ (the workspace root, canonical) and outside/ (sentinel files a tool
// must never touch), a ToolContext rooted in ws/, the default registry, and a
// snapshot of everything outside the workspace to prove nothing escaped.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/test_support.h"
#include "tools/registry.h"
#include "tools/tool.h"

namespace beluga::testing {

namespace fs = std::filesystem;

// Every entry below a folder: type, mode, bytes or link target.
using TreeSnapshot = std::map<std::string, std::string>;

inline TreeSnapshot snapshot_tree(const fs::path& top) {
  TreeSnapshot out;
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(top, ec))) return out;
  for (auto it = fs::recursive_directory_iterator(top, fs::directory_options::none, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st {};
    std::string key = it->path().lexically_relative(top).string();
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    std::string value = "mode " + std::to_string(st.st_mode);
    if (S_ISLNK(st.st_mode)) value += " -> " + fs::read_symlink(it->path(), ec).string();
    else if (S_ISREG(st.st_mode)) value += " " + read_text(it->path().string());
    out[key] = value;
  }
  return out;
}

class Workspace {
 public:
  Workspace() {
    fs::create_directories(fs::path(scratch_.path()) / "ws");
    fs::create_directories(fs::path(scratch_.path()) / "outside" / "dir");
    root_ = fs::canonical(fs::path(scratch_.path()) / "ws");
    outside_ = fs::canonical(fs::path(scratch_.path()) / "outside");
    write_text((outside_ / "secret.txt").string(), "top secret\n");
    write_text((outside_ / "dir" / "inner.txt").string(), "inner\n");
    context.roots = {root_};
    registry = tools::make_default_registry();
    outside_before_ = snapshot_tree(outside_);
  }

  const fs::path& root() const { return root_; }
  const fs::path& outside() const { return outside_; }
  std::string path(const std::string& relative) const { return (root_ / relative).string(); }

  void write(const std::string& relative, const std::string& bytes) const {
    fs::create_directories((root_ / relative).parent_path());
    write_text(path(relative), bytes);
  }
  std::string read(const std::string& relative) const { return read_text(path(relative)); }
  bool exists(const std::string& relative) const {
    std::error_code ec;
    return fs::exists(fs::symlink_status(root_ / relative, ec));
  }

  tools::ToolResult call(const std::string& tool, const nlohmann::json& args) {
    return registry.call(tool, args.dump(), context);
  }

  // True when nothing outside the workspace changed since construction (or
  // since the last outside_write).
  bool outside_unchanged() const { return snapshot_tree(outside_) == outside_before_; }

  // Sets up a file outside the workspace (part of the baseline).
  void outside_write(const std::string& relative, const std::string& bytes) {
    fs::create_directories((outside_ / relative).parent_path());
    write_text((outside_ / relative).string(), bytes);
    outside_before_ = snapshot_tree(outside_);
  }

  tools::ToolContext context;
  tools::ToolRegistry registry;

 private:
  ScratchDir scratch_;
  fs::path root_, outside_;
  TreeSnapshot outside_before_;
};

}  // namespace beluga::testing
