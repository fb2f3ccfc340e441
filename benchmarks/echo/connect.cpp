// --connect HOST:PORT: the load generator on its own, against a server that
// is already running (for perf/callgrind sessions: benchmarks/profile.sh).
// With --server-pid it also measures that process's CPU time over the window
// (and in idle mode its memory per connection); --exec-start/--exec-end run a
// shell command at the window's start and end. One JSON line on stdout.
#include "echo/commands.hpp"
#include "echo/procfs.hpp"

#include "loadgen.hpp"

#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <thread>

namespace bench::echo {

using nlohmann::json;

namespace {

// The load of --connect, --mode, --conns, ...; false (with a message) on a bad one.
bool parse_load(const std::map<std::string, std::string>& args, LoadConfig& config) {
    const std::string target = args.at("connect");
    const auto colon = target.rfind(':');
    if (colon == std::string::npos) {
        std::fprintf(stderr, "bench_echo: --connect HOST:PORT\n");
        return false;
    }
    config.host = target.substr(0, colon);
    config.port = std::atoi(target.c_str() + colon + 1);
    if (args.count("mode") && !parse_mode(args.at("mode"), config.mode)) {
        std::fprintf(stderr,
                     "bench_echo: --mode "
                     "pingpong|stream|connrate|idle|tls-handshake|tls-resume|tls-stream\n");
        return false;
    }
    if (args.count("conns"))
        config.conns = std::atoi(args.at("conns").c_str());
    if (args.count("size"))
        config.size = static_cast<std::size_t>(std::atoll(args.at("size").c_str()));
    if (args.count("duration"))
        config.duration = std::atof(args.at("duration").c_str());
    if (args.count("warmup"))
        config.warmup = std::atof(args.at("warmup").c_str());
    if (args.count("stall-timeout"))
        config.stall_timeout = std::atof(args.at("stall-timeout").c_str());
    return true;
}

json result_json(const LoadConfig& config, const LoadResult& r) {
    json j = {{"ok", r.ok},
              {"mode", mode_name(config.mode)},
              {"conns", config.conns},
              {"size", config.size},
              {"seconds", r.seconds},
              {"ops", r.ops},
              {"ops_per_s", r.seconds > 0 ? static_cast<double>(r.ops) / r.seconds : 0.0},
              {"verified_bytes", r.total_verified_bytes},
              {"client_cpu_util", r.seconds > 0 ? r.client_cpu_seconds / r.seconds : 0.0},
              {"p50_us", r.p50_us},
              {"p99_us", r.p99_us},
              {"p999_us", r.p999_us},
              {"max_us", r.max_us}};
    if (!r.ok)
        j["error"] = r.error;
    if (is_tls(config.mode)) {
        j["tls_protocol"] = r.tls_protocol;
        j["tls_cipher"] = r.tls_cipher;
        j["tls_group"] = r.tls_group;
        j["resumed"] = r.resumed;
    }
    return j;
}

}  // namespace

int connect_only(const std::map<std::string, std::string>& args) {
    LoadConfig config;
    if (!parse_load(args, config))
        return 2;
    const pid_t pid = args.count("server-pid") ? std::atoi(args.at("server-pid").c_str()) : 0;
    raise_fd_limit();
    ::signal(SIGPIPE, SIG_IGN);
    double cpu[2] = {0, 0};
    LoadHooks hooks;
    const std::string exec_start = args.count("exec-start") ? args.at("exec-start") : "";
    const std::string exec_end = args.count("exec-end") ? args.at("exec-end") : "";
    hooks.on_window = [&](bool start) {
        // Profiling hooks, e.g. --exec-start "callgrind_control -z PID" --exec-end
        // "callgrind_control -d PID".
        if (start && !exec_start.empty() && std::system(exec_start.c_str()) != 0)
            std::fprintf(stderr, "--exec-start failed\n");
        if (pid > 0)
            cpu[start ? 0 : 1] = process_cpu_seconds(pid).value_or(0);
        if (!start && !exec_end.empty() && std::system(exec_end.c_str()) != 0)
            std::fprintf(stderr, "--exec-end failed\n");
    };
    std::optional<double> rss_before = pid > 0 ? process_rss_kib(pid) : std::nullopt;
    std::optional<double> rss_after;
    if (pid > 0 && config.mode == Mode::idle) {
        hooks.on_idle_ready = [&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
            rss_after = process_rss_kib(pid);
        };
    }
    const LoadResult r = run_load(config, hooks);
    json j = result_json(config, r);
    if (pid > 0 && r.ops > 0) {
        j["server_cpu_s"] = cpu[1] - cpu[0];
        j["server_cpu_per_op_us"] = (cpu[1] - cpu[0]) * 1e6 / static_cast<double>(r.ops);
    }
    if (rss_before && rss_after)
        j["server_kib_per_conn"] = (*rss_after - *rss_before) / config.conns;
    std::printf("%s\n", j.dump().c_str());
    return r.ok ? 0 : 1;
}

}  // namespace bench::echo
