#!/usr/bin/env bash
# Builds examples/demo.cpp in Release (build/release) and runs it.
# Extra arguments are passed to the demo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/deps.sh

cmake -S . -B build/release -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DREACTSOCK_BUILD_TESTS=OFF \
    -DREACTSOCK_BUILD_EXAMPLES=ON \
    -DREACTSOCK_BUILD_BENCHMARKS=OFF
cmake --build build/release --target demo -j "$(nproc)"

exec ./build/release/examples/demo "$@"
