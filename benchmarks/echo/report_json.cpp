#include "echo/report.hpp"

#include "echo/procfs.hpp"

#include <openssl/crypto.h>
#include <asio/version.hpp>

#include <sys/utsname.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

#ifndef REACTSOCK_BENCH_SOURCE_DIR
#define REACTSOCK_BENCH_SOURCE_DIR "."
#endif

namespace bench::echo {

using nlohmann::json;

namespace {

json run_json(const RunMetrics& m, Mode mode) {
    json j;
    j["ok"] = m.ok;
    if (!m.ok)
        j["error"] = m.error;
    if (mode == Mode::idle) {
        j["rss_before_kib"] = m.rss_before_kib;
        j["rss_after_kib"] = m.rss_after_kib;
        j["kib_per_conn"] = m.kib_per_conn;
        return j;
    }
    const Units u = units_of(mode);
    j["seconds"] = m.seconds;
    j["ops"] = m.ops;
    j["rate"] = m.rate * u.rate_scale;
    j["cpu_per_op"] = m.cpu_per_op * u.cpu_scale;
    j["server_cpu_util"] = m.server_util;
    j["client_cpu_util"] = m.client_util;
    j["server_cpu_softirq_per_op"] = m.server_softirq_per_op * u.cpu_scale;
    j["other_load_cores"] = m.other_load;
    if (!is_stream(mode)) {
        j["p50_us"] = m.p50;
        j["p99_us"] = m.p99;
        j["p999_us"] = m.p999;
    }
    if (is_tls(mode))
        j["tls_negotiated"] = m.tls;
    if (is_handshake(mode))
        j["resumed_fraction"] = m.resumed_fraction;
    return j;
}

json units_json() {
    return {{"pingpong",
             {{"rate", "round trips/s"}, {"cpu_per_op", "µs of server CPU per round trip"}}},
            {"stream",
             {{"rate", "MB/s echoed (10^6 B)"},
              {"cpu_per_op", "ms of server CPU per GB (10^9 B) echoed"}}},
            {"connrate",
             {{"rate", "connections/s"}, {"cpu_per_op", "µs of server CPU per connection"}}},
            {"idle",
             {{"kib_per_conn", "(VmRSS with the connections - VmRSS before) / connections, KiB"}}},
            {"tls-handshake",
             {{"rate", "handshakes/s (each with a verified 64 B echo)"},
              {"cpu_per_op", "µs of server CPU per handshake"},
              {"resumed_fraction", "resumed handshakes / handshakes (SSL_session_reused)"}}},
            {"tls-resume",
             {{"rate", "handshakes/s (each with a verified 64 B echo)"},
              {"cpu_per_op", "µs of server CPU per handshake"},
              {"resumed_fraction", "resumed handshakes / handshakes (SSL_session_reused)"}}},
            {"tls-stream",
             {{"rate", "MB/s echoed (10^6 B of plaintext)"},
              {"cpu_per_op", "ms of server CPU per GB (10^9 B) of plaintext echoed"}}}};
}

// Every server's runs and medians in one scenario.
json servers_json(const Report& report, const Scenario& scenario) {
    json jservers = json::object();
    for (const auto& server : report.servers) {
        if (!runs_in(server, scenario)) {
            jservers[server.name] = {{"skipped", "no TLS baseline"}};
            continue;
        }
        const Cell& cell = cell_at(report.cells, scenario.id, server.name);
        json jc;
        jc["ok"] = !cell.failed;
        if (cell.failed)
            jc["error"] = cell.error;
        jc["median"] = run_json(cell.median, scenario.mode);
        jc["median"].erase("ok");
        json runs = json::array();
        for (const auto& r : cell.runs)
            runs.push_back(run_json(r, scenario.mode));
        jc["runs"] = runs;
        jservers[server.name] = jc;
    }
    return jservers;
}

// reactsock / each baseline in one scenario, with the range over the repeats.
json ratios_json(const Cells& cells, const Scenario& scenario) {
    json jratios = json::object();
    for (const char* base : {"asio", "epoll", "node"}) {
        if (scenario.mode == Mode::idle) {
            const double r =
                ratio_spread(cells, scenario.id, base, &RunMetrics::kib_per_conn).value;
            if (std::isfinite(r))
                jratios[base] = {{"kib_per_conn", r}};
            continue;
        }
        const Spread c = ratio_spread(cells, scenario.id, base, &RunMetrics::cpu_per_op);
        const Spread r = ratio_spread(cells, scenario.id, base, &RunMetrics::rate);
        if (std::isfinite(c.value)) {
            jratios[base] = {{"cpu_per_op", c.value},  {"cpu_per_op_min", c.lo},
                             {"cpu_per_op_max", c.hi}, {"rate", r.value},
                             {"rate_min", r.lo},       {"rate_max", r.hi}};
        }
    }
    return jratios;
}

json targets_json(const std::vector<Target>& targets) {
    json jtargets = json::array();
    for (const auto& t : targets) {
        if (!t.evaluated())
            continue;
        jtargets.push_back({{"target", t.text},
                            {"value", t.measured.value},
                            {"min", t.measured.lo},
                            {"max", t.measured.hi},
                            {"limit", t.limit},
                            {"met", t.met()},
                            {"range_straddles_limit", t.straddles()}});
    }
    return jtargets;
}

}  // namespace

json environment_json(const Options& options) {
    json env;
    utsname u{};
    ::uname(&u);
    env["kernel"] = std::string(u.sysname) + " " + u.release + " " + u.machine;
    std::istringstream cpuinfo(read_file("/proc/cpuinfo"));
    std::string line;
    while (std::getline(cpuinfo, line)) {
        if (line.rfind("model name", 0) == 0) {
            env["cpu"] = line.substr(line.find(':') + 2);
            break;
        }
    }
    env["cpus_online"] = ::sysconf(_SC_NPROCESSORS_ONLN);
    env["compiler"] = std::string("g++ ") + __VERSION__;
    env["asio"] = std::to_string(ASIO_VERSION / 100000) + "." +
                  std::to_string(ASIO_VERSION / 100 % 1000) + "." +
                  std::to_string(ASIO_VERSION % 100);
    const auto node = options.paths.count("node") ? options.paths.at("node") : std::string("node");
    env["node"] = command_output(node + " --version 2>/dev/null");
    env["openssl"] = OpenSSL_version(OPENSSL_VERSION);  // load generator, reactsock, asio::ssl
    env["node_openssl"] = command_output(node + " -p process.versions.openssl 2>/dev/null");
    // The library version measured: the source tree's commit, "-dirty" with local changes.
    env["source"] = command_output("git -C '" REACTSOCK_BENCH_SOURCE_DIR
                                   "' describe --always --dirty 2>/dev/null");
    char date[64];
    const std::time_t t = std::time(nullptr);
    std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S %Z", std::localtime(&t));
    env["date"] = date;
    return env;
}

json report_json(const Report& report, const json& environment) {
    const Options& options = report.options;
    json out;
    out["environment"] = environment;
    out["config"] = {{"repeats", options.repeats},           {"tls_repeats", options.tls_repeats},
                     {"warmup_s", options.warmup},           {"duration_s", options.duration},
                     {"idle_conns", options.idle_conns},     {"pinned", options.pin},
                     {"server_cpu", options.server_cpu},     {"realtime", options.realtime},
                     {"client_cpu", options.client_cpu},     {"quick", options.quick},
                     {"total_seconds", report.total_seconds}};
    out["units"] = units_json();
    if (report.any_tls) {
        out["tls_certificate"] = {{"cert", options.tls_cert},
                                  {"key", options.tls_key},
                                  {"type", "self-signed, EC P-256 (prime256v1), SHA-256"}};
    }
    json jscenarios = json::array();
    for (const auto& scenario : report.scenarios) {
        json js = {{"id", scenario.id},
                   {"title", scenario.title},
                   {"mode", mode_name(scenario.mode)},
                   {"conns", scenario.conns},
                   {"size", scenario.size}};
        js["servers"] = servers_json(report, scenario);
        js["reactsock_ratio_to"] = ratios_json(report.cells, scenario);
        jscenarios.push_back(js);
    }
    out["scenarios"] = jscenarios;
    out["targets"] = targets_json(report.targets);
    out["ok"] = !report.any_failed;
    return out;
}

void write_report(const Report& report) {
    const json environment = environment_json(report.options);
    const std::string md = report_markdown(report, environment);
    const std::string& out = report.options.out;
    std::ofstream(out + ".json") << report_json(report, environment).dump(2) << "\n";
    std::ofstream(out + ".md") << md;
    std::printf("%s", md.c_str());
}

}  // namespace bench::echo
