#!/usr/bin/env bash
# CTest driver for plugins/nvim (tests/CMakeLists.txt):
#   nvim_test.sh unit          the pure Lua modules in nvim --headless
#   nvim_test.sh BELUGA_BIN    the plugin against `BELUGA_BIN lsp` with a
#                              replayed model, in private XDG folders; the
#                              daemon the server starts is stopped at the end
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
command -v nvim >/dev/null || { echo "nvim is missing: run scripts/setup.sh (Debian's neovim)" >&2; exit 1; }
nvim_run() {
  nvim --headless -u NONE -i NONE -n --cmd "set rtp^=$root/plugins/nvim" -c "luafile $1" </dev/null
}
if [ "${1:-}" = unit ]; then
  nvim_run "$root/tests/plugins/nvim_unit_test.lua"
  exit
fi
bin="${1:?nvim_test.sh unit | BELUGA_BIN}"
[ -x "$bin" ] || { echo "no beluga binary at $bin" >&2; exit 1; }

home="$(mktemp -d "${TMPDIR:-/tmp}/beluga-nvim-test.XXXXXX")"
export HOME="$home" XDG_RUNTIME_DIR="$home/run" XDG_STATE_HOME="$home/state" XDG_DATA_HOME="$home/data" \
       XDG_CONFIG_HOME="$home/config" XDG_CACHE_HOME="$home/cache"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
cleanup() {
  "$bin" daemon stop >/dev/null 2>&1 || true
  rm -rf "$home"
}
trap cleanup EXIT

export BELUGA_BIN="$bin" BELUGA_MODEL="$home/model.jsonl" BELUGA_WORKSPACE="$home/work"
printf '%s\n' '{"completion": "Greeting.</think>Hello from the replay."}' \
              '{"completion": "Reading.</think>It adds a and b."}' \
              '{"completion": "Thinking.</think>Because b is the second addend."}' >"$BELUGA_MODEL"
mkdir -p "$BELUGA_WORKSPACE"
printf 'def add(a, b):\n    return a + bb\n\nprint(add(1, 2))\n' >"$BELUGA_WORKSPACE/calc.py"
cd "$BELUGA_WORKSPACE"
nvim_run "$root/tests/plugins/nvim_test.lua"
