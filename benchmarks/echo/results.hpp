// What the runs add up to: every run of each scenario × server, their
// medians, reactsock's ratios to the baselines, and the targets.
#pragma once

#include "echo/run.hpp"

#include <cmath>
#include <map>
#include <string>
#include <vector>

namespace bench::echo {

double median(std::vector<double> values);  // NaN for none

struct Cell {  // one scenario x server: every run and the medians
    std::vector<RunMetrics> runs;
    bool failed = false;
    std::string error;
    RunMetrics median;
};

// The median of every field over the runs that succeeded; `tls` lists every
// distinct negotiation.
RunMetrics medians(const std::vector<RunMetrics>& runs);

// Scenario id -> server name -> cell.
using Cells = std::map<std::string, std::map<std::string, Cell>>;

// The cell of `server` in scenario `id`; an empty one if it never ran.
const Cell& cell_at(const Cells& cells, const std::string& id, const std::string& server);

// A value with the range it took over the repeats.
struct Spread {
    double value = std::nan("");
    double lo = std::nan("");
    double hi = std::nan("");
};

Spread spread_of(const std::vector<double>& values);

// reactsock's `field` / `base`'s in scenario `id`: the median of the
// per-repeat ratios (each repeat runs every server back to back, so pairing
// them cancels slow changes of the machine's load). Unset when either cell
// is missing or failed.
Spread ratio_spread(const Cells& cells, const std::string& id, const std::string& base,
                    double RunMetrics::*field);

struct Target {
    std::string text;
    Spread measured;
    double limit;
    bool at_most;  // value <= limit (else value >= limit)
    [[nodiscard]] bool evaluated() const { return std::isfinite(measured.value); }
    [[nodiscard]] bool met() const {
        return evaluated() && (at_most ? measured.value <= limit : measured.value >= limit);
    }
    // Some repeats fell on the other side of the limit.
    [[nodiscard]] bool straddles() const {
        return evaluated() && measured.lo <= limit && measured.hi >= limit;
    }
};

// The targets, measured (unevaluated where a scenario did not run).
std::vector<Target> evaluate_targets(const Cells& cells);

// CPU use of everything but the server and the load generator, in cores,
// over every successful measured window.
std::vector<double> other_loads(const Cells& cells);

}  // namespace bench::echo
