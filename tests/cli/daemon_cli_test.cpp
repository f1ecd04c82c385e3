// The daemon as a process: `beluga daemon start|status|stop|restart` with
// a replayed model in scratch XDG folders, the permission checks on the
// socket folder, daemon.json's engine budget, and `beluga acp` bridging
// stdio to it.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include "tests/cli/daemon_home.h"
#include "tests/daemon/http_test_client.h"
#include "tests/test_support.h"
#include "tests/tools/git_test_support.h"

using namespace beluga::testing;
using Json = nlohmann::json;


TEST_CASE("daemon start detaches and a second start finds it") {
  DaemonHome home;
  Run status0 = run("daemon status");
  CHECK(status0.status == 3);
  Run start = run("daemon start --model replay:" + home.model);
  INFO(start.out);
  REQUIRE(start.status == 0);
  CHECK(start.out.find("started") != std::string::npos);
  struct stat st {};
  REQUIRE(::stat(home.file("run/beluga").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  REQUIRE(::stat(home.file("run/beluga/beluga.sock").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(std::filesystem::exists(home.file("state/beluga/daemon.log")));

  Run again = run("daemon start --model replay:" + home.model);
  CHECK(again.status == 0);
  CHECK(again.out.find("already running") != std::string::npos);

  Run status = run("daemon status --json");
  REQUIRE(status.status == 0);
  Json s = Json::parse(status.out);
  CHECK(s["running"] == true);
  CHECK(s["model"]["kind"] == "replay");

  Run restart = run("daemon restart --model replay:" + home.model);
  INFO(restart.out);
  CHECK(restart.status == 0);
  Json s2 = Json::parse(run("daemon status --json").out);
  CHECK(s2["pid"] != s["pid"]);

  Run stop = run("daemon stop");
  CHECK(stop.status == 0);
  CHECK(stop.out.find("stopped") != std::string::npos);
  CHECK(run("daemon status").status == 3);
  CHECK_FALSE(std::filesystem::exists(home.file("run/beluga/beluga.sock")));
  CHECK(read_text(home.file("state/beluga/daemon.log")).find("received") != std::string::npos);
}

TEST_CASE("daemon start refuses a socket folder others can read") {
  DaemonHome home;
  ::mkdir(home.file("run/beluga").c_str(), 0755);
  ::chmod(home.file("run/beluga").c_str(), 0755);
  Run start = run("daemon start --model replay:" + home.model);
  CHECK(start.status == 1);
  CHECK(start.out.find("0755") != std::string::npos);
  CHECK(start.out.find("0700") != std::string::npos);
}

TEST_CASE("daemon start reports a model that cannot be loaded") {
  DaemonHome home;
  Run start = run("daemon start --model replay:" + home.file("missing.jsonl"));
  CHECK(start.status == 1);
  CHECK(start.out.find("missing.jsonl") != std::string::npos);
  CHECK(run("daemon status").status == 3);
}

TEST_CASE("daemon start takes the engine budget from daemon.json and refuses a bad one") {
  DaemonHome home;
  const std::string config_dir = home.file("config/beluga");
  std::filesystem::create_directories(config_dir);
  write_text(config_dir + "/daemon.json", R"({"engine": {"slots": "four"}})");
  Run bad = run("daemon start --model replay:" + home.model);
  CHECK(bad.status == 1);
  CHECK(bad.out.find("\"engine\".\"slots\" must be an integer 1 or more") != std::string::npos);
  CHECK(run("daemon status").status == 3);

  write_text(config_dir + "/daemon.json", R"({"engine": {"slots": 2, "sessions": 3, "stateBytes": 1000000}})");
  Run start = run("daemon start --model " + quote(synthetic_checkpoint(home)));
  INFO(start.out);
  REQUIRE(start.status == 0);
  Json status = Json::parse(run("daemon status --json").out, nullptr, false);
  INFO(status.dump());
  CHECK(status["model"]["queue"]["slots"] == 2);
  CHECK(status["model"]["engine"]["maxSessions"] == 3);
  CHECK(status["model"]["engine"]["maxStateBytes"] == 1000000);
  CHECK(status["model"]["engine"]["sessions"] == 0);
  CHECK(run("daemon stop").status == 0);
}


namespace {

// A loopback port nobody listens on now (the kernel's next free one).
uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t n = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace

TEST_CASE("daemon start --http serves the model over loopback with a token and stops cleanly") {
  DaemonHome home;
  EnvOverride token("BELUGA_HTTP_TOKEN", "tok-123456");
  const uint16_t port = free_port();
  Run start = run("daemon start --model replay:" + home.model + " --http 127.0.0.1:" + std::to_string(port));
  INFO(start.out);
  REQUIRE(start.status == 0);
  {
    HttpTestClient client(port);
    CHECK(client.request("GET", "/v1/models").status == 401);
    HttpReply reply = client.post("/v1/chat/completions", {{"messages", {{{"role", "user"}, {"content", "hi"}}}}},
                                  {{"Authorization", "Bearer tok-123456"}});
    REQUIRE(reply.status == 200);
    CHECK(reply.json()["choices"][0]["message"]["content"] == "Hello from the replay.");
    CHECK(reply.json()["choices"][0]["message"]["reasoning_content"] == "Hi.");
  }
  Run status = run("daemon status");
  CHECK(status.out.find("http         127.0.0.1:" + std::to_string(port)) != std::string::npos);
  Run stop = run("daemon stop");
  CHECK(stop.status == 0);
  const std::string log = read_text(home.file("state/beluga/daemon.log"));
  CHECK(log.find("serving HTTP on 127.0.0.1:" + std::to_string(port) + " (bearer token required)") != std::string::npos);
  CHECK(log.find("tok-123456") == std::string::npos);
  CHECK_THROWS(HttpTestClient(port));  // nobody listens any more

  Run bad = run("daemon start --model replay:" + home.model + " --http 127.0.0.1");
  CHECK(bad.status == 1);
  CHECK(bad.out.find("HOST:PORT") != std::string::npos);
}

TEST_CASE("beluga acp starts the daemon and bridges stdio") {
  DaemonHome home;
  int to_child[2], from_child[2];
  REQUIRE(::pipe(to_child) == 0);
  REQUIRE(::pipe(from_child) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::dup2(to_child[0], STDIN_FILENO);
    ::dup2(from_child[1], STDOUT_FILENO);
    int null_fd = ::open("/dev/null", O_WRONLY);
    ::dup2(null_fd, STDERR_FILENO);
    ::close(to_child[1]);
    ::close(from_child[0]);
    const std::string model = "replay:" + home.model;
    ::execl(BELUGA_BINARY, BELUGA_BINARY, "acp", "--model", model.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  ::close(to_child[0]);
  ::close(from_child[1]);
  const std::string request =
      Json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "initialize"}, {"params", {{"protocolVersion", 1}}}}.dump() + "\n";
  REQUIRE(::write(to_child[1], request.data(), request.size()) == static_cast<ssize_t>(request.size()));
  std::string out;
  char buffer[4096];
  while (out.find('\n') == std::string::npos) {
    ssize_t n = ::read(from_child[0], buffer, sizeof buffer);
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  ::close(to_child[1]);  // the client is done: the bridge exits
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(from_child[0]);
  INFO(out);
  // stdout held only the protocol answer.
  Json response = Json::parse(out.substr(0, out.find('\n')));
  CHECK(response["id"] == 1);
  CHECK(response["result"]["protocolVersion"] == 1);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(run("daemon status").status == 0);
}
