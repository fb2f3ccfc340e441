// bench_echo: reactsock's echo-server beside raw Asio, raw epoll and Node's net
// (TLS scenarios: beside raw Asio + asio::ssl and Node's tls; raw epoll has no TLS).
//
//   bench_echo [--quick] [--scenarios a,b] [--servers x,y] [--repeats N] [--tls-repeats N]
//              [--duration S] [--warmup S] [--idle-conns N] [--out PREFIX]
//              [--server-cpu N] [--client-cpu N] [--no-pin] [--realtime]
//              [--reactsock PATH] [--asio PATH] [--asio-tls PATH] [--epoll PATH] [--node PATH]
//              [--node-script PATH] [--node-tls-script PATH]
//   bench_echo --list
//   bench_echo --self-test
//   bench_echo --connect HOST:PORT --mode M [--conns C] [--size S] [--duration S]
//              [--warmup S] [--stall-timeout S] [--server-pid PID] [--exec-start CMD] [--exec-end
//              CMD]
//   bench_echo --make-certificate DIR               (DIR/cert.pem, DIR/key.pem; for profile.sh)
//   bench_echo --serve-broken KIND [HOST:PORT]      (used by --self-test)
//   bench_echo --serve-broken-tls KIND HOST:PORT CERT KEY   (used by --self-test)
//
// TLS scenarios: every run generates one throwaway self-signed certificate
// (EC P-256, reactsock::tls::self_signed_certificate) into bench-tls/ of the
// build directory and gives every server the same cert.pem and key.pem.
//
// Every run starts a fresh server process pinned to one core (--server-cpu,
// default 0) while this process, the load generator (loadgen.hpp), runs on
// the other (--client-cpu, default 1). Runs are interleaved: for each repeat,
// for each scenario, every server in turn (the order rotates per repeat). The
// server's CPU time over the measured window comes from /proc/PID/stat
// (utime + stime, all threads); idle memory from /proc/PID/status (VmRSS).
// Reported values are medians over the repeats; ratios to the baselines are
// medians of the per-repeat ratios. Results go to PREFIX.md and PREFIX.json
// (default: results.{md,json} in the build directory, beside benchmarks/); the
// Markdown is printed too. Exit status 1 if any run failed (a server that
// echoes wrong bytes fails its runs).
//
// --realtime runs this process and the servers under SCHED_FIFO (priority 1):
// on a machine that is busy with other (niced) work, a waking server would
// otherwise wait for the current task's time slice, and the rates would
// measure the scheduler. It needs root (or CAP_SYS_NICE) and leaves other
// processes 5% of each core while a benchmark process is runnable.
//
//
// The pieces: driver.cpp runs the benchmark (one run: run.cpp; medians,
// ratios and targets: results.cpp; PREFIX.md/json: report_*.cpp),
// selftest.cpp and selftest_servers.cpp are --self-test, connect.cpp is
// --connect and cert.cpp the TLS certificate. The load generator is
// ../loadgen.hpp, child processes ../common/process.hpp.
#include "echo/cert.hpp"
#include "echo/commands.hpp"
#include "echo/options.hpp"
#include "echo/scenarios.hpp"
#include "echo/servers.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace bench::echo;

namespace {

std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> out;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, sep)) {
        if (!item.empty())
            out.push_back(item);
    }
    return out;
}

void usage() {
    std::puts(
        "usage: bench_echo [--quick] [--scenarios a,b] [--servers x,y] [--repeats N] [--duration "
        "S]\n"
        "                  [--warmup S] [--idle-conns N] [--out PREFIX] [--server-cpu N] "
        "[--client-cpu N]\n"
        "                  [--no-pin] [--realtime] [--reactsock PATH] [--asio PATH] [--epoll PATH] "
        "[--node PATH]\n"
        "                  [--node-script PATH]\n"
        "                  [--tls-repeats N] [--asio-tls PATH] [--node-tls-script PATH]\n"
        "       bench_echo --list | --self-test | --make-certificate DIR\n"
        "       bench_echo --connect HOST:PORT --mode MODE [--conns C] [--size S]\n"
        "                  [--duration S] [--warmup S] [--stall-timeout S] [--server-pid PID]\n"
        "                  [--exec-start CMD] [--exec-end CMD]\n"
        "modes: pingpong, stream, connrate, idle, tls-handshake, tls-resume, tls-stream.\n"
        "servers: reactsock, asio, epoll, node. --scenarios takes ids (see --list), modes "
        "(pingpong, ...) or tls.");
}

// The command line: --NAME VALUE options and --FLAG flags.
struct CommandLine {
    std::map<std::string, std::string> args;
    std::vector<std::string> flags;
    [[nodiscard]] bool has(const char* flag) const {
        return std::find(flags.begin(), flags.end(), flag) != flags.end();
    }
};

