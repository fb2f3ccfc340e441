#!/usr/bin/env bash
# Where does an echo server spend its time? Counts, per operation of one
# load-generator scenario, the system calls (strace -c) and the user-space
# instructions (callgrind) of one server, and prints the functions with the
# most instructions (file:line with debug info). Counts do not depend on the
# machine's load, so two servers (or two commits) compare exactly.
#
#   benchmarks/profile.sh [--no-build] [--server reactsock|asio|epoll]
#                         [--mode pingpong|stream|connrate|tls-handshake|tls-resume|tls-stream]
#                         [--conns C] [--size S] [--duration S]
#
# The tls-* modes run the TLS servers (echo-server on tls://, bench_asio_tls_echo;
# epoll has none) with a throwaway certificate made by bench_echo --make-certificate.
#
# Defaults: reactsock, pingpong, 100 connections, 64 B, 10 s. Builds
# build/bench-prof (Release with -g; no sanitizers) and writes
# build/bench-prof/profile/<server>-<mode>/ (callgrind.out, strace.txt).
# Open the callgrind file with callgrind_annotate or kcachegrind for more.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=1
server=reactsock
mode=pingpong
conns=100
size=64
duration=10
while [[ $# -gt 0 ]]; do
    case "$1" in
        --no-build) build=0 ;;
        --server) server="$2"; shift ;;
        --mode) mode="$2"; shift ;;
        --conns) conns="$2"; shift ;;
        --size) size="$2"; shift ;;
        --duration) duration="$2"; shift ;;
        *) echo "profile.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
for tool in valgrind callgrind_control callgrind_annotate strace; do
    command -v "$tool" >/dev/null || { echo "profile.sh: $tool is not installed" >&2; exit 1; }
done

build_dir=build/bench-prof
if [[ $build == 1 ]]; then
    cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS="-g -fno-omit-frame-pointer" \
        -DREACTSOCK_SANITIZE=OFF -DREACTSOCK_BUILD_TESTS=OFF -DREACTSOCK_BUILD_EXAMPLES=ON \
        -DREACTSOCK_BUILD_BENCHMARKS=ON >/dev/null
    nice cmake --build "$build_dir" --target bench_echo echo-server bench_asio_echo bench_asio_tls_echo \
        bench_epoll_echo -- -j2 >/dev/null
fi
bench="$build_dir/benchmarks/bench_echo"
if [[ $mode == tls-* ]]; then
    "$bench" --make-certificate "$build_dir/bench-tls" >/dev/null
    cert="$PWD/$build_dir/bench-tls/cert.pem"
    key="$PWD/$build_dir/bench-tls/key.pem"
    case "$server" in
        reactsock) cmd=("$build_dir/examples/echo-server" tls://127.0.0.1:0 --options \
                        "{\"tcp\":{\"tcp_nodelay\":true},\"tls\":{\"local_cert\":\"$cert\",\"local_pk\":\"$key\"}}") ;;
        asio) cmd=("$build_dir/benchmarks/bench_asio_tls_echo" 127.0.0.1:0 "$cert" "$key") ;;
        *) echo "profile.sh: TLS modes: --server reactsock|asio" >&2; exit 2 ;;
    esac
else
    case "$server" in
        reactsock) cmd=("$build_dir/examples/echo-server" 127.0.0.1:0 --options '{"tcp":{"tcp_nodelay":true}}') ;;
        asio) cmd=("$build_dir/benchmarks/bench_asio_echo" 127.0.0.1:0) ;;
        epoll) cmd=("$build_dir/benchmarks/bench_epoll_echo" 127.0.0.1:0) ;;
        *) echo "profile.sh: --server reactsock|asio|epoll" >&2; exit 2 ;;
    esac
fi
out="$build_dir/profile/$server-$mode"
rm -rf "$out"
mkdir -p "$out"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

