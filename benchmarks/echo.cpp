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
// --connect drives an already running server (for perf/callgrind sessions).
#include "loadgen.hpp"

#include <reactsock/tls/certificate.hpp>

#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <asio/version.hpp>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#ifndef REACTSOCK_BENCH_SOURCE_DIR
#define REACTSOCK_BENCH_SOURCE_DIR "."
#endif

namespace fs = std::filesystem;
using bench::LoadConfig;
using bench::LoadResult;
using bench::Mode;
using nlohmann::json;

namespace {

// ---- scenarios and servers ---------------------------------------------------

struct Scenario {
    std::string id;
    Mode mode;
    int conns;
    std::size_t size;
    std::string title;
};

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

const char* const kServerNames[] = {"reactsock", "asio", "epoll", "node"};

struct ServerSpec {
    std::string name;
    std::vector<std::string> argv;      // plain TCP scenarios
    std::vector<std::string> tls_argv;  // TLS scenarios; empty: no TLS server (epoll)
};

// What a scenario's "op" is, and how its rate and CPU cost are shown.
struct Units {
    const char* rate;   // e.g. "round trips/s"
    const char* cpu;    // e.g. "µs/rt"
    double cpu_scale;   // server CPU seconds per op -> shown unit
    double rate_scale;  // ops/s -> shown unit
};

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

// ---- small helpers --------------------------------------------------------------

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

double median(std::vector<double> values) {
    if (values.empty())
        return std::nan("");
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::string fmt(double value, int digits = 0) {
    if (!std::isfinite(value))
        return "–";
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.*f", digits, value);
    // Thousands separators for the integer part of large numbers.
    std::string text = buffer;
    const auto dot = text.find('.');
    std::string integer = text.substr(0, dot);
    const std::string rest = dot == std::string::npos ? "" : text.substr(dot);
    const bool negative = !integer.empty() && integer[0] == '-';
    if (negative)
        integer.erase(0, 1);
    std::string grouped;
    for (std::size_t i = 0; i < integer.size(); ++i) {
        const std::size_t left = integer.size() - i;
        if (i > 0 && left % 3 == 0 && integer.size() > 4)
            grouped += ',';
        grouped += integer[i];
    }
    return (negative ? "-" : "") + grouped + rest;
}

// Three significant digits, for values of any size.
std::string sig3(double value) {
    if (!std::isfinite(value))
        return "–";
    const double magnitude = std::fabs(value);
    const int digits = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : 3;
    return fmt(value, digits);
}

std::string ratio_text(double value) {
    if (!std::isfinite(value))
        return "–";
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.2f×", value);
    return buffer;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
}

// utime + stime of every thread of `pid`, in seconds (/proc/PID/stat, fields 14 and 15).
std::optional<double> process_cpu_seconds(pid_t pid) {
    const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    const auto paren = stat.rfind(')');
    if (paren == std::string::npos)
        return std::nullopt;
    std::istringstream fields(stat.substr(paren + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int index = 3; fields >> field; ++index) {
        if (index == 14)
            utime = std::stoull(field);
        if (index == 15) {
            stime = std::stoull(field);
            static const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
            return static_cast<double>(utime + stime) / ticks;
        }
    }
    return std::nullopt;
}

// VmRSS of `pid` in KiB (/proc/PID/status).
std::optional<double> process_rss_kib(pid_t pid) {
    std::istringstream status(read_file("/proc/" + std::to_string(pid) + "/status"));
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stod(line.substr(6));
    }
    return std::nullopt;
}

// Jiffies of /proc/stat's "cpu" (all CPUs) or "cpuN" line: busy = user + nice +
// system (irq, softirq, idle, iowait and steal apart), and softirq.
struct CpuTimes {
    double busy = 0;
    double softirq = 0;
};

std::optional<CpuTimes> machine_cpu_seconds(int cpu) {
    std::istringstream stat(read_file("/proc/stat"));
    const std::string wanted = cpu < 0 ? "cpu" : "cpu" + std::to_string(cpu);
    std::string line;
    static const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    while (std::getline(stat, line)) {
        std::istringstream fields(line);
        std::string name;
        fields >> name;
        if (name != wanted)
            continue;
        unsigned long long v[7] = {};
        for (auto& x : v)
            fields >> x;  // user nice system idle iowait irq softirq
        return CpuTimes{static_cast<double>(v[0] + v[1] + v[2]) / ticks,
                        static_cast<double>(v[6]) / ticks};
    }
    return std::nullopt;
}

std::string command_output(const std::string& command) {
    std::string out;
    if (FILE* pipe = ::popen(command.c_str(), "r")) {
        char buffer[256];
        while (std::fgets(buffer, sizeof buffer, pipe))
            out += buffer;
        ::pclose(pipe);
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
        out.pop_back();
    return out;
}

bool pin_to_cpu(pid_t pid, int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return ::sched_setaffinity(pid, sizeof set, &set) == 0;
}

// ---- server processes -----------------------------------------------------------

class ServerProcess {
public:
    // Starts `argv` (pinned to `cpu` unless negative) and waits for its
    // "Listening on tcp://HOST:PORT" line. stderr goes to `log_path`.
    bool start(const std::vector<std::string>& argv, int cpu, const std::string& log_path,
               std::string& error) {
        int out[2];
        if (::pipe2(out, O_CLOEXEC) != 0) {
            error = "pipe2: " + std::string(std::strerror(errno));
            return false;
        }
        const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        pid_ = ::fork();
        if (pid_ < 0) {
            error = "fork: " + std::string(std::strerror(errno));
            return false;
        }
        if (pid_ == 0) {
            if (cpu >= 0)
                pin_to_cpu(0, cpu);
            ::dup2(out[1], STDOUT_FILENO);
            if (log >= 0)
                ::dup2(log, STDERR_FILENO);
            std::vector<char*> args;
            for (const auto& a : argv)
                args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            ::execvp(args[0], args.data());
            std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
            ::_exit(127);
        }
        if (log >= 0)
            ::close(log);
        ::close(out[1]);
        stdout_ = out[0];

        std::string line;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
        while (line.find('\n') == std::string::npos) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  deadline - std::chrono::steady_clock::now())
                                  .count();
            pollfd p{stdout_, POLLIN, 0};
            if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) {
                error = "no \"Listening on\" line within 15 s";
                stop();
                return false;
            }
            char buffer[256];
            const ssize_t n = ::read(stdout_, buffer, sizeof buffer);
            if (n <= 0) {
                error = "exited before listening (see " + log_path + ")";
                stop();
                return false;
            }
            line.append(buffer, static_cast<std::size_t>(n));
        }
        line.resize(line.find('\n'));
        const auto colon = line.rfind(':');
        if (line.rfind("Listening on ", 0) != 0 || colon == std::string::npos) {
            error = "unexpected first line: \"" + line + "\"";
            stop();
            return false;
        }
        port_ = std::atoi(line.c_str() + colon + 1);
        if (port_ <= 0) {
            error = "no port in \"" + line + "\"";
            stop();
            return false;
        }
        return true;
    }

