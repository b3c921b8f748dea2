#!/usr/bin/env bash
# Prediction latency for 300-character texts, one command: builds bench_predict and loopdeck
# (Release), makes the texts from the train_bench.sh data sets (run that first, or let this
# script fetch them), trains each set's model with `loopdeck model train --eval none`, and runs `bench_predict MODEL TEXTS 5 300` three times per set. Prints one JSON
# line per run and a Markdown table of the medians (mean and p99, µs) for docs/benchmarks.md.
#   Texts: SpamAssassin and SOTU, the first 300 characters of every test text that has at least
#   300; Chinese reviews are short, so the test reviews are joined in order and cut into
#   consecutive 300-character pieces.
# Environment: LOOPDECK_BUILD_DIR (default build/bench-release), BENCH_SETS (default "spam zh sotu").
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DATA=$HERE/data
BUILD=${LOOPDECK_BUILD_DIR:-$ROOT/build/bench-release}
SETS=${BENCH_SETS:-spam zh sotu}

if [ ! -f "$DATA/zh/test.jsonl" ]; then
    BENCH_FETCH_ONLY=1 "$HERE/train_bench.sh"
fi
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" --target loopdeck bench_predict -j2 >/dev/null

python3 - "$DATA" <<'PY'
import json, sys
base = sys.argv[1]
for s in ("spam", "sotu"):
    with open(f"{base}/{s}/texts300.jsonl", "w") as out:
        for line in open(f"{base}/{s}/test.jsonl"):
            t = json.loads(line)["text"]
            if len(t) >= 300:
                out.write(json.dumps({"text": t[:300]}, ensure_ascii=False) + "\n")
buf = ""
with open(f"{base}/zh/texts300.jsonl", "w") as out:
    for line in open(f"{base}/zh/test.jsonl"):
        buf += json.loads(line)["text"]
        while len(buf) >= 300:
            out.write(json.dumps({"text": buf[:300]}, ensure_ascii=False) + "\n")
            buf = buf[300:]
PY

echo "| data set | texts | mean | p99 |"
echo "|---|---:|---:|---:|"
for set in $SETS; do
    D=$DATA/$set
    "$BUILD/app/loopdeck" model train --input "$D/train.jsonl" --out "$D/predict-bench.ldm" --eval none >/dev/null
    runs=()
    for r in 1 2 3; do
        line=$("$BUILD/tests/bench_predict" "$D/predict-bench.ldm" "$D/texts300.jsonl" 5 300)
        echo "$set run $r: $line" >&2
        runs+=("$line")
    done
    printf '%s\n' "${runs[@]}" | python3 -c '
import json, statistics, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
assert all(r["identical"] for r in rows), "fast and reference scoring differ"
mean = statistics.median(r["predict_us"]["mean"] for r in rows)
p99 = statistics.median(r["predict_us"]["p99"] for r in rows)
texts = rows[0]["texts"]
print(f"| {sys.argv[1]} | {texts} | {mean:.1f} µs | {p99:.1f} µs |")' "$set"
done