pids=()
cleanup() {
    local p
    for p in ${pids[@]+"${pids[@]}"}; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# Starts "$@" with stdout to $1.out and waits for the "Listening on" line; sets PORT and PID.
start_server() {
    local name=$1
    shift
    "$@" >"$out/$name.out" 2>"$out/$name.err" &
    PID=$!
    pids+=("$PID")
    for _ in $(seq 100); do
        grep -q "Listening on" "$out/$name.out" 2>/dev/null && break
        sleep 0.1
    done
    PORT=$(sed -n 's/^Listening on .*:\([0-9]*\)$/\1/p' "$out/$name.out")
    [[ -n "$PORT" ]] || { echo "profile.sh: $name did not start:" >&2; cat "$out/$name.err" >&2; exit 1; }
}

# ops of a load-generator JSON line; stops the script if the load failed
ops_of() {
    local line
    line=$(cat)
    if [[ $line != *'"ok":true'* ]]; then
        echo "profile.sh: the load failed: $line" >&2
        exit 1
    fi
    sed -n 's/.*"ops":\([0-9]*\).*/\1/p' <<<"$line"
}

# A server under valgrind is some 20 times slower: allow it long stalls.
load=(--mode "$mode" --conns "$conns" --size "$size" --warmup 2 --duration "$duration" --stall-timeout 30)

# 1. System calls per operation: strace attached for the measured window only.
start_server strace "${cmd[@]}"
result=$("$bench" --connect "127.0.0.1:$PORT" "${load[@]}" \
    --exec-start "strace -c -q -f -p $PID -o '$out/strace.txt' & echo \$! > '$out/strace.pid'; sleep 0.5" \
    --exec-end "kill -INT \$(cat '$out/strace.pid'); sleep 0.5") || true
kill -INT "$PID"
wait "$PID" || true
strace_ops=$(ops_of <<<"$result")

# 2. Instructions per operation: the server under callgrind, zeroed at the start
#    of the window and dumped at its end.
start_server callgrind valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" "${cmd[@]}"
result=$("$bench" --connect "127.0.0.1:$PORT" "${load[@]}" \
    --exec-start "callgrind_control -z $PID >/dev/null 2>&1" --exec-end "callgrind_control -d $PID >/dev/null 2>&1") || true
kill -INT "$PID"
wait "$PID" || true
callgrind_ops=$(ops_of <<<"$result")
dump=$(ls "$out"/callgrind.out.* | head -1)

# stream counts bytes: report per MB (10^6 B) echoed
if [[ $mode == stream || $mode == tls-stream ]]; then unit="MB echoed"; units="MB"; scale=1000000; else unit="op"; units="ops"; scale=1; fi
echo "== $server, $mode, $conns connection(s), $size B: $(awk -v o="$strace_ops" -v s=$scale 'BEGIN { printf "%.0f", o / s }') $units under strace, $(awk -v o="$callgrind_ops" -v s=$scale 'BEGIN { printf "%.0f", o / s }') under callgrind"
echo
echo "system calls per $unit (strace -c; strace slows the server, which changes how much each epoll_wait batches and how often a read finds nothing):"
awk -v ops="$strace_ops" -v s=$scale '$NF != "total" && $4 ~ /^[0-9]+$/ { printf "  %-16s %10.3f\n", $NF, $4 * s / ops }' "$out/strace.txt"
echo
total=$(sed -n 's/^summary: //p' "$dump")
awk -v t="$total" -v ops="$callgrind_ops" -v u="$unit" -v s=$scale 'BEGIN { printf "user-space instructions per %s (callgrind): %.0f\n\n", u, t * s / ops }'
echo "top functions by own instructions (callgrind_annotate):"
callgrind_annotate --threshold=100 --inclusive=no "$dump" 2>/dev/null |
    grep -E '^ *[0-9,]+ \( *[0-9.]+%\) ' | grep -v -E 'PROGRAM TOTALS|libc_start|below main|io_context::run\(\)|Loop::run\(\)|:main |0x0000' |
    head -25 | cut -c1-220
