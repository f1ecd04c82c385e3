#!/usr/bin/env bash
# Configures and builds beluga into build/ (warnings on, tests included).
# Extra arguments go to cmake, e.g. scripts/build.sh -DBELUGA_SANITIZE=ON
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BELUGA_BUILD_DIR:-build}"
cmake -S . -B "$build" -G Ninja "$@"
cmake --build "$build" -j "$(nproc)"
