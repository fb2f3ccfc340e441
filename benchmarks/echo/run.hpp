// One run: a fresh server process, one load from the load generator, and
// what it measured.
#pragma once

#include "echo/options.hpp"
#include "echo/scenarios.hpp"
#include "echo/servers.hpp"

#include <cstdint>
#include <string>

namespace bench::echo {

struct RunMetrics {
    bool ok = false;
    std::string error;
    double seconds = 0;
    double rate = 0;         // ops/s (stream: bytes/s)
    double cpu_per_op = 0;   // server CPU seconds per op
    double server_util = 0;  // server CPU seconds / wall seconds
    double client_util = 0;
    double p50 = 0, p99 = 0, p999 = 0;                               // µs
    double rss_before_kib = 0, rss_after_kib = 0, kib_per_conn = 0;  // idle
    double server_softirq_per_op =
        0;                  // softirq seconds on the server's CPU per op (not in cpu_per_op)
    double other_load = 0;  // CPU use of everything but server and load generator, in cores
    std::uint64_t ops = 0;
    double resumed_fraction = 0;  // TLS handshake modes: resumed / ops in the window
    std::string tls;              // TLS: "TLSv1.3 TLS_AES_256_GCM_SHA384 X25519"
};

// Starts `server` for `scenario` (stderr appended to `log_path`), drives it
// with the load generator and stops it. A run fails when the load generator
// caught a wrong echo, the server did not exit cleanly or nothing completed.
RunMetrics run_one(const Scenario& scenario, const ServerSpec& server, const Options& options,
                   const std::string& log_path);

// One progress line on stderr for a finished run.
void print_progress(const RunMetrics& m, const Scenario& scenario, const ServerSpec& server,
                    int repeat, int repeats, double elapsed);

}  // namespace bench::echo
