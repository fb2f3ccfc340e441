#include <reactsock/socket/limiting_server.hpp>

#include <reactsock/promise/await.hpp>
#include <reactsock/socket/secure_connector.hpp>
#include <reactsock/socket/secure_server.hpp>
#include <reactsock/socket/tcp_connector.hpp>
#include <reactsock/socket/tcp_server.hpp>
#include <reactsock/tls/certificate.hpp>

#include "support/net.hpp"

#include <nlohmann/json.hpp>

#include <doctest/doctest.h>

#include <cerrno>
#include <string>
#include <vector>

namespace rs = reactsock;

TEST_CASE("LimitingServer closes newcomers over the limit and reports it") {
    auto loop = std::make_shared<rs::Loop>();
    auto server = std::make_shared<rs::LimitingServer>(std::make_shared<rs::TcpServer>("127.0.0.1:0", loop), 2);
    const auto port = testnet::port_of(*server->address());
    int connections = 0;
    std::vector<std::string> errors;
    server->on(rs::ev::connection, [&](const std::shared_ptr<rs::Connection>&) { ++connections; });
    server->on(rs::ev::error, [&](const std::system_error& e) {
        CHECK(e.code() == std::errc::connection_aborted);
        errors.emplace_back(e.what());
    });
    const int a = testnet::raw_connect(port);
    const int b = testnet::raw_connect(port);
    const int c = testnet::raw_connect(port);
    testnet::run_until(loop, [&] { return connections == 2 && errors.size() == 1; });
    CHECK(errors.front() == "Connection closed because server reached connection limit");
    CHECK(server->connections().size() == 2);
    CHECK(testnet::read_to_eof(c).empty());  // the third was closed at once
    // When one closes, there is room again.
    ::close(a);
    testnet::run_until(loop, [&] { return server->connections().size() == 1; });
    const int d = testnet::raw_connect(port);
    testnet::run_until(loop, [&] { return connections == 3; });
    CHECK(server->connections().size() == 2);
    for (const auto& conn : server->connections()) conn->close();
    CHECK(server->connections().empty());
    ::close(b);
    ::close(c);
    ::close(d);
}

TEST_CASE("LimitingServer with pause_on_limit pauses and resumes the wrapped server") {
    auto loop = std::make_shared<rs::Loop>();
    auto server =
        std::make_shared<rs::LimitingServer>(std::make_shared<rs::TcpServer>("127.0.0.1:0", loop), 1,
                                             rs::ConnectionLimiterOptions{.pause_on_limit = true});
    const auto port = testnet::port_of(*server->address());
    int connections = 0;
    int errors = 0;
    server->on(rs::ev::connection, [&](const std::shared_ptr<rs::Connection>&) { ++connections; });
    server->on(rs::ev::error, [&](const std::system_error&) { ++errors; });
    const int a = testnet::raw_connect(port);
    const int b = testnet::raw_connect(port);  // waits in the backlog
    testnet::run_until(loop, [&] { return connections == 1; });
    // Paused: the second one is not accepted while the first is open.
    server->connections().front()->pause();
    loop->run();  // nothing to do: the server is paused, the connection too
    CHECK(connections == 1);
    CHECK(errors == 0);
    // A manual pause is kept apart from the automatic one.
    server->pause();
    server->connections().front()->close();
    loop->run();
    CHECK(connections == 1);
    server->resume();
    testnet::run_until(loop, [&] { return connections == 2; });
    CHECK(errors == 0);
    for (const auto& conn : server->connections()) conn->close();
    ::close(a);
    ::close(b);
}

TEST_CASE("LimitingServer without a limit only tracks") {
    auto loop = std::make_shared<rs::Loop>();
    auto server = std::make_shared<rs::LimitingServer>(std::make_shared<rs::TcpServer>("127.0.0.1:0", loop),
                                                       std::nullopt);
    const auto port = testnet::port_of(*server->address());
    std::vector<int> clients;
    for (int i = 0; i < 5; ++i) clients.push_back(testnet::raw_connect(port));
    testnet::run_until(loop, [&] { return server->connections().size() == 5; });
    server->close();
    CHECK_FALSE(server->address());
    for (const auto& conn : server->connections()) conn->close();
    for (int fd : clients) ::close(fd);
    CHECK_THROWS_AS(rs::LimitingServer(nullptr, 1), std::invalid_argument);
}