    // SIGTERM, then SIGKILL after 5 s. Returns "" when the server exited 0.
    std::string stop() {
        if (pid_ <= 0)
            return "";
        ::kill(pid_, SIGTERM);
        int status = 0;
        std::string result;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        for (;;) {
            const pid_t r = ::waitpid(pid_, &status, WNOHANG);
            if (r == pid_)
                break;
            if (r < 0) {
                result = "waitpid: " + std::string(std::strerror(errno));
                break;
            }
            if (std::chrono::steady_clock::now() > deadline) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, &status, 0);
                result = "did not exit within 5 s of SIGTERM (killed)";
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        if (result.empty()) {
            if (WIFSIGNALED(status)) {
                result = std::string("killed by signal ") + ::strsignal(WTERMSIG(status));
            } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
                result = "exited with status " + std::to_string(WEXITSTATUS(status));
            }
        }
        pid_ = -1;
        if (stdout_ >= 0)
            ::close(stdout_);
        stdout_ = -1;
        return result;
    }

    ~ServerProcess() { stop(); }

    [[nodiscard]] pid_t pid() const { return pid_; }
    [[nodiscard]] int port() const { return port_; }

private:
    pid_t pid_ = -1;
    int stdout_ = -1;
    int port_ = 0;
};

// ---- one run --------------------------------------------------------------------

struct RunMetrics {
    bool ok = false;
    std::string error;
    double seconds = 0;
    double rate = 0;         // ops/s (stream: bytes/s)
    double cpu_per_op = 0;   // server CPU seconds per op
    double server_util = 0;  // server CPU seconds / wall seconds
    double client_util = 0;
    double p50 = 0, p99 = 0, p999 = 0;                               // µs
    double rss_before_kib = 0, rss_after_kib = 0, kib_per_conn = 0;  // idle
    double server_softirq_per_op =
        0;                  // softirq seconds on the server's CPU per op (not in cpu_per_op)
    double other_load = 0;  // CPU use of everything but server and load generator, in cores
    std::uint64_t ops = 0;
    double resumed_fraction = 0;  // TLS handshake modes: resumed / ops in the window
    std::string tls;              // TLS: "TLSv1.3 TLS_AES_256_GCM_SHA384 X25519"
};

json to_json(const RunMetrics& m, Mode mode) {
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
    if (bench::is_tls(mode))
        j["tls_negotiated"] = m.tls;
    if (is_handshake(mode))
        j["resumed_fraction"] = m.resumed_fraction;
    return j;
}

struct Options {
    std::vector<std::string> scenarios;  // selectors
    std::vector<std::string> servers;
    int repeats = 7;
    int tls_repeats = 5;  // at most this many repeats of the TLS scenarios
    double duration = 1.5;
    double warmup = 0.5;
    int idle_conns = 10000;
    std::string out;
    int server_cpu = 0;
    int client_cpu = 1;
    bool pin = true;
    bool realtime = false;
    // reactsock, asio, asio-tls, epoll, node, node-script, node-tls-script
    std::map<std::string, std::string> paths;
    std::string tls_cert, tls_key;  // TLS scenarios: the files every server gets
    bool quick = false;
};

