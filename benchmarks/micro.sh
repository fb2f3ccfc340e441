#!/usr/bin/env bash
# Runs bench_micro under callgrind and prints instructions per operation for
# each hot path of the library (promise, emitter, timers, streams,
# connections). Instruction counts do not depend on the machine's load, so a
# regression shows up as a changed count. Builds the Release benchmark tree
# (build/bench) first, like run.sh.
#
#   benchmarks/micro.sh [--no-build] [--ops N] [case...]
#
# Writes build/bench/micro.callgrind/ (raw callgrind dumps; open one with
# callgrind_annotate to see where the instructions go) and build/bench/micro.txt.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=1
args=()
ops=20000
while [[ $# -gt 0 ]]; do
    case "$1" in
        --no-build) build=0 ;;
        --ops) ops="$2"; shift ;;
        *) args+=("$1") ;;
    esac
    shift
done

build_dir=build/bench
if [[ $build == 1 ]]; then
    cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DREACTSOCK_SANITIZE=OFF \
        -DREACTSOCK_BUILD_TESTS=OFF -DREACTSOCK_BUILD_EXAMPLES=ON -DREACTSOCK_BUILD_BENCHMARKS=ON >/dev/null
    nice cmake --build "$build_dir" --target bench_micro -- -j2 >/dev/null
fi
command -v valgrind >/dev/null || { echo "micro.sh: valgrind is not installed" >&2; exit 1; }

out="$build_dir/micro.callgrind"
rm -rf "$out"
mkdir -p "$out"
valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$out/callgrind.out" \
    "$build_dir/benchmarks/bench_micro" --ops "$ops" ${args[@]+"${args[@]}"} >"$out/stdout.txt" 2>"$out/valgrind.log" || {
    cat "$out/valgrind.log" >&2
    exit 1
}

# One dump per case: "desc: Trigger: Client Request: <case> ops=<n>" and "summary: <Ir>".
{
    printf '%-26s %10s %14s\n' case ops instructions/op
    for dump in $(ls -v "$out"/callgrind.out.*); do
        awk '
            /^desc: Trigger: Client Request:/ { name = $5; sub(/^ops=/, "", $6); ops = $6 }
            /^summary:/ { ir = $2 }
            END { if (name != "" && ops > 0) printf "%-26s %10d %14.0f\n", name, ops, ir / ops }
        ' "$dump"
    done
} | tee "$build_dir/micro.txt"
