#!/usr/bin/env bash
# Serving benchmark, one command: builds a Release loopdeck (build/h2-release), takes the
# SpamAssassin model made by train_bench.sh when tests/bench/data/ has it (else trains one on
# generated data), starts `loopdeck serve` with it and loads it with wrk (16 connections):
# /predict with 1 task per request, /predict with 100 tasks per request, and /health as the
# ceiling, for each server thread count. Writes the results into docs/benchmarks.md between
# the serve-bench markers.
#
# Environment: LOOPDECK=path/to/loopdeck (skip the build), LOOPDECK_BUILD_DIR (default
# build/h2-release), SERVE_BENCH_SECONDS (per run, default 10), SERVE_BENCH_THREADS (server
# thread counts to try, default "1 2"), SERVE_BENCH_CONNECTIONS (default 16), SERVE_BENCH_NOTE
# (a sentence added under the table, e.g. what else was running).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${LOOPDECK_BUILD_DIR:-$ROOT/build/h2-release}
WORK=$HERE/data/serve
SECS=${SERVE_BENCH_SECONDS:-10}
THREADS=${SERVE_BENCH_THREADS:-"1 2"}
CONNS=${SERVE_BENCH_CONNECTIONS:-16}
WRK_THREADS=2
TEXT_CHARS=300
command -v wrk >/dev/null || { echo "serve_bench: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
mkdir -p "$WORK"

if [ -z "${LOOPDECK:-}" ]; then
    echo "building $BUILD (Release) ..." >&2
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLOOPDECK_BUILD_TESTS=OFF >/dev/null
    cmake --build "$BUILD" --target loopdeck -j2 >/dev/null
    LOOPDECK=$BUILD/app/loopdeck
fi

if [ -f "$HERE/data/loopdeck.ldm" ] && [ -f "$HERE/data/test.jsonl" ] && [ -f "$HERE/data/train.jsonl" ]; then
    MODEL=$HERE/data/loopdeck.ldm
    TRAIN=$HERE/data/train.jsonl
    TEST=$HERE/data/test.jsonl
    MODEL_NOTE="SpamAssassin spam/ham model from train_bench.sh (LoopDeck's own linear classifier)"
    TEXT_NOTE="the first $TEXT_CHARS characters of SpamAssassin test mails"
else
    echo "no SpamAssassin model in tests/bench/data (run train_bench.sh for it); training on generated data ..." >&2
    TRAIN=$WORK/train.jsonl
    TEST=$WORK/test.jsonl
    MODEL=$WORK/synthetic.ldm
    python3 "$HERE/serve_bench.py" synthetic "$TRAIN" "$TEST"
    "$LOOPDECK" model train --input "$TRAIN" --out "$MODEL" --eval none >/dev/null
    MODEL_NOTE="generated 2-class sentiment data, 2000 examples (LoopDeck's own linear classifier)"
    TEXT_NOTE="generated 10-word sentences"
fi

# Label config whose Choices are the model's labels.
python3 - "$TRAIN" > "$WORK/label_config.xml" <<'PY'
import json, sys
labels = sorted({json.loads(l)["label"] for l in open(sys.argv[1], encoding="utf-8") if l.strip()})
choices = "".join(f'<Choice value="{l}"/>' for l in labels)
print(f'<View><Text name="text" value="$text"/><Choices name="label" toName="text" choice="single">{choices}</Choices></View>')
PY
python3 "$HERE/serve_bench.py" bodies "$TEST" "$WORK" "$WORK/label_config.xml" "$TEXT_CHARS" > "$WORK/bodies.json"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
SERVER_PID=
stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}
trap stop_server EXIT

start_server() { # $1 = thread count
    "$LOOPDECK" serve --port "$PORT" --data-dir "$WORK/registry" --threads "$1" --log-level error \
        --model "1=$MODEL" --label-config "1=$WORK/label_config.xml" 2> "$WORK/serve.log" &
    SERVER_PID=$!
    for _ in $(seq 100); do
        curl -fs "$URL/health" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "serve_bench: the server did not come up; its log:" >&2
    cat "$WORK/serve.log" >&2
    exit 1
}

