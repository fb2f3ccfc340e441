// loadgen: see loadgen.hpp.
#include "loadgen.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace bench {

namespace {

// The shared byte pattern: pseudo-random bytes with a period that is not a
// power of two, stored twice so that any window of up to one period starting
// inside the first copy is contiguous. A connection's stream is the pattern
// from its own seed offset on.
constexpr std::size_t kPeriod = (std::size_t{1} << 20) + 13;
constexpr std::size_t kReadBuffer = 256 * 1024;  // <= kPeriod
constexpr int kMaxConnecting = 256;              // connects in flight at once
constexpr int kMaxEvents = 512;

const char* pattern() {
    static const std::vector<char> bytes = [] {
        std::vector<char> out(2 * kPeriod);
        std::uint64_t x = 0x9E3779B97F4A7C15ull;
        for (std::size_t i = 0; i < kPeriod; ++i) {
            x ^= x << 13;  // xorshift64
            x ^= x >> 7;
            x ^= x << 17;
            out[i] = static_cast<char>(x >> 56);
        }
        std::copy_n(out.begin(), kPeriod, out.begin() + static_cast<std::ptrdiff_t>(kPeriod));
        return out;
    }();
    return bytes.data();
}

std::uint64_t now_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

double thread_cpu_seconds() {
    rusage usage{};
    ::getrusage(RUSAGE_THREAD, &usage);
    auto seconds = [](const timeval& tv) {
        return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::string seconds_text(double seconds) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", seconds);
    return buffer;
}

std::string errno_text(int error_number) {
    return std::string(std::strerror(error_number)) + " (errno " + std::to_string(error_number) +
           ")";
}

struct Conn {
    int fd = -1;
    std::uint32_t generation = 0;  // tells events of a recycled slot's old socket apart
    bool connected = false;
    std::uint64_t seed = 0;     // offset of this connection's stream in the pattern
    std::uint64_t sent = 0;     // bytes sent
    std::uint64_t want = 0;     // send up to here (all modes but stream)
    std::uint64_t recvd = 0;    // bytes received and verified
    std::uint64_t started = 0;  // ns: the current message was sent / connect() was called
};

class Generator {
public:
    Generator(const LoadConfig& config, const LoadHooks& hooks) : config_(config), hooks_(hooks) {}

    LoadResult run();

private:
    enum class Phase { connecting, warmup, window, drain, idle_hold };

    bool fail(std::string message) {
        if (!failed_) {
            failed_ = true;
            error_ = std::move(message);
        }
        return false;
    }
    std::string conn_name(std::size_t i) const { return "connection " + std::to_string(i); }

    bool open_conn(std::size_t i);
    void close_conn(std::size_t i);
    void on_event(std::size_t i, std::uint32_t events);
    void on_connected(std::size_t i);
    void start_message(std::size_t i);
    bool pump(std::size_t i);
    bool read_some(std::size_t i);
    bool verify(std::size_t i, std::size_t n);
    void message_done(std::size_t i);
    void check_stalls(std::uint64_t now);
    [[nodiscard]] bool all_echoed() const;
    void enter_window(std::uint64_t now);
    void leave_window(std::uint64_t now);

    LoadConfig config_;
    LoadHooks hooks_;
    sockaddr_in address_{};
    int epoll_ = -1;
    std::vector<Conn> conns_;
    std::vector<char> read_buffer_ = std::vector<char>(kReadBuffer);
    std::uint64_t next_seed_ = 0;

    Phase phase_ = Phase::connecting;
    bool sending_ = true;  // false once the window is over: only drain
    bool in_window_ = false;
    std::size_t opened_ = 0;      // connections opened so far (connecting phase)
    int connecting_ = 0;          // connects in flight
    std::size_t connected_ = 0;   // established (pingpong, stream, idle)
    std::size_t idle_done_ = 0;   // idle: connections that made their round trip
    std::size_t open_count_ = 0;  // sockets open

    std::uint64_t window_start_ = 0, window_end_ = 0;
    double cpu_start_ = 0, cpu_end_ = 0;
    std::uint64_t ops_ = 0, bytes_ = 0, total_bytes_ = 0;
    std::uint64_t last_progress_ = 0;  // ns: last byte received (stream stall check)
    std::vector<std::uint64_t> latencies_;

    bool failed_ = false;
    std::string error_;
};

bool Generator::open_conn(std::size_t i) {
    Conn& c = conns_[i];
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fail("socket(): " + errno_text(errno) +
                    (errno == EMFILE ? " — raise `ulimit -n`" : ""));
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const linger rst{1, 0};  // close() sends RST: no TIME_WAIT on our side
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst, sizeof rst);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address_), sizeof address_) != 0 &&
        errno != EINPROGRESS) {
        const int error_number = errno;
        ::close(fd);
        return fail("connect() to port " + std::to_string(config_.port) + ": " +
                    errno_text(error_number) +
                    (error_number == EADDRNOTAVAIL ? " — out of loopback ephemeral ports" : ""));
    }
    c.fd = fd;
    ++c.generation;
    c.connected = false;
    c.seed = (next_seed_ += 7919 * 131) % kPeriod;
    c.sent = c.want = c.recvd = 0;
    c.started = now_ns();
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = (static_cast<std::uint64_t>(c.generation) << 32) | i;
    if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) != 0)
        return fail("epoll_ctl(ADD): " + errno_text(errno));
    ++connecting_;
    ++open_count_;
    return true;
}

