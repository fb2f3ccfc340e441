#include <reactsock/socket/fixed_uri_connector.hpp>

#include <reactsock/promise/await.hpp>
#include <reactsock/socket/tcp_connector.hpp>
#include <reactsock/socket/tcp_server.hpp>

#include <doctest/doctest.h>

#include <string>

namespace rs = reactsock;

TEST_CASE("FixedUriConnector always connects to its URI") {
    auto loop = std::make_shared<rs::Loop>();
    auto server = std::make_shared<rs::TcpServer>("127.0.0.1:0", loop);
    rs::FixedUriConnector connector(*server->address(), std::make_shared<rs::TcpConnector>(loop));
    auto conn = rs::await(connector.connect("ignored.example:1"), loop);
    CHECK(conn->remote_address() == server->address());
}
