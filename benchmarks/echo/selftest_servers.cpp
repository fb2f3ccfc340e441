// The deliberately broken echo servers of --self-test: each misbehaves in one
// way, so that the self-test can prove the load generator notices. They are
// bench_echo itself, started as `bench_echo --serve-broken KIND HOST:PORT` or
// `--serve-broken-tls KIND HOST:PORT CERT KEY`, and announce their port like
// the real servers.
#include "echo/commands.hpp"

#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <thread>
#include <vector>

namespace bench::echo {

namespace {

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
    std::printf("Listening on %s://127.0.0.1:%u\n", scheme,
                static_cast<unsigned>(ntohs(addr.sin_port)));
    std::fflush(stdout);
    ::signal(SIGPIPE, SIG_IGN);
    return listener;
}

}  // namespace

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

}  // namespace bench::echo
