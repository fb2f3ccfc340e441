// stream_pipe: throughput and memory of a reactsock pipe, beside dd and cat.
//
//   producer --pipe--> MIDDLE --pipe--> consumer
//
// The producer writes N zero bytes (like /dev/zero), the consumer reads and
// discards them (like /dev/null) and checks the count. The MIDDLE is one of:
//
//   reactsock  ReadableResourceStream(stdin) -> ThroughStream -> WritableResourceStream(stdout)
//   dd         dd bs=64K
//   cat        cat
//
// Every middle is a freshly exec'ed process with the pipes as stdin/stdout,
// so its peak RSS (from wait4) is its own. The middles run interleaved
// (reactsock, dd, cat, reactsock, ...) --runs times each, so that load from
// elsewhere on the machine hits them alike; the best and the median
// throughput are reported in MB/s (10^6 bytes/s), with their ratios to dd's.
//
//   bench_stream_pipe [--bytes N[K|M|G]] [--runs R] [--chunk N[K|M]]
//   (defaults: 1G, 5, 64K; --chunk is the read chunk size of reactsock's stdin stream)
#include "common/process.hpp"

#include <reactsock/reactsock.hpp>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rs = reactsock;

namespace {

// --- the reactsock middle (run as `bench_stream_pipe --middle CHUNK`) --------

int run_middle(std::size_t chunk) {
    auto in = std::make_shared<rs::ReadableResourceStream>(
        STDIN_FILENO, nullptr, rs::ReadableResourceStream::Options{.read_chunk_size = chunk});
    auto through = std::make_shared<rs::ThroughStream>();
    auto out = std::make_shared<rs::WritableResourceStream>(STDOUT_FILENO);
    int status = 0;
    auto report = [&status](const std::system_error& e) {
        std::fprintf(stderr, "middle: %s\n", e.what());
        status = 1;
    };
    in->on(rs::ev::error, report);
    out->on(rs::ev::error, report);
    in->pipe(through)->pipe(out);
    rs::Loop::get()->run();
    return status;
}

// --- the harness ---------------------------------------------------------------

std::size_t parse_size(const char* text) {
    char* end = nullptr;
    double value = std::strtod(text, &end);
    switch (*end) {
        case 'k':
        case 'K':
            value *= 1024;
            break;
        case 'm':
        case 'M':
            value *= 1024 * 1024;
            break;
        case 'g':
        case 'G':
            value *= 1024.0 * 1024 * 1024;
            break;
        default:
            break;
    }
    return static_cast<std::size_t>(value);
}

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::exit(2);
}

// In a forked (not exec'ed) child: close the pipe ends it must not hold, or
// the other processes would never see EOF.
void close_others(const int (&fds)[4], int keep) {
    for (int fd : fds) {
        if (fd != keep)
            ::close(fd);
    }
}

pid_t spawn_producer(const int (&fds)[4], int out_fd, std::size_t bytes) {
    const pid_t pid = bench::fork_call([&] {
        close_others(fds, out_fd);
        static char zeros[65536];
        std::size_t left = bytes;
        while (left > 0) {
            const std::size_t n = left < sizeof zeros ? left : sizeof zeros;
            const ssize_t w = ::write(out_fd, zeros, n);
            if (w < 0)
                return 3;
            left -= static_cast<std::size_t>(w);
        }
        return 0;
    });
    if (pid < 0)
        die("fork");
    return pid;
}

pid_t spawn_consumer(const int (&fds)[4], int in_fd, std::size_t bytes) {
    const pid_t pid = bench::fork_call([&] {
        close_others(fds, in_fd);
        static char sink[131072];
        std::size_t total = 0;
        for (;;) {
            const ssize_t n = ::read(in_fd, sink, sizeof sink);
            if (n < 0)
                return 3;
            if (n == 0)
                break;
            total += static_cast<std::size_t>(n);
        }
        return total == bytes ? 0 : 4;
    });
    if (pid < 0)
        die("fork");
    return pid;
}

// Waits for `pid`; true if it exited with status 0.
bool exited_cleanly(pid_t pid, rusage* usage = nullptr) {
    const std::optional<int> status = bench::wait_for(pid, usage);
    if (!status)
        die("wait4");
    return bench::describe_status(*status).empty();
}

struct Result {
    double seconds = 0;
    long max_rss_kib = 0;
    bool ok = false;
};