void Generator::close_conn(std::size_t i) {
    Conn& c = conns_[i];
    if (c.fd < 0)
        return;
    if (!c.connected)
        --connecting_;
    ::close(c.fd);  // SO_LINGER 0: RST; also leaves the epoll set
    c.fd = -1;
    c.connected = false;
    --open_count_;
}

void Generator::on_event(std::size_t i, std::uint32_t events) {
    Conn& c = conns_[i];
    if (!c.connected) {
        if ((events & (EPOLLERR | EPOLLHUP)) != 0) {
            int error_number = 0;
            socklen_t length = sizeof error_number;
            ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error_number, &length);
            fail("connect() to port " + std::to_string(config_.port) + ": " +
                 errno_text(error_number != 0 ? error_number : ECONNREFUSED));
            return;
        }
        if ((events & EPOLLOUT) == 0)
            return;
        c.connected = true;
        --connecting_;
        on_connected(i);
        if (failed_ || c.fd < 0)
            return;
    }
    const std::uint32_t generation = c.generation;
    if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
        if (!read_some(i))
            return;
        if (c.fd < 0 || c.generation != generation)
            return;  // closed (connrate) or recycled
    }
    if ((events & EPOLLOUT) != 0)
        pump(i);
}

void Generator::on_connected(std::size_t i) {
    ++connected_;
    if (config_.mode == Mode::stream) {
        pump(i);
    } else {
        const std::uint64_t connect_started = conns_[i].started;
        start_message(i);
        if (config_.mode == Mode::connrate)
            conns_[i].started = connect_started;
    }
}

void Generator::start_message(std::size_t i) {
    Conn& c = conns_[i];
    c.want = c.sent + config_.size;
    c.started = now_ns();
    pump(i);
}

