// Built against an installed reactsock by tests/install/run.cmake, the way a user
// would: through find_package(reactsock) and through pkg-config, with no flags of
// its own. The library may have been built optimised and sanitized; this program
// then runs under ASan + UBSan too (the flags come from the installed package), so
// it exercises what an optimised sanitized build has caught before: Asio's handler
// memory allocated in one translation unit and freed in another (timers, TCP, TLS).
//
// Prints one line per step and "reactsock consumer: all done" at the end; exits 0
// only if every step happened.
#include <reactsock/reactsock.hpp>

#include <cstdio>
#include <memory>
#include <string>

namespace rs = reactsock;

namespace {

// Echoes over `server` with a client from `connector`: many small round trips,
// so that Asio recycles handler memory across reads, writes and timers.
rs::Promise<std::string> round_trips(std::shared_ptr<rs::ServerInterface> server,
                                     rs::ConnectorInterface& connector, std::string uri) {
    server->on(rs::ev::connection, [](const std::shared_ptr<rs::Connection>& conn) { conn->pipe(conn); });
    auto conn = co_await connector.connect(uri);
    std::string received;
    rs::Deferred<std::string> done;
    int sent = 1;
    constexpr int rounds = 200;
    conn->on(rs::ev::data, [&, conn](std::string_view chunk) mutable {
        received.append(chunk);
        if (received.size() == static_cast<std::size_t>(sent) * 4) {
            if (sent == rounds) {
                conn->close();
                return;
            }
            ++sent;
            conn->write("ping");
        }
    });
    conn->on(rs::ev::close, [&]() mutable { done.resolve(received); });
    conn->write("ping");
    const std::string all = co_await done.promise();
    server->close();
    co_return all;
}

}  // namespace

int main() {
    auto loop = rs::Loop::get();
    int steps = 0;

    loop->add_timer(0.01, [&steps] {
        ++steps;
        std::puts("reactsock consumer: timer fired");
    });

    auto tcp_server = std::make_shared<rs::TcpServer>("127.0.0.1:0", loop);
    rs::TcpConnector tcp_connector(loop);
    round_trips(tcp_server, tcp_connector, *tcp_server->address())
        .then([&steps](const std::string& all) {
            if (all.size() == 200 * 4) {
                ++steps;
                std::puts("reactsock consumer: tcp echo done");
            }
        })
        .otherwise([](const std::exception& e) { std::fprintf(stderr, "tcp: %s\n", e.what()); });

    const auto cert = rs::tls::self_signed_certificate("localhost");
    auto tls_server = std::make_shared<rs::SecureServer>(
        std::make_shared<rs::TcpServer>("127.0.0.1:0", loop), loop,
        rs::TlsOptions{.local_cert = cert.certificate_pem, .local_pk = cert.private_key_pem});
    rs::SecureConnector tls_connector(std::make_shared<rs::TcpConnector>(loop), loop,
                                      rs::TlsOptions{.cafile = cert.certificate_pem});
    round_trips(tls_server, tls_connector, *tls_server->address() + "?hostname=localhost")
        .then([&steps](const std::string& all) {
            if (all.size() == 200 * 4) {
                ++steps;
                std::puts("reactsock consumer: tls echo done");
            }
        })
        .otherwise([](const std::exception& e) { std::fprintf(stderr, "tls: %s\n", e.what()); });

    loop->run();
    if (steps != 3) {
        std::fprintf(stderr, "reactsock consumer: only %d of 3 steps happened\n", steps);
        return 1;
    }
    std::puts("reactsock consumer: all done");
    return 0;
}
