#include <reactsock/socket/timeout_connector.hpp>

#include <reactsock/socket/tcp_connector.hpp>
#include <reactsock/socket/unix_connector.hpp>

#include "support/net.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <stdexcept>
#include <string>

namespace rs = reactsock;

using testnet::BlackHole;
using testnet::rejection_of;

TEST_CASE("TimeoutConnector: timed out, with ReactPHP's message, and the attempt's socket closed") {
    auto loop = std::make_shared<rs::Loop>();
    BlackHole hole;
    rs::TimeoutConnector connector(std::make_shared<rs::TcpConnector>(loop), 0.05, loop);
    const int fds_before = testnet::open_fds();
    const std::string uri = "127.0.0.1:" + std::to_string(hole.port);
    int code = 0;
    CHECK(rejection_of(connector.connect(uri), loop, &code) == "Connection to " + uri + " timed out after 0.05 seconds (ETIMEDOUT)");
    CHECK(code == ETIMEDOUT);
    CHECK(testnet::open_fds() == fds_before);
    CHECK(loop->timer_count() == 0);
}

TEST_CASE("TimeoutConnector: an attempt settled at once needs no timer; cancel cancels the attempt") {
    auto loop = std::make_shared<rs::Loop>();
    rs::TimeoutConnector unix_connector(std::make_shared<rs::UnixConnector>(loop), 10, loop);
    auto failed = unix_connector.connect("unix://" + testnet::temp_socket_path("none"));
    CHECK(failed.is_rejected());
    CHECK(loop->timer_count() == 0);
    failed.otherwise([](std::exception_ptr) { return std::shared_ptr<rs::Connection>(); });

    BlackHole hole;
    rs::TimeoutConnector connector(std::make_shared<rs::TcpConnector>(loop), 10, loop);
    const std::string uri = "tcp://127.0.0.1:" + std::to_string(hole.port);
    auto pending = connector.connect(uri);
    CHECK(loop->timer_count() == 1);
    pending.cancel();
    CHECK(rejection_of(pending, loop) == "Connection to " + uri + " cancelled during TCP/IP handshake (ECONNABORTED)");
    CHECK(loop->timer_count() == 0);
    CHECK_THROWS_AS(rs::TimeoutConnector(nullptr, 1), std::invalid_argument);
    CHECK_THROWS_AS(rs::TimeoutConnector(std::make_shared<rs::TcpConnector>(loop), -1, loop), std::invalid_argument);
}
