// `beluga bench decode|prefill`: the CPU engine's speed against this
// machine's own limits, measured in one run (the same measurements as
// bench/engine_bench, see bench/README.md).
//
//   beluga bench decode --model DIR [--json] [--tokens N] [--prompt N] [--batch B]
//       tokens/s of greedy decoding, the bytes of weights one token reads,
//       the memory bandwidth a streaming read reaches, and their ratio;
//       --json prints {"tokens_per_s", "bytes_per_token",
//       "bandwidth_bytes_per_s", "roofline_ratio"}.
//   beluga bench prefill --model DIR [--json] [--tokens N]
//       tokens/s of one prompt's forward pass, and the GEMM efficiency:
//       the time OpenBLAS takes for the same matrix shapes (weights as
//       float32) over beluga's time; null when built without OpenBLAS.
//       --json prints {"tokens_per_s", "seconds", "openblas_seconds",
//       "gemm_efficiency"}.
// Runs from its CLI11 callbacks.
#pragma once

namespace CLI {
class App;
}

namespace beluga {

void add_bench_commands(CLI::App& app);

}  // namespace beluga