TEST_CASE("ConnectionLimiter: one limit for a TCP and a TLS port together") {
    auto loop = std::make_shared<rs::Loop>();
    const auto cert = rs::tls::self_signed_certificate("localhost");
    auto limiter = std::make_shared<rs::ConnectionLimiter>(2);
    auto plain = std::make_shared<rs::LimitingServer>(std::make_shared<rs::TcpServer>("127.0.0.1:0", loop), limiter);
    auto secure = std::make_shared<rs::LimitingServer>(
        std::make_shared<rs::SecureServer>(std::make_shared<rs::TcpServer>("127.0.0.1:0", loop), loop,
                                           rs::TlsOptions{.local_cert = cert.certificate_pem,
                                                          .local_pk = cert.private_key_pem}),
        limiter);
    int accepted = 0;
    std::vector<std::string> errors;
    for (const auto& server : {plain, secure}) {
        server->on(rs::ev::connection, [&](const std::shared_ptr<rs::Connection>&) { ++accepted; });
        server->on(rs::ev::error, [&](const std::system_error& e) { errors.emplace_back(e.what()); });
    }
    rs::TcpConnector tcp(loop);
    rs::SecureConnector tls(std::make_shared<rs::TcpConnector>(loop), loop, rs::TlsOptions{.cafile = cert.certificate_pem});
    auto first = rs::await(tcp.connect(*plain->address()), loop);
    auto second = rs::await(tls.connect(*secure->address() + "?hostname=localhost"), loop);
    testnet::run_until(loop, [&] { return accepted == 2; });
    CHECK(limiter->count() == 2);
    CHECK(plain->connections().size() == 1);
    CHECK(secure->connections().size() == 1);
    CHECK(limiter->connections().size() == 2);
    // A third connection, on either port, is over the shared limit.
    const int over = testnet::raw_connect(testnet::port_of(*plain->address()));
    testnet::run_until(loop, [&] { return errors.size() == 1; });
    CHECK(errors.front() == "Connection closed because server reached connection limit");
    CHECK(testnet::read_to_eof(over).empty());
    ::close(over);
    // Room again once the TLS one closes: the plain port takes a newcomer.
    second->close();
    testnet::run_until(loop, [&] { return limiter->count() == 1; });
    auto third = rs::await(tcp.connect(*plain->address()), loop);
    testnet::run_until(loop, [&] { return accepted == 3; });
    CHECK(plain->connections().size() == 2);
    CHECK(secure->connections().empty());
    first->close();
    third->close();
    for (const auto& conn : limiter->connections()) conn->close();
    CHECK(limiter->count() == 0);
    plain->close();
    secure->close();
}

TEST_CASE("ConnectionLimiter with pause_on_limit pauses every server at the limit and resumes them below it") {
    auto loop = std::make_shared<rs::Loop>();
    auto limiter = std::make_shared<rs::ConnectionLimiter>(1, rs::ConnectionLimiter::Options{.pause_on_limit = true});
    auto a = std::make_shared<rs::LimitingServer>(std::make_shared<rs::TcpServer>("127.0.0.1:0", loop), limiter);
    auto b = std::make_shared<rs::LimitingServer>(std::make_shared<rs::TcpServer>("127.0.0.1:0", loop), limiter);
    int accepted = 0;
    int errors = 0;
    for (const auto& server : {a, b}) {
        server->on(rs::ev::connection, [&](const std::shared_ptr<rs::Connection>&) { ++accepted; });
        server->on(rs::ev::error, [&](const std::system_error&) { ++errors; });
    }
    const int first = testnet::raw_connect(testnet::port_of(*a->address()));
    testnet::run_until(loop, [&] { return accepted == 1; });
    // Both are paused now: a client of b waits in b's backlog, not closed.
    const int waiting = testnet::raw_connect(testnet::port_of(*b->address()));
    limiter->connections().front()->pause();
    loop->run();  // nothing to do: both servers and the one connection are paused
    CHECK(accepted == 1);
    CHECK(errors == 0);
    limiter->connections().front()->close();  // below the limit: both resume, b accepts
    testnet::run_until(loop, [&] { return accepted == 2; });
    CHECK(b->connections().size() == 1);
    CHECK(errors == 0);
    for (const auto& conn : limiter->connections()) conn->close();
    ::close(first);
    ::close(waiting);
    a->close();
    b->close();
}

TEST_CASE("LimitingServer: a limit of 0 or a null limiter is refused") {
    auto loop = std::make_shared<rs::Loop>();
    CHECK_THROWS_AS(rs::ConnectionLimiter(0), std::invalid_argument);
    CHECK_THROWS_AS(rs::LimitingServer(std::make_shared<rs::TcpServer>("127.0.0.1:0", loop),
                                       std::shared_ptr<rs::ConnectionLimiter>()),
                    std::invalid_argument);
}

TEST_CASE("ConnectionLimiterOptions from JSON, and the deprecated bool constructor still pauses") {
    using json = nlohmann::json;
    CHECK(rs::ConnectionLimiterOptions::from_json(json{{"pause_on_limit", true}}).pause_on_limit);
    CHECK_FALSE(rs::ConnectionLimiterOptions::from_json(json::object()).pause_on_limit);
    CHECK(json{{"pause_on_limit", true}}.get<rs::ConnectionLimiterOptions>().pause_on_limit);
    CHECK_THROWS_AS(rs::ConnectionLimiterOptions::from_json(json{{"pause", true}}), std::invalid_argument);
    CHECK_THROWS_AS(rs::ConnectionLimiterOptions::from_json(json{{"pause_on_limit", 1}}), std::invalid_argument);

    auto loop = std::make_shared<rs::Loop>();
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    auto server = std::make_shared<rs::LimitingServer>(std::make_shared<rs::TcpServer>("127.0.0.1:0", loop), 1, true);
#pragma GCC diagnostic pop
    const auto port = testnet::port_of(*server->address());
    int connections = 0;
    server->on(rs::ev::connection, [&](const std::shared_ptr<rs::Connection>&) { ++connections; });
    const int a = testnet::raw_connect(port);
    const int b = testnet::raw_connect(port);  // waits in the backlog: paused, not closed
    testnet::run_until(loop, [&] { return connections == 1; });
    server->connections().front()->pause();
    loop->run();  // nothing to do: the server is paused at the limit
    CHECK(connections == 1);
    server->connections().front()->close();
    testnet::run_until(loop, [&] { return connections == 2; });
    for (const auto& conn : server->connections()) conn->close();
    server->close();
    ::close(a);
    ::close(b);
}