RunMetrics run_one(const Scenario& scenario, const ServerSpec& server, const Options& options,
                   const std::string& log_path) {
    RunMetrics m;
    ServerProcess process;
    const std::vector<std::string>& argv =
        bench::is_tls(scenario.mode) ? server.tls_argv : server.argv;
    if (!process.start(argv, options.pin ? options.server_cpu : -1, log_path, m.error))
        return m;

    LoadConfig config;
    config.mode = scenario.mode;
    config.port = process.port();
    config.conns = scenario.conns;
    config.size = scenario.size;
    config.warmup = options.warmup;
    config.duration = options.duration;

    double cpu_start = 0, cpu_end = 0;
    CpuTimes machine[2], server_core[2];
    bench::LoadHooks hooks;
    hooks.on_window = [&](bool start) {
        const double cpu = process_cpu_seconds(process.pid()).value_or(std::nan(""));
        (start ? cpu_start : cpu_end) = cpu;
        machine[start ? 0 : 1] = machine_cpu_seconds(-1).value_or(CpuTimes{});
        server_core[start ? 0 : 1] =
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
    const LoadResult r = bench::run_load(config, hooks);
    const std::string exit_problem = process.stop();

    m.ok = r.ok && exit_problem.empty();
    m.error = !r.ok ? r.error : exit_problem.empty() ? "" : "server " + exit_problem;
    if (scenario.mode == Mode::idle) {
        m.kib_per_conn = (m.rss_after_kib - m.rss_before_kib) / scenario.conns;
        return m;
    }
    m.seconds = r.seconds;
    m.ops = r.ops;
    if (r.seconds > 0) {
        m.rate = static_cast<double>(r.ops) / r.seconds;
        m.server_util = (cpu_end - cpu_start) / r.seconds;
        m.client_util = r.client_cpu_seconds / r.seconds;
    }
    m.cpu_per_op = r.ops > 0 ? (cpu_end - cpu_start) / static_cast<double>(r.ops) : std::nan("");
    m.server_softirq_per_op =
        r.ops > 0 ? (server_core[1].softirq - server_core[0].softirq) / static_cast<double>(r.ops)
                  : std::nan("");
    if (r.seconds > 0) {
        m.other_load = std::max(0.0, (machine[1].busy - machine[0].busy - (cpu_end - cpu_start) -
                                      r.client_cpu_seconds) /
                                         r.seconds);
    }
    m.p50 = r.p50_us;
    m.p99 = r.p99_us;
    m.p999 = r.p999_us;
    if (bench::is_tls(scenario.mode))
        m.tls = r.tls_protocol + " " + r.tls_cipher + " " + r.tls_group;
    if (is_handshake(scenario.mode) && r.ops > 0)
        m.resumed_fraction = static_cast<double>(r.resumed) / static_cast<double>(r.ops);
    if (m.ok && r.ops == 0) {
        m.ok = false;
        m.error = "no operation completed in the window";
    }
    return m;
}

// ---- the full benchmark ------------------------------------------------------------

struct Cell {  // one scenario x server: every run and the medians
    std::vector<RunMetrics> runs;
    bool failed = false;
    std::string error;
    RunMetrics median;
};

RunMetrics medians(const std::vector<RunMetrics>& runs) {
    auto pick = [&](double RunMetrics::*field) {
        std::vector<double> values;
        for (const auto& r : runs) {
            if (r.ok)
                values.push_back(r.*field);
        }
        return median(values);
    };
    RunMetrics m;
    m.ok = true;
    m.seconds = pick(&RunMetrics::seconds);
    m.rate = pick(&RunMetrics::rate);
    m.cpu_per_op = pick(&RunMetrics::cpu_per_op);
    m.server_util = pick(&RunMetrics::server_util);
    m.client_util = pick(&RunMetrics::client_util);
    m.p50 = pick(&RunMetrics::p50);
    m.p99 = pick(&RunMetrics::p99);
    m.p999 = pick(&RunMetrics::p999);
    m.rss_before_kib = pick(&RunMetrics::rss_before_kib);
    m.rss_after_kib = pick(&RunMetrics::rss_after_kib);
    m.kib_per_conn = pick(&RunMetrics::kib_per_conn);
    m.server_softirq_per_op = pick(&RunMetrics::server_softirq_per_op);
    m.other_load = pick(&RunMetrics::other_load);
    m.resumed_fraction = pick(&RunMetrics::resumed_fraction);
    for (const auto& r : runs) {  // every distinct negotiation, in order of appearance
        if (r.ok && !r.tls.empty() && m.tls.find(r.tls) == std::string::npos)
            m.tls += (m.tls.empty() ? "" : " / ") + r.tls;
    }
    std::vector<double> ops;
    for (const auto& r : runs) {
        if (r.ok)
            ops.push_back(static_cast<double>(r.ops));
    }
    m.ops = ops.empty() ? 0 : static_cast<std::uint64_t>(median(ops));
    return m;
}

// A value with the range it took over the repeats.
struct Spread {
    double value = std::nan("");
    double lo = std::nan("");
    double hi = std::nan("");
};

Spread spread_of(const std::vector<double>& values) {
    if (values.empty())
        return {};
    return {median(values), *std::min_element(values.begin(), values.end()),
            *std::max_element(values.begin(), values.end())};
}

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

std::string exe_dir() {
    std::error_code ec;
    const auto self = fs::read_symlink("/proc/self/exe", ec);
    return ec ? std::string(".") : self.parent_path().string();
}

std::vector<ServerSpec> server_specs(const Options& options) {
    const auto path = [&](const std::string& key, const std::string& fallback) {
        const auto it = options.paths.find(key);
        return it != options.paths.end() ? it->second : fallback;
    };
    const std::string dir = exe_dir();
    const std::string address = "127.0.0.1:0";
    const std::string baselines = std::string(REACTSOCK_BENCH_SOURCE_DIR) + "/baselines/";
    const json reactsock_tls = {
        {"tcp", {{"tcp_nodelay", true}}},
        {"tls", {{"local_cert", options.tls_cert}, {"local_pk", options.tls_key}}}};
    const std::string reactsock = path("reactsock", dir + "/../examples/echo-server");
    return {
        {"reactsock",
         {reactsock, address, "--options", R"({"tcp":{"tcp_nodelay":true}})"},
         {reactsock, "tls://" + address, "--options", reactsock_tls.dump()}},
        {"asio",
         {path("asio", dir + "/bench_asio_echo"), address},
         {path("asio-tls", dir + "/bench_asio_tls_echo"), address, options.tls_cert,
          options.tls_key}},
        {"epoll", {path("epoll", dir + "/bench_epoll_echo"), address}, {}},
        {"node",
         {path("node", "node"), path("node-script", baselines + "node_echo.js"), address},
         {path("node", "node"), path("node-tls-script", baselines + "node_tls_echo.js"), address,
          options.tls_cert, options.tls_key}},
    };
}

// Selectors: "all", a scenario id, a mode ("pingpong", "tls-resume", ...) or
// "tls" (every TLS scenario).
bool matches(const std::string& selector, const std::string& id, Mode mode) {
    return selector == "all" || selector == id || selector == bench::mode_name(mode) ||
           (selector == "tls" && bench::is_tls(mode));
}

bool selected(const std::vector<std::string>& selectors, const std::string& id, Mode mode) {
    if (selectors.empty())
        return true;
    return std::any_of(selectors.begin(), selectors.end(),
                       [&](const std::string& s) { return matches(s, id, mode); });
}

// A throwaway certificate (EC P-256, CN=localhost) and its key as DIR/cert.pem
// and DIR/key.pem: the same files for every TLS server of a run.
bool write_certificate(const std::string& dir, std::string& cert_path, std::string& key_path) {
    try {
        const auto cert = reactsock::tls::self_signed_certificate("localhost", 2);
        fs::create_directories(dir);
        cert_path = fs::absolute(dir + "/cert.pem").lexically_normal().string();
        key_path = fs::absolute(dir + "/key.pem").lexically_normal().string();
        std::ofstream(cert_path, std::ios::trunc) << cert.certificate_pem;
        {
            std::ofstream key(key_path, std::ios::trunc);
            key << cert.private_key_pem;
        }
        fs::permissions(key_path, fs::perms::owner_read | fs::perms::owner_write);
        return fs::file_size(cert_path) > 0 && fs::file_size(key_path) > 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_echo: cannot write a TLS certificate to %s: %s\n", dir.c_str(),
                     e.what());
        return false;
    }
}

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

