#include "echo/report.hpp"

#include "echo/format.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace bench::echo {

using nlohmann::json;

namespace {

// The paragraph under the title: machine, versions, how the runs were made.
void write_preamble(std::ostringstream& md, const Report& report, const json& env) {
    const Options& options = report.options;
    md << "# reactsock echo benchmark\n\n";
    md << env["date"].get<std::string>() << " · " << env.value("cpu", std::string("?")) << " · "
       << env["cpus_online"].get<long>() << " CPUs · " << env["kernel"].get<std::string>() << " · "
       << env["compiler"].get<std::string>() << " · Asio " << env["asio"].get<std::string>()
       << " · Node " << env["node"].get<std::string>() << " · reactsock "
       << env["source"].get<std::string>();
    if (report.any_tls) {
        md << " · " << env["openssl"].get<std::string>() << " (Node's: OpenSSL "
           << env["node_openssl"].get<std::string>() << ")";
    }
    md << "\n\n";
    const std::vector<double> loads = other_loads(report.cells);
    const double load_max =
        loads.empty() ? std::nan("") : *std::max_element(loads.begin(), loads.end());
    md << "Server "
       << (options.pin ? "pinned to CPU " + std::to_string(options.server_cpu) +
                             ", load generator to CPU " + std::to_string(options.client_cpu)
                       : std::string("and load generator not pinned"))
       << ". " << options.warmup << " s warm-up + " << options.duration
       << " s measured per run, median of " << options.repeats
       << " interleaved run(s) (idle: " << std::min(options.repeats, 3)
       << (report.any_tls
               ? ", TLS: " + std::to_string(std::min(options.repeats, options.tls_repeats))
               : std::string())
       << ")" << (options.quick ? " (--quick)" : "")
       << (options.realtime ? ", SCHED_FIFO (--realtime)" : ", normal scheduling")
       << "; whole benchmark " << fmt(report.total_seconds)
       << " s; other processes used a median of " << fmt(median(loads), 2)
       << " cores during the measured windows"
       << " (max " << fmt(load_max, 2) << "). "
       << "CPU/op = server utime+stime over the window / operations (softirq time is not in it). "
          "Ratios are reactsock / baseline, "
       << "medians of the per-repeat ratios (in brackets the lowest and highest repeat): below 1 "
          "is better for CPU, above 1 "
       << "is better for rates.\n";
}

// The header row and the alignment row; returns the number of columns after
// the server's name.
int write_table_head(std::ostringstream& md, const Scenario& scenario) {
    const Units u = units_of(scenario.mode);
    int columns = 0;
    if (scenario.mode == Mode::idle) {
        md << "| server | KiB/conn | VmRSS before (KiB) | VmRSS with connections (KiB) "
              "|\n|---|--:|--:|--:|\n";
        columns = 3;
    } else if (is_stream(scenario.mode)) {
        md << "| server | " << u.rate << " | server CPU " << u.cpu
           << " | server core | client core |";
        columns = 4;
    } else {
        md << "| server | " << u.rate << " | server CPU " << u.cpu
           << " | server core | client core | p50 µs | p99 µs | p99.9 µs |";
        columns = 7;
    }
    if (is_handshake(scenario.mode)) {
        md << " resumed |";
        ++columns;
    }
    if (is_tls(scenario.mode)) {
        md << " negotiated |";
        ++columns;
    }
    if (scenario.mode != Mode::idle) {
        md << "\n|---|";
        for (int c = 0; c < columns; ++c)
            md << (is_tls(scenario.mode) && c == columns - 1 ? "---|" : "--:|");
        md << "\n";
    }
    return columns;
}

// One server's row: the medians of its runs.
void write_server_row(std::ostringstream& md, const Scenario& scenario, const std::string& name,
                      const RunMetrics& m) {
    md << "| " << name << " | ";
    if (scenario.mode == Mode::idle) {
        md << sig3(m.kib_per_conn) << " | " << fmt(m.rss_before_kib) << " | "
           << fmt(m.rss_after_kib) << " |\n";
        return;
    }
    const Units u = units_of(scenario.mode);
    md << fmt(m.rate * u.rate_scale, is_stream(scenario.mode) ? 1 : 0) << " | "
       << sig3(m.cpu_per_op * u.cpu_scale) << " | " << fmt(m.server_util * 100) << "% | "
       << fmt(m.client_util * 100) << "%";
    if (!is_stream(scenario.mode))
        md << " | " << sig3(m.p50) << " | " << sig3(m.p99) << " | " << sig3(m.p999);
    if (is_handshake(scenario.mode))
        md << " | " << fmt(m.resumed_fraction * 100, 1) << "%";
    if (is_tls(scenario.mode))
        md << " | " << m.tls;
    md << " |\n";
}

void write_scenario_table(std::ostringstream& md, const Report& report, const Scenario& scenario) {
    md << "\n## " << scenario.title << " (`" << scenario.id << "`)\n\n";
    const int columns = write_table_head(md, scenario);
    for (const auto& server : report.servers) {
        if (!runs_in(server, scenario)) {
            md << "| " << server.name << " (no TLS baseline) |";
            for (int c = 0; c < columns; ++c)
                md << " – |";
            md << "\n";
            continue;
        }
        const Cell& cell = cell_at(report.cells, scenario.id, server.name);
        if (cell.failed) {
            md << "| " << server.name << " | **FAILED**: " << cell.error << " |\n";
            continue;
        }
        write_server_row(md, scenario, server.name, cell.median);
    }
}

void write_ratio_table(std::ostringstream& md, const Report& report) {
    md << "\n## reactsock / baseline\n\n";
    md << "| scenario | CPU/op vs asio | vs epoll | vs node | rate vs asio | vs epoll | vs node "
          "|\n|---|--:|--:|--:|--:|--:|--:|\n";
    for (const auto& scenario : report.scenarios) {
        md << "| " << scenario.id;
        if (scenario.mode == Mode::idle) {
            for (const char* base : {"asio", "epoll", "node"}) {
                md << " | "
                   << ratio_text(
                          ratio_spread(report.cells, scenario.id, base, &RunMetrics::kib_per_conn)
                              .value);
            }
            md << " | (memory/conn) | | |\n";
            continue;
        }
        auto cell = [&](const char* base, double RunMetrics::*field) {
            const Spread r = ratio_spread(report.cells, scenario.id, base, field);
            if (!std::isfinite(r.value))
                return std::string("–");
            return ratio_text(r.value) + " (" + fmt(r.lo, 2) + "–" + fmt(r.hi, 2) + ")";
        };
        for (const char* base : {"asio", "epoll", "node"})
            md << " | " << cell(base, &RunMetrics::cpu_per_op);
        for (const char* base : {"asio", "epoll", "node"})
            md << " | " << cell(base, &RunMetrics::rate);
        md << " |\n";
    }
}

void write_targets(std::ostringstream& md, const Report& report) {
    md << "\n## Targets (issue: benchmark suite)\n\n"
       << "Measured: the median over the repeats; range: the lowest and the highest repeat. "
       << "\"yes*\"/\"no*\": some repeats fell on the other side of the limit.\n\n"
       << "| target | measured | range | met |\n|---|--:|--:|:-:|\n";
    int met = 0, evaluated = 0;
    for (const auto& t : report.targets) {
        if (!t.evaluated())
            continue;
        ++evaluated;
        met += t.met() ? 1 : 0;
        const bool absolute = t.text.rfind("idle", 0) == 0;
        md << "| " << t.text << " | "
           << (absolute ? sig3(t.measured.value) + " KiB" : ratio_text(t.measured.value)) << " | "
           << (absolute ? sig3(t.measured.lo) : fmt(t.measured.lo, 2)) << "–"
           << (absolute ? sig3(t.measured.hi) : fmt(t.measured.hi, 2)) << " | "
           << (t.met() ? "yes" : "**no**") << (t.straddles() ? "*" : "") << " |\n";
    }
    md << "\n" << met << " of " << evaluated << " targets met.";
    if (!report.any_tls)
        md << " TLS scenarios not run (`--scenarios tls`).";
    md << "\n";
}

}  // namespace

std::string report_markdown(const Report& report, const json& environment) {
    std::ostringstream md;
    write_preamble(md, report, environment);
    for (const auto& scenario : report.scenarios)
        write_scenario_table(md, report, scenario);
    write_ratio_table(md, report);
    write_targets(md, report);
    if (report.any_failed)
        md << "\n**Some runs FAILED; see above and " << report.log_path << ".**\n";
    return md.str();
}

}  // namespace bench::echo
