// reactsock demo: timers, a promise chain with cancellation, a coroutine, and
// TCP, Unix socket and TLS round trips, all on one event loop.
// Run: bash scripts/demo.sh
//
// Exit status 0 when every step behaved as expected (tests run it too).
#include <reactsock/reactsock.hpp>

#include <unistd.h>

#include <cstdio>
#include <string>

namespace rs = reactsock;

namespace {

// A coroutine: waits on the loop twice, then yields a value.
rs::Promise<std::string> countdown(int from) {
    for (int i = from; i > 0; --i) {
        std::printf("  coroutine: %d...\n", i);
        co_await rs::sleep(0.05);
    }
    co_return "lift-off";
}

// A client coroutine: connect, send a line, wait for the echo.
rs::Promise<std::string> round_trip(std::shared_ptr<rs::ConnectorInterface> connector, std::string uri) {
    auto conn = co_await connector->connect(uri);
    rs::Deferred<std::string> reply;
    auto received = std::make_shared<std::string>();
    conn->on(rs::ev::data, [received, reply](std::string_view chunk) mutable {
        received->append(chunk);
        if (received->find('\n') != std::string::npos) reply.resolve(*received);
    });
    conn->write("hello from " + conn->local_address().value_or("an unnamed socket") + "\n");
    std::string line = co_await reply.promise();
    conn->end();
    co_return line;
}

// An echo server on `uri`; returns it (it listens until closed).
std::shared_ptr<rs::SocketServer> echo_server(const std::string& uri) {
    auto server = std::make_shared<rs::SocketServer>(uri);
    server->on(rs::ev::connection, [](const std::shared_ptr<rs::Connection>& conn) { conn->pipe(conn); });
    return server;
}

}  // namespace

int main() {
    auto loop = rs::Loop::get();
    int failures = 0;

    std::puts("1. timers");
    int ticks = 0;
    loop->add_periodic_timer(0.02, [&](const rs::TimerHandle& self) {
        std::printf("  periodic tick %d\n", ++ticks);
        if (ticks == 3) loop->cancel_timer(self);
    });
    loop->add_timer(0.01, [] { std::puts("  one-shot timer fired"); });
    loop->run();

    std::puts("2. a promise chain, and one that is cancelled");
    auto chain = rs::sleep(0.01)
                     .then([] { return 20; })
                     .then([](int v) { return v + 22; })
                     .then([](int v) { std::printf("  chain result: %d\n", v); });
    auto slow = rs::sleep(30).then([] { std::puts("  never printed"); });
    auto cancelled = slow.otherwise([&](const std::system_error& e) {
        std::printf("  cancelled: %s (errno %d)\n", e.what(), e.code().value());
    });
    loop->add_timer(0.02, [&] { slow.cancel(); });  // stops the 30 s timer at once
    rs::await(rs::all(std::vector<rs::Promise<void>>{chain, cancelled}));
    if (loop->timer_count() != 0) ++failures;

    std::puts("3. a coroutine");
    const std::string result = rs::await(countdown(3));
    std::printf("  coroutine result: %s\n", result.c_str());
    if (result != "lift-off") ++failures;

    std::puts("4. a timeout");
    try {
        rs::await(rs::timeout(rs::sleep(10), 0.05));
        ++failures;
    } catch (const std::system_error& e) {
        std::printf("  %s\n", e.what());
    }

    std::puts("5. a TCP round trip");
    auto tcp = echo_server("127.0.0.1:0");
    std::printf("  server listening on %s\n", tcp->address()->c_str());
    const std::string tcp_reply =
        rs::await(round_trip(std::make_shared<rs::TcpConnector>(), *tcp->address()));
    std::printf("  echoed: %s", tcp_reply.c_str());
    if (tcp_reply.rfind("hello from tcp://127.0.0.1:", 0) != 0) ++failures;
    tcp->close();

    std::puts("6. a Unix socket round trip");
    const std::string path = "/tmp/reactsock-demo-" + std::to_string(::getpid()) + ".sock";
    auto unix_server = echo_server("unix://" + path);
    std::printf("  server listening on %s\n", unix_server->address()->c_str());
    const std::string unix_reply =
        rs::await(round_trip(std::make_shared<rs::UnixConnector>(), "unix://" + path));
    std::printf("  echoed: %s", unix_reply.c_str());
    if (unix_reply != "hello from an unnamed socket\n") ++failures;
    unix_server->close();  // also removes the socket file

    std::puts("7. a TLS round trip (throwaway self-signed certificate)");
    const auto certificate = rs::tls::self_signed_certificate("localhost");
    rs::TlsOptions server_tls;
    server_tls.local_cert = certificate.certificate_pem;
    server_tls.local_pk = certificate.private_key_pem;
    auto tls_server = std::make_shared<rs::SecureServer>(std::make_shared<rs::TcpServer>("127.0.0.1:0"), nullptr,
                                                         server_tls);
    tls_server->on(rs::ev::connection, [](const std::shared_ptr<rs::Connection>& conn) { conn->pipe(conn); });
    std::printf("  server listening on %s\n", tls_server->address()->c_str());
    rs::TlsOptions client_tls;
    client_tls.cafile = certificate.certificate_pem;  // trust exactly that certificate
    rs::ConnectorOptions connector_options;
    connector_options.tls = client_tls;
    const std::string port = tls_server->address()->substr(tls_server->address()->rfind(':') + 1);
    const std::string tls_reply = rs::await(round_trip(std::make_shared<rs::Connector>(connector_options),
                                                       "tls://localhost:" + port));
    std::printf("  echoed: %s", tls_reply.c_str());
    if (tls_reply.rfind("hello from tls://127.0.0.1:", 0) != 0) ++failures;
    tls_server->close();

    std::puts(failures == 0 ? "demo finished: all good" : "demo finished: something went wrong");
    return failures == 0 ? 0 : 1;
}
