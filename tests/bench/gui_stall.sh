#!/usr/bin/env bash
# The loop engine's longest stall of its thread (the GUI thread in the window) with a project of
# 50,000 annotations, while annotation webhooks arrive and a window-like reader asks status()
# and versionDetails() on every change (tests/bench/gui_stall.cpp). One command:
#   tests/bench/gui_stall.sh [build-dir] [annotations] [webhooks] [seconds]
# The build dir defaults to build/release (configured and built here when missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/release}
if [ "$build" = build/release ] && [ ! -f build/release/build.ninja ]; then
  cmake --preset release >/dev/null
fi
cmake --build "$build" --target bench_gui_stall >/dev/null
for run in 1 2 3; do
  "$build/tests/bench_gui_stall" "${2:-50000}" "${3:-500}" "${4:-40}"
done
