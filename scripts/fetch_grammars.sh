#!/usr/bin/env bash
# Fetches the tree-sitter grammars pinned in indexer/grammars.lock into
# grammars/ (ignored by git): one folder per package, unpacked from
# `npm pack NAME@VERSION`, after checking the tarball against the lock's
# sha512 integrity. Idempotent: a grammar whose folder already carries the
# pinned version and integrity is left alone. Needs npm (scripts/setup.sh
# installs it); nothing is fetched at build or run time.
#
# Also pinned there: the tree-sitter C runtime (npm package tree-sitter,
# whose vendor/tree-sitter/lib is the C core), built into beluga by
# indexer/CMakeLists.txt. The grammars are ABI 14 (chosen when beluga used
# Debian 12's libtree-sitter 0.20.7, which loads ABI 13-14); the pinned
# runtime loads ABI 13-15.
set -euo pipefail
cd "$(dirname "$0")/.."
lock="indexer/grammars.lock"
dest="${BELUGA_GRAMMARS_DIR:-grammars}"
mkdir -p "$dest"
need_npm() {
  command -v npm >/dev/null 2>&1 && return 0
  echo "fetch_grammars: npm is needed to fetch $1 (scripts/setup.sh installs it)" >&2
  exit 1
}

fetched=0
while read -r name version integrity; do
  [ -z "$name" ] && continue
  case "$name" in \#*) continue ;; esac
  folder="$dest/$name"
  stamp="$name $version $integrity"
  if [ -f "$folder/.beluga-pinned" ] && [ "$(cat "$folder/.beluga-pinned")" = "$stamp" ]; then
    continue
  fi
  need_npm "$name@$version"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "$name@$version" >/dev/null)
  tarball="$(ls "$work"/*.tgz)"
  # The lock's integrity is "sha512-" + base64 of the digest; compare in hex
  # with coreutils only (no openssl on a bare machine).
  want="$(printf '%s' "${integrity#sha512-}" | base64 -d | od -An -v -tx1 | tr -d ' \n')"
  got="$(sha512sum "$tarball" | cut -d' ' -f1)"
  if [ "$want" != "$got" ]; then
    echo "fetch_grammars: $name@$version does not match the sha512 in $lock" >&2
    exit 1
  fi
  rm -rf "$folder"
  mkdir -p "$work/unpacked"
  tar -xzf "$tarball" -C "$work/unpacked"
  mv "$work/unpacked/package" "$folder"
  printf '%s' "$stamp" > "$folder/.beluga-pinned"
  rm -rf "$work"
  trap - EXIT
  fetched=$((fetched + 1))
done < "$lock"
echo "fetch_grammars: $fetched fetched, grammars in $dest"