int run_benchmark(Options options) {
    const auto scenarios_all = all_scenarios(options.idle_conns);
    std::vector<Scenario> scenarios;
    for (const auto& s : scenarios_all) {
        if (selected(options.scenarios, s.id, s.mode))
            scenarios.push_back(s);
    }
    for (const auto& selector : options.scenarios) {
        const bool known =
            std::any_of(scenarios_all.begin(), scenarios_all.end(),
                        [&](const Scenario& s) { return matches(selector, s.id, s.mode); });
        if (!known) {
            std::fprintf(stderr, "bench_echo: unknown scenario \"%s\" (see --list)\n",
                         selector.c_str());
            return 2;
        }
    }
    std::vector<ServerSpec> servers;
    for (auto& spec : server_specs(options)) {
        if (options.servers.empty() || std::find(options.servers.begin(), options.servers.end(),
                                                 spec.name) != options.servers.end()) {
            servers.push_back(spec);
        }
    }
    for (const auto& name : options.servers) {
        if (std::find(std::begin(kServerNames), std::end(kServerNames), name) ==
            std::end(kServerNames)) {
            std::fprintf(stderr,
                         "bench_echo: unknown server \"%s\" (reactsock, asio, epoll, node)\n",
                         name.c_str());
            return 2;
        }
    }
    if (scenarios.empty() || servers.empty()) {
        std::fprintf(stderr, "bench_echo: nothing selected\n");
        return 2;
    }
    const bool any_tls = std::any_of(scenarios.begin(), scenarios.end(),
                                     [](const Scenario& s) { return bench::is_tls(s.mode); });
    if (any_tls) {
        // One certificate per run, in the build directory, for every server.
        if (!write_certificate(exe_dir() + "/../bench-tls", options.tls_cert, options.tls_key))
            return 1;
        servers.clear();
        for (auto& spec : server_specs(options)) {
            if (options.servers.empty() || std::find(options.servers.begin(), options.servers.end(),
                                                     spec.name) != options.servers.end()) {
                servers.push_back(spec);
            }
        }
    }
    // A server takes part in a scenario if it has a server for it (no TLS epoll).
    const auto runs_in = [](const ServerSpec& server, const Scenario& scenario) {
        return !bench::is_tls(scenario.mode) || !server.tls_argv.empty();
    };
    const auto repeats_of = [&](const Scenario& scenario) {
        // Memory per idle connection hardly varies: 3 repeats are plenty. TLS
        // scenarios get fewer repeats to keep the whole run under 10 minutes.
        if (scenario.mode == Mode::idle)
            return std::min(options.repeats, 3);
        if (bench::is_tls(scenario.mode))
            return std::min(options.repeats, options.tls_repeats);
        return options.repeats;
    };

    const std::uint64_t fd_limit = bench::raise_fd_limit();  // inherited by the servers
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

    const std::string log_path = options.out + ".servers.log";
    { std::ofstream truncate(log_path); }

    std::map<std::string, std::map<std::string, Cell>> cells;  // scenario id -> server -> cell
    const auto started = std::chrono::steady_clock::now();
    std::fprintf(stderr,
                 "bench_echo: %zu scenario(s) x %zu server(s) x %d repeat(s) (idle: at most 3, "
                 "TLS: at most %d), %.1f s warm-up + %.1f s measured each%s\n",
                 scenarios.size(), servers.size(), options.repeats, options.tls_repeats,
                 options.warmup, options.duration, options.pin ? "" : " (not pinned)");
    bool any_failed = false;
    for (int repeat = 0; repeat < options.repeats; ++repeat) {
        for (const auto& scenario : scenarios) {
            if (repeat >= repeats_of(scenario))
                continue;
            for (std::size_t k = 0; k < servers.size(); ++k) {
                const ServerSpec& server =
                    servers[(k + static_cast<std::size_t>(repeat)) % servers.size()];
                if (!runs_in(server, scenario))
                    continue;
                RunMetrics m = run_one(scenario, server, options, log_path);
                const Units u = units_of(scenario.mode);
                const double elapsed =
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
                        .count();
                if (!m.ok) {
                    std::fprintf(stderr, "[%5.0fs] %d/%d %-15s %-9s FAILED: %s\n", elapsed,
                                 repeat + 1, options.repeats, scenario.id.c_str(),
                                 server.name.c_str(), m.error.c_str());
                    any_failed = true;
                } else if (scenario.mode == Mode::idle) {
                    std::fprintf(
                        stderr,
                        "[%5.0fs] %d/%d %-15s %-9s %.2f KiB/conn (VmRSS %.0f -> %.0f KiB)\n",
                        elapsed, repeat + 1, options.repeats, scenario.id.c_str(),
                        server.name.c_str(), m.kib_per_conn, m.rss_before_kib, m.rss_after_kib);
                } else {
                    std::string extra;
                    if (is_handshake(scenario.mode))
                        extra += " resumed " + fmt(m.resumed_fraction * 100, 1) + "%";
                    if (bench::is_tls(scenario.mode))
                        extra += " " + m.tls;
                    std::fprintf(
                        stderr,
                        "[%5.0fs] %d/%d %-15s %-9s %12s %-14s %8s %-12s server %3.0f%% client "
                        "%3.0f%%%s\n",
                        elapsed, repeat + 1, options.repeats, scenario.id.c_str(),
                        server.name.c_str(),
                        fmt(m.rate * u.rate_scale, is_stream(scenario.mode) ? 1 : 0).c_str(),
                        u.rate, sig3(m.cpu_per_op * u.cpu_scale).c_str(), u.cpu,
                        m.server_util * 100, m.client_util * 100, extra.c_str());
                }
                Cell& cell = cells[scenario.id][server.name];
                if (!m.ok && !cell.failed) {
                    cell.failed = true;
                    cell.error = m.error;
                }
                cell.runs.push_back(std::move(m));
            }
        }
    }
    const double total_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    for (auto& [id, by_server] : cells) {
        for (auto& [name, cell] : by_server)
            cell.median = medians(cell.runs);
    }

    // ---- ratios and targets ----
    auto cell_of = [&](const std::string& id, const std::string& server) -> const Cell* {
        const auto s = cells.find(id);
        if (s == cells.end())
            return nullptr;
        const auto c = s->second.find(server);
        return c == s->second.end() || c->second.failed ? nullptr : &c->second;
    };
    // Median of the per-repeat ratios: each repeat runs every server back to
    // back, so pairing them cancels slow changes of the machine's load.
    auto ratio_spread = [&](const std::string& id, const std::string& base,
                            double RunMetrics::*field) {
        const Cell* a = cell_of(id, "reactsock");
        const Cell* b = cell_of(id, base);
        if (!a || !b)
            return Spread{};
        std::vector<double> ratios;
        for (std::size_t i = 0; i < std::min(a->runs.size(), b->runs.size()); ++i) {
            ratios.push_back(a->runs[i].*field / b->runs[i].*field);
        }
        return spread_of(ratios);
    };
    auto ratio = [&](const std::string& id, const std::string& base, double RunMetrics::*field) {
        return ratio_spread(id, base, field).value;
    };
    std::vector<Target> targets;
    auto add_target = [&](std::string text, Spread measured, double limit, bool at_most) {
        targets.push_back({std::move(text), measured, limit, at_most});
    };
    add_target("pingpong C=100: CPU/round trip ≤ 1.0× asio",
               ratio_spread("pingpong-c100", "asio", &RunMetrics::cpu_per_op), 1.0, true);
    add_target("pingpong C=100: CPU/round trip ≤ 1.1× epoll",
               ratio_spread("pingpong-c100", "epoll", &RunMetrics::cpu_per_op), 1.1, true);
    for (const char* id : {"pingpong-c1", "pingpong-c100", "pingpong-c1000"}) {
        add_target(std::string(id) + ": round trips/s ≥ 0.95× asio",
                   ratio_spread(id, "asio", &RunMetrics::rate), 0.95, false);
    }
    add_target("connrate: CPU/connection ≤ 1.0× asio",
               ratio_spread("connrate-w50", "asio", &RunMetrics::cpu_per_op), 1.0, true);
    for (const char* id : {"stream-64k-c1", "stream-4k-c100"}) {
        add_target(std::string(id) + ": CPU/GB ≤ 1.05× asio",
                   ratio_spread(id, "asio", &RunMetrics::cpu_per_op), 1.05, true);
        add_target(std::string(id) + ": MB/s ≥ 0.95× asio",
                   ratio_spread(id, "asio", &RunMetrics::rate), 0.95, false);
    }
    {
        const Cell* idle = cell_of("idle", "reactsock");
        std::vector<double> kib;
        if (idle) {
            for (const auto& r : idle->runs)
                kib.push_back(r.kib_per_conn);
        }
        add_target("idle: ≤ 2 KiB server memory per connection (KiB)", spread_of(kib), 2.0, true);
    }
    for (const char* id : {"pingpong-c1", "pingpong-c100", "pingpong-c1000"}) {
        add_target(std::string(id) + ": CPU/round trip ≤ 0.6× node",
                   ratio_spread(id, "node", &RunMetrics::cpu_per_op), 0.6, true);
    }
    add_target("connrate: CPU/connection ≤ 0.6× node",
               ratio_spread("connrate-w50", "node", &RunMetrics::cpu_per_op), 0.6, true);
    // Issue (TLS): handshakes/s and TLS echo ≥ 0.95× raw Asio + asio::ssl. The
    // load generator's core can be the limit (a TLS client works as hard as the
    // server), so the CPU form of the same target is listed too.
    for (const char* id : {"tls-handshake-w50", "tls-resume-w50"}) {
        add_target(std::string(id) + ": handshakes/s ≥ 0.95× asio",
                   ratio_spread(id, "asio", &RunMetrics::rate), 0.95, false);
        add_target(std::string(id) + ": CPU/handshake ≤ 1.05× asio",
                   ratio_spread(id, "asio", &RunMetrics::cpu_per_op), 1.05, true);
    }
    add_target("tls-stream-64k-c1: MB/s ≥ 0.95× asio",
               ratio_spread("tls-stream-64k-c1", "asio", &RunMetrics::rate), 0.95, false);
    add_target("tls-stream-64k-c1: CPU/GB ≤ 1.05× asio",
               ratio_spread("tls-stream-64k-c1", "asio", &RunMetrics::cpu_per_op), 1.05, true);

    std::vector<double> other_loads;
    for (const auto& [id, by_server] : cells) {
        for (const auto& [name, cell] : by_server) {
            for (const auto& r : cell.runs) {
                if (r.ok && r.seconds > 0)
                    other_loads.push_back(r.other_load);
            }
        }
    }
    const double other_load_median = median(other_loads);
    const double other_load_max = other_loads.empty()
                                      ? std::nan("")
                                      : *std::max_element(other_loads.begin(), other_loads.end());

    // ---- JSON ----
    json out;
    out["environment"] = environment_json(options);
    out["config"] = {{"repeats", options.repeats},       {"tls_repeats", options.tls_repeats},
                     {"warmup_s", options.warmup},       {"duration_s", options.duration},
                     {"idle_conns", options.idle_conns}, {"pinned", options.pin},
                     {"server_cpu", options.server_cpu}, {"realtime", options.realtime},
                     {"client_cpu", options.client_cpu}, {"quick", options.quick},
                     {"total_seconds", total_seconds}};
    out["units"] = {
        {"pingpong",
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
    if (any_tls) {
        out["tls_certificate"] = {{"cert", options.tls_cert},
                                  {"key", options.tls_key},
                                  {"type", "self-signed, EC P-256 (prime256v1), SHA-256"}};
    }
    json jscenarios = json::array();
    for (const auto& scenario : scenarios) {
        json js = {{"id", scenario.id},
                   {"title", scenario.title},
                   {"mode", bench::mode_name(scenario.mode)},
                   {"conns", scenario.conns},
                   {"size", scenario.size}};
        json jservers = json::object();
        for (const auto& server : servers) {
            if (!runs_in(server, scenario)) {
                jservers[server.name] = {{"skipped", "no TLS baseline"}};
                continue;
            }
            const Cell& cell = cells[scenario.id][server.name];
            json jc;
            jc["ok"] = !cell.failed;
            if (cell.failed)
                jc["error"] = cell.error;
            jc["median"] = to_json(cell.median, scenario.mode);
            jc["median"].erase("ok");
            json runs = json::array();
            for (const auto& r : cell.runs)
                runs.push_back(to_json(r, scenario.mode));
            jc["runs"] = runs;
            jservers[server.name] = jc;
        }
        js["servers"] = jservers;
        json jratios = json::object();
        for (const char* base : {"asio", "epoll", "node"}) {
            if (scenario.mode == Mode::idle) {
                const double r = ratio(scenario.id, base, &RunMetrics::kib_per_conn);
                if (std::isfinite(r))
                    jratios[base] = {{"kib_per_conn", r}};
            } else {
                const Spread c = ratio_spread(scenario.id, base, &RunMetrics::cpu_per_op);
                const Spread r = ratio_spread(scenario.id, base, &RunMetrics::rate);
                if (std::isfinite(c.value)) {
                    jratios[base] = {{"cpu_per_op", c.value},  {"cpu_per_op_min", c.lo},
                                     {"cpu_per_op_max", c.hi}, {"rate", r.value},
                                     {"rate_min", r.lo},       {"rate_max", r.hi}};
                }
            }
        }
        js["reactsock_ratio_to"] = jratios;
        jscenarios.push_back(js);
    }
    out["scenarios"] = jscenarios;
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
    out["targets"] = jtargets;
    out["ok"] = !any_failed;

    // ---- Markdown ----
    std::ostringstream md;
    const json& env = out["environment"];
    md << "# reactsock echo benchmark\n\n";
    md << env["date"].get<std::string>() << " · " << env.value("cpu", std::string("?")) << " · "
       << env["cpus_online"].get<long>() << " CPUs · " << env["kernel"].get<std::string>() << " · "
       << env["compiler"].get<std::string>() << " · Asio " << env["asio"].get<std::string>()
       << " · Node " << env["node"].get<std::string>() << " · reactsock "
       << env["source"].get<std::string>();
    if (any_tls) {
        md << " · " << env["openssl"].get<std::string>() << " (Node's: OpenSSL "
           << env["node_openssl"].get<std::string>() << ")";
    }
    md << "\n\n";
    md << "Server "
       << (options.pin ? "pinned to CPU " + std::to_string(options.server_cpu) +
                             ", load generator to CPU " + std::to_string(options.client_cpu)
                       : std::string("and load generator not pinned"))
       << ". " << options.warmup << " s warm-up + " << options.duration
       << " s measured per run, median of " << options.repeats
       << " interleaved run(s) (idle: " << std::min(options.repeats, 3)
       << (any_tls ? ", TLS: " + std::to_string(std::min(options.repeats, options.tls_repeats))
                   : std::string())
       << ")" << (options.quick ? " (--quick)" : "")
       << (options.realtime ? ", SCHED_FIFO (--realtime)" : ", normal scheduling")
       << "; whole benchmark " << fmt(total_seconds) << " s; other processes used a median of "
       << fmt(other_load_median, 2) << " cores during the measured windows"
       << " (max " << fmt(other_load_max, 2) << "). "
       << "CPU/op = server utime+stime over the window / operations (softirq time is not in it). "
          "Ratios are reactsock / baseline, "
       << "medians of the per-repeat ratios (in brackets the lowest and highest repeat): below 1 "
          "is better for CPU, above 1 "
       << "is better for rates.\n";
    for (const auto& scenario : scenarios) {
        const Units u = units_of(scenario.mode);
        md << "\n## " << scenario.title << " (`" << scenario.id << "`)\n\n";
        int columns = 0;  // after the server's name
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
        if (bench::is_tls(scenario.mode)) {
            md << " negotiated |";
            ++columns;
        }
        if (scenario.mode != Mode::idle) {
            md << "\n|---|";
            for (int c = 0; c < columns; ++c)
                md << (bench::is_tls(scenario.mode) && c == columns - 1 ? "---|" : "--:|");
            md << "\n";
        }
        for (const auto& server : servers) {
            if (!runs_in(server, scenario)) {
                md << "| " << server.name << " (no TLS baseline) |";
                for (int c = 0; c < columns; ++c)
                    md << " – |";
                md << "\n";
                continue;
            }
            const Cell& cell = cells[scenario.id][server.name];
            if (cell.failed) {
                md << "| " << server.name << " | **FAILED**: " << cell.error << " |\n";
                continue;
            }
            const RunMetrics& m = cell.median;
            md << "| " << server.name << " | ";
            if (scenario.mode == Mode::idle) {
                md << sig3(m.kib_per_conn) << " | " << fmt(m.rss_before_kib) << " | "
                   << fmt(m.rss_after_kib) << " |\n";
                continue;
            }
            md << fmt(m.rate * u.rate_scale, is_stream(scenario.mode) ? 1 : 0) << " | "
               << sig3(m.cpu_per_op * u.cpu_scale) << " | " << fmt(m.server_util * 100) << "% | "
               << fmt(m.client_util * 100) << "%";
            if (!is_stream(scenario.mode))
                md << " | " << sig3(m.p50) << " | " << sig3(m.p99) << " | " << sig3(m.p999);
            if (is_handshake(scenario.mode))
                md << " | " << fmt(m.resumed_fraction * 100, 1) << "%";
            if (bench::is_tls(scenario.mode))
                md << " | " << m.tls;
            md << " |\n";
        }
    }
    md << "\n## reactsock / baseline\n\n";
    md << "| scenario | CPU/op vs asio | vs epoll | vs node | rate vs asio | vs epoll | vs node "
          "|\n|---|--:|--:|--:|--:|--:|--:|\n";
    for (const auto& scenario : scenarios) {
        md << "| " << scenario.id;
        if (scenario.mode == Mode::idle) {
            for (const char* base : {"asio", "epoll", "node"})
                md << " | " << ratio_text(ratio(scenario.id, base, &RunMetrics::kib_per_conn));
            md << " | (memory/conn) | | |\n";
            continue;
        }
        auto cell = [&](const char* base, double RunMetrics::*field) {
            const Spread r = ratio_spread(scenario.id, base, field);
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
    md << "\n## Targets (issue: benchmark suite)\n\n"
       << "Measured: the median over the repeats; range: the lowest and the highest repeat. "
       << "\"yes*\"/\"no*\": some repeats fell on the other side of the limit.\n\n"
       << "| target | measured | range | met |\n|---|--:|--:|:-:|\n";
    int met = 0, evaluated = 0;
    for (const auto& t : targets) {
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
    if (!any_tls)
        md << " TLS scenarios not run (`--scenarios tls`).";
    md << "\n";
    if (any_failed)
        md << "\n**Some runs FAILED; see above and " << log_path << ".**\n";

    std::ofstream(options.out + ".json") << out.dump(2) << "\n";
    std::ofstream(options.out + ".md") << md.str();
    std::printf("%s", md.str().c_str());
    std::fprintf(stderr, "bench_echo: wrote %s.md and %s.json (%.0f s)\n", options.out.c_str(),
                 options.out.c_str(), total_seconds);
    return any_failed ? 1 : 0;
}

// ---- the deliberately broken server of --self-test ---------------------------------

// An epoll echo server that misbehaves at stream offset kBreakAt of every
// connection: flip (one bit), extra (one byte twice), drop (one byte
// missing), stall (echoes nothing from there on, keeps the connection open),
// close (closes the connection there), or none (a correct echo).
constexpr std::uint64_t kBreakAt = 40;

// Applies `kind` to `out`, the chunk read at stream offset `offset`, before it
// is echoed (an empty `out` echoes nothing). False: close the connection instead.
bool misbehave(const std::string& kind, std::uint64_t offset, std::string& out) {
    if (kind == "stall" && offset > kBreakAt) {
        out.clear();  // echoes nothing more
        return true;
    }
    if (offset <= kBreakAt && kBreakAt < offset + out.size()) {
        const auto at = static_cast<std::size_t>(kBreakAt - offset);
        if (kind == "flip")
            out[at] = static_cast<char>(out[at] ^ 0x10);
        if (kind == "extra")
            out.insert(at, 1, out[at]);
        if (kind == "drop")
            out.erase(at, 1);
        if (kind == "stall")
            out.resize(at);
        if (kind == "close")
            return false;
    }
    return true;
}

// The broken servers' listening socket on "HOST:PORT" (IPv4), announced
// as "Listening on SCHEME://127.0.0.1:PORT" like the real servers; -1 if
// bind/listen fails. SIGPIPE is ignored from then on.
int listen_and_announce(const std::string& uri, const char* scheme, int socket_flags) {
    const auto colon = uri.rfind(':');
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(std::atoi(uri.c_str() + colon + 1)));
    ::inet_pton(AF_INET, uri.substr(0, colon).c_str(), &addr.sin_addr);
    const int listener = ::socket(AF_INET, SOCK_STREAM | socket_flags, 0);
    if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener, SOMAXCONN) != 0) {
        std::perror("bind/listen");
        return -1;
    }
    socklen_t len = sizeof addr;
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
    std::printf("Listening on %s://127.0.0.1:%u\n", scheme, static_cast<unsigned>(ntohs(addr.sin_port)));
    std::fflush(stdout);
    ::signal(SIGPIPE, SIG_IGN);
    return listener;
}

int serve_broken(const std::string& kind, const std::string& uri) {
    const int listener = listen_and_announce(uri, "tcp", SOCK_NONBLOCK);
    if (listener < 0)
        return 1;
    const int ep = ::epoll_create1(0);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = listener;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
    std::map<int, std::uint64_t> offsets;
    std::vector<char> buffer(64 * 1024);
    epoll_event events[64];
    for (;;) {
        const int n = ::epoll_wait(ep, events, 64, -1);
        for (int i = 0; i < n; ++i) {
            const int fd = events[i].data.fd;
            if (fd == listener) {
                const int c = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK);
                if (c < 0)
                    continue;
                // Blocking writes keep this server simple; the client always reads.
                ::fcntl(c, F_SETFL, ::fcntl(c, F_GETFL) & ~O_NONBLOCK);
                offsets[c] = 0;
                ev.data.fd = c;
                ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
                continue;
            }
            const ssize_t r = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN)
                    continue;
                offsets.erase(fd);
                ::close(fd);
                continue;
            }
            std::uint64_t& offset = offsets[fd];
            std::string out(buffer.data(), static_cast<std::size_t>(r));
            if (!misbehave(kind, offset, out)) {
                offsets.erase(fd);
                ::close(fd);
                continue;
            }
            offset += static_cast<std::uint64_t>(r);
            if (!out.empty())
                ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
        }
    }
}

