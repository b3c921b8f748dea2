#!/usr/bin/env bash
# Builds the libFuzzer target for the backend request path with Debian's clang (build/fuzz,
# ASan + UBSan + libFuzzer) and runs it on the Label Studio seeds.
#   tests/fuzz/run_fuzz.sh [SECONDS]        bounded run (default 60; the ctest test fuzz/request)
#   tests/fuzz/run_fuzz.sh --runs N         long run: N executions (e.g. 10000000)
# Exit status is non-zero when libFuzzer finds a crash, leak, timeout or sanitizer report; the
# input is saved in build/fuzz/artifacts/. The last lines of the log give the figures
# (stat::number_of_executed_units, stat::peak_rss_mb) for docs/benchmarks.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${LOOPDECK_FUZZ_BUILD:-$root/build/fuzz}
limit=(-max_total_time="${1:-60}")
if [ "${1:-}" = "--runs" ]; then limit=(-runs="$2"); fi

export CCACHE_BASEDIR=${CCACHE_BASEDIR:-/work} CCACHE_NOHASHDIR=1
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja "${launcher[@]}" \
    -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOOPDECK_FUZZ=ON \
    -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
fi
flock /tmp/loopdeck-build.lock cmake --build "$build" --target fuzz_request

mkdir -p "$build/corpus" "$build/artifacts"
cd "$build"
# Leak checking stays on: one request must never leak.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=print_stacktrace=1 \
  ./tests/fuzz/fuzz_request "${limit[@]}" -timeout=10 -rss_limit_mb=3072 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$build/artifacts/" \
    -dict="$root/tests/fuzz/http.dict" \
    "$build/corpus" "$root/tests/fuzz/seeds" 2>&1 | tee "$build/fuzz-last.log" | grep -E "^#[0-9]+.*(pulse|DONE)|stat::|ERROR|SUMMARY|Test unit written" || true
exit "${PIPESTATUS[0]}"
