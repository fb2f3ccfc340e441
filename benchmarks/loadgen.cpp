// loadgen: see loadgen.hpp.
#include "loadgen.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cerrno>
#include <climits>
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

// connrate and its TLS forms: workers that connect, echo once and close.
bool per_connection(Mode mode) {
    return mode == Mode::connrate || mode == Mode::tls_handshake || mode == Mode::tls_resume;
}

bool streaming(Mode mode) {
    return mode == Mode::stream || mode == Mode::tls_stream;
}

// OpenSSL's error queue (emptied) and SSL_get_error's code as one line.
std::string tls_error_text(int code) {
    std::string text;
    while (const unsigned long e = ERR_get_error()) {
        char buffer[256];
        ERR_error_string_n(e, buffer, sizeof buffer);
        text += (text.empty() ? "" : "; ") + std::string(buffer);
    }
    if (text.empty()) {
        text = code == SSL_ERROR_SYSCALL ? (errno != 0 ? errno_text(errno) : "unexpected EOF")
                                         : "SSL_get_error " + std::to_string(code);
    }
    return text;
}

struct Conn {
    int fd = -1;
    std::uint32_t generation = 0;    // tells events of a recycled slot's old socket apart
    bool connected = false;          // TCP connected
    bool secure = false;             // TLS modes: handshake done
    bool resumed = false;            // ... and the server resumed the offered session
    SSL* ssl = nullptr;              // TLS modes, from TCP connect to close
    SSL_SESSION* session = nullptr;  // tls-resume: newest session of this slot's connections
    std::size_t write_retry = 0;     // TLS: SSL_write wants to be repeated with this length
    std::uint64_t seed = 0;          // offset of this connection's stream in the pattern
    std::uint64_t sent = 0;          // bytes sent
    std::uint64_t want = 0;          // send up to here (all modes but stream)
    std::uint64_t recvd = 0;         // bytes received and verified
    std::uint64_t started = 0;       // ns: the current message was sent / connect() was called
};

// The ex_data slot of a client SSL that points to its Conn (for new tickets).
int conn_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

// tls-resume: keeps the newest session (TLS 1.3: ticket) of each connection
// in its slot, for the slot's next connection.
int on_new_session(SSL* ssl, SSL_SESSION* session) {
    auto* c = static_cast<Conn*>(SSL_get_ex_data(ssl, conn_index()));
    if (c == nullptr)
        return 0;
    if (c->session != nullptr)
        SSL_SESSION_free(c->session);
    c->session = session;
    return 1;  // the reference is ours
}

class Generator {
public:
    Generator(const LoadConfig& config, const LoadHooks& hooks) : config_(config), hooks_(hooks) {}
    ~Generator() {
        for (Conn& c : conns_) {
            if (c.ssl != nullptr)
                SSL_free(c.ssl);
            if (c.session != nullptr)
                SSL_SESSION_free(c.session);
        }
        if (tls_ != nullptr)
            SSL_CTX_free(tls_);
    }
    Generator(const Generator&) = delete;
    Generator& operator=(const Generator&) = delete;

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
    bool create_tls_context();
    void start_tls(std::size_t i);
    void tls_handshake(std::size_t i);
    void note_negotiated(SSL* ssl);
    void start_message(std::size_t i);
    bool pump(std::size_t i);
    long receive(std::size_t i);
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
    SSL_CTX* tls_ = nullptr;  // TLS modes

