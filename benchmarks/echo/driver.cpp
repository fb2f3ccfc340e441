// The full benchmark: every selected scenario × server, repeated and
// interleaved, then the report. run_benchmark reads top to bottom as its steps.
#include "echo/cert.hpp"
#include "echo/commands.hpp"
#include "echo/report.hpp"
#include "echo/results.hpp"
#include "echo/run.hpp"

#include "common/process.hpp"
#include "loadgen.hpp"

#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace bench::echo {

namespace {

// The scenarios --scenarios selects; false (with a message) for a selector
// that matches none.
bool select_scenarios(const Options& options, std::vector<Scenario>& scenarios) {
    const auto all = all_scenarios(options.idle_conns);
    for (const auto& s : all) {
        if (selected(options.scenarios, s.id, s.mode))
            scenarios.push_back(s);
    }
    for (const auto& selector : options.scenarios) {
        const bool known = std::any_of(all.begin(), all.end(), [&](const Scenario& s) {
            return matches(selector, s.id, s.mode);
        });
        if (!known) {
            std::fprintf(stderr, "bench_echo: unknown scenario \"%s\" (see --list)\n",
                         selector.c_str());
            return false;
        }
    }
    return true;
}

// False (with a message) if --servers names a server there is none of.
bool known_servers(const std::vector<std::string>& names) {
    for (const auto& name : names) {
        if (std::find(std::begin(kServerNames), std::end(kServerNames), name) ==
            std::end(kServerNames)) {
            std::fprintf(stderr,
                         "bench_echo: unknown server \"%s\" (reactsock, asio, epoll, node)\n",
                         name.c_str());
            return false;
        }
    }
    return true;
}

// The servers --servers selects (all without it), in report order.
std::vector<ServerSpec> select_servers(const Options& options) {
    std::vector<ServerSpec> servers;
    for (auto& spec : server_specs(options)) {
        if (options.servers.empty() || std::find(options.servers.begin(), options.servers.end(),
                                                 spec.name) != options.servers.end()) {
            servers.push_back(spec);
        }
    }
    return servers;
}

// Descriptors for the idle scenario, the load generator's CPU, SCHED_FIFO:
// all inherited by the servers. Clears options.pin and options.realtime
// where they cannot be had.
void prepare_machine(Options& options) {
    const std::uint64_t fd_limit = raise_fd_limit();
    if (fd_limit < static_cast<std::uint64_t>(options.idle_conns) + 64) {
        std::fprintf(
            stderr,
            "bench_echo: RLIMIT_NOFILE is %llu; the idle scenario needs %d + 64 (ulimit -Hn)\n",
            static_cast<unsigned long long>(fd_limit), options.idle_conns);
    }
    const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
    if (options.pin && (cpus < 2 || options.server_cpu == options.client_cpu)) {
        std::fprintf(stderr, "bench_echo: fewer than 2 CPUs: not pinning\n");
        options.pin = false;
    }
    if (options.pin && !pin_to_cpu(0, options.client_cpu)) {
        std::fprintf(stderr, "bench_echo: cannot pin to CPU %d: %s\n", options.client_cpu,
                     std::strerror(errno));
    }
    if (options.realtime) {
        // SCHED_FIFO, inherited by the servers: a waking server or load
        // generator preempts other (SCHED_OTHER) work on its core at once.
        sched_param param{};
        param.sched_priority = 1;
        if (::sched_setscheduler(0, SCHED_FIFO, &param) != 0) {
            std::fprintf(
                stderr,
                "bench_echo: --realtime: sched_setscheduler(SCHED_FIFO): %s; running without it\n",
                std::strerror(errno));
            options.realtime = false;
        }
    }
    ::signal(SIGPIPE, SIG_IGN);
}

int repeats_of(const Options& options, const Scenario& scenario) {
    // Memory per idle connection hardly varies: 3 repeats are plenty. TLS
    // scenarios get fewer repeats to keep the whole run under 10 minutes.
    if (scenario.mode == Mode::idle)
        return std::min(options.repeats, 3);
    if (is_tls(scenario.mode))
        return std::min(options.repeats, options.tls_repeats);
    return options.repeats;
}

// Every run: for each repeat, for each scenario, every server in turn (the
// order rotates per repeat). Fills report.cells, any_failed and total_seconds.
void run_all(Report& report) {
    const Options& options = report.options;
    const auto& servers = report.servers;
    const auto started = std::chrono::steady_clock::now();
    const auto elapsed = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    };
    std::fprintf(stderr,
                 "bench_echo: %zu scenario(s) x %zu server(s) x %d repeat(s) (idle: at most 3, "
                 "TLS: at most %d), %.1f s warm-up + %.1f s measured each%s\n",
                 report.scenarios.size(), servers.size(), options.repeats, options.tls_repeats,
                 options.warmup, options.duration, options.pin ? "" : " (not pinned)");
    for (int repeat = 0; repeat < options.repeats; ++repeat) {
        for (const auto& scenario : report.scenarios) {
            if (repeat >= repeats_of(options, scenario))
                continue;
            for (std::size_t k = 0; k < servers.size(); ++k) {
                const ServerSpec& server =
                    servers[(k + static_cast<std::size_t>(repeat)) % servers.size()];
                if (!runs_in(server, scenario))
                    continue;
                RunMetrics m = run_one(scenario, server, options, report.log_path);
                print_progress(m, scenario, server, repeat, options.repeats, elapsed());
                report.any_failed = report.any_failed || !m.ok;
                Cell& cell = report.cells[scenario.id][server.name];
                if (!m.ok && !cell.failed) {
                    cell.failed = true;
                    cell.error = m.error;
                }
                cell.runs.push_back(std::move(m));
            }
        }
    }
    report.total_seconds = elapsed();
}

// The medians of every cell and the targets they meet.
void summarise(Report& report) {
    for (auto& [id, by_server] : report.cells) {
        for (auto& [name, cell] : by_server)
            cell.median = medians(cell.runs);
    }
    report.targets = evaluate_targets(report.cells);
}

}  // namespace

int run_benchmark(Options options) {
    std::vector<Scenario> scenarios;
    if (!select_scenarios(options, scenarios) || !known_servers(options.servers))
        return 2;
    if (scenarios.empty() || select_servers(options).empty()) {
        std::fprintf(stderr, "bench_echo: nothing selected\n");
        return 2;
    }
    const bool any_tls = std::any_of(scenarios.begin(), scenarios.end(),
                                     [](const Scenario& s) { return is_tls(s.mode); });
    // One certificate per run, in the build directory, for every server.
    if (any_tls &&
        !write_certificate(exe_dir() + "/../bench-tls", options.tls_cert, options.tls_key))
        return 1;
    prepare_machine(options);

    Report report;
    report.servers = select_servers(options);  // with the certificate's paths
    report.options = std::move(options);
    report.scenarios = std::move(scenarios);
    report.any_tls = any_tls;
    report.log_path = report.options.out + ".servers.log";
    { std::ofstream truncate(report.log_path); }

    run_all(report);
    summarise(report);
    write_report(report);
    std::fprintf(stderr, "bench_echo: wrote %s.md and %s.json (%.0f s)\n",
                 report.options.out.c_str(), report.options.out.c_str(), report.total_seconds);
    return report.any_failed ? 1 : 0;
}

}  // namespace bench::echo
