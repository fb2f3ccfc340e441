#!/usr/bin/env bash
# The echo benchmark in one command: builds the Release benchmark tree
# (build/bench, no sanitizers), then runs reactsock's examples/echo-server beside
# raw Asio, raw epoll and Node's net (TLS scenarios: raw Asio + asio::ssl and
# Node's tls), and writes build/bench/results.md and build/bench/results.json.
# See docs/benchmarks.md.
#
#   benchmarks/run.sh [--quick] [--scenarios a,b] [--servers x,y] [--self-test]
#                     [--no-build] [other bench_echo options]
#
#   --quick        1 run of 0.3 s warm-up + 1 s per scenario and server (~1.2 min)
#                  instead of 7 runs of 0.5 s + 1.5 s (TLS scenarios: 5; ~9 min)
#   --scenarios    ids or modes: pingpong-c1, pingpong-c100, pingpong-c1000,
#                  stream-64k-c1, stream-4k-c100, connrate-w50, idle,
#                  tls-handshake-w50, tls-resume-w50, tls-stream-64k-c1;
#                  pingpong, stream, ..., tls-handshake, ...; tls (all TLS scenarios)
#   --servers      reactsock, asio, epoll, node (node is skipped if not installed)
#   --realtime     SCHED_FIFO for the load generator and the servers (root): use it
#                  when other work shares the machine (see docs/benchmarks.md)
#   --self-test    only check that the load generator catches broken servers
#
# The server runs on CPU 0 and the load generator on CPU 1 (--server-cpu,
# --client-cpu, --no-pin). Do not run two benchmarks at once.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=1
self_test=0
args=()
have_servers=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --no-build) build=0 ;;
        --self-test) self_test=1 ;;
        --servers) have_servers=1; args+=("$1" "$2"); shift ;;
        *) args+=("$1") ;;
    esac
    shift
done

build_dir=build/bench
if [[ $build == 1 ]]; then
    cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DREACTSOCK_SANITIZE=OFF \
        -DREACTSOCK_BUILD_TESTS=OFF -DREACTSOCK_BUILD_EXAMPLES=ON -DREACTSOCK_BUILD_BENCHMARKS=ON >/dev/null
    nice cmake --build "$build_dir" --target bench_echo echo-server bench_asio_echo bench_asio_tls_echo \
        bench_epoll_echo -- -j2
fi

bench="$build_dir/benchmarks/bench_echo"
if [[ $self_test == 1 ]]; then
    exec "$bench" --self-test
fi

if [[ $have_servers == 0 ]] && ! command -v node >/dev/null; then
    echo "run.sh: node not found, running without the Node baseline" >&2
    args+=(--servers reactsock,asio,epoll)
fi

# 10,000 idle connections need 10,000+ descriptors in the server and in the
# load generator: raise the soft limit as far as the hard one allows.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

exec "$bench" --out "$build_dir/results" ${args[@]+"${args[@]}"}
