// bench_echo's scenarios: what the load generator does in each, how its rate
// and CPU cost are shown, and the --scenarios selectors that pick them.
#pragma once

#include "loadgen.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace bench::echo {

struct Scenario {
    std::string id;
    Mode mode;
    int conns;
    std::size_t size;
    std::string title;
};

// Every scenario, in report order; `idle_conns` is the idle scenario's size.
std::vector<Scenario> all_scenarios(int idle_conns);

// What a scenario's "op" is, and how its rate and CPU cost are shown.
struct Units {
    const char* rate;   // e.g. "round trips/s"
    const char* cpu;    // e.g. "µs/rt"
    double cpu_scale;   // server CPU seconds per op -> shown unit
    double rate_scale;  // ops/s -> shown unit
};

Units units_of(Mode mode);

bool is_stream(Mode mode);
bool is_handshake(Mode mode);

// Selectors: "all", a scenario id, a mode ("pingpong", "tls-resume", ...) or
// "tls" (every TLS scenario).
bool matches(const std::string& selector, const std::string& id, Mode mode);

// True when any selector matches; no selectors select everything.
bool selected(const std::vector<std::string>& selectors, const std::string& id, Mode mode);

}  // namespace bench::echo