// The TLS form of serve_broken: blocking OpenSSL, a thread per connection,
// the same kinds applied to the plaintext it echoes, and one more: noresume,
// a correct echo whose every connection has an SSL_CTX of its own, so the
// tickets it sends can never be used (each context has its own ticket keys
// and session cache): a server that never resumes.
int serve_broken_tls(const std::string& kind, const std::string& uri, const std::string& cert,
                     const std::string& key) {
    const auto make_context = [cert, key]() -> SSL_CTX* {
        SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
        if (ctx == nullptr || SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
            std::fprintf(stderr, "serve-broken-tls: cannot load %s / %s\n", cert.c_str(),
                         key.c_str());
            std::exit(1);
        }
        return ctx;
    };
    SSL_CTX* shared = make_context();
    const int listener = listen_and_announce(uri, "tls", SOCK_CLOEXEC);
    if (listener < 0)
        return 1;
    for (;;) {
        const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        SSL_CTX* ctx = kind == "noresume" ? make_context() : shared;
        std::thread([kind, ctx, fd, own = ctx != shared] {
            SSL* ssl = SSL_new(ctx);
            SSL_set_fd(ssl, fd);
            if (SSL_accept(ssl) == 1) {
                std::vector<char> buffer(64 * 1024);
                std::uint64_t offset = 0;
                for (;;) {
                    const int r = SSL_read(ssl, buffer.data(), static_cast<int>(buffer.size()));
                    if (r <= 0)
                        break;
                    std::string out(buffer.data(), static_cast<std::size_t>(r));
                    if (!misbehave(kind, offset, out))
                        break;  // closes without close_notify
                    offset += static_cast<std::uint64_t>(r);
                    if (!out.empty() &&
                        SSL_write(ssl, out.data(), static_cast<int>(out.size())) <= 0)
                        break;
                }
            }
            SSL_free(ssl);
            ::close(fd);
            if (own)
                SSL_CTX_free(ctx);
        }).detach();
    }
}

