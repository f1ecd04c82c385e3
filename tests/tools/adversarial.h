// Adversarial cases of the shell, git and checkpoint tools, collected in one
// table so that a single test can run them all and report how many held.
//
// Each test file adds its rows at static-initialisation time
// (add_adversarial_cases); a row runs one attack and returns "" when it was
// contained, or a sentence saying how it escaped.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace beluga::testing {

struct AdversarialCase {
  std::string area;  // "shell", "git" or "checkpoint"
  std::string name;  // a sentence
  std::function<std::string()> run;
};

inline std::vector<AdversarialCase>& adversarial_cases() {
  static std::vector<AdversarialCase> cases;
  return cases;
}

inline bool add_adversarial_cases(std::vector<AdversarialCase> rows) {
  for (auto& row : rows) adversarial_cases().push_back(std::move(row));
  return true;
}

}  // namespace beluga::testing