template <std::size_t N>
bool one_of(const std::string& name, const char* const (&names)[N]) {
    return std::find_if(std::begin(names), std::end(names),
                        [&](const char* n) { return name == n; }) != std::end(names);
}

// The full benchmark's Options; false (with a message) on a bad one.
bool benchmark_options(CommandLine& command, Options& options) {
    auto& args = command.args;
    if (command.has("quick")) {
        options.quick = true;
        options.repeats = 1;
        options.tls_repeats = 1;
        options.warmup = 0.3;
        options.duration = 1.0;
    }
    if (args.count("idle-conns"))
        options.idle_conns = std::atoi(args["idle-conns"].c_str());
    try {
        if (args.count("repeats"))
            options.repeats = std::max(1, std::stoi(args["repeats"]));
        if (args.count("tls-repeats"))
            options.tls_repeats = std::max(1, std::stoi(args["tls-repeats"]));
        if (args.count("duration"))
            options.duration = std::stod(args["duration"]);
        if (args.count("warmup"))
            options.warmup = std::stod(args["warmup"]);
        if (args.count("server-cpu"))
            options.server_cpu = std::stoi(args["server-cpu"]);
        if (args.count("client-cpu"))
            options.client_cpu = std::stoi(args["client-cpu"]);
    } catch (const std::exception&) {
        std::fprintf(stderr, "bench_echo: bad number\n");
        return false;
    }
    options.pin = !command.has("no-pin");
    options.realtime = command.has("realtime");
    if (args.count("scenarios"))
        options.scenarios = split(args["scenarios"], ',');
    if (args.count("servers"))
        options.servers = split(args["servers"], ',');
    for (const char* key :
         {"reactsock", "asio", "asio-tls", "epoll", "node", "node-script", "node-tls-script"}) {
        if (args.count(key))
            options.paths[key] = args[key];
    }
    options.out = args.count("out") ? args["out"] : exe_dir() + "/../results";
    static const char* const kKnown[] = {
        "repeats",         "tls-repeats", "duration", "warmup",      "server-cpu",
        "client-cpu",      "scenarios",   "servers",  "reactsock",   "asio",
        "asio-tls",        "epoll",       "node",     "node-script", "out",
        "node-tls-script", "idle-conns"};
    for (const auto& [key, value] : args) {
        if (!one_of(key, kKnown)) {
            std::fprintf(stderr, "bench_echo: unknown option --%s\n", key.c_str());
            usage();
            return false;
        }
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    CommandLine command;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a.rfind("--", 0) != 0) {
            std::fprintf(stderr, "bench_echo: unexpected argument \"%s\"\n", a.c_str());
            usage();
            return 2;
        }
        a.erase(0, 2);
        static const char* const kFlags[] = {"quick",  "list",     "self-test",
                                             "no-pin", "realtime", "help"};
        if (one_of(a, kFlags)) {
            command.flags.push_back(a);
            continue;
        }
        if (a == "serve-broken") {
            return serve_broken(i + 1 < argc ? argv[i + 1] : "none",
                                i + 2 < argc ? argv[i + 2] : "127.0.0.1:0");
        }
        if (a == "serve-broken-tls") {
            if (i + 4 >= argc) {
                std::fprintf(stderr, "bench_echo: --serve-broken-tls KIND HOST:PORT CERT KEY\n");
                return 2;
            }
            return serve_broken_tls(argv[i + 1], argv[i + 2], argv[i + 3], argv[i + 4]);
        }
        if (i + 1 >= argc) {
            std::fprintf(stderr, "bench_echo: --%s needs a value\n", a.c_str());
            return 2;
        }
        command.args[a] = argv[++i];
    }
    auto& args = command.args;
    if (command.has("help")) {
        usage();
        return 0;
    }
    if (command.has("self-test"))
        return self_test();
    if (args.count("make-certificate")) {
        std::string cert, key;
        if (!write_certificate(args["make-certificate"], cert, key))
            return 1;
        std::printf("%s\n%s\n", cert.c_str(), key.c_str());
        return 0;
    }
    if (args.count("connect"))
        return connect_only(args);
    if (command.has("list")) {
        const int idle_conns =
            args.count("idle-conns") ? std::atoi(args["idle-conns"].c_str()) : Options{}.idle_conns;
        for (const auto& s : all_scenarios(idle_conns))
            std::printf("%-16s %s\n", s.id.c_str(), s.title.c_str());
        return 0;
    }
    Options options;
    if (!benchmark_options(command, options))
        return 2;
    return run_benchmark(options);
}