int self_test() {
    ::signal(SIGPIPE, SIG_IGN);
    const std::string self = fs::read_symlink("/proc/self/exe").string();
    std::string cert, key;
    if (!write_certificate(exe_dir() + "/../bench-tls", cert, key))
        return 1;
    struct Case {
        const char* kind;
        std::vector<Mode> modes;
        bool tls;
    };
    const std::vector<Mode> plain = {Mode::pingpong, Mode::stream, Mode::connrate, Mode::idle};
    const std::vector<Mode> tls = {Mode::tls_handshake, Mode::tls_resume, Mode::tls_stream};
    std::vector<Case> cases;
    for (const char* kind : {"none", "flip", "extra", "drop", "stall", "close"})
        cases.push_back({kind, plain, false});
    for (const char* kind : {"none", "flip", "extra", "drop", "stall", "close", "noresume"})
        cases.push_back({kind, tls, true});
    int wrong = 0;
    std::printf("| broken server | mode | expected | result |\n|---|---|---|---|\n");
    for (const Case& test : cases) {
        const char* kind = test.kind;
        for (Mode mode : test.modes) {
            ServerProcess server;
            std::string error;
            const std::vector<std::string> argv =
                test.tls ? std::vector<std::string>{self, "--serve-broken-tls",
                                                    kind, "127.0.0.1:0",
                                                    cert, key}
                         : std::vector<std::string>{self, "--serve-broken", kind, "127.0.0.1:0"};
            if (!server.start(argv, -1, "/dev/null", error)) {
                std::printf("| %s | %s | - | cannot start: %s |\n", kind, bench::mode_name(mode),
                            error.c_str());
                ++wrong;
                continue;
            }
            LoadConfig config;
            config.mode = mode;
            config.port = server.port();
            config.conns = mode == Mode::idle ? 50 : 4;
            config.size = is_stream(mode) ? 16 * 1024 : 64;
            config.warmup = 0.2;
            config.duration = 0.5;
            config.stall_timeout = 1.0;
            const LoadResult r = bench::run_load(config);
            server.stop();
            // noresume echoes correctly: only tls-resume must catch it.
            const bool should_pass = std::string(kind) == "none" ||
                                     (std::string(kind) == "noresume" && mode != Mode::tls_resume);
            const bool right = r.ok == should_pass;
            wrong += right ? 0 : 1;
            std::printf("| %s%s | %s | %s | %s%s |\n", test.tls ? "TLS " : "", kind,
                        bench::mode_name(mode), should_pass ? "pass" : "fail",
                        r.ok ? "passed" : ("failed: " + r.error).c_str(),
                        right ? "" : " **WRONG**");
        }
    }
    std::printf("\nself-test: %s\n",
                wrong == 0 ? "every broken server was caught, the correct one passed" : "FAILED");
    return wrong == 0 ? 0 : 1;
}

