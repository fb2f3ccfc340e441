#include "echo/run.hpp"

#include "echo/format.hpp"
#include "echo/procfs.hpp"
#include "echo/server_process.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <thread>

namespace bench::echo {

namespace {

// Server, machine and server-core CPU times at the start ([0]) and the end
// ([1]) of the measured window.
struct WindowCpu {
    double server[2] = {0, 0};
    CpuTimes machine[2], server_core[2];
};

// Turns what the load generator and /proc said into the run's metrics.
void fill_rates(RunMetrics& m, const Scenario& scenario, const LoadResult& r,
                const WindowCpu& cpu) {
    const double server_cpu = cpu.server[1] - cpu.server[0];
    m.seconds = r.seconds;
    m.ops = r.ops;
    if (r.seconds > 0) {
        m.rate = static_cast<double>(r.ops) / r.seconds;
        m.server_util = server_cpu / r.seconds;
        m.client_util = r.client_cpu_seconds / r.seconds;
    }
    m.cpu_per_op = r.ops > 0 ? server_cpu / static_cast<double>(r.ops) : std::nan("");
    m.server_softirq_per_op =
        r.ops > 0
            ? (cpu.server_core[1].softirq - cpu.server_core[0].softirq) / static_cast<double>(r.ops)
            : std::nan("");
    if (r.seconds > 0) {
        m.other_load = std::max(
            0.0, (cpu.machine[1].busy - cpu.machine[0].busy - server_cpu - r.client_cpu_seconds) /
                     r.seconds);
    }
    m.p50 = r.p50_us;
    m.p99 = r.p99_us;
    m.p999 = r.p999_us;
    if (is_tls(scenario.mode))
        m.tls = r.tls_protocol + " " + r.tls_cipher + " " + r.tls_group;
    if (is_handshake(scenario.mode) && r.ops > 0)
        m.resumed_fraction = static_cast<double>(r.resumed) / static_cast<double>(r.ops);
}

}  // namespace

RunMetrics run_one(const Scenario& scenario, const ServerSpec& server, const Options& options,
                   const std::string& log_path) {
    RunMetrics m;
    ServerProcess process;
    const std::vector<std::string>& argv = is_tls(scenario.mode) ? server.tls_argv : server.argv;
    if (!process.start(argv, options.pin ? options.server_cpu : -1, log_path, m.error))
        return m;

    LoadConfig config;
    config.mode = scenario.mode;
    config.port = process.port();
    config.conns = scenario.conns;
    config.size = scenario.size;
    config.warmup = options.warmup;
    config.duration = options.duration;

    WindowCpu cpu;
    LoadHooks hooks;
    hooks.on_window = [&](bool start) {
        const int at = start ? 0 : 1;
        cpu.server[at] = process_cpu_seconds(process.pid()).value_or(std::nan(""));
        cpu.machine[at] = machine_cpu_seconds(-1).value_or(CpuTimes{});
        cpu.server_core[at] =
            machine_cpu_seconds(options.pin ? options.server_cpu : -1).value_or(CpuTimes{});
    };
    if (scenario.mode == Mode::idle) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let it settle after startup
        m.rss_before_kib = process_rss_kib(process.pid()).value_or(std::nan(""));
        hooks.on_idle_ready = [&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
            m.rss_after_kib = process_rss_kib(process.pid()).value_or(std::nan(""));
        };
    }
    const LoadResult r = run_load(config, hooks);
    const std::string exit_problem = process.stop();

    m.ok = r.ok && exit_problem.empty();
    m.error = !r.ok ? r.error : exit_problem.empty() ? "" : "server " + exit_problem;
    if (scenario.mode == Mode::idle) {
        m.kib_per_conn = (m.rss_after_kib - m.rss_before_kib) / scenario.conns;
        return m;
    }
    fill_rates(m, scenario, r, cpu);
    if (m.ok && r.ops == 0) {
        m.ok = false;
        m.error = "no operation completed in the window";
    }
    return m;
}

void print_progress(const RunMetrics& m, const Scenario& scenario, const ServerSpec& server,
                    int repeat, int repeats, double elapsed) {
    if (!m.ok) {
        std::fprintf(stderr, "[%5.0fs] %d/%d %-15s %-9s FAILED: %s\n", elapsed, repeat + 1, repeats,
                     scenario.id.c_str(), server.name.c_str(), m.error.c_str());
        return;
    }
    if (scenario.mode == Mode::idle) {
        std::fprintf(stderr, "[%5.0fs] %d/%d %-15s %-9s %.2f KiB/conn (VmRSS %.0f -> %.0f KiB)\n",
                     elapsed, repeat + 1, repeats, scenario.id.c_str(), server.name.c_str(),
                     m.kib_per_conn, m.rss_before_kib, m.rss_after_kib);
        return;
    }
    const Units u = units_of(scenario.mode);
    std::string extra;
    if (is_handshake(scenario.mode))
        extra += " resumed " + fmt(m.resumed_fraction * 100, 1) + "%";
    if (is_tls(scenario.mode))
        extra += " " + m.tls;
    std::fprintf(stderr,
                 "[%5.0fs] %d/%d %-15s %-9s %12s %-14s %8s %-12s server %3.0f%% client "
                 "%3.0f%%%s\n",
                 elapsed, repeat + 1, repeats, scenario.id.c_str(), server.name.c_str(),
                 fmt(m.rate * u.rate_scale, is_stream(scenario.mode) ? 1 : 0).c_str(), u.rate,
                 sig3(m.cpu_per_op * u.cpu_scale).c_str(), u.cpu, m.server_util * 100,
                 m.client_util * 100, extra.c_str());
}

}  // namespace bench::echo
