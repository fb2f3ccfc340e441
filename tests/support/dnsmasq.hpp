// Test support: real DNS servers on loopback for tests that resolve names.
// Header-only, tests only. Tests never query the system's nameservers: every
// test that sends a DNS query points its resolver at one of these.
//
//   testdns::Dnsmasq dns({"--host-record=www.test,192.0.2.10", "--local-ttl=300"});
//   config.nameservers = {dns.nameserver()};            // "127.0.0.1:<port>"
//   ...
//   dns.stop();                                         // also done by the destructor
//
//   testdns::SilentNameserver silent;                   // a UDP socket nobody reads:
//   config.nameservers = {silent.nameserver()};         // every query times out
//   CHECK_FALSE(silent.received_query());               // proves nothing was asked
//
// Dnsmasq runs /usr/sbin/dnsmasq (Debian: dnsmasq-base) in the foreground as
// a child process on 127.0.0.1 and a free port, with no upstream servers, no
// /etc/hosts and no config file, logging every query to a file (log()). The
// constructor returns once dnsmasq answers a query (no sleeping), and throws
// std::runtime_error with dnsmasq's log if it cannot start.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace testdns {

/// A free UDP port on 127.0.0.1 (free when asked; a test that then binds it
/// retries on the rare collision).
inline std::uint16_t free_udp_port() {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        throw std::runtime_error("socket() failed");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        ::close(fd);
        throw std::runtime_error("bind() on 127.0.0.1 failed");
    }
    ::close(fd);
    return ntohs(address.sin_port);
}

/// Sends one DNS query (A, for `name`) to 127.0.0.1:port and waits up to
/// `wait_ms` for any reply with the same id; true if one came.
inline bool dns_server_answers(std::uint16_t port, const std::string& name = "ready.invalid",
                               int wait_ms = 100) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    std::vector<unsigned char> query = {0x52, 0x53, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    std::size_t start = 0;
    while (start <= name.size()) {
        std::size_t dot = name.find('.', start);
        if (dot == std::string::npos)
            dot = name.size();
        query.push_back(static_cast<unsigned char>(dot - start));
        query.insert(query.end(), name.begin() + static_cast<long>(start),
                     name.begin() + static_cast<long>(dot));
        start = dot + 1;
    }
    query.insert(query.end(), {0, 0, 1, 0, 1});  // root, type A, class IN
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool answered = false;
    if (::sendto(fd, query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&address),
                 sizeof address) == static_cast<ssize_t>(query.size())) {
        pollfd waiting{fd, POLLIN, 0};
        if (::poll(&waiting, 1, wait_ms) == 1 && (waiting.revents & POLLIN) != 0) {
            unsigned char reply[512];
            const ssize_t got = ::recv(fd, reply, sizeof reply, 0);
            answered = got >= 12 && reply[0] == 0x52 && reply[1] == 0x53;
        }
    }
    ::close(fd);
    return answered;
}

class Dnsmasq {
public:
    /// Starts dnsmasq with `args` added to the fixed ones (see the top). `port`
    /// 0 picks a free one; a given port (e.g. to restart a server in place)
    /// must be free.
    explicit Dnsmasq(std::vector<std::string> args = {}, std::uint16_t port = 0)
        : args_(std::move(args)) {
        char pattern[] = "/tmp/reactsock-dnsmasq-XXXXXX";
        if (::mkdtemp(pattern) == nullptr)
            throw std::runtime_error("mkdtemp() failed");
        directory_ = pattern;
        std::string last_log;
        for (int attempt = 0; attempt < 5; ++attempt) {
            port_ = port != 0 ? port : free_udp_port();
            if (start())
                return;
            last_log = log();
            if (port != 0)
                break;  // a fixed port: do not try others
        }
        std::filesystem::remove_all(directory_);
        throw std::runtime_error("dnsmasq did not start:\n" + last_log);
    }

    ~Dnsmasq() {
        stop();
        std::error_code ignored;
        std::filesystem::remove_all(directory_, ignored);
    }

    Dnsmasq(const Dnsmasq&) = delete;
    Dnsmasq& operator=(const Dnsmasq&) = delete;

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    /// "127.0.0.1:<port>", for Resolver::Config::nameservers.
    [[nodiscard]] std::string nameserver() const { return "127.0.0.1:" + std::to_string(port_); }
    /// A scratch directory removed with this object (for --addn-hosts files).
    [[nodiscard]] const std::string& directory() const noexcept { return directory_; }