// ---- the load generator on its own ------------------------------------------------

int connect_only(const std::map<std::string, std::string>& args) {
    LoadConfig config;
    const std::string target = args.at("connect");
    const auto colon = target.rfind(':');
    if (colon == std::string::npos) {
        std::fprintf(stderr, "bench_echo: --connect HOST:PORT\n");
        return 2;
    }
    config.host = target.substr(0, colon);
    config.port = std::atoi(target.c_str() + colon + 1);
    if (args.count("mode") && !bench::parse_mode(args.at("mode"), config.mode)) {
        std::fprintf(stderr,
                     "bench_echo: --mode "
                     "pingpong|stream|connrate|idle|tls-handshake|tls-resume|tls-stream\n");
        return 2;
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
    const pid_t pid = args.count("server-pid") ? std::atoi(args.at("server-pid").c_str()) : 0;
    bench::raise_fd_limit();
    ::signal(SIGPIPE, SIG_IGN);
    double cpu[2] = {0, 0};
    bench::LoadHooks hooks;
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
    const LoadResult r = bench::run_load(config, hooks);
    json j = {{"ok", r.ok},
              {"mode", bench::mode_name(config.mode)},
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
    if (bench::is_tls(config.mode)) {
        j["tls_protocol"] = r.tls_protocol;
        j["tls_cipher"] = r.tls_cipher;
        j["tls_group"] = r.tls_group;
        j["resumed"] = r.resumed;
    }
    if (pid > 0 && r.ops > 0) {
        j["server_cpu_s"] = cpu[1] - cpu[0];
        j["server_cpu_per_op_us"] = (cpu[1] - cpu[0]) * 1e6 / static_cast<double>(r.ops);
    }
    if (rss_before && rss_after)
        j["server_kib_per_conn"] = (*rss_after - *rss_before) / config.conns;
    std::printf("%s\n", j.dump().c_str());
    return r.ok ? 0 : 1;
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

}  // namespace

int main(int argc, char** argv) {
    std::map<std::string, std::string> args;
    std::vector<std::string> flags;
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
        if (std::find_if(std::begin(kFlags), std::end(kFlags),
                         [&](const char* f) { return a == f; }) != std::end(kFlags)) {
            flags.push_back(a);
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
        args[a] = argv[++i];
    }
    auto has = [&](const char* f) {
        return std::find(flags.begin(), flags.end(), f) != flags.end();
    };
    if (has("help")) {
        usage();
        return 0;
    }
    if (has("self-test"))
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

    Options options;
    if (has("quick")) {
        options.quick = true;
        options.repeats = 1;
        options.tls_repeats = 1;
        options.warmup = 0.3;
        options.duration = 1.0;
    }
    if (args.count("idle-conns"))
        options.idle_conns = std::atoi(args["idle-conns"].c_str());
    if (has("list")) {
        for (const auto& s : all_scenarios(options.idle_conns))
            std::printf("%-16s %s\n", s.id.c_str(), s.title.c_str());
        return 0;
    }
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
        return 2;
    }
    options.pin = !has("no-pin");
    options.realtime = has("realtime");
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
    for (const auto& [key, value] : args) {
        static const char* const kKnown[] = {
            "repeats",         "tls-repeats", "duration", "warmup",      "server-cpu",
            "client-cpu",      "scenarios",   "servers",  "reactsock",   "asio",
            "asio-tls",        "epoll",       "node",     "node-script", "out",
            "node-tls-script", "idle-conns"};
        if (std::find_if(std::begin(kKnown), std::end(kKnown),
                         [&](const char* k) { return key == k; }) == std::end(kKnown)) {
            std::fprintf(stderr, "bench_echo: unknown option --%s\n", key.c_str());
            usage();
            return 2;
        }
    }
    return run_benchmark(options);
}
