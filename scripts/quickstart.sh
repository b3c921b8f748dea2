#!/usr/bin/env bash
# LoopDeck's two quick-start commands (see README.md):
#   scripts/quickstart.sh app    install what the app needs (and a Label Studio venv for the demo),
#                                build (release) and start it
#   scripts/quickstart.sh test   install what the tests need (incl. a Label Studio venv),
#                                build with Address/UB sanitizers and run every test suite
# Extra arguments after `app` go to loopdeck (e.g. `scripts/quickstart.sh app demo` or
# `scripts/quickstart.sh app serve --port 9090`).
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:-}
shift || true
case "$what" in
  app)
    scripts/deps.sh --demo   # the demo's Label Studio venv too (skipped when it is there)
    cmake --preset release
    cmake --build --preset release
    exec build/release/app/loopdeck "$@"
    ;;
  test)
    scripts/deps.sh --test
    cmake --preset asan
    cmake --build --preset asan
    # Unit tests run in parallel; the Label Studio fixture tests share one server and take turns.
    ctest --preset asan -j "$(nproc)"
    ;;
  *)
    echo "usage: scripts/quickstart.sh app|test" >&2
    exit 2
    ;;
esac
