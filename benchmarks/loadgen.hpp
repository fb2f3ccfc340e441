// loadgen: the echo load generator of bench_echo (benchmarks/echo/).
//
// One thread, non-blocking sockets on edge-triggered epoll, nothing beyond the
// C++ standard library, Linux and (for the tls-* modes) OpenSSL's libssl,
// which drives non-blocking SSL objects on the same sockets. Every connection sends a deterministic
// pseudo-random byte stream (its own offset into one shared pattern) and every
// byte that comes back is compared with what was sent at that position, so a
// server that corrupts, reorders, duplicates, invents or loses bytes fails the
// run with a message naming the connection and the offset. After the measured
// window the generator stops sending and waits until every byte sent has come
// back (or the stall timeout passes): a server cannot score on bytes it never
// echoes.
//
// Modes (LoadConfig::mode):
//   pingpong  `conns` connections; each sends a `size`-byte message and waits
//             for its full echo before sending the next. ops = round trips;
//             latency = send of the message to the last byte of its echo.
//   stream    `conns` connections write `size`-byte chunks as fast as the
//             kernel takes them and read the echo. ops = echoed bytes.
//   connrate  `conns` concurrent workers, each in a loop: connect, send `size`
//             bytes, read the echo, close with RST (SO_LINGER 0, so no
//             TIME_WAIT eats the loopback ports). ops = connections;
//             latency = connect() to the last byte of the echo.
//   idle      opens `conns` connections (at most 256 connecting at a time),
//             makes one `size`-byte round trip on each, then calls
//             on_idle_ready() while all of them are held open and idle.
//   tls-handshake  connrate over TLS: `conns` workers, each in a loop: connect,
//             full TLS handshake (no session offered), `size` bytes echoed
//             and checked, close with RST (no close_notify). ops = handshakes
//             (each with its verified echo); latency = connect() to the last
//             byte of the echo.
//   tls-resume  the same, but every connection of a worker offers the newest
//             session (TLS 1.3: ticket) the worker has received, i.e. its
//             previous connection's; tickets come before the echo, so they
//             are read by then. A server that sends no ticket after a resumed
//             handshake (Node) gets the previous connection's ticket again.
//             Counts the handshakes the server actually resumed
//             (SSL_session_reused) and fails the run when fewer than
//             `min_resumed_fraction` of the measured ones were.
//   tls-stream  stream over TLS (SSL_write of `size`-byte chunks).
//
// TLS clients use OpenSSL's defaults (TLS 1.3, its default ciphersuites and
// groups), no certificate verification and no SNI; result.tls_* say what was
// negotiated.
//
// Every client socket has TCP_NODELAY and SO_LINGER 0 (closes send RST).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace bench {

enum class Mode { pingpong, stream, connrate, idle, tls_handshake, tls_resume, tls_stream };

[[nodiscard]] const char* mode_name(Mode mode);  // "pingpong", ..., "tls-handshake", ...
[[nodiscard]] bool is_tls(Mode mode);
[[nodiscard]] bool parse_mode(const std::string& text, Mode& mode);

struct LoadConfig {
    Mode mode = Mode::pingpong;
    std::string host = "127.0.0.1";
    int port = 0;
    int conns = 1;               // connections (pingpong, stream, idle) or workers (connrate)
    std::size_t size = 64;       // message / chunk size in bytes
    double warmup = 1.0;         // seconds of load before the measured window
    double duration = 3.0;       // seconds of the measured window
    double stall_timeout = 5.0;  // fail when an outstanding echo is older than this
    bool keep_latencies = true;  // pingpong and connrate
    double min_resumed_fraction = 0.99;  // tls-resume: fail below this share of resumed handshakes
};

struct LoadResult {
    bool ok = false;
    std::string error;        // why it failed (content mismatch, stall, connect error...)
    double seconds = 0;       // measured window, wall clock
    std::uint64_t ops = 0;    // round trips / connections completed in the window
    std::uint64_t bytes = 0;  // echoed bytes verified in the window
    std::uint64_t total_verified_bytes = 0;                  // over the whole run, drain included
    double client_cpu_seconds = 0;                           // this process, in the window
    double p50_us = 0, p99_us = 0, p999_us = 0, max_us = 0;  // latency, when recorded
    // TLS modes: what was negotiated ("TLSv1.3", "TLS_AES_256_GCM_SHA384", "X25519";
    // several values joined by " / " if the handshakes differed), and of the
    // ops (handshakes) in the window, how many the server resumed.
    std::string tls_protocol, tls_cipher, tls_group;
    std::uint64_t resumed = 0;
};

// Called at the start and at the end of the measured window (true, false),
// and with the connections established and idle in idle mode.
struct LoadHooks {
    std::function<void(bool start)> on_window;
    std::function<void()> on_idle_ready;
};

/// Runs one load; never throws for server misbehaviour (it is in the result).
LoadResult run_load(const LoadConfig& config, const LoadHooks& hooks = {});

/// Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the new soft limit.
std::uint64_t raise_fd_limit();

}  // namespace bench
