#!/usr/bin/env bash
# The main job at this stage: build beluga, synthesise a small DeepSeek V4
# checkpoint in the released format (FP8 linears, FP4 experts, 2 shards) and
# inspect it against its config.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BELUGA_BUILD_DIR:-build}"
bash scripts/build.sh
checkpoint="$build/demo-checkpoint"
"$build/daemon/beluga" model synth --config scripts/configs/v4-tiny.config.json --out "$checkpoint" \
  --seed 1 --storage fp8 --shards 2
"$build/daemon/beluga" model inspect "$checkpoint"
