#!/usr/bin/env bash
# Builds and runs the engine benchmark on the synthetic Flash-proportioned
# checkpoint (bench/configs/flash-proportions.config.json, ~1.4 GB), which is
# synthesised into build/bench-checkpoint on the first run (about a minute)
# and reused afterwards. Extra arguments go to engine_bench, e.g.
#   bench/run.sh --prompt 256 --decode 32
# Needs a configured build folder (scripts/build.sh); BELUGA_BUILD_DIR picks
# another one, as in scripts/build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BELUGA_BUILD_DIR:-build}"
ninja -C "$build" engine_bench beluga
exec "$build/bench/engine_bench" --synth bench/configs/flash-proportions.config.json \
  --cache "$build/bench-checkpoint" "$@"
