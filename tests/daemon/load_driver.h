// The load run shared by the test (tests/daemon/load_test.cpp) and the
// bench (bench/daemon_load_bench.cpp): `clients` concurrent connections,
// each running a short replayed ACP session (initialize, session/new,
// session/prompt to end_turn), then `requests` cheap calls
// (beluga/model/info, answered on the daemon's I/O thread) one after the
// other, timing each.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tests/daemon/daemon_test_support.h"

namespace beluga::testing {

struct LoadResult {
  int64_t errors = 0;
  std::vector<std::string> first_errors;
  int64_t cheap_requests = 0;
  double seconds = 0;         // the cheap-request phase, wall time
  double requests_per_s = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  int64_t turns_completed = 0;
};

inline LoadResult run_load(const std::string& socket, const std::string& workspaces_root, int clients, int requests) {
  LoadResult out;
  std::mutex mutex;
  std::vector<double> latencies_ms;
  latencies_ms.reserve(static_cast<size_t>(clients) * static_cast<size_t>(requests));
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::atomic<int64_t> errors{0}, turns{0};
  auto record_error = [&](const std::string& what) {
    errors.fetch_add(1);
    std::lock_guard lock(mutex);
    if (out.first_errors.size() < 5) out.first_errors.push_back(what);
  };
  std::chrono::steady_clock::time_point phase_start, phase_end;
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      std::vector<double> mine;
      mine.reserve(static_cast<size_t>(requests));
      try {
        auto client = TestClient::connect(socket);
        client->initialize();
        const std::string workspace = workspaces_root + "/ws" + std::to_string(c);
        std::filesystem::create_directories(workspace);
        const std::string session = client->new_session(workspace);
        Json done = client->result("session/prompt", TestClient::text_prompt(session, "Say hello"));
        if (done.value("stopReason", "") == "end_turn") turns.fetch_add(1);
        else record_error("turn: " + done.dump());
        ready.fetch_add(1);
        while (!go.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        for (int i = 0; i < requests; ++i) {
          const auto start = std::chrono::steady_clock::now();
          Json r = client->call("beluga/model/info", Json::object());
          const auto end = std::chrono::steady_clock::now();
          if (!r.contains("result")) record_error(r.dump());
          mine.push_back(std::chrono::duration<double, std::milli>(end - start).count());
        }
        if (!client->garbage().empty()) record_error("garbage from the daemon");
      } catch (const std::exception& e) {
        ready.fetch_add(1);
        record_error(e.what());
      }
      std::lock_guard lock(mutex);
      latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
    });
  }
  while (ready.load() < clients) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  phase_start = std::chrono::steady_clock::now();
  go.store(true);
  for (auto& t : threads) t.join();
  phase_end = std::chrono::steady_clock::now();
  out.errors = errors.load();
  out.turns_completed = turns.load();
  out.cheap_requests = static_cast<int64_t>(latencies_ms.size());
  out.seconds = std::chrono::duration<double>(phase_end - phase_start).count();
  out.requests_per_s = out.seconds > 0 ? static_cast<double>(out.cheap_requests) / out.seconds : 0;
  if (!latencies_ms.empty()) {
    std::sort(latencies_ms.begin(), latencies_ms.end());
    auto at = [&](double q) { return latencies_ms[std::min(latencies_ms.size() - 1, static_cast<size_t>(q * static_cast<double>(latencies_ms.size())))]; };
    out.p50_ms = at(0.50);
    out.p99_ms = at(0.99);
    out.max_ms = latencies_ms.back();
  }
  return out;
}

}  // namespace beluga::testing
