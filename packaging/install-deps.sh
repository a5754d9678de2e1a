#!/usr/bin/env bash
# Installs the Debian packages Podscape needs to build, test and run — only those missing.
# Idempotent: does nothing (and never touches the network) when everything is present.
# Usage: packaging/install-deps.sh [--dev]   (--dev adds clang/libFuzzer and sanitizer runtimes)
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build pkg-config
  # Qt 6 (Widgets, Test are in qt6-base-dev) and friends
  qt6-base-dev qt6-base-dev-tools qt6-charts-dev qt6-svg-dev qt6-websockets-dev
  libqscintilla2-qt6-dev libqt6opengl6-dev libgl-dev
  # core libraries
  libyaml-cpp-dev libcurl4-openssl-dev libboost-dev nlohmann-json3-dev
  libsqlite3-dev libssl-dev libvterm-dev zlib1g-dev
  # headless UI tests and end-to-end judges
  xvfb xauth fonts-dejavu-core python3-kubernetes
)
if [[ "${1:-}" == "--dev" ]]; then
  packages+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  # dpkg-query prints "install ok installed" only for a fully installed package.
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: missing: ${missing[*]}"
sudo_cmd=()
if [[ $EUID -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo_cmd=(sudo)
  else
    echo "install-deps: not root and no password-less sudo; install them as root with:" >&2
    echo "  apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
# Update the package lists only when they are absent or a candidate is unknown.
need_update=0
for p in "${missing[@]}"; do
  if ! apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [0-9]'; then need_update=1; break; fi
done
if ((need_update)); then
  echo "install-deps: apt-get update"
  "${sudo_cmd[@]}" apt-get update -qq
fi
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: installed ${#missing[@]} packages"
