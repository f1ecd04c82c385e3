#!/usr/bin/env bash
# CTest driver for plugins/vscode (tests/CMakeLists.txt):
#   vscode_test.sh unit             tsc build, then the node --test unit tests
#   vscode_test.sh package OUT.vsix  vsce package into OUT.vsix and check its contents
#   vscode_test.sh server BELUGA_BIN the pure logic against the real `beluga lsp`
#                                    (out/test/server.test.js, skipped by plain npm test)
# The npm dependencies come from scripts/setup.sh (npm ci); without them this
# fails with that hint rather than skipping.
set -euo pipefail
cd "$(dirname "$0")/../../plugins/vscode"
if [ ! -d node_modules/vscode-languageclient ] || [ ! -x node_modules/.bin/tsc ]; then
  echo "plugins/vscode/node_modules is missing: run scripts/setup.sh (npm ci in plugins/vscode)" >&2
  exit 1
fi
case "${1:-}" in
  unit)
    npm run --silent build
    npm test
    ;;
  server)
    bin="${2:?vscode_test.sh server BELUGA_BIN}"
    [ -x "$bin" ] || { echo "no beluga binary at $bin" >&2; exit 1; }
    npm run --silent build
    BELUGA_BIN="$bin" node --test out/test/server.test.js
    ;;
  package)
    out="${2:?vscode_test.sh package OUT.vsix}"
    # @vscode/vsce 3 needs Node 20 (its glob dependency); Debian 12's own
    # nodejs is 18. Exit 77 is this test's SKIP_RETURN_CODE.
    major="$(node -p 'process.versions.node.split(".")[0]')"
    if [ "$major" -lt 20 ]; then
      echo "skipped: vsce needs Node >= 20, this is Node $(node --version)"
      exit 77
    fi
    rm -f "$out"
    node_modules/.bin/vsce package --allow-missing-repository --skip-license -o "$out"
    listing="$(node_modules/.bin/vsce ls)"
    for f in out/extension.js out/chatView.js out/lib/transcript.js media/chat.js package.json \
             node_modules/vscode-languageclient/package.json; do
      grep -qx "$f" <<<"$listing" || { echo "the package lacks $f" >&2; exit 1; }
    done
    if grep -q -e '^src/' -e '^out/test/' -e '^node_modules/@vscode/vsce/' -e '^node_modules/typescript/' <<<"$listing"; then
      echo "the package holds sources, tests or dev dependencies:" >&2
      grep -e '^src/' -e '^out/test/' -e '^node_modules/@vscode/vsce/' -e '^node_modules/typescript/' <<<"$listing" | head >&2
      exit 1
    fi
    test -s "$out"
    echo "packaged $out ($(wc -c <"$out") bytes)"
    ;;
  *)
    echo "usage: vscode_test.sh unit | server BELUGA_BIN | package OUT.vsix" >&2
    exit 2
    ;;
esac