run_wrk() { # $1 = seconds, $2 = path, [$3 = bodies file]
    local args=()
    [ -n "${3:-}" ] && args=(-- "$3")
    wrk -t"$WRK_THREADS" -c"$CONNS" -d"$1s" -s "$HERE/serve_bench.lua" "$URL$2" "${args[@]}" | grep '^{'
}

: > "$WORK/runs.jsonl"
for t in $THREADS; do
    for scenario in single batch100 health; do
        start_server "$t"
        case $scenario in
            single) path=/predict; bodies=$WORK/single.bodies; tasks=1 ;;
            batch100) path=/predict; bodies=$WORK/batch100.bodies; tasks=100 ;;
            health) path=/health; bodies=; tasks=0 ;;
        esac
        echo "server threads $t: $scenario ..." >&2
        run_wrk 2 "$path" "$bodies" >/dev/null # warm-up
        result=$(run_wrk "$SECS" "$path" "$bodies")
        metrics=$(curl -fs "$URL/metrics")
        stop_server
        python3 - "$t" "$scenario" "$tasks" "$result" "$metrics" >> "$WORK/runs.jsonl" <<'PY'
import json, sys
t, scenario, tasks, result, metrics = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4]), json.loads(sys.argv[5])
secs = result["duration_us"] / 1e6
ok = result["requests"] - result["non2xx"]
route = "POST /predict" if tasks else "GET /health"
server = metrics.get("routes", {}).get(route, {}).get("latency_ms", {})
print(json.dumps({"threads": int(t), "scenario": {"single": "/predict, 1 task", "batch100": "/predict, 100 tasks",
                                                   "health": "/health"}[scenario],
                  "key": scenario, "rps": result["requests"] / secs, "pps": ok * tasks / secs if tasks else None,
                  "p50_ms": result["p50_us"] / 1000, "p99_ms": result["p99_us"] / 1000,
                  "server_p99_ms": server.get("p99"), "errors": result["non2xx"] + result["socket_errors"]}))
PY
    done
done

python3 - "$WORK/runs.jsonl" "$WORK/results.json" "$MODEL_NOTE" "$TEXT_NOTE" "$SECS" "$CONNS" "$WRK_THREADS" <<'PY'
import datetime, json, os, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
single = [r for r in rows if r["key"] == "single"]
best = max(single, key=lambda r: r["pps"])
met_rate = best["pps"] >= 15000
met_p99 = best["p99_ms"] <= 5.0
verdict = (f"Target ≥15,000 single-task predictions/s with p99 ≤ 5 ms: best is {best['pps']:,.0f}/s with "
           f"{best['threads']} server thread(s), p99 {best['p99_ms']:.2f} ms — "
           + ("met." if met_rate and met_p99 else
              "rate " + ("met" if met_rate else "NOT met") + ", p99 " + ("met" if met_p99 else "NOT met") + "."))
json.dump({"date": datetime.date.today().isoformat(), "nproc": os.cpu_count(), "cpu": cpu, "model": sys.argv[3],
           "text_note": sys.argv[4], "seconds": int(sys.argv[5]), "connections": int(sys.argv[6]),
           "wrk_threads": int(sys.argv[7]), "rows": rows, "verdict": verdict}, open(sys.argv[2], "w"), indent=1)
print(verdict)
PY
[ -n "${SERVE_BENCH_NOTE:-}" ] && python3 "$HERE/serve_bench.py" note "$WORK/results.json" "$SERVE_BENCH_NOTE"
python3 "$HERE/serve_bench.py" report "$WORK/results.json" "$ROOT/docs/benchmarks.md"
echo "results written to docs/benchmarks.md" >&2
