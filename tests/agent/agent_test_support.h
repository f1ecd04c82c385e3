// Helpers for the agent tests: model completions in V4's exact output
// format (reasoning, answer, DSML tool calls), replay files of them, and an
// isolated environment (XDG folders and git configuration in a scratch
// folder) around a scratch git repository.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/test_support.h"
#include "tests/tools/git_test_support.h"

namespace beluga::testing {

struct Param {
  std::string name;
  std::string value;
  bool is_string = true;  // string="true": the value is the text itself
};
struct Call {
  std::string tool;
  std::vector<Param> params;
};

// What V4 generates after "<｜Assistant｜><think>" (thinking mode):
// reasoning, "</think>", the answer, then the tool-call block.
inline std::string completion(const std::string& reasoning, const std::string& answer,
                              const std::vector<Call>& calls = {}, bool thinking = true) {
  std::string out = thinking ? reasoning + "</think>" : "";
  out += answer;
  if (calls.empty()) return out;
  out += "\n\n<｜DSML｜tool_calls>\n";
  for (const Call& c : calls) {
    out += "<｜DSML｜invoke name=\"" + c.tool + "\">\n";
    for (const Param& p : c.params)
      out += "<｜DSML｜parameter name=\"" + p.name + "\" string=\"" + (p.is_string ? "true" : "false") + "\">" + p.value +
             "</｜DSML｜parameter>\n";
    out += "</｜DSML｜invoke>\n";
  }
  out += "</｜DSML｜tool_calls>";
  return out;
}

inline void write_replay(const std::string& path, const std::vector<std::string>& completions) {
  std::string text;
  for (const std::string& c : completions) text += nlohmann::json{{"completion", c}}.dump() + "\n";
  write_text(path, text);
}

// XDG_DATA_HOME / XDG_CONFIG_HOME in a scratch folder, git's own
// configuration isolated, and a git repository with an identity.
class AgentSandbox {
 public:
  // git_ first: it points XDG_CONFIG_HOME at its own folder, which config_ replaces.
  AgentSandbox()
      : git_(), data_("XDG_DATA_HOME", home_.file("data")), config_("XDG_CONFIG_HOME", home_.file("config")),
        cache_("XDG_CACHE_HOME", home_.file("cache")) {}
  ScratchRepo& repo() { return repo_; }
  std::string file(const std::string& name) const { return home_.file(name); }
  std::string db_path() const { return home_.file("data") + "/beluga/sessions.sqlite"; }
  void write_user_config(const std::string& toml) {
    std::filesystem::create_directories(home_.file("config") + "/beluga");
    write_text(home_.file("config") + "/beluga/config.toml", toml);
  }

 private:
  ScratchDir home_;
  IsolatedGitConfig git_;
  EnvOverride data_, config_, cache_;
  ScratchRepo repo_;
};

}  // namespace beluga::testing