    // What the TLS handshakes negotiated: each distinct (version, cipher, group) once.
    struct Negotiated {
        int version;
        const SSL_CIPHER* cipher;
        int group;
    };
    std::vector<Negotiated> negotiated_;
    std::string tls_protocol_, tls_cipher_, tls_group_;

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
    std::uint64_t ops_ = 0, bytes_ = 0, total_bytes_ = 0, resumed_ = 0;
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
    if (c.ssl != nullptr) {
        // No close_notify: the socket closes with RST. Without this flag,
        // SSL_free would take the connection for a failed one and mark its
        // session, the newest ticket, as not resumable (ssl_clear_bad_session).
        SSL_set_shutdown(c.ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
        SSL_free(c.ssl);
        c.ssl = nullptr;
    }
    ::close(c.fd);  // SO_LINGER 0: RST; also leaves the epoll set
    c.fd = -1;
    c.connected = false;
    c.secure = c.resumed = false;
    c.write_retry = 0;
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
        if (tls_ != nullptr) {
            start_tls(i);
            return;
        }
        on_connected(i);
        if (failed_ || c.fd < 0)
            return;
    }
    if (c.ssl != nullptr && !c.secure) {
        tls_handshake(i);  // reads and writes as the handshake needs
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
    if (streaming(config_.mode)) {
        pump(i);
    } else {
        const std::uint64_t connect_started = conns_[i].started;
        start_message(i);
        if (per_connection(config_.mode))
            conns_[i].started = connect_started;
    }
}

bool Generator::create_tls_context() {
    tls_ = SSL_CTX_new(TLS_client_method());
    if (tls_ == nullptr)
        return fail("SSL_CTX_new: " + tls_error_text(SSL_ERROR_SSL));
    SSL_CTX_set_verify(tls_, SSL_VERIFY_NONE, nullptr);  // a benchmark: any certificate
    // Partial writes: SSL_write returns after each record, as send() after a chunk.
    SSL_CTX_set_mode(tls_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (config_.mode == Mode::tls_resume) {
        SSL_CTX_set_session_cache_mode(tls_,
                                       SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(tls_, on_new_session);
    } else {
        SSL_CTX_set_session_cache_mode(tls_, SSL_SESS_CACHE_OFF);
    }
    return true;
}

void Generator::start_tls(std::size_t i) {
    Conn& c = conns_[i];
    ERR_clear_error();
    c.ssl = SSL_new(tls_);
    if (c.ssl == nullptr || SSL_set_fd(c.ssl, c.fd) != 1) {
        fail("SSL_new/SSL_set_fd: " + tls_error_text(SSL_ERROR_SSL));
        return;
    }
    SSL_set_connect_state(c.ssl);
    SSL_set_ex_data(c.ssl, conn_index(), &c);
    if (config_.mode == Mode::tls_resume && c.session != nullptr) {
        // A copy: OpenSSL's client never offers a session object again once it
        // has resumed with it (openssl/openssl#18792), and a server that sends
        // no new ticket after a resumed handshake (Node) leaves the worker
        // nothing newer than the ticket it has just used.
        if (SSL_SESSION* copy = SSL_SESSION_dup(c.session)) {
            SSL_set_session(c.ssl, copy);
            SSL_SESSION_free(copy);  // c.ssl holds its own reference
        }
    }
    tls_handshake(i);
}

void Generator::tls_handshake(std::size_t i) {
    Conn& c = conns_[i];
    ERR_clear_error();
    errno = 0;
    const int ret = SSL_do_handshake(c.ssl);
    if (ret != 1) {
        const int code = SSL_get_error(c.ssl, ret);
        if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE)
            return;  // the socket said EAGAIN: the next edge brings us back
        fail("TLS handshake on " + conn_name(i) + ": " + tls_error_text(code));
        return;
    }
    c.secure = true;
    c.resumed = SSL_session_reused(c.ssl) == 1;
    note_negotiated(c.ssl);
    const std::uint32_t generation = c.generation;
    on_connected(i);
    // The handshake may have stopped reading before EAGAIN: without a new
    // edge, bytes already in the socket would wait forever.
    if (!failed_ && c.fd >= 0 && c.generation == generation)
        read_some(i);
}

void Generator::note_negotiated(SSL* ssl) {
    int group = 0;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    group = SSL_get_negotiated_group(ssl);
#endif
    const Negotiated now{SSL_version(ssl), SSL_get_current_cipher(ssl), group};
    for (const Negotiated& seen : negotiated_) {
        if (seen.version == now.version && seen.cipher == now.cipher && seen.group == now.group)
            return;
    }
    negotiated_.push_back(now);
    auto add = [](std::string& list, const std::string& value) {
        if (list.find(value) == std::string::npos)
            list += (list.empty() ? "" : " / ") + value;
    };
    add(tls_protocol_, SSL_get_version(ssl));
    add(tls_cipher_, now.cipher != nullptr ? SSL_CIPHER_get_name(now.cipher) : "?");
    const char* group_name = nullptr;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    if (group != 0 && (group & TLSEXT_nid_unknown) == 0)
        group_name = OBJ_nid2sn(group);
#endif
    add(tls_group_, group_name != nullptr ? group_name : "?");
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
        if (streaming(config_.mode)) {
            // An SSL_write that wanted to write must be completed: part of it
            // may be on the wire already.
            if (!sending_ && c.write_retry == 0)
                return true;
            length = config_.size;
        } else {
            if (c.sent >= c.want)
                return true;
            length = static_cast<std::size_t>(c.want - c.sent);
        }
        length = std::min(length, kPeriod);
        const char* data = pattern() + (c.seed + c.sent) % kPeriod;
        if (c.ssl != nullptr) {
            // A repeated SSL_write has the same bytes and length (c.sent has not moved).
            ERR_clear_error();
            errno = 0;
            const int n =
                SSL_write(c.ssl, data, static_cast<int>(std::min<std::size_t>(length, INT_MAX)));
            if (n > 0) {
                c.write_retry = 0;
                c.sent += static_cast<std::uint64_t>(n);
                continue;
            }
            const int code = SSL_get_error(c.ssl, n);
            if (code == SSL_ERROR_WANT_WRITE || code == SSL_ERROR_WANT_READ) {
                c.write_retry = length;
                return true;
            }
            return fail("SSL_write() on " + conn_name(i) + " after " + std::to_string(c.sent) +
                        " bytes: " + tls_error_text(code) + " — the server dropped the connection");
        }
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

// Reads what is there into read_buffer_: > 0 bytes, 0 when nothing is (wait
// for the next edge), < 0 when the run failed.
long Generator::receive(std::size_t i) {
    Conn& c = conns_[i];
    const auto progress = [&] {
        return " after " + std::to_string(c.recvd) + " of " + std::to_string(c.sent) +
               " bytes echoed";
    };
    if (c.ssl != nullptr) {
        ERR_clear_error();
        errno = 0;
        const int n =
            SSL_read(c.ssl, read_buffer_.data(),
                     static_cast<int>(std::min<std::size_t>(read_buffer_.size(), INT_MAX)));
        if (n > 0)
            return n;
        const int code = SSL_get_error(c.ssl, n);
        if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE)
            return 0;
        const bool closed = code == SSL_ERROR_ZERO_RETURN ||
                            (code == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && errno == 0);
        fail("SSL_read() on " + conn_name(i) + ": " +
             (closed ? std::string("the server closed the connection") : tls_error_text(code)) +
             progress());
        return -1;
    }
    for (;;) {
        const ssize_t n = ::recv(c.fd, read_buffer_.data(), read_buffer_.size(), 0);
        if (n > 0)
            return static_cast<long>(n);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        fail("recv() on " + conn_name(i) + ": " +
             (n == 0 ? std::string("the server closed the connection") : errno_text(errno)) +
             progress());
        return -1;
    }
}

bool Generator::read_some(std::size_t i) {
    Conn& c = conns_[i];
    for (;;) {
        const long n = receive(i);
        if (n < 0)
            return false;
        if (n == 0)
            return true;
        if (!verify(i, static_cast<std::size_t>(n)))
            return false;
        c.recvd += static_cast<std::uint64_t>(n);
        total_bytes_ += static_cast<std::uint64_t>(n);
        if (in_window_)
            bytes_ += static_cast<std::uint64_t>(n);
        if (streaming(config_.mode)) {
            last_progress_ = now_ns();
            continue;  // edge-triggered: read until EAGAIN
        }
        if (c.recvd == c.want) {
            // Nothing is outstanding, so nothing else can be buffered: skip
            // the recv() that would return EAGAIN (the next echo is a new edge).
            message_done(i);
            return !failed_;
        }
    }
}

void Generator::message_done(std::size_t i) {
    Conn& c = conns_[i];
    if (in_window_) {
        ++ops_;
        resumed_ += c.resumed ? 1 : 0;
        if (config_.keep_latencies)
            latencies_.push_back(now_ns() - c.started);
    }
    switch (config_.mode) {
        case Mode::pingpong:
            if (sending_)
                start_message(i);
            break;
        case Mode::connrate:
        case Mode::tls_handshake:
        case Mode::tls_resume:
            close_conn(i);
            if (sending_)
                open_conn(i);
            break;
        case Mode::idle:
            ++idle_done_;
            break;
        case Mode::stream:
        case Mode::tls_stream:
            break;
    }
}

void Generator::check_stalls(std::uint64_t now) {
    const auto limit = static_cast<std::uint64_t>(config_.stall_timeout * 1e9);
    if (streaming(config_.mode)) {
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
        if (c.ssl != nullptr && !c.secure) {
            fail(conn_name(i) + ": TLS handshake not completed " +
                 seconds_text(config_.stall_timeout) + " s after connect()");
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
        if (c.fd >= 0 && (c.recvd < c.sent || !c.connected || (c.ssl != nullptr && !c.secure) ||
                          c.write_retry != 0))
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
    ops_ = bytes_ = resumed_ = 0;
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
    if (is_tls(config_.mode) && !create_tls_context()) {
        result.error = error_;
        ::close(epoll_);
        return result;
    }
    conns_.resize(static_cast<std::size_t>(config_.conns));
    if (config_.keep_latencies && !streaming(config_.mode))
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
            const bool drained = per_connection(config_.mode) ? open_count_ == 0 : all_echoed();
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

    if (!failed_ && config_.mode == Mode::tls_resume && ops_ > 0 &&
        static_cast<double>(resumed_) < config_.min_resumed_fraction * static_cast<double>(ops_)) {
        char share[32];
        std::snprintf(share, sizeof share, "%.1f%%",
                      100.0 * static_cast<double>(resumed_) / static_cast<double>(ops_));
        fail("the server resumed only " + std::to_string(resumed_) + " of " + std::to_string(ops_) +
             " handshakes (" + share + ") although every connection " +
             "offered its previous connection's session");
    }
    result.ok = !failed_;
    result.error = error_;
    result.total_verified_bytes = total_bytes_;
    result.tls_protocol = tls_protocol_;
    result.tls_cipher = tls_cipher_;
    result.tls_group = tls_group_;
    result.resumed = resumed_;
    if (window_end_ > window_start_) {
        result.seconds = static_cast<double>(window_end_ - window_start_) / 1e9;
        result.client_cpu_seconds = cpu_end_ - cpu_start_;
    }
    result.ops = streaming(config_.mode) ? bytes_ : ops_;
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
        case Mode::tls_handshake:
            return "tls-handshake";
        case Mode::tls_resume:
            return "tls-resume";
        case Mode::tls_stream:
            return "tls-stream";
    }
    return "?";
}

bool is_tls(Mode mode) {
    return mode == Mode::tls_handshake || mode == Mode::tls_resume || mode == Mode::tls_stream;
}

bool parse_mode(const std::string& text, Mode& mode) {
    for (Mode m : {Mode::pingpong, Mode::stream, Mode::connrate, Mode::idle, Mode::tls_handshake,
                   Mode::tls_resume, Mode::tls_stream}) {
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
