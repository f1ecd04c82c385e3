// The load run in the suite: 100 concurrent clients, each a short replayed
// session plus cheap requests; no errors, every turn completed, the daemon
// still serving. The request count per client is smaller here than in
// bench/daemon_load_bench.cpp (1,000) to keep a loaded two-core CI fast;
// BELUGA_LOAD_REQUESTS overrides it. Figures are printed, never asserted.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>

#include "tests/daemon/load_driver.h"

using namespace beluga;
using namespace beluga::testing;

TEST_CASE("one hundred concurrent clients are all served without errors") {
  DaemonFixture f({completion("Greeting.", "Hello!")});
  const char* env = std::getenv("BELUGA_LOAD_REQUESTS");
  const int requests = env ? std::atoi(env) : 100;
  LoadResult r = run_load(f.socket(), f.sandbox().file("load"), 100, requests);
  for (const std::string& e : r.first_errors) UNSCOPED_INFO(e);
  CHECK(r.errors == 0);
  CHECK(r.turns_completed == 100);
  CHECK(r.cheap_requests == 100 * requests);
  std::printf("daemon load: 100 clients x %d beluga/model/info: %.0f requests/s, p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
              requests, r.requests_per_s, r.p50_ms, r.p99_ms, r.max_ms);
  auto after = f.client();
  Json status = after->result("beluga/daemon/status", Json::object());
  CHECK(status["runningTurns"] == 0);
  CHECK(status["model"]["queue"]["served"].get<int64_t>() == 100);
}
