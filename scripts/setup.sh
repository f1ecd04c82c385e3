#!/usr/bin/env bash
# Installs everything beluga's build and tests need on Debian 12 (bookworm),
# then fetches the tree-sitter grammars pinned in indexer/grammars.lock
# (scripts/fetch_grammars.sh, into the ignored grammars/ folder).
# Idempotent: packages already present are not reinstalled, apt's lists are
# refreshed only when something is missing, and grammars already unpacked
# at their pinned version are kept. Run as root (or with sudo).
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config   # toolchain
  catch2                             # tests (Catch2 2.13)
  nlohmann-json3-dev                 # JSON: configs, safetensors headers, protocols
  libcli11-dev                       # command line
  libboost-dev libboost-filesystem-dev  # shell tool (Boost.Process v1 needs filesystem)
  libgit2-dev                        # git tools and checkpoints
  libsqlite3-dev                     # indexer: index store (FTS5); tree-sitter is built in (fetch_grammars.sh)
  libtomlplusplus-dev                # agent: config.toml (agent/agent_config.cpp)
  libedit-dev                        # beluga chat: line editing (BSD licence, unlike readline)
  libssl-dev ca-certificates         # tools/http: https to remote model servers (OpenSSL, the system's CAs)
  openssl                            # tests: a self-signed certificate for the https refusal test
)
# npm fetches the pinned grammars (npm pack; never used at run time). A
# machine that already has an npm (e.g. NodeSource's nodejs) keeps it:
# Debian's npm package would conflict with it.
if ! command -v npm >/dev/null 2>&1; then packages+=(npm); fi
# universal-ctags is not needed: it is only an indexing-speed reference for
# a later benchmark.

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all ${#packages[@]} packages present"
fi

bash "$(dirname "$0")/fetch_grammars.sh"

# ---- MCP test servers (issue 13; keep this block separate for merges) ----
# The reference MCP servers the MCP client's tests run against
# (@modelcontextprotocol/server-memory and server-filesystem, pinned in
# tests/mcp-servers/package-lock.json; node >= 18, Debian 12 has 18.19).
# `npm ci` runs only when node_modules is missing or the lock file changed
# since the last install (a stamp holds its hash), so a second run is
# offline. The tests warn and skip when these are absent.
mcp_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/mcp-servers"
mcp_stamp="$mcp_dir/node_modules/.beluga-lock-sha256"
mcp_hash="$(sha256sum "$mcp_dir/package-lock.json" | cut -d' ' -f1)"
if [ -f "$mcp_stamp" ] && [ "$(cat "$mcp_stamp")" = "$mcp_hash" ]; then
  echo "setup: MCP test servers present"
else
  echo "setup: installing the MCP test servers (npm ci in tests/mcp-servers)"
  (cd "$mcp_dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$mcp_hash" > "$mcp_stamp"
fi
# ---- end of MCP test servers ----

# ---- HTTP client SDKs (issue 12; keep this block separate for merges) ----
# The official `openai` and `@anthropic-ai/sdk` packages, pinned in
# tests/http-clients/package-lock.json, that tests/http-clients/sdk_test.mjs
# drives against `beluga daemon --http`. Same stamp rule as above: npm ci
# only when node_modules is missing or the lock changed.
sdk_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/http-clients"
sdk_stamp="$sdk_dir/node_modules/.beluga-lock-sha256"
sdk_hash="$(sha256sum "$sdk_dir/package-lock.json" | cut -d' ' -f1)"
if [ -f "$sdk_stamp" ] && [ "$(cat "$sdk_stamp")" = "$sdk_hash" ]; then
  echo "setup: HTTP client SDKs present"
else
  echo "setup: installing the HTTP client SDKs (npm ci in tests/http-clients)"
  (cd "$sdk_dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$sdk_hash" > "$sdk_stamp"
fi
# ---- end of HTTP client SDKs ----

# --- plugins: editor plugins (plugins/vscode, plugins/nvim) -----------------
# Neovim for the headless plugin test (Debian 12 ships 0.7.2), and the VS Code
# extension's pinned npm packages (plugins/vscode/package-lock.json). npm ci
# runs only when the lock changed since the last install (stamp in
# node_modules), so a second setup is quick.
if ! dpkg-query -W -f='${Status}' neovim 2>/dev/null | grep -q "install ok installed"; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "setup: installing neovim"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends neovim
fi
vscode_dir="$(cd "$(dirname "$0")/.." && pwd)/plugins/vscode"
vscode_stamp="$vscode_dir/node_modules/.beluga-lock.sha256"
vscode_lock_sha="$(sha256sum "$vscode_dir/package-lock.json" | cut -d' ' -f1)"
if [ -f "$vscode_stamp" ] && [ "$(cat "$vscode_stamp")" = "$vscode_lock_sha" ]; then
  echo "setup: plugins/vscode node_modules current"
else
  echo "setup: npm ci in plugins/vscode"
  (cd "$vscode_dir" && npm ci --no-audit --no-fund)
  echo "$vscode_lock_sha" >"$vscode_stamp"
fi
# --- end plugins -------------------------------------------------------------
