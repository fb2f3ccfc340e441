#include <reactsock/socket/fd_server.hpp>

#include <reactsock/promise/await.hpp>
#include <reactsock/socket/tcp_connector.hpp>

#include "support/net.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>

#include <string>

namespace rs = reactsock;

TEST_CASE("FdServer accepts on an inherited listening socket") {
    auto loop = std::make_shared<rs::Loop>();
    std::uint16_t port = 0;
    const int listening = testnet::raw_listen(port);
    auto server = std::make_shared<rs::FdServer>("fd://" + std::to_string(listening), loop);
    CHECK(server->address() == "tcp://127.0.0.1:" + std::to_string(port));
    bool accepted = false;
    server->on(rs::ev::connection, [&](const std::shared_ptr<rs::Connection>& c) {
        accepted = true;
        c->close();
    });
    rs::TcpConnector connector(loop);
    auto conn = rs::await(connector.connect("127.0.0.1:" + std::to_string(port)), loop);
    testnet::run_until(loop, [&] { return accepted; });
    server->close();
    // The descriptor was duplicated: the original is still ours and open.
    CHECK(::fcntl(listening, F_GETFD) != -1);
    ::close(listening);
}

TEST_CASE("FdServer rejects what is not a listening socket") {
    auto loop = std::make_shared<rs::Loop>();
    CHECK_THROWS_WITH_AS(rs::FdServer("fd://x", loop), "Invalid FD number given (EINVAL)", std::invalid_argument);
    CHECK_THROWS_WITH_AS(rs::FdServer(-1, loop), "Invalid FD number given (EINVAL)", std::invalid_argument);

    const int closed = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ::close(closed);
    CHECK_THROWS_WITH(rs::FdServer(closed, loop),
                      ("Failed to listen on FD " + std::to_string(closed) + ": Bad file descriptor (EBADF)").c_str());

    const int file = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    CHECK_THROWS_WITH(rs::FdServer(file, loop),
                      ("Failed to listen on FD " + std::to_string(file) + ": Socket operation on non-socket (ENOTSOCK)").c_str());
    ::close(file);

    std::uint16_t port = 0;
    const int listening = testnet::raw_listen(port);
    const int connected = testnet::raw_connect(port);
    CHECK_THROWS_WITH(rs::FdServer(connected, loop),
                      ("Failed to listen on FD " + std::to_string(connected) +
                       ": Transport endpoint is already connected (EISCONN)").c_str());
    ::close(connected);
    ::close(listening);
}
