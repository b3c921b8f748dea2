#!/usr/bin/env bash
# Installs what LoopDeck needs on Debian 12 / Ubuntu 24.04.
#   scripts/deps.sh          build and run dependencies (Debian packages)
#   scripts/deps.sh --demo   also a Python venv with Label Studio, for `loopdeck demo` / "Try the demo"
#   scripts/deps.sh --test   also the test dependencies (includes the venv of --demo)
#   scripts/deps.sh --package  also the packaging tools: dpkg-shlibdeps (dpkg-dev), lintian,
#                            desktop-file-validate, appstreamcli, rsvg-convert, icotool, man
# Flags combine: scripts/deps.sh --test --package.
# Idempotent: a second run installs nothing new. Uses sudo when not run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

LS_VERSION=1.23.2
LS_VENV=${LOOPDECK_LS_VENV:-$PWD/.venv-labelstudio}

want_test=0
want_package=0
want_venv=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1; want_venv=1 ;;
    --demo) want_venv=1 ;;
    --package) want_package=1 ;;
    *) echo "usage: scripts/deps.sh [--demo] [--test] [--package]" >&2; exit 2 ;;
  esac
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi

PACKAGES=(
  cmake ninja-build g++ pkg-config
  qt6-base-dev qt6-base-dev-tools libqt6opengl6-dev libxkbcommon-dev libgl-dev libvulkan-dev
  qt6-httpserver-dev qt6-websockets-dev qt6-charts-dev qt6-svg-dev
  qt6-tools-dev qt6-tools-dev-tools qt6-l10n-tools qt6-translations-l10n
  libqt6sql6-sqlite libqt6sql6-psql qt6-qpa-plugins
  qtkeychain-qt6-dev nlohmann-json3-dev
  fonts-noto-cjk fonts-dejavu-core
)
if [ $want_venv = 1 ]; then
  PACKAGES+=(python3 python3-venv python3-dev)
fi
if [ $want_test = 1 ]; then
  PACKAGES+=(python3-sklearn python3-matplotlib wrk curl chromium clang libclang-rt-14-dev nginx openssl)
  # tests/deploy: haproxy -c on the example config; a venv for the pinned Kubernetes schema validator
  PACKAGES+=(haproxy python3-venv)
  # tests/replicas: a throwaway PostgreSQL and psql
  PACKAGES+=(postgresql postgresql-client)
fi
if [ $want_package = 1 ]; then
  PACKAGES+=(dpkg-dev file lintian desktop-file-utils appstream librsvg2-bin icoutils man-db curl)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ $want_venv = 1 ]; then
  PY=/usr/bin/python3
  [ -x "$PY" ] || PY=$(command -v python3)
  have=$("$LS_VENV/bin/pip" show label-studio 2>/dev/null | sed -n 's/^Version: //p' || true)
  if [ "$have" != "$LS_VERSION" ]; then
    echo "deps: creating $LS_VENV with label-studio==$LS_VERSION"
    "$PY" -m venv "$LS_VENV"
    "$LS_VENV/bin/pip" install -q --upgrade pip
    "$LS_VENV/bin/pip" install -q "label-studio==$LS_VERSION"
  fi
fi
