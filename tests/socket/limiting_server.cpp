#include <reactsock/socket/limiting_server.hpp>

#include <reactsock/socket/tcp_server.hpp>

#include "support/net.hpp"

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
        std::make_shared<rs::LimitingServer>(std::make_shared<rs::TcpServer>("127.0.0.1:0", loop), 1, true);
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
