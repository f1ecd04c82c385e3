#!/usr/bin/env bash
# Per-turn overhead of the agent loop outside the model: render + parse +
# permission + checkpoint (+ the session store's writes), from the `done`
# event's timings_ms, on a repository of at least 1,000 files. The model is
# the replay provider (no model time), the task a five-step turn: read, edit
# two files, run a shell command, answer. The reference measured in the same
# run is `git status --porcelain` on the same tree (what any agent needs to
# know what changed), so the ratio says what the loop costs in those units.
#   bench/agent_overhead.sh [TREE]   # TREE: a git checkout to copy; default:
#                                    # this repository's sources, copied until
#                                    # the tree holds >= 1,000 files
# Needs a built beluga (scripts/build.sh; BELUGA_BUILD_DIR picks another
# build folder), git, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
src="$PWD"
beluga="$PWD/${BELUGA_BUILD_DIR:-build}/daemon/beluga"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
export XDG_DATA_HOME="$scratch/data" XDG_CONFIG_HOME="$scratch/config" XDG_CACHE_HOME="$scratch/cache"
ws="$scratch/ws"
mkdir -p "$ws"
if [ $# -ge 1 ]; then
  cp -r "$1/." "$ws/" && rm -rf "$ws/.git"
else
  copy=0
  while [ "$(find "$ws" -type f | wc -l)" -lt 1000 ]; do
    copy=$((copy + 1))
    mkdir -p "$ws/copy$copy"
    (cd "$src" && git ls-files agent engine tools indexer daemon tests docs scripts | grep -v '^grammars/' |
      while read -r f; do mkdir -p "$ws/copy$copy/$(dirname "$f")"; cp "$f" "$ws/copy$copy/$f"; done)
  done
fi
printf 'first line\n' > "$ws/bench_a.txt"
printf 'second line\n' > "$ws/bench_b.txt"
(cd "$ws" && git init -q -b main && git add -A && git -c user.name=bench -c user.email=bench@localhost commit -qm tree)
files=$(cd "$ws" && git ls-files | wc -l)

python3 - "$scratch/replay.jsonl" <<'PY'
import json, sys
def call(tool, params):
    s = '<｜DSML｜invoke name="%s">\n' % tool
    for k, v in params:
        s += '<｜DSML｜parameter name="%s" string="true">%s</｜DSML｜parameter>\n' % (k, v)
    return s + '</｜DSML｜invoke>\n'
def comp(reasoning, answer, calls=()):
    s = reasoning + '</think>' + answer
    if calls:
        s += '\n\n<｜DSML｜tool_calls>\n' + ''.join(calls) + '</｜DSML｜tool_calls>'
    return s
steps = [comp('Read the first file.', '', [call('read', [('path', 'bench_a.txt')])]),
         comp('Edit both files.', 'Editing.', [call('edit', [('path', 'bench_a.txt'), ('old', 'first'), ('new', '1st')]),
                                              call('edit', [('path', 'bench_b.txt'), ('old', 'second'), ('new', '2nd')])]),
         comp('Check.', '', [call('shell', [('command', 'cat bench_a.txt bench_b.txt')])]),
         comp('List.', '', [call('git_status', [])]),
         comp('Done.', 'Both files changed.')]
with open(sys.argv[1], 'w') as f:
    for s in steps:
        f.write(json.dumps({'completion': s}) + '\n')
PY

turns=5
total=0
for i in $(seq 1 $turns); do
  (cd "$ws" && git checkout -q -- bench_a.txt bench_b.txt)
  "$beluga" run "change both files" --model "replay:$scratch/replay.jsonl" --workspace "$ws" --mode yolo --json \
    > "$scratch/run$i.jsonl"
  tail -n 1 "$scratch/run$i.jsonl" > "$scratch/done$i.json"
done
start=$(date +%s.%N)
for i in $(seq 1 10); do (cd "$ws" && git status --porcelain > /dev/null); done
status_ms=$(echo "($(date +%s.%N) - $start) * 100" | bc -l)

python3 - "$scratch" "$turns" "$files" "$status_ms" <<'PY'
import json, sys, statistics
scratch, turns, files, status_ms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
keys = ['render', 'parse', 'permission', 'checkpoint', 'store']
rows = [json.load(open(f'{scratch}/done{i}.json')) for i in range(1, turns + 1)]
for r in rows:
    assert r['stop_reason'] == 'completed', r
med = {k: statistics.median(r['timings_ms'][k] for r in rows) for k in keys + ['tools']}
overhead = sum(med[k] for k in keys)
steps = rows[0]['steps']
print(f'repository: {files} files; turn: {steps} model calls, 5 tool calls; median of {turns} turns')
for k in keys:
    print(f'  {k:<11} {med[k]:8.2f} ms per turn')
print(f'  (tools      {med["tools"]:8.2f} ms per turn: the tools themselves, not overhead)')
print(f'overhead outside the model: {overhead:.2f} ms per turn, {overhead / steps:.2f} ms per step')
print(f'reference: git status --porcelain {status_ms:.2f} ms; overhead per turn / git status = {overhead / status_ms:.2f}')
PY
