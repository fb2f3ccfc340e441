#!/usr/bin/env bash
# Builds reactsock with ASan + UBSan and -Werror (build/asan, Debug) and runs the
# whole ctest suite inside a private network namespace (scripts/netns-run.sh).
# Extra arguments are passed to ctest (e.g. -R loop, -V).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/deps.sh

build_dir=build/asan
jobs="$(nproc)"

cmake -S . -B "$build_dir" -G Ninja \
    -DCMAKE_BUILD_TYPE=Debug \
    -DREACTSOCK_SANITIZE=ON \
    -DREACTSOCK_WERROR=ON \
    -DREACTSOCK_BUILD_TESTS=ON \
    -DREACTSOCK_BUILD_EXAMPLES=ON \
    -DREACTSOCK_BUILD_BENCHMARKS=OFF
cmake --build "$build_dir" -j "$jobs"

exec bash scripts/netns-run.sh \
    ctest --test-dir "$build_dir" --output-on-failure --no-tests=error -j2 "$@"
