#!/usr/bin/env bash
# Installs everything beluga's build and tests need on Debian 12 (bookworm).
# Idempotent: packages already present are not reinstalled, and apt's lists
# are refreshed only when something is missing. Run as root (or with sudo).
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config   # toolchain
  catch2                             # tests (Catch2 2.13)
  nlohmann-json3-dev                 # JSON: configs, safetensors headers, protocols
  libcli11-dev                       # command line
  libboost-dev libboost-filesystem-dev  # shell tool (Boost.Process v1 needs filesystem)
  libgit2-dev                        # git tools and checkpoints
)

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