    /// Writes `contents` to `name` in directory() and returns its path.
    std::string write_file(const std::string& name, const std::string& contents) const {
        const std::string path = directory_ + "/" + name;
        std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
        return path;
    }

    /// Everything dnsmasq logged so far (with --log-queries: one
    /// "query[A] name from 127.0.0.1" line per query it received).
    [[nodiscard]] std::string log() const {
        std::ifstream in(directory_ + "/dnsmasq.log", std::ios::binary);
        std::ostringstream out;
        out << in.rdbuf();
        return out.str();
    }

    /// How many queries dnsmasq logged ("query[" lines), the readiness probe excluded.
    [[nodiscard]] int queries() const {
        std::istringstream lines(log());
        int count = 0;
        for (std::string line; std::getline(lines, line);) {
            if (line.find("query[") != std::string::npos &&
                line.find("ready.invalid") == std::string::npos) {
                ++count;
            }
        }
        return count;
    }

    /// Terminates dnsmasq and waits for it (SIGKILL after 5 s). Idempotent.
    void stop() {
        if (pid_ <= 0)
            return;
        ::kill(pid_, SIGTERM);
        if (!reap(std::chrono::seconds(5))) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
        pid_ = -1;
    }

    [[nodiscard]] bool running() const noexcept { return pid_ > 0; }

private:
    static std::string executable() {
        for (const char* path : {"/usr/sbin/dnsmasq", "/usr/local/sbin/dnsmasq", "/sbin/dnsmasq"}) {
            if (::access(path, X_OK) == 0)
                return path;
        }
        throw std::runtime_error("dnsmasq not found (Debian: apt-get install dnsmasq-base)");
    }

    bool start() {
        std::vector<std::string> argv = {
            executable(),
            "--no-daemon",
            "--conf-file=/dev/null",
            "--port=" + std::to_string(port_),
            "--listen-address=127.0.0.1",
            "--bind-interfaces",
            "--no-resolv",
            "--no-hosts",
            "--pid-file=",
            "--user=root",
            "--log-queries",
        };
        argv.insert(argv.end(), args_.begin(), args_.end());
        std::vector<char*> raw;
        for (std::string& arg : argv)
            raw.push_back(arg.data());
        raw.push_back(nullptr);

        const std::string log_path = directory_ + "/dnsmasq.log";
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        // --no-daemon logs to stderr.
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_path.c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int rc = ::posix_spawn(&pid_, raw[0], &actions, nullptr, raw.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0) {
            pid_ = -1;
            throw std::runtime_error(std::string("posix_spawn(dnsmasq) failed: ") +
                                     std::strerror(rc));
        }

        // Ready when it answers; gone if it exited (e.g. port taken).
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return false;
            }
            if (dns_server_answers(port_))
                return true;
        }
        stop();
        return false;
    }

    bool reap(std::chrono::milliseconds limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        for (;;) {
            int status = 0;
            const pid_t done = ::waitpid(pid_, &status, WNOHANG);
            if (done == pid_ || (done < 0 && errno == ECHILD))
                return true;
            if (std::chrono::steady_clock::now() >= deadline)
                return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }

    std::vector<std::string> args_;
    std::string directory_;
    std::uint16_t port_ = 0;
    pid_t pid_ = -1;
};

/// A nameserver that never answers: a UDP socket bound to 127.0.0.1 that
/// nobody reads. Queries sent to it time out (no ICMP error comes back).
class SilentNameserver {
public:
    SilentNameserver() {
        fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0)
            throw std::runtime_error("socket() failed");
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
            ::close(fd_);
            throw std::runtime_error("bind() on 127.0.0.1 failed");
        }
        port_ = ntohs(address.sin_port);
    }
    ~SilentNameserver() { ::close(fd_); }
    SilentNameserver(const SilentNameserver&) = delete;
    SilentNameserver& operator=(const SilentNameserver&) = delete;

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] std::string nameserver() const { return "127.0.0.1:" + std::to_string(port_); }

    /// True if a datagram has arrived (it stays queued: this only peeks).
    [[nodiscard]] bool received_query() const {
        unsigned char byte;
        return ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT) >= 0;
    }

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

}  // namespace testdns
