// What every `beluga` subcommand does on failure: one line on stderr,
// "beluga: <message>", and exit status 1.
#pragma once

#include <iostream>
#include <string>

namespace beluga {

inline int fail(const std::string& message) {
  std::cerr << "beluga: " << message << "\n";
  return 1;
}

}  // namespace beluga