Result run_once(const std::vector<std::string>& middle, std::size_t bytes) {
    int a[2], b[2];
    if (::pipe2(a, O_CLOEXEC) != 0 || ::pipe2(b, O_CLOEXEC) != 0)
        die("pipe2");
    const int fds[4] = {a[0], a[1], b[0], b[1]};
    const auto start = std::chrono::steady_clock::now();
    const pid_t producer = spawn_producer(fds, a[1], bytes);
    const pid_t consumer = spawn_consumer(fds, b[0], bytes);
    // exec: O_CLOEXEC closes the rest
    const pid_t mid = bench::spawn(middle, {.stdin_fd = a[0], .stdout_fd = b[1]});
    if (mid < 0)
        die("fork");
    for (int fd : fds)
        ::close(fd);

    Result result;
    rusage usage{};
    bool ok = exited_cleanly(mid, &usage);
    result.max_rss_kib = usage.ru_maxrss;
    ok = exited_cleanly(consumer) && ok;
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ok = exited_cleanly(producer) && ok;
    result.ok = ok;
    return result;
}

struct Summary {
    double best_seconds = 0;
    double median_seconds = 0;
    long max_rss_kib = 0;  // the highest peak over all runs
};

// Runs the middles interleaved (A B C A B C ...), so that a burst of load on
// the machine affects all of them alike.
std::vector<Summary> measure(const std::vector<std::vector<std::string>>& middles,
                             std::size_t bytes, int runs) {
    std::vector<std::vector<double>> seconds(middles.size());
    std::vector<Summary> summaries(middles.size());
    for (int run = 0; run < runs; ++run) {
        for (std::size_t m = 0; m < middles.size(); ++m) {
            const Result r = run_once(middles[m], bytes);
            if (!r.ok) {
                std::fprintf(stderr, "%s: copy failed\n", middles[m][0].c_str());
                std::exit(1);
            }
            seconds[m].push_back(r.seconds);
            summaries[m].max_rss_kib = std::max(summaries[m].max_rss_kib, r.max_rss_kib);
        }
    }
    for (std::size_t m = 0; m < middles.size(); ++m) {
        std::sort(seconds[m].begin(), seconds[m].end());
        summaries[m].best_seconds = seconds[m].front();
        summaries[m].median_seconds = seconds[m][seconds[m].size() / 2];
    }
    return summaries;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 3 && std::strcmp(argv[1], "--middle") == 0)
        return run_middle(parse_size(argv[2]));

    std::size_t bytes = std::size_t{1} << 30;
    std::size_t chunk = 65536;
    int runs = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--bytes") == 0)
            bytes = parse_size(argv[i + 1]);
        else if (std::strcmp(argv[i], "--runs") == 0)
            runs = std::atoi(argv[i + 1]);
        else if (std::strcmp(argv[i], "--chunk") == 0)
            chunk = parse_size(argv[i + 1]);
        else {
            std::fprintf(stderr, "usage: %s [--bytes N[K|M|G]] [--runs R] [--chunk N[K|M]]\n",
                         argv[0]);
            return 2;
        }
    }

    const std::string self = bench::self_exe();
    if (self.empty())
        die("readlink /proc/self/exe");

    struct Middle {
        const char* name;
        std::vector<std::string> argv;
    };
    const std::vector<Middle> middles = {
        {"reactsock", {self, "--middle", std::to_string(chunk)}},
        {"dd bs=64K", {"dd", "bs=64K", "status=none"}},
        {"cat", {"cat"}},
    };

    std::printf(
        "stream_pipe: %zu bytes (%.0f MiB) per copy, %d interleaved runs; reactsock read chunk "
        "%zu\n",
        bytes, static_cast<double>(bytes) / (1024 * 1024), runs, chunk);
    std::printf("%-10s %12s %12s %14s %12s %12s\n", "middle", "best MB/s", "median MB/s",
                "peak RSS KiB", "best vs dd", "median vs dd");
    std::vector<std::vector<std::string>> argvs;
    for (const auto& m : middles)
        argvs.push_back(m.argv);
    const std::vector<Summary> results = measure(argvs, bytes, runs);
    const auto rate = [bytes](double seconds) {
        return static_cast<double>(bytes) / seconds / 1e6;
    };
    const Summary& dd = results[1];
    for (std::size_t i = 0; i < middles.size(); ++i) {
        const Summary& r = results[i];
        std::printf("%-10s %12.1f %12.1f %14ld %11.0f%% %11.0f%%\n", middles[i].name,
                    rate(r.best_seconds), rate(r.median_seconds), r.max_rss_kib,
                    100.0 * dd.best_seconds / r.best_seconds,
                    100.0 * dd.median_seconds / r.median_seconds);
    }
    return 0;
}
