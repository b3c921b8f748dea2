#!/usr/bin/env bash
# File descriptors and memory of `loopdeck serve` under thread and connection churn (see
# fd_churn.py): short connections to /webhook and /predict, a training on a fresh pool thread
# every 40 s, the server's /proc/PID/fd count and RSS sampled every 10 s.
#
# Environment: DURATION (seconds, default 1800), LOOPDECK (binary, default build/asan/app/loopdeck;
# an ASan build inflates RSS, the fd count is what matters), OUT (default
# tests/bench/results/fd_churn.json), TRAIN_EVERY (seconds, default 40). Runs under nice -n 10.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DURATION=${DURATION:-1800}
LOOPDECK=${LOOPDECK:-$ROOT/build/asan/app/loopdeck}
OUT=${OUT:-$HERE/results/fd_churn.json}
[ -x "$LOOPDECK" ] || { echo "fd_churn: no loopdeck binary at $LOOPDECK (set LOOPDECK)" >&2; exit 1; }
mkdir -p "$(dirname "$OUT")"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} QT_QPA_PLATFORM=offscreen
exec nice -n 10 python3 "$HERE/fd_churn.py" "$LOOPDECK" "$OUT" "$DURATION"
