#!/usr/bin/env bash
# CI packaging stage (called by .ci/run after the test suites): builds the Release .deb with
# tests off, validates and lints it, installs it into this machine with apt, smoke-tests the
# installed /usr/bin/loopdeck (--version, man page, `serve` answering /health and stopping
# cleanly on SIGTERM), removes it again, and compiles the headless build (-DLOOPDECK_GUI=OFF)
# once with Qt Widgets/Charts/Svg/Gui declared unavailable (its loopdeck-headless .deb is
# built and linted, not installed). Needs root (or sudo) for apt.
#   scripts/package-check.sh
# Environment: LOOPDECK_BUILD_LOCK=/path/to/lockfile runs the compiles under flock (shared
# machines); CMAKE_CXX_COMPILER_LAUNCHER=ccache is honoured by CMake itself.
set -euo pipefail
cd "$(dirname "$0")/.."

PKG_DIR=build/package
HEADLESS_DIR=build/headless
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
lock=()
if [ -n "${LOOPDECK_BUILD_LOCK:-}" ]; then lock=(flock "$LOOPDECK_BUILD_LOCK"); fi

t_start=$SECONDS
t_last=$SECONDS
timings=()
step() { # step "name": prints a banner and records how long the previous step took
  if [ -n "${current:-}" ]; then timings+=("$(printf '%5ds  %s' $((SECONDS - t_last)) "$current")"); fi
  current=$1
  t_last=$SECONDS
  echo "== package-check: $1"
}
fail() { echo "package-check: FAILED: $*" >&2; exit 1; }
# On any exit: stop a serve still running, remove the package if this script installed it.
content=""
serve_pid=""
installed=0
cleanup() {
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null || true
  [ -n "$content" ] && rm -rf "$content"
  if [ $installed = 1 ] && dpkg-query -W -f='${Status}' loopdeck 2>/dev/null | grep -q "install ok installed"; then
    echo "package-check: removing the loopdeck package it installed" >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get remove -y -q loopdeck >/dev/null || true
  fi
}
trap cleanup EXIT

if dpkg-query -W -f='${Status}' loopdeck 2>/dev/null | grep -q "install ok installed"; then
  fail "a loopdeck package is already installed here; remove it first (this check installs and removes its own)"
fi

step "tools (scripts/deps.sh --package)"
scripts/deps.sh --package

step "icons: committed PNGs match the SVG"
scripts/render-icons.sh --check

step "Release .deb build (LOOPDECK_BUILD_TESTS=OFF, Debian hardening flags)"
# Debian's hardening flags (fortify, stack protector, relro, bindnow) as a distribution build
# would set them; -g is left out because the package strips the binary anyway.
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cxxflags="$(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get CXXFLAGS | sed 's/\(^\| \)-g\( \|$\)/ /')"
cmake -S . -B "$PKG_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLOOPDECK_BUILD_TESTS=OFF \
  -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_CXX_FLAGS="$cxxflags" \
  -DCMAKE_EXE_LINKER_FLAGS="$(dpkg-buildflags --get LDFLAGS)" >/dev/null
