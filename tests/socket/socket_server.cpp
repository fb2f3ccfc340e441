#include <reactsock/socket/socket_server.hpp>

#include <reactsock/promise/await.hpp>
#include <reactsock/socket/tcp_connector.hpp>
#include <reactsock/socket/unix_connector.hpp>

#include "support/net.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace rs = reactsock;

TEST_CASE("SocketServer picks the server by scheme and re-emits its events") {
    auto loop = std::make_shared<rs::Loop>();
    auto tcp = std::make_shared<rs::SocketServer>("127.0.0.1:0", rs::SocketServer::Context{}, loop);
    CHECK(tcp->address()->rfind("tcp://127.0.0.1:", 0) == 0);
    CHECK(std::dynamic_pointer_cast<rs::TcpServer>(tcp->inner()) != nullptr);
    int accepted = 0;
    tcp->on(rs::ev::connection, [&](const std::shared_ptr<rs::Connection>& c) {
        ++accepted;
        c->close();
    });
    rs::TcpConnector tcp_connector(loop);
    rs::await(tcp_connector.connect(*tcp->address()), loop);
    testnet::run_until(loop, [&] { return accepted == 1; });

    const std::string path = testnet::temp_socket_path("facade");
    auto unix_server = std::make_shared<rs::SocketServer>("unix://" + path, nlohmann::json{{"unix", {{"backlog", 4}}}}, loop);
    CHECK(unix_server->address() == "unix://" + path);
    unix_server->on(rs::ev::connection, [&](const std::shared_ptr<rs::Connection>& c) {
        ++accepted;
        c->close();
    });
    rs::UnixConnector unix_connector(loop);
    rs::await(unix_connector.connect("unix://" + path), loop);
    testnet::run_until(loop, [&] { return accepted == 2; });
    unix_server->close();
    tcp->close();
}

TEST_CASE("SocketServer on an inherited descriptor") {
    auto loop = std::make_shared<rs::Loop>();
    std::uint16_t port = 0;
    const int listening = testnet::raw_listen(port);
    rs::SocketServer server("fd://" + std::to_string(listening), rs::SocketServer::Context{}, loop);
    CHECK(server.address() == "tcp://127.0.0.1:" + std::to_string(port));
    ::close(listening);
}

TEST_CASE("SocketServer rejects a bare port, unknown context keys, and tls:// without a certificate") {
    auto loop = std::make_shared<rs::Loop>();
    CHECK_THROWS_WITH_AS(rs::SocketServer("8080", rs::SocketServer::Context{}, loop), "Invalid URI given (EINVAL)",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(rs::SocketServer("tcp://8080", rs::SocketServer::Context{}, loop),
                         "Invalid URI given (EINVAL)", std::invalid_argument);
    CHECK_THROWS_WITH_AS(rs::SocketServer("127.0.0.1:0", nlohmann::json{{"tpc", nlohmann::json::object()}}, loop),
                         "Unknown SocketServer context option \"tpc\"", std::invalid_argument);
    CHECK_THROWS_WITH_AS(rs::SocketServer("127.0.0.1:0", nlohmann::json{{"tcp", {{"nope", 1}}}}, loop),
                         "Unknown TcpServer option \"nope\"", std::invalid_argument);
    // A TLS server cannot work without a certificate (a bad path, by contrast,
    // is reported per connection when the first one needs it, as in ReactPHP).
    CHECK_THROWS_AS(rs::SocketServer("tls://127.0.0.1:0", rs::SocketServer::Context{}, loop), std::invalid_argument);
    CHECK_THROWS_AS(rs::SocketServer("udp://127.0.0.1:0", rs::SocketServer::Context{}, loop), std::invalid_argument);
}
