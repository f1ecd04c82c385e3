#!/usr/bin/env bash
# Index speed of `beluga index` against `ctags -R` (Debian universal-ctags)
# on the same tree in the same run, and the time to bring the index up to
# date after one file changes. The tree is any checkout you point it at
# (fetch a large repository for this; never commit it), e.g.
#   bench/index_bench.sh /tmp/redis
#   BENCH_RUNS=5 bench/index_bench.sh /tmp/redis   # medians of 5 runs each
# Needs a built beluga (scripts/build.sh; BELUGA_BUILD_DIR picks another
# build folder) and ctags on PATH (apt-get install universal-ctags).
# The index goes to a scratch cache folder, so each full run is a full index.
# With BENCH_RUNS=N every figure is the median of N runs (full index and
# ctags alternate, so a machine whose speed drifts slows both alike).
set -euo pipefail
tree="${1:?usage: bench/index_bench.sh TREE}"
runs="${BENCH_RUNS:-1}"
cd "$(dirname "$0")/.."
beluga="$PWD/${BELUGA_BUILD_DIR:-build}/daemon/beluga"
command -v ctags > /dev/null || { echo "index_bench: ctags not found (apt-get install universal-ctags)" >&2; exit 1; }
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
export XDG_CACHE_HOME="$scratch/cache"

seconds() {  # runs "$@" quietly, prints its wall time in seconds
  local start end
  start=$(date +%s.%N)
  "$@" > /dev/null 2>&1
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}
# Runs "$@" quietly; prints its wall time and the CPU time (user + system,
# all threads; from the shell's `times`, 10 ms resolution) in seconds. On a
# shared machine the CPU time is the steadier figure.
wall_and_cpu() {
  (
    start=$(date +%s.%N)
    "$@" > /dev/null 2>&1
    end=$(date +%s.%N)
    echo "$start $end"
    times  # the subshell's own times, then its children's: the command's
  ) | awk 'function s(t) { sub(/s$/, "", t); split(t, p, "m"); return p[1] * 60 + p[2] }
           NR == 1 { wall = $2 - $1 } END { printf "%.3f %.3f\n", wall, s($1) + s($2) }'
}
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

fulls=() ctagss=()
for ((i = 0; i < runs; i++)); do
  rm -rf "$XDG_CACHE_HOME"
  fulls+=("$(wall_and_cpu "$beluga" index "$tree")")
  ctagss+=("$(wall_and_cpu ctags -R -f "$scratch/tags" "$tree")")
done
full=$(printf '%s\n' "${fulls[@]}" | cut -d' ' -f1 | median)
full_cpu=$(printf '%s\n' "${fulls[@]}" | cut -d' ' -f2 | median)
ctags_time=$(printf '%s\n' "${ctagss[@]}" | cut -d' ' -f1 | median)
ctags_cpu=$(printf '%s\n' "${ctagss[@]}" | cut -d' ' -f2 | median)
"$beluga" index "$tree" | sed -n '1,6p'
# One file changes: append a comment to the first C/C++/Python source found,
# re-index, then restore it (and re-index again so the tree's index matches).
file=$(cd "$tree" && git ls-files '*.c' '*.cc' '*.cpp' '*.py' | awk 'NR == 1')
cp "$tree/$file" "$scratch/saved"
incrementals=() unchangeds=()
for ((i = 0; i < runs; i++)); do
  echo "/* index_bench $i */" >> "$tree/$file"
  incrementals+=("$(seconds "$beluga" index "$tree")")
  cp "$scratch/saved" "$tree/$file"
  "$beluga" index "$tree" > /dev/null 2>&1
done
# Nothing changed: past git's 2 s racy window for the restored file, as an
# editor's next save would be.
sleep 2.1
"$beluga" index "$tree" > /dev/null 2>&1
for ((i = 0; i < runs; i++)); do unchangeds+=("$(seconds "$beluga" index "$tree")"); done
incremental=$(printf '%s\n' "${incrementals[@]}" | median)
unchanged=$(printf '%s\n' "${unchangeds[@]}" | median)
of=""; [ "$runs" -gt 1 ] && of=" (medians of $runs runs)"
printf 'full index   %.2f s   (ctags -R %.2f s)   ratio %.2f (target <= 1.0)%s\n' "$full" "$ctags_time" \
  "$(echo "$full / $ctags_time" | bc -l)" "$of"
printf 'full index CPU (user + sys)   %.2f s   (ctags -R %.2f s)   ratio %.2f; %d cores\n' "$full_cpu" "$ctags_cpu" \
  "$(echo "$full_cpu / $ctags_cpu" | bc -l)" "$(nproc)"
printf 'one file changed (%s): %.0f ms (target <= 20 ms); nothing changed: %.0f ms\n' "$file" \
  "$(echo "$incremental * 1000" | bc -l)" "$(echo "$unchanged * 1000" | bc -l)"