"${lock[@]}" cmake --build "$PKG_DIR"
rm -f "$PKG_DIR"/loopdeck_*.deb
(cd "$PKG_DIR" && cpack -G DEB >/dev/null)
debs=("$PKG_DIR"/loopdeck_*.deb)
[ ${#debs[@]} = 1 ] && [ -f "${debs[0]}" ] || fail "cpack made no single loopdeck_*.deb in $PKG_DIR"
deb=${debs[0]}
dpkg-deb --info "$deb" | sed -n 's/^ \(Version\|Depends\|Recommends\):/  \1:/p'

step "desktop entry and AppStream metainfo inside the .deb"
content=$(mktemp -d)
dpkg-deb -x "$deb" "$content"
desktop-file-validate "$content/usr/share/applications/loopdeck.desktop"
appstreamcli validate --no-net "$content/usr/share/metainfo/io.github.loopdeck.LoopDeck.metainfo.xml"
for f in usr/bin/loopdeck usr/share/man/man1/loopdeck.1.gz usr/lib/systemd/user/loopdeck-serve.service \
         usr/share/doc/loopdeck/copyright usr/share/icons/hicolor/scalable/apps/loopdeck.svg \
         usr/share/icons/hicolor/{48x48,128x128,256x256}/apps/loopdeck.png; do
  [ -f "$content/$f" ] || fail "the .deb lacks /$f"
done

step "lintian (fails on errors; warnings are listed in packaging/README.md)"
lint_status=0
lint=$(lintian --fail-on error "$deb" 2>&1) || lint_status=$?
grep -v "running with root privileges" <<<"$lint" | sed 's/^/  /' || true
[ "$lint_status" = 0 ] || fail "lintian reports errors for $deb (status $lint_status)"

step "apt-get install ./$deb"
installed=1
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "./$deb" >/dev/null
[ -x /usr/bin/loopdeck ] || fail "/usr/bin/loopdeck is missing after installing the package"

step "installed binary: --version, --help, man page"
want="loopdeck $(dpkg-deb -f "$deb" Version | sed 's/-[^-]*$//')"
got=$(/usr/bin/loopdeck --version)
[ "$got" = "$want" ] || fail "loopdeck --version printed '$got', expected '$want'"
echo "  $got"
/usr/bin/loopdeck --help | grep -q "loopdeck COMMAND --help" || fail "loopdeck --help does not print the usage"
man -w loopdeck >/dev/null || fail "man cannot find loopdeck(1)"
packaging/check-manpage.sh /usr/bin/loopdeck "$(man -w loopdeck)"
if command -v systemd-analyze >/dev/null; then
  # Checked as a unit file (ExecStart= exists, Documentation= resolves); no user manager needed.
  systemd-analyze verify /usr/lib/systemd/user/loopdeck-serve.service || fail "systemd-analyze rejects the user unit"
  echo "  systemd-analyze verify: loopdeck-serve.service OK"
fi

step "installed binary: headless serve smoke test (port 0, temp data dir, SIGTERM)"
data=$(mktemp -d)
log=$(mktemp)
env -u DISPLAY -u WAYLAND_DISPLAY /usr/bin/loopdeck serve --port 0 --data-dir "$data" 2>"$log" &
pid=$!
serve_pid=$pid
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$log" | head -n1)
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; fail "loopdeck serve exited before listening"; }
  sleep 0.2
done
[ -n "$port" ] || { kill "$pid"; cat "$log" >&2; fail "loopdeck serve did not report its port within 20 s"; }
health=$(curl -fsS --max-time 5 "http://127.0.0.1:$port/health") || { kill "$pid"; cat "$log" >&2; fail "GET /health failed"; }
echo "  GET http://127.0.0.1:$port/health -> $health"
grep -q '"status"' <<<"$health" || { kill "$pid"; fail "/health answered without a status: $health"; }
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
serve_pid=""
[ "$status" = 0 ] || { cat "$log" >&2; fail "loopdeck serve exited with status $status after SIGTERM (expected 0)"; }
sed 's/^/  serve: /' "$log"
rm -rf "$data" "$log"

step "apt-get remove loopdeck"
DEBIAN_FRONTEND=noninteractive $SUDO apt-get remove -y -q loopdeck >/dev/null
[ ! -e /usr/bin/loopdeck ] || fail "/usr/bin/loopdeck is still there after apt-get remove"
! dpkg-query -W -f='${Status}' loopdeck 2>/dev/null | grep -q "install ok installed" || fail "dpkg still lists loopdeck as installed"
for f in $(cd "$content" && find . -type f | sed 's|^\.||'); do
  [ ! -e "$f" ] || fail "$f is left behind after apt-get remove"
done

step "headless build (-DLOOPDECK_GUI=OFF, compile only, without Qt Widgets/Charts/Svg/Gui)"
cmake -S . -B "$HEADLESS_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLOOPDECK_GUI=OFF -DLOOPDECK_BUILD_TESTS=OFF \
  -DCMAKE_DISABLE_FIND_PACKAGE_Qt6Widgets=ON -DCMAKE_DISABLE_FIND_PACKAGE_Qt6Charts=ON \
  -DCMAKE_DISABLE_FIND_PACKAGE_Qt6Svg=ON -DCMAKE_DISABLE_FIND_PACKAGE_Qt6Gui=ON \
  -DCMAKE_DISABLE_FIND_PACKAGE_Qt6LinguistTools=ON --no-warn-unused-cli >/dev/null
"${lock[@]}" cmake --build "$HEADLESS_DIR"
if ldd "$HEADLESS_DIR/app/loopdeck" | grep -E "libQt6(Widgets|Gui|Charts|Svg)"; then
  fail "the headless loopdeck links Qt GUI libraries"
fi
"$HEADLESS_DIR/app/loopdeck" | grep -q "headless build" || fail "the headless loopdeck without a command does not print its help"
# Its package (loopdeck-headless, for servers) is built and linted too, not installed.
rm -f "$HEADLESS_DIR"/loopdeck-headless_*.deb
(cd "$HEADLESS_DIR" && cpack -G DEB >/dev/null)
lint_status=0
lint=$(lintian --fail-on error "$HEADLESS_DIR"/loopdeck-headless_*.deb 2>&1) || lint_status=$?
grep -v "running with root privileges" <<<"$lint" | sed 's/^/  /' || true
[ "$lint_status" = 0 ] || fail "lintian reports errors for the loopdeck-headless package"
dpkg-deb -f "$HEADLESS_DIR"/loopdeck-headless_*.deb Depends | grep -qE "libqt6(widgets|gui|charts|svg)" \
  && fail "loopdeck-headless depends on Qt GUI libraries"
echo "  $(basename "$HEADLESS_DIR"/loopdeck-headless_*.deb): lintian clean, no Qt GUI dependencies"

step "done"
echo "package-check: OK in $((SECONDS - t_start)) s"
printf '%s\n' "${timings[@]}"
