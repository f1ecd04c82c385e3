// Running the real `beluga` binary from the command-line contract tests:
// stdin from a file (empty unless given), stdout and stderr captured.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include "tests/test_support.h"

namespace beluga::testing {

struct Run {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Single-quotes `s` for /bin/sh.
inline std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

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

}  // namespace beluga::testing
