// bench_echo's results as PREFIX.json (every run, the medians, the ratios,
// the targets, the environment) and PREFIX.md (the tables of
// docs/benchmarks.md).
#pragma once

#include "echo/options.hpp"
#include "echo/results.hpp"
#include "echo/scenarios.hpp"
#include "echo/servers.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace bench::echo {

// Everything a finished benchmark reports.
struct Report {
    Options options;  // as run: pin and realtime say what took effect
    std::vector<Scenario> scenarios;
    std::vector<ServerSpec> servers;
    Cells cells;
    std::vector<Target> targets;
    double total_seconds = 0;
    bool any_tls = false;
    bool any_failed = false;
    std::string log_path;  // the servers' stderr
};

// Machine, compiler, library versions, the source tree's commit, the date.
nlohmann::json environment_json(const Options& options);

nlohmann::json report_json(const Report& report, const nlohmann::json& environment);

std::string report_markdown(const Report& report, const nlohmann::json& environment);

// Writes options.out + ".json" and ".md" and prints the Markdown on stdout.
void write_report(const Report& report);

}  // namespace bench::echo
