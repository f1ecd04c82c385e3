// The `beluga bench decode|prefill` contract (daemon/bench_command.h) on a
// micro synthetic checkpoint: the JSON keys and that the figures are sane.
// Timings themselves are not tested (bench/README.md has the figures).
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_support.h"
#include "tests/test_support.h"

using beluga::testing::json_keys;
using beluga::testing::quote;
using beluga::testing::Run;
using beluga::testing::run_beluga;
using beluga::testing::ScratchDir;
using nlohmann::json;

TEST_CASE("beluga bench decode and prefill print their documented JSON", "[cli][bench]") {
  ScratchDir dir;
  const std::string model = dir.file("micro");
  const std::string config = quote(beluga::testing::source_path("scripts/configs/v4-micro.config.json"));
  REQUIRE(run_beluga("model synth --config " + config + " --out " + quote(model)).exit_code == 0);

  Run decode = run_beluga("bench decode --model " + quote(model) + " --json --tokens 2 --prompt 2 --bandwidth-mib 64");
  INFO(decode.err);
  REQUIRE(decode.exit_code == 0);
  json d = json::parse(decode.out);
  CHECK(json_keys(d) == std::set<std::string>{"tokens_per_s", "bytes_per_token", "bandwidth_bytes_per_s", "roofline_ratio"});
  CHECK(d["tokens_per_s"].get<double>() > 0);
  CHECK(d["bytes_per_token"].get<double>() > 0);
  CHECK(d["bandwidth_bytes_per_s"].get<double>() > 0);
  CHECK(d["roofline_ratio"].get<double>() ==
        Approx(d["bytes_per_token"].get<double>() * d["tokens_per_s"].get<double>() /
               d["bandwidth_bytes_per_s"].get<double>()));

  Run batch = run_beluga("bench decode --model " + quote(model) + " --json --tokens 2 --prompt 2 --batch 3 --bandwidth-mib 64");
  REQUIRE(batch.exit_code == 0);
  CHECK(json::parse(batch.out)["tokens_per_s"].get<double>() > 0);

  Run prefill = run_beluga("bench prefill --model " + quote(model) + " --json --tokens 4");
  INFO(prefill.err);
  REQUIRE(prefill.exit_code == 0);
  json p = json::parse(prefill.out);
  CHECK(json_keys(p) == std::set<std::string>{"tokens_per_s", "seconds", "openblas_seconds", "gemm_efficiency"});
  CHECK(p["tokens_per_s"].get<double>() > 0);
  CHECK((p["gemm_efficiency"].is_null() || p["gemm_efficiency"].get<double>() > 0));
}

TEST_CASE("beluga bench sessions prints one JSON entry per session count after one session", "[cli][bench]") {
  ScratchDir dir;
  const std::string model = dir.file("micro");
  const std::string config = quote(beluga::testing::source_path("scripts/configs/v4-micro.config.json"));
  REQUIRE(run_beluga("model synth --config " + config + " --out " + quote(model)).exit_code == 0);
  Run run = run_beluga("bench sessions --model " + quote(model) + " --json --tokens 3 --prompt 2 --counts 2 3");
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  json runs = json::parse(run.out);
  REQUIRE(runs.is_array());
  REQUIRE(runs.size() == 3);  // the one-session reference, then 2 and 3
  const int64_t counts[] = {1, 2, 3};
  for (size_t i = 0; i < runs.size(); ++i) {
    INFO(runs[i].dump());
    CHECK(json_keys(runs[i]) ==
          std::set<std::string>{"sessions", "tokens_per_s", "seconds", "steps", "chunks_per_step", "speedup",
                                "forward_seconds", "mtp_seconds"});
    CHECK(runs[i]["sessions"] == counts[i]);
    CHECK(runs[i]["tokens_per_s"].get<double>() > 0);
    // Greedy without drafts: one row per token, so at most tokens steps
    // when every step carries every session, at most sessions*tokens.
    CHECK(runs[i]["steps"].get<int64_t>() >= 3);
    CHECK(runs[i]["steps"].get<int64_t>() <= 3 * counts[i]);
    CHECK(runs[i]["chunks_per_step"].get<double>() >= 1.0);
  }
  CHECK(runs[0]["speedup"].get<double>() == Approx(1.0));
  Run bad = run_beluga("bench sessions --model " + quote(model) + " --counts 0");
  CHECK(bad.exit_code != 0);
}

TEST_CASE("beluga bench rejects a folder that is not a checkpoint", "[cli][bench]") {
  ScratchDir dir;
  Run run = run_beluga("bench prefill --model " + quote(dir.path()));
  CHECK(run.exit_code == 1);
  CHECK(run.err.rfind("beluga: ", 0) == 0);
}
