// A small workspace in every supported language, built fresh by each test:
// a git repository (libgit2, no commits needed: ignore rules read the work
// tree), with files ignored by .gitignore, by .git/info/exclude and by the
// user's global excludes file, a symlink escaping the workspace, one staying
// inside, a binary, an oversized file, a syntax error and non-UTF-8 bytes.
//
// Global excludes: libgit2 reads core.excludesFile from the global config;
// its search path is pointed at a scratch folder holding a .gitconfig, so
// the machine's own configuration never leaks in (restored at scope exit).
#pragma once

#include <git2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "tests/test_support.h"

namespace beluga::testing {

class GitConfigSandbox {
 public:
  GitConfigSandbox() {
    git_libgit2_init();
    for (int level : kLevels) git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, dir_.path().c_str());
  }
  ~GitConfigSandbox() {
    for (int level : kLevels) git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, nullptr);
    git_libgit2_shutdown();
  }
  GitConfigSandbox(const GitConfigSandbox&) = delete;
  GitConfigSandbox& operator=(const GitConfigSandbox&) = delete;
  const ScratchDir& dir() const { return dir_; }

 private:
  static constexpr int kLevels[] = {GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_GLOBAL};
  ScratchDir dir_;
};

inline void make_parent(const std::string& path) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
}

inline void put(const ScratchDir& dir, const std::string& relative, const std::string& text) {
  make_parent(dir.file(relative));
  write_text(dir.file(relative), text);
}

class FixtureRepo {
 public:
  static constexpr uint64_t kMaxFileBytes = 4096;

  explicit FixtureRepo(bool git = true) {
    if (git) {
      git_repository* repo = nullptr;
      if (git_repository_init(&repo, root_.path().c_str(), 0) < 0) throw std::runtime_error("git init failed");
      git_repository_free(repo);
      put(root_, ".git/info/exclude", "# local excludes\nsecret.txt\n");
      put(config_.dir(), "global_excludes", "*.bak\n");
      put(config_.dir(), ".gitconfig", "[core]\n\texcludesFile = " + config_.dir().file("global_excludes") + "\n");
    }
    put(root_, ".gitignore", "build/\n*.log\n");
    put(root_, "src/geometry.cpp",
        "#include \"geometry.h\"\n"
        "double Shape::area() const { return width_ * height_; }\n"
        "double total_area(const Shape& a, const Shape& b) { return a.area() + b.area(); }\n");
    put(root_, "src/geometry.h",
        "#pragma once\n"
        "class Shape {\n"
        " public:\n"
        "  double area() const;\n"
        " private:\n"
        "  double width_ = 0, height_ = 0;\n"
        "};\n");
    put(root_, "src/util.c", "static int clamp(int v) { return v < 0 ? 0 : v; }\nint clamp_all(int v) { return clamp(v); }\n");
    put(root_, "src/latin1.c", "/* caf\xE9 cr\xE8me */\nint latin_one(void) { return 1; }\n");
    put(root_, "app/main.py", "class Greeter:\n    def greet(self, who):\n        return who\n\n"
                              "def main():\n    Greeter().greet('x')\n");
    put(root_, "app/broken.py", "def fine():\n    return 1\n\ndef broken(:\n    pass\n");
    put(root_, "web/app.js", "function render(view) { return view.draw(); }\n");
    put(root_, "web/types.ts", "interface Widget { draw(): void; }\nfunction mount(w: Widget) { w.draw(); }\n");
    put(root_, "web/view.tsx", "function View(props: Props) { return <div>{props.title}</div>; }\n");
    put(root_, "cmd/server/main.go", "package main\nfunc serve(port int) error { return nil }\nfunc main() { serve(8080) }\n");
    put(root_, "lib/src/lib.rs", "pub struct Cache { size: usize }\npub fn make_cache() -> Cache { Cache { size: 1 } }\n");
    put(root_, "java/App.java", "class App { static void run() { helper(); } }\n");
    put(root_, "config.json", "{\"name\": \"fixture\"}\n");
    put(root_, "run.sh", "#!/bin/sh\necho run\n");
    put(root_, "README.md", "# Fixture\nThe zebracorn appears only here.\n");
    // Ignored in three ways, and a build folder.
    put(root_, "build/generated.cpp", "int generated() { return 0; }\n");
    put(root_, "debug.log", "log line\n");
    put(root_, "secret.txt", "from .git/info/exclude\n");
    put(root_, "notes.bak", "from the global excludes file\n");
    // Skipped with a reason.
    put(root_, "data.bin", std::string("\x7f" "ELF\0\0\x01\x02", 8) + "binary");
    put(root_, "vendor/huge.js", "// generated\n" + std::string(kMaxFileBytes, 'x') + "\n");
    put(outside_, "outside.py", "def outside_secret():\n    pass\n");
    if (::symlink(outside_.file("outside.py").c_str(), root_.file("escape.py").c_str()) != 0)
      throw std::runtime_error("symlink failed");
    if (::symlink("app/main.py", root_.file("alias.py").c_str()) != 0) throw std::runtime_error("symlink failed");
  }

  const ScratchDir& root() const { return root_; }
  const ScratchDir& config_dir() const { return config_.dir(); }
  std::string path() const { return std::filesystem::canonical(root_.path()).string(); }

 private:
  GitConfigSandbox config_;
  ScratchDir root_;
  ScratchDir outside_;
};

}  // namespace beluga::testing
