#!/usr/bin/env bash
# Index speed of `beluga index` against `ctags -R` (Debian universal-ctags)
# on the same tree in the same run, and the time to bring the index up to
# date after one file changes. The tree is any checkout you point it at
# (fetch a large repository for this; never commit it), e.g.
#   bench/index_bench.sh /tmp/redis
# Needs a built beluga (scripts/build.sh; BELUGA_BUILD_DIR picks another
# build folder) and ctags on PATH (apt-get install universal-ctags).
# The index goes to a scratch cache folder, so the first run is a full index.
set -euo pipefail
tree="${1:?usage: bench/index_bench.sh TREE}"
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

full=$(seconds "$beluga" index "$tree")
ctags_time=$(seconds ctags -R -f "$scratch/tags" "$tree")
"$beluga" index "$tree" | sed -n '1,6p'
# One file changes: append a comment to the first C/C++/Python source found,
# re-index, then restore it (and re-index again so the tree's index matches).
file=$(cd "$tree" && git ls-files '*.c' '*.cc' '*.cpp' '*.py' | awk 'NR == 1')
cp "$tree/$file" "$scratch/saved"
echo "/* index_bench */" >> "$tree/$file"
incremental=$(seconds "$beluga" index "$tree")
cp "$scratch/saved" "$tree/$file"
unchanged=$(seconds "$beluga" index "$tree")
printf 'full index   %.2f s   (ctags -R %.2f s)   ratio %.2f (target <= 1.0)\n' "$full" "$ctags_time" \
  "$(echo "$full / $ctags_time" | bc -l)"
printf 'one file changed (%s): %.0f ms (target <= 20 ms); nothing changed: %.0f ms\n' "$file" \
  "$(echo "$incremental * 1000" | bc -l)" "$(echo "$unchanged * 1000" | bc -l)"
