// Helpers for the daemon tests: an ACP client written for the tests (a
// real socket, a reader thread, permission answers on demand), and an
// in-process daemon on a scratch socket with a replayed model.
#pragma once

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/acp/daemon_server.h"
#include "tests/agent/agent_test_support.h"
#include "tests/daemon/test_client.h"

namespace beluga::testing {

// Tag: the daemon loads a model folder instead of a replay (an embedded
// engine on a synthetic checkpoint, tests/daemon/synthetic_model.h).
struct EmbeddedModel {};

// The daemon in this process: a scratch runtime folder (0700), a replayed
// model (or an embedded one), the agent sandbox (XDG folders, a git
// repository).
class DaemonFixture {
 public:
  explicit DaemonFixture(const std::vector<std::string>& completions, rpc::ServerOptions rpc = {}) {
    replay_ = sandbox_.file("model.jsonl");
    write_replay(replay_, completions);
    start("replay:" + replay_, rpc);
  }
  DaemonFixture(EmbeddedModel, const std::string& model_dir, rpc::ServerOptions rpc = {}) { start(model_dir, rpc); }
  ~DaemonFixture() { daemon_.reset(); }

  AgentSandbox& sandbox() { return sandbox_; }
  ScratchRepo& repo() { return sandbox_.repo(); }
  std::string workspace() { return sandbox_.repo().root().string(); }
  const std::string& socket() const { return socket_; }
  daemon::Daemon& daemon() { return *daemon_; }
  std::unique_ptr<TestClient> client() { return TestClient::connect(socket_); }

 private:
  void start(const std::string& model_spec, const rpc::ServerOptions& rpc) {
    ::mkdir(sandbox_.file("run").c_str(), 0700);
    socket_ = sandbox_.file("run") + "/beluga.sock";
    daemon::DaemonOptions options;
    options.model_spec = model_spec;
    options.socket_path = socket_;
    options.rpc = rpc;
    auto started = daemon::Daemon::start(options);
    if (!started) throw std::runtime_error(started.message());
    daemon_ = std::move(started).value();
  }

  AgentSandbox sandbox_;
  std::string replay_;
  std::string socket_;
  std::unique_ptr<daemon::Daemon> daemon_;
};

}  // namespace beluga::testing