bool Generator::pump(std::size_t i) {
    Conn& c = conns_[i];
    for (;;) {
        std::size_t length = 0;
        if (config_.mode == Mode::stream) {
            if (!sending_)
                return true;
            length = config_.size;
        } else {
            if (c.sent >= c.want)
                return true;
            length = static_cast<std::size_t>(c.want - c.sent);
        }
        length = std::min(length, kPeriod);
        const char* data = pattern() + (c.seed + c.sent) % kPeriod;
        const ssize_t n = ::send(c.fd, data, length, MSG_NOSIGNAL);
        if (n > 0) {
            c.sent += static_cast<std::uint64_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;  // EPOLLOUT follows
        return fail("send() on " + conn_name(i) + " after " + std::to_string(c.sent) + " bytes: " +
                    errno_text(n < 0 ? errno : EPIPE) + " — the server dropped the connection");
    }
}

bool Generator::verify(std::size_t i, std::size_t n) {
    Conn& c = conns_[i];
    if (c.recvd + n > c.sent) {
        return fail("server echoed " + std::to_string(c.recvd + n - c.sent) +
                    " byte(s) more than " + conn_name(i) + " sent (" + std::to_string(c.sent) +
                    " sent)");
    }
    const char* expected = pattern() + (c.seed + c.recvd) % kPeriod;
    const char* got = read_buffer_.data();
    if (std::memcmp(got, expected, n) != 0) {
        std::size_t at = 0;
        while (got[at] == expected[at])
            ++at;
        char detail[128];
        std::snprintf(detail, sizeof detail, ": expected 0x%02x, got 0x%02x",
                      static_cast<unsigned char>(expected[at]),
                      static_cast<unsigned char>(got[at]));
        return fail("content mismatch on " + conn_name(i) + " at stream offset " +
                    std::to_string(c.recvd + at) + detail);
    }
    return true;
}

bool Generator::read_some(std::size_t i) {
    Conn& c = conns_[i];
    for (;;) {
        const ssize_t n = ::recv(c.fd, read_buffer_.data(), read_buffer_.size(), 0);
        if (n > 0) {
            if (!verify(i, static_cast<std::size_t>(n)))
                return false;
            c.recvd += static_cast<std::uint64_t>(n);
            total_bytes_ += static_cast<std::uint64_t>(n);
            if (in_window_)
                bytes_ += static_cast<std::uint64_t>(n);
            if (config_.mode == Mode::stream) {
                last_progress_ = now_ns();
                continue;  // edge-triggered: read until EAGAIN
            }
            if (c.recvd == c.want) {
                // Nothing is outstanding, so nothing else can be buffered: skip
                // the recv() that would return EAGAIN (the next echo is a new edge).
                message_done(i);
                return !failed_;
            }
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        return fail("recv() on " + conn_name(i) + ": " +
                    (n == 0 ? std::string("the server closed the connection") : errno_text(errno)) +
                    " after " + std::to_string(c.recvd) + " of " + std::to_string(c.sent) +
                    " bytes echoed");
    }
}

void Generator::message_done(std::size_t i) {
    Conn& c = conns_[i];
    if (in_window_) {
        ++ops_;
        if (config_.keep_latencies)
            latencies_.push_back(now_ns() - c.started);
    }
    switch (config_.mode) {
        case Mode::pingpong:
            if (sending_)
                start_message(i);
            break;
        case Mode::connrate:
            close_conn(i);
            if (sending_)
                open_conn(i);
            break;
        case Mode::idle:
            ++idle_done_;
            break;
        case Mode::stream:
            break;
    }
}

void Generator::check_stalls(std::uint64_t now) {
    const auto limit = static_cast<std::uint64_t>(config_.stall_timeout * 1e9);
    if (config_.mode == Mode::stream) {
        if (phase_ != Phase::connecting && now > last_progress_ && now - last_progress_ > limit &&
            !all_echoed()) {
            fail("no echoed byte for " + seconds_text(config_.stall_timeout) +
                 " s (stream stalled)");
        }
        return;
    }
    for (std::size_t i = 0; i < conns_.size(); ++i) {
        const Conn& c = conns_[i];
        if (c.fd < 0 || c.started >= now || now - c.started <= limit)
            continue;
        if (!c.connected) {
            fail(conn_name(i) + ": connect() not completed after " +
                 seconds_text(config_.stall_timeout) + " s");
            return;
        }
        if (c.recvd < c.want) {
            fail(conn_name(i) + ": " + std::to_string(c.want - c.recvd) + " of " +
                 std::to_string(config_.size) + " bytes not echoed after " +
                 seconds_text(config_.stall_timeout) + " s");
            return;
        }
    }
}

bool Generator::all_echoed() const {
    for (const Conn& c : conns_) {
        if (c.fd >= 0 && (c.recvd < c.sent || !c.connected))
            return false;
    }
    return true;
}

void Generator::enter_window(std::uint64_t now) {
    if (hooks_.on_window)
        hooks_.on_window(true);
    cpu_start_ = thread_cpu_seconds();
    window_start_ = now_ns();
    (void)now;
    ops_ = bytes_ = 0;
    latencies_.clear();
    in_window_ = true;
    phase_ = Phase::window;
}

void Generator::leave_window(std::uint64_t now) {
    (void)now;
    in_window_ = false;
    window_end_ = now_ns();
    cpu_end_ = thread_cpu_seconds();
    if (hooks_.on_window)
        hooks_.on_window(false);
    sending_ = false;
    phase_ = Phase::drain;
}

LoadResult Generator::run() {
    LoadResult result;
    if (config_.conns <= 0 || config_.size == 0) {
        result.error = "conns and size must be positive";
        return result;
    }
    address_.sin_family = AF_INET;
    address_.sin_port = htons(static_cast<std::uint16_t>(config_.port));
    if (::inet_pton(AF_INET, config_.host.c_str(), &address_.sin_addr) != 1) {
        result.error = "not an IPv4 address: " + config_.host;
        return result;
    }
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) {
        result.error = "epoll_create1: " + errno_text(errno);
        return result;
    }
    conns_.resize(static_cast<std::size_t>(config_.conns));
    if (config_.keep_latencies && config_.mode != Mode::stream)
        latencies_.reserve(1 << 20);
    (void)pattern();

    std::vector<epoll_event> events(kMaxEvents);
    const auto total = static_cast<std::size_t>(config_.conns);
    const std::uint64_t started = now_ns();
    std::uint64_t phase_deadline = 0;
    std::uint64_t next_stall_check = started;
    last_progress_ = started;

    while (!failed_) {
        std::uint64_t now = now_ns();

        // Phase transitions.
        if (phase_ == Phase::connecting) {
            while (opened_ < total && connecting_ < kMaxConnecting && !failed_)
                open_conn(opened_++);
            const bool ready =
                config_.mode == Mode::idle ? idle_done_ >= total : connected_ >= total;
            if (ready) {
                if (config_.mode == Mode::idle) {
                    phase_ = Phase::idle_hold;
                } else {
                    phase_ = Phase::warmup;
                    phase_deadline = now + static_cast<std::uint64_t>(config_.warmup * 1e9);
                }
            }
        }
        if (phase_ == Phase::idle_hold) {
            if (hooks_.on_idle_ready)
                hooks_.on_idle_ready();
            break;
        }
        if (phase_ == Phase::warmup && now >= phase_deadline) {
            enter_window(now);
            phase_deadline = window_start_ + static_cast<std::uint64_t>(config_.duration * 1e9);
        } else if (phase_ == Phase::window && now >= phase_deadline) {
            leave_window(now);
            phase_deadline = now + static_cast<std::uint64_t>(config_.stall_timeout * 1e9);
        }
        if (phase_ == Phase::drain) {
            const bool drained = config_.mode == Mode::connrate ? open_count_ == 0 : all_echoed();
            if (drained)
                break;
            if (now >= phase_deadline) {
                std::uint64_t missing = 0;
                std::size_t conns_missing = 0;
                for (const Conn& c : conns_) {
                    if (c.fd >= 0 && c.recvd < c.sent) {
                        missing += c.sent - c.recvd;
                        ++conns_missing;
                    }
                }
                fail(std::to_string(missing) + " byte(s) on " + std::to_string(conns_missing) +
                     " connection(s) never echoed (waited " + seconds_text(config_.stall_timeout) +
                     " s after the window)");
                break;
            }
        }
        if (phase_ == Phase::connecting &&
            now - started >
                static_cast<std::uint64_t>((config_.stall_timeout * 4 + total / 1000.0) * 1e9)) {
            fail("could not establish " + std::to_string(total) + " connections (" +
                 std::to_string(connected_) + " connected, " + std::to_string(idle_done_) +
                 " echoed)");
            break;
        }
        if (now >= next_stall_check) {
            check_stalls(now);
            next_stall_check = now + 100'000'000;
            if (failed_)
                break;
        }

        int timeout_ms = 100;
        if (phase_ == Phase::warmup || phase_ == Phase::window) {
            timeout_ms = phase_deadline > now ? static_cast<int>(std::min<std::uint64_t>(
                                                    (phase_deadline - now) / 1'000'000 + 1, 100))
                                              : 0;
        }
        const int n = ::epoll_wait(epoll_, events.data(), kMaxEvents, timeout_ms);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fail("epoll_wait: " + errno_text(errno));
            break;
        }
        for (int k = 0; k < n && !failed_; ++k) {
            const std::uint64_t data = events[static_cast<std::size_t>(k)].data.u64;
            const auto i = static_cast<std::size_t>(data & 0xffffffffu);
            const auto generation = static_cast<std::uint32_t>(data >> 32);
            if (i >= conns_.size() || conns_[i].fd < 0 || conns_[i].generation != generation)
                continue;
            on_event(i, events[static_cast<std::size_t>(k)].events);
        }
    }

    for (std::size_t i = 0; i < conns_.size(); ++i)
        close_conn(i);
    ::close(epoll_);

    result.ok = !failed_;
    result.error = error_;
    result.total_verified_bytes = total_bytes_;
    if (window_end_ > window_start_) {
        result.seconds = static_cast<double>(window_end_ - window_start_) / 1e9;
        result.client_cpu_seconds = cpu_end_ - cpu_start_;
    }
    result.ops = config_.mode == Mode::stream ? bytes_ : ops_;
    result.bytes = bytes_;
    if (!latencies_.empty()) {
        std::sort(latencies_.begin(), latencies_.end());
        auto at = [this](double q) {
            const auto index =
                static_cast<std::size_t>(q * static_cast<double>(latencies_.size() - 1) + 0.5);
            return static_cast<double>(latencies_[std::min(index, latencies_.size() - 1)]) / 1e3;
        };
        result.p50_us = at(0.50);
        result.p99_us = at(0.99);
        result.p999_us = at(0.999);
        result.max_us = static_cast<double>(latencies_.back()) / 1e3;
    }
    return result;
}

}  // namespace

const char* mode_name(Mode mode) {
    switch (mode) {
        case Mode::pingpong:
            return "pingpong";
        case Mode::stream:
            return "stream";
        case Mode::connrate:
            return "connrate";
        case Mode::idle:
            return "idle";
    }
    return "?";
}

bool parse_mode(const std::string& text, Mode& mode) {
    for (Mode m : {Mode::pingpong, Mode::stream, Mode::connrate, Mode::idle}) {
        if (text == mode_name(m)) {
            mode = m;
            return true;
        }
    }
    return false;
}

LoadResult run_load(const LoadConfig& config, const LoadHooks& hooks) {
    Generator generator(config, hooks);
    return generator.run();
}

std::uint64_t raise_fd_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return 0;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }
    return static_cast<std::uint64_t>(limit.rlim_cur);
}

}  // namespace bench
