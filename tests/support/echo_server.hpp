// A TcpServer on 127.0.0.1 that echoes every connection back to itself with
// pipe() (so with backpressure) and counts the connections it accepted.
#pragma once

#include <reactsock/socket/connection.hpp>
#include <reactsock/socket/tcp_server.hpp>

#include "support/net.hpp"

#include <cstdint>
#include <memory>

namespace testnet {

struct EchoServer {
    explicit EchoServer(const std::shared_ptr<reactsock::Loop>& loop, const reactsock::TcpServer::Options& options = {})
        : server(std::make_shared<reactsock::TcpServer>("127.0.0.1:0", loop, options)) {
        server->on(reactsock::ev::connection, [this](const std::shared_ptr<reactsock::Connection>& conn) {
            ++accepted;
            conn->pipe(conn);
        });
    }
    [[nodiscard]] std::uint16_t port() const { return port_of(*server->address()); }
    std::shared_ptr<reactsock::TcpServer> server;
    int accepted = 0;
};

}  // namespace testnet
