#!/usr/bin/env bash
# Builds the stream_pipe benchmark (Release, no sanitizers) in build/bench and
# runs it: 1 GiB, then 256 MiB to show that peak RSS does not grow with the
# amount copied. Extra arguments go to the benchmark (e.g. --runs 5).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_dir=build/bench
cmake -S . -B "$build_dir" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DREACTSOCK_SANITIZE=OFF \
    -DREACTSOCK_BUILD_TESTS=OFF \
    -DREACTSOCK_BUILD_EXAMPLES=OFF \
    -DREACTSOCK_BUILD_BENCHMARKS=ON >/dev/null
nice cmake --build "$build_dir" --target bench_stream_pipe

bench="$build_dir/benchmarks/bench_stream_pipe"
"$bench" --bytes 1G "$@"
echo
"$bench" --bytes 256M "$@"
