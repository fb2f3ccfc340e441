#include "echo/scenarios.hpp"

#include <algorithm>

namespace bench::echo {

std::vector<Scenario> all_scenarios(int idle_conns) {
    return {
        {"pingpong-c1", Mode::pingpong, 1, 64, "pingpong 64 B, 1 connection"},
        {"pingpong-c100", Mode::pingpong, 100, 64, "pingpong 64 B, 100 connections"},
        {"pingpong-c1000", Mode::pingpong, 1000, 64, "pingpong 64 B, 1,000 connections"},
        {"stream-64k-c1", Mode::stream, 1, 64 * 1024, "stream 64 KiB writes, 1 connection"},
        {"stream-4k-c100", Mode::stream, 100, 4 * 1024, "stream 4 KiB writes, 100 connections"},
        {"connrate-w50", Mode::connrate, 50, 64, "connect + 64 B echo + RST close, 50 workers"},
        {"idle", Mode::idle, idle_conns, 64,
         "idle connections (" + std::to_string(idle_conns) + ", after one 64 B round trip each)"},
        {"tls-handshake-w50", Mode::tls_handshake, 50, 64,
         "TLS: connect + full handshake + 64 B echo + RST close, 50 workers"},
        {"tls-resume-w50", Mode::tls_resume, 50, 64,
         "TLS: connect + resumed handshake (previous connection's ticket) + 64 B echo + RST "
         "close, 50 workers"},
        {"tls-stream-64k-c1", Mode::tls_stream, 1, 64 * 1024,
         "TLS stream 64 KiB writes, 1 connection"},
    };
}

Units units_of(Mode mode) {
    switch (mode) {
        case Mode::pingpong:
            return {"round trips/s", "µs/rt", 1e6, 1};
        case Mode::stream:
            return {"MB/s", "ms/GB", 1e3 * 1e9, 1e-6};  // ops are bytes
        case Mode::connrate:
            return {"connections/s", "µs/conn", 1e6, 1};
        case Mode::idle:
            return {"", "", 1, 1};
        case Mode::tls_handshake:
        case Mode::tls_resume:
            return {"handshakes/s", "µs/handshake", 1e6, 1};
        case Mode::tls_stream:
            return {"MB/s", "ms/GB", 1e3 * 1e9, 1e-6};
    }
    return {"", "", 1, 1};
}

bool is_stream(Mode mode) {
    return mode == Mode::stream || mode == Mode::tls_stream;
}

bool is_handshake(Mode mode) {
    return mode == Mode::tls_handshake || mode == Mode::tls_resume;
}

bool matches(const std::string& selector, const std::string& id, Mode mode) {
    return selector == "all" || selector == id || selector == mode_name(mode) ||
           (selector == "tls" && is_tls(mode));
}

bool selected(const std::vector<std::string>& selectors, const std::string& id, Mode mode) {
    if (selectors.empty())
        return true;
    return std::any_of(selectors.begin(), selectors.end(),
                       [&](const std::string& s) { return matches(s, id, mode); });
}

}  // namespace bench::echo
