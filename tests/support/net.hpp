// Test support: raw BSD-socket peers and helpers for loop-driven tests.
// Header-only, tests only. Everything uses loopback addresses.
#pragma once

#include <reactsock/loop/loop.hpp>
#include <reactsock/promise/await.hpp>

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace testnet {

// Runs `loop` until `done()` holds. A generous guard timer turns a hang into
// a test failure instead of a stuck suite; it is not a timing assumption.
inline bool run_until(const std::shared_ptr<reactsock::Loop>& loop, const std::function<bool()>& done,
                      double guard_seconds = 60) {
    bool expired = false;
    auto guard = loop->add_timer(guard_seconds, [&] { expired = true; });
    loop->run_until([&] { return done() || expired; });
    loop->cancel_timer(guard);
    if (expired) FAIL_CHECK("guard timer expired before the awaited condition held");
    return done();
}

// Number of open descriptors of this process.
inline int open_fds() {
    int count = 0;
    if (DIR* dir = ::opendir("/proc/self/fd")) {
        while (const dirent* entry = ::readdir(dir)) {
            if (entry->d_name[0] != '.') ++count;
        }
        ::closedir(dir);
    }
    return count - 1;  // the directory stream itself
}

// The port of "tcp://127.0.0.1:41234".
inline std::uint16_t port_of(const std::string& address) {
    return static_cast<std::uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
}

// A blocking raw TCP client socket connected to 127.0.0.1:port (or ::1).
inline int raw_connect(std::uint16_t port, bool v6 = false) {
    const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    int rc = -1;
    if (v6) {
        sockaddr_in6 address{};
        address.sin6_family = AF_INET6;
        address.sin6_port = htons(port);
        address.sin6_addr = in6addr_loopback;
        rc = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    } else {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        rc = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    }
    REQUIRE_MESSAGE(rc == 0, "raw connect failed: ", std::strerror(errno));
    return fd;
}

// A raw listening TCP socket on 127.0.0.1 with a random port.
inline int raw_listen(std::uint16_t& port, int backlog = 16) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(fd, backlog) == 0);
    socklen_t length = sizeof address;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port = ntohs(address.sin_port);
    return fd;
}

// A port on 127.0.0.1 where nothing listens (bound, then released).
inline std::uint16_t closed_port() {
    std::uint16_t port = 0;
    const int fd = raw_listen(port);
    ::close(fd);
    return port;
}

inline void send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        REQUIRE(n > 0);
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

// Reads until EOF on a blocking fd; until EAGAIN (everything there is) on a
// non-blocking one.
inline std::string read_to_eof(int fd) {
    std::string out;
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        out.append(buffer, static_cast<std::size_t>(n));
    }
    return out;
}

// Makes close() send RST instead of FIN.
inline void reset_on_close(int fd) {
    linger option{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, sizeof option);
}

// True if this machine (namespace) can bind ::1.
inline bool has_ipv6_loopback() {
    const int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    address.sin6_addr = in6addr_loopback;
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return ok;
}

// A deterministic byte pattern, different per seed.
inline std::string pattern(std::size_t size, unsigned seed) {
    std::string out(size, '\0');
    std::uint32_t x = seed * 2654435761u + 1;
    for (auto& c : out) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        c = static_cast<char>(x);
    }
    return out;
}

// A fresh path for a Unix socket in the temp directory.
inline std::string temp_socket_path(const char* tag) {
    static int counter = 0;
    return "/tmp/reactsock-test-" + std::to_string(::getpid()) + "-" + tag + "-" + std::to_string(++counter) +
           ".sock";
}

// The rejection message of `promise` once the loop settles it (and its
// errno, for system errors, in *code); "fulfilled" if it fulfils.
template <class T>
std::string rejection_of(const reactsock::Promise<T>& promise, const std::shared_ptr<reactsock::Loop>& loop,
                         int* code = nullptr) {
    try {
        reactsock::await(promise, loop);
    } catch (const std::system_error& e) {
        if (code != nullptr) *code = e.code().value();
        return e.what();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "fulfilled";
}

// A TCP listener on 127.0.0.1 whose accept queue is full: the kernel drops
// further SYNs, so a connect() to port() stays pending until cancelled.
struct BlackHole {
    BlackHole() {
        listener = raw_listen(port, 0);
        for (int i = 0; i < 4; ++i) {
            const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            sockaddr_in address{};
            address.sin_family = AF_INET;
            address.sin_port = htons(port);
            address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
            fillers.push_back(fd);
        }
    }
    ~BlackHole() {
        for (int fd : fillers) ::close(fd);
        ::close(listener);
    }
    BlackHole(const BlackHole&) = delete;
    BlackHole& operator=(const BlackHole&) = delete;
    std::uint16_t port = 0;
    int listener = -1;
    std::vector<int> fillers;
};

}  // namespace testnet
