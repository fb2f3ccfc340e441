#include <reactsock/socket/fixed_uri_connector.hpp>

#include <reactsock/promise/await.hpp>
#include <reactsock/socket/tcp_connector.hpp>
#include <reactsock/socket/tcp_server.hpp>
#include <reactsock/socket/unix_connector.hpp>

#include "support/net.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <string>

namespace rs = reactsock;

TEST_CASE("FixedUriConnector always connects to its URI") {
    auto loop = std::make_shared<rs::Loop>();
    auto server = std::make_shared<rs::TcpServer>("127.0.0.1:0", loop);
    rs::FixedUriConnector connector(*server->address(), std::make_shared<rs::TcpConnector>(loop));
    auto conn = rs::await(connector.connect("ignored.example:1"), loop);
    CHECK(conn->remote_address() == server->address());
}

TEST_CASE("FixedUriConnector: rejections and cancellation are the wrapped connector's") {
    auto loop = std::make_shared<rs::Loop>();
    const std::string missing = "unix://" + testnet::temp_socket_path("fixed");
    rs::FixedUriConnector unix_connector(missing, std::make_shared<rs::UnixConnector>(loop));
    int code = 0;
    CHECK(testnet::rejection_of(unix_connector.connect("localhost:80"), loop, &code) ==
          "Unable to connect to unix domain socket \"" + missing + "\": No such file or directory (ENOENT)");
    CHECK(code == ENOENT);

    testnet::BlackHole hole;
    const std::string fixed = "tcp://127.0.0.1:" + std::to_string(hole.port);
    rs::FixedUriConnector tcp_connector(fixed, std::make_shared<rs::TcpConnector>(loop));
    const int fds_before = testnet::open_fds();
    auto pending = tcp_connector.connect("ignored.example:1");
    CHECK(pending.is_pending());
    pending.cancel();
    CHECK(testnet::rejection_of(pending, loop, &code) ==
          "Connection to " + fixed + " cancelled during TCP/IP handshake (ECONNABORTED)");
    CHECK(code == ECONNABORTED);
    CHECK(testnet::open_fds() == fds_before);
}
