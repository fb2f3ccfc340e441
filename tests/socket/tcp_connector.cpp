#include <reactsock/socket/tcp_connector.hpp>

#include <reactsock/promise/await.hpp>
#include <reactsock/socket/tcp_server.hpp>

#include "support/net.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <string>
#include <vector>

namespace rs = reactsock;

using testnet::rejection_of;

TEST_CASE("TcpConnector connects to IPv4 with and without scheme") {
    auto loop = std::make_shared<rs::Loop>();
    auto server = std::make_shared<rs::TcpServer>("127.0.0.1:0", loop);
    rs::TcpConnector connector(loop);
    const std::string address = *server->address();
    auto a = rs::await(connector.connect(address), loop);
    auto b = rs::await(connector.connect(address.substr(6)), loop);
    CHECK(a->remote_address() == address);
    CHECK(b->remote_address() == address);
    // ?hostname= is accepted (it is for TLS peer names).
    auto c = rs::await(connector.connect(address + "?hostname=example.test"), loop);
    CHECK(c->remote_address() == address);
}

TEST_CASE("TcpConnector: refused connection message and code") {
    auto loop = std::make_shared<rs::Loop>();
    rs::TcpConnector connector(loop);
    const std::string uri = "tcp://127.0.0.1:" + std::to_string(testnet::closed_port());
    try {
        rs::await(connector.connect(uri), loop);
        FAIL("must be refused");
    } catch (const std::system_error& e) {
        CHECK(e.code() == std::errc::connection_refused);
        CHECK(std::string(e.what()) == "Connection to " + uri + " failed: Connection refused (ECONNREFUSED)");
    }
}

TEST_CASE("TcpConnector rejects invalid URIs without throwing") {
    auto loop = std::make_shared<rs::Loop>();
    rs::TcpConnector connector(loop);
    CHECK(rejection_of(connector.connect("127.0.0.1"), loop) == "Given URI \"tcp://127.0.0.1\" is invalid (EINVAL)");
    CHECK(rejection_of(connector.connect("127.0.0.1:123456"), loop) ==
          "Given URI \"tcp://127.0.0.1:123456\" is invalid (EINVAL)");
    CHECK(rejection_of(connector.connect("udp://127.0.0.1:80"), loop) ==
          "Given URI \"udp://127.0.0.1:80\" is invalid (EINVAL)");
    CHECK(rejection_of(connector.connect("example.test:80"), loop) ==
          "Given URI \"tcp://example.test:80\" does not contain a valid host IP (EINVAL)");
    bool is_invalid_argument = false;
    connector.connect("nope").otherwise([&](const std::invalid_argument&) {
        is_invalid_argument = true;
        return std::shared_ptr<rs::Connection>();
    });
    CHECK(is_invalid_argument);
}

TEST_CASE("cancelling a pending connect closes its socket at once") {
    auto loop = std::make_shared<rs::Loop>();
    testnet::BlackHole hole;  // the connect stays pending
    const std::uint16_t port = hole.port;
    rs::TcpConnector connector(loop);
    const int before = testnet::open_fds();
    const std::string uri = "tcp://127.0.0.1:" + std::to_string(port);
    auto pending = connector.connect(uri);
    CHECK(pending.is_pending());
    CHECK(testnet::open_fds() == before + 1);
    pending.cancel();
    CHECK(testnet::open_fds() == before);
    try {
        rs::await(pending, loop);
        FAIL("cancelled connect must reject");
    } catch (const std::system_error& e) {
        CHECK(e.code() == std::errc::connection_aborted);
        CHECK(std::string(e.what()) == "Connection to " + uri + " cancelled during TCP/IP handshake (ECONNABORTED)");
    }
    loop->run();  // nothing pending is left on the loop
    CHECK(testnet::open_fds() == before);
}

TEST_CASE("TcpConnector bindto and tcp_nodelay options, also from JSON") {
    auto loop = std::make_shared<rs::Loop>();
    auto server = std::make_shared<rs::TcpServer>("127.0.0.1:0", loop);
    const auto local_port = testnet::closed_port();
    rs::TcpConnector connector(loop, nlohmann::json{{"bindto", "127.0.0.1:" + std::to_string(local_port)},
                                                    {"tcp_nodelay", true}});
    auto conn = rs::await(connector.connect(*server->address()), loop);
    CHECK(conn->local_address() == "tcp://127.0.0.1:" + std::to_string(local_port));
    CHECK_THROWS_WITH_AS(rs::TcpConnector(loop, nlohmann::json{{"bind_to", "x"}}), "Unknown TcpConnector option \"bind_to\"",
                         std::invalid_argument);
    CHECK_THROWS_AS(rs::TcpConnector(loop, rs::TcpConnector::Options{.bindto = "not an ip"}), std::invalid_argument);
}

TEST_CASE("TcpConnector to ::1") {
    if (!testnet::has_ipv6_loopback()) {
        MESSAGE("skipped: no IPv6 loopback on this machine");
        return;
    }
    auto loop = std::make_shared<rs::Loop>();
    auto server = std::make_shared<rs::TcpServer>("[::1]:0", loop);
    rs::TcpConnector connector(loop);
    auto conn = rs::await(connector.connect(*server->address()), loop);
    CHECK(conn->remote_address() == server->address());
    const std::string refused = "tcp://[::1]:" + std::to_string(testnet::closed_port());
    CHECK(rejection_of(connector.connect(refused), loop) ==
          "Connection to " + refused + " failed: Connection refused (ECONNREFUSED)");
}
