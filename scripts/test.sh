#!/usr/bin/env bash
# Builds beluga and runs the whole test suite through CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BELUGA_BUILD_DIR:-build}"
bash scripts/build.sh "$@"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
