#!/usr/bin/env bash
# CTest driver for the official-SDK test (tests/CMakeLists.txt):
#   sdk_test.sh BELUGA_BIN
# starts `BELUGA_BIN daemon start --http 127.0.0.1:0` on the replay model
# replay.jsonl with a bearer token, in private XDG folders, reads the
# address it bound from `daemon status --json`, runs sdk_test.mjs (the
# `openai` and `@anthropic-ai/sdk` packages from npm ci, scripts/setup.sh)
# against it, and stops the daemon whatever happens.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:?sdk_test.sh BELUGA_BIN}"
[ -x "$bin" ] || { echo "no beluga binary at $bin" >&2; exit 1; }
command -v node >/dev/null || { echo "node is missing: run scripts/setup.sh" >&2; exit 1; }
[ -d "$here/node_modules/openai" ] && [ -d "$here/node_modules/@anthropic-ai/sdk" ] ||
  { echo "the SDKs are missing: run scripts/setup.sh (npm ci in tests/http-clients)" >&2; exit 1; }


home="$(mktemp -d "${TMPDIR:-/tmp}/beluga-sdk-test.XXXXXX")"
export HOME="$home" XDG_RUNTIME_DIR="$home/run" XDG_STATE_HOME="$home/state" XDG_DATA_HOME="$home/data" \
       XDG_CONFIG_HOME="$home/config" XDG_CACHE_HOME="$home/cache"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
cleanup() {
  local status=$?
  "$bin" daemon stop >/dev/null 2>&1 || true
  if [ "$status" -ne 0 ]; then
    # The daemon's side of a failure.
    find "$home" -name '*.log' -type f 2>/dev/null | while read -r log; do
      echo "---- $log (last 40 lines)" >&2
      tail -n 40 "$log" >&2
    done
  fi
  rm -rf "$home"
}
trap cleanup EXIT

export BELUGA_HTTP_TOKEN="sdk-test-token"
"$bin" daemon start --model "replay:$here/replay.jsonl" --http 127.0.0.1:0

# The address the daemon bound (port 0: the kernel chose one).
address=""
for _ in $(seq 1 100); do
  status="$("$bin" daemon status --json 2>/dev/null || true)"
  address="$(printf '%s' "$status" | node -e '
    let text = ""; process.stdin.on("data", (d) => { text += d; });
    process.stdin.on("end", () => {
      try { const s = JSON.parse(text); process.stdout.write((s.http && s.http.address) || ""); } catch { }
    });')"
  [ -n "$address" ] && break
  sleep 0.2
done
if [ -z "$address" ]; then
  echo "the daemon reported no HTTP address; its status was: ${status:-none}" >&2
  exit 1
fi
echo "sdk_test: beluga serves on $address"
cd "$here"
node sdk_test.mjs "http://$address" "$BELUGA_HTTP_TOKEN"
