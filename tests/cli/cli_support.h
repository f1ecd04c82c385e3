// Running the real `beluga` binary from the command-line contract tests:
// stdin from a file (empty unless given), stdout and stderr captured.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/test_support.h"

namespace beluga::testing {

struct Run {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline Run run_beluga(const std::string& args, const std::string& input = "") {
  ScratchDir io;
  write_text(io.file("in"), input);
  const std::string command = quote(BELUGA_BINARY) + " " + args + " <" + quote(io.file("in")) + " >" +
                              quote(io.file("out")) + " 2>" + quote(io.file("err"));
  int status = std::system(command.c_str());
  Run run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = read_text(io.file("out"));
  run.err = read_text(io.file("err"));
  return run;
}

// The keys of a JSON object, to compare with a documented contract.
inline std::set<std::string> json_keys(const nlohmann::json& object) {
  std::set<std::string> keys;
  for (auto& [key, value] : object.items()) keys.insert(key);
  return keys;
}

// A scratch workspace for commands that index it, with a private
// $XDG_CACHE_HOME for the index (restored at scope exit).
class CliWorkspace {
 public:
  CliWorkspace() { ::setenv("XDG_CACHE_HOME", cache.path().c_str(), 1); }
  ~CliWorkspace() { ::unsetenv("XDG_CACHE_HOME"); }
  CliWorkspace(const CliWorkspace&) = delete;
  CliWorkspace& operator=(const CliWorkspace&) = delete;

  void put(const std::string& relative, const std::string& text) const {
    std::filesystem::create_directories(std::filesystem::path(dir.file(relative)).parent_path());
    write_text(dir.file(relative), text);
  }
  std::string path() const { return quote(dir.path()); }

  ScratchDir dir;
  ScratchDir cache;
};

}  // namespace beluga::testing
