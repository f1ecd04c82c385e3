// The daemon under load: N concurrent clients (default 100), each a short
// replayed ACP session then M cheap requests (default 1,000) of
// beluga/model/info, timed one by one (tests/daemon/load_driver.h). Prints
// requests/s and p50/p99 latency, and the same figures for the reference
// measured in the same run: a bare line-echo server on the same kind of
// socket with the same client threads, i.e. what the transport costs
// without JSON-RPC dispatch, sessions or the daemon's queues. The ratio is
// the daemon's share of that ceiling.
//
//   daemon_load_bench [--clients N] [--requests M]
#include <CLI/CLI.hpp>

#include <sys/socket.h>
#include <sys/un.h>

#include <cstdio>

#include "tests/daemon/load_driver.h"

using namespace beluga;
using namespace beluga::testing;

namespace {

// The reference: one thread per connection echoing each line back.
LoadResult echo_reference(const std::string& dir, int clients, int requests) {
  const std::string path = dir + "/echo.sock";
  int listener = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener, 256) != 0)
    throw std::runtime_error("echo reference: cannot listen on " + path);
  std::vector<std::thread> servers;
  std::thread acceptor([&] {
    for (int i = 0; i < clients; ++i) {
      int fd = ::accept(listener, nullptr, nullptr);
      if (fd < 0) break;
      servers.emplace_back([fd] {
        std::string buffer;
        char chunk[65536];
        for (;;) {
          ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
          if (n <= 0) break;
          buffer.append(chunk, static_cast<size_t>(n));
          size_t newline;
          while ((newline = buffer.find('\n')) != std::string::npos) {
            // Answer as a JSON-RPC result with the request's id.
            Json request = Json::parse(buffer.substr(0, newline), nullptr, false);
            buffer.erase(0, newline + 1);
            std::string reply = Json{{"jsonrpc", "2.0"}, {"id", request["id"]}, {"result", Json::object()}}.dump() + "\n";
            ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
          }
        }
        ::close(fd);
      });
    }
  });
  LoadResult out;
  std::vector<double> latencies;
  std::mutex mutex;
  std::vector<std::thread> threads;
  const auto start = std::chrono::steady_clock::now();
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&] {
      auto client = TestClient::connect(path);
      std::vector<double> mine;
      for (int i = 0; i < requests; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        client->call("echo", Json::object());
        mine.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      }
      std::lock_guard lock(mutex);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  for (auto& t : threads) t.join();
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  acceptor.join();
  for (auto& t : servers) t.join();
  ::close(listener);
  std::sort(latencies.begin(), latencies.end());
  out.cheap_requests = static_cast<int64_t>(latencies.size());
  out.requests_per_s = static_cast<double>(out.cheap_requests) / out.seconds;
  out.p50_ms = latencies[latencies.size() / 2];
  out.p99_ms = latencies[std::min(latencies.size() - 1, latencies.size() * 99 / 100)];
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The daemon under concurrent clients vs a bare echo server on the same socket type"};
  int clients = 100, requests = 1000;
  app.add_option("--clients", clients, "Concurrent clients (default 100)")->check(CLI::Range(1, 1000));
  app.add_option("--requests", requests, "Cheap requests per client (default 1000)")->check(CLI::Range(1, 1000000));
  CLI11_PARSE(app, argc, argv);

  DaemonFixture f({completion("Greeting.", "Hello!")});
  LoadResult daemon = run_load(f.socket(), f.sandbox().file("load"), clients, requests);
  for (const std::string& e : daemon.first_errors) std::fprintf(stderr, "error: %s\n", e.c_str());
  LoadResult echo = echo_reference(f.sandbox().file("run"), clients, requests);

  std::printf("clients %d, requests per client %d, turns completed %lld, errors %lld\n", clients, requests,
              static_cast<long long>(daemon.turns_completed), static_cast<long long>(daemon.errors));
  std::printf("daemon beluga/model/info  %9.0f requests/s  p50 %7.3f ms  p99 %7.3f ms\n", daemon.requests_per_s,
              daemon.p50_ms, daemon.p99_ms);
  std::printf("bare echo server          %9.0f requests/s  p50 %7.3f ms  p99 %7.3f ms\n", echo.requests_per_s,
              echo.p50_ms, echo.p99_ms);
  std::printf("daemon / echo throughput  %.2f\n", daemon.requests_per_s / echo.requests_per_s);
  return daemon.errors == 0 && daemon.turns_completed == clients ? 0 : 1;
}
