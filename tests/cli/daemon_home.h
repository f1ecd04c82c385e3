// The daemon as a process, for the command-line tests: `beluga ARGS` run
// with its output captured, a scratch home (XDG folders) whose daemon is
// stopped when the test ends, and a synthetic checkpoint to serve.
#pragma once

#include <sys/stat.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/test_support.h"
#include "tests/tools/git_test_support.h"  // EnvOverride

namespace beluga::testing {

struct Run {
  int status = -1;
  std::string out;  // stdout and stderr together
};

inline Run run(const std::string& args) {
  Run r;
  std::string command = std::string(BELUGA_BINARY) + " " + args + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  std::array<char, 4096> buffer{};
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) r.out.append(buffer.data(), n);
  int status = ::pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// XDG folders in a scratch home; the daemon started here is stopped at the end.
struct DaemonHome {
  DaemonHome()
      : runtime_("XDG_RUNTIME_DIR", home_.file("run")), state_("XDG_STATE_HOME", home_.file("state")),
        data_("XDG_DATA_HOME", home_.file("data")), config_("XDG_CONFIG_HOME", home_.file("config")),
        cache_("XDG_CACHE_HOME", home_.file("cache")) {
    ::mkdir(home_.file("run").c_str(), 0700);
    model = home_.file("model.jsonl");
    write_text(model, nlohmann::json{{"completion", "Hi.</think>Hello from the replay."}}.dump() + "\n");
  }
  ~DaemonHome() { run("daemon stop"); }
  std::string file(const std::string& name) const { return home_.file(name); }
  std::string log() const { return read_text(home_.file("state/beluga/daemon.log")); }
  // The HOST:PORT the running daemon serves HTTP on ("" when none): what a
  // `--http 127.0.0.1:0` start bound.
  std::string http_address() const {
    Run status = run("daemon status --json");
    auto s = nlohmann::json::parse(status.out, nullptr, false);
    if (!s.is_object() || !s.contains("http") || !s["http"].is_object()) return "";
    return s["http"].value("address", std::string());
  }
  std::string model;

 private:
  ScratchDir home_;
  EnvOverride runtime_, state_, data_, config_, cache_;
};

// A synthetic V4 checkpoint with the real tokenizer (the engine's weights
// are random: its output is nonsense, but every token of it is real).
inline std::string synthetic_checkpoint(const DaemonHome& home) {
  const std::string tokenizer = home.file("tokenizer.json");
  Run assemble = run("tokenize --assemble-v4 --tokenizer " + quote(golden_path("tokenizer/tokenizer.json")) + " --added " +
                     quote(golden_path("tokenizer/v4_added_tokens.json")) + " --out " + quote(tokenizer));
  REQUIRE(assemble.status == 0);
  nlohmann::json config = nlohmann::json::parse(read_text(source_path("scripts/configs/v4-micro.config.json")));
  config["vocab_size"] = 129280;
  config["max_position_embeddings"] = 32768;
  write_text(home.file("config.json"), config.dump());
  const std::string model = home.file("ckpt");
  Run synth = run("model synth --config " + quote(home.file("config.json")) + " --out " + quote(model) + " --tokenizer " +
                  quote(tokenizer));
  INFO(synth.out);
  REQUIRE(synth.status == 0);
  return model;
}

}  // namespace beluga::testing
