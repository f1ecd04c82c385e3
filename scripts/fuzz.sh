#!/usr/bin/env bash
# Builds the libFuzzer targets with ASan/UBSan (clang) and runs each for a
# while. Usage: scripts/fuzz.sh [seconds per target, default 300]
# Seed corpora come from the golden checkpoints and configs when present and
# from a synthetic checkpoint written by beluga itself.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-300}"
build=build-fuzz
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DBELUGA_FUZZ=ON -DBELUGA_SANITIZE=ON \
  -DBELUGA_TESTS=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build" beluga safetensors_header_fuzz model_config_fuzz
golden="${BELUGA_GOLDEN_DIR:-../shared/golden}"
corpus=fuzz-corpus
mkdir -p "$corpus/safetensors" "$corpus/config"
"$build/daemon/beluga" model synth --config scripts/configs/v4-micro.config.json --out "$corpus/synth" --shards 2 >/dev/null
for f in "$corpus"/synth/*.safetensors; do
  cp "$f" "$corpus/safetensors/$(basename "$f")"   # small, valid files
done
for f in "$golden"/tiny-*/model.safetensors; do
  [ -f "$f" ] || continue
  # Larger files: seed with the header and a little data.
  head -c 65536 "$f" > "$corpus/safetensors/$(echo "$f" | tr '/' '_')"
done
for f in scripts/configs/*.json "$golden"/configs/*.json "$golden"/tiny-*/config.json; do
  [ -f "$f" ] && cp "$f" "$corpus/config/$(echo "$f" | tr '/' '_')"
done
export ASAN_OPTIONS=detect_leaks=1
"$build/tests/fuzz/safetensors_header_fuzz" -max_total_time="$seconds" -max_len=262144 -rss_limit_mb=4096 \
  -print_final_stats=1 "$corpus/safetensors"
"$build/tests/fuzz/model_config_fuzz" -max_total_time="$seconds" -max_len=16384 -rss_limit_mb=4096 \
  -print_final_stats=1 "$corpus/config"
