// reactsock/socket/limiting_server.hpp — caps the number of open connections.
//
//     auto server = std::make_shared<rs::LimitingServer>(
//         std::make_shared<rs::TcpServer>("127.0.0.1:8080"), 100);
//     for (const auto& conn : server->connections()) conn->write("broadcast\n");
//
// Wraps any server and tracks its open connections (a connection leaves the
// list when it closes). With a limit and pause_on_limit = false, a connection
// arriving while the limit is reached is closed at once and ev::error reports
// reactsock::Error(ECONNABORTED, "Connection closed because server reached
// connection limit"). With pause_on_limit = true the wrapped server is paused
// when the limit is reached (new clients wait in the kernel's backlog) and
// resumed once a connection closes; pause()/resume() by the user are kept
// apart from that, so the server accepts only when neither paused it.
// ev::error of the wrapped server is forwarded.
#pragma once

#include <reactsock/socket/server.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace reactsock {

class LimitingServer final : public ServerInterface,
                             public std::enable_shared_from_this<LimitingServer> {
public:
    /// `limit` std::nullopt: no limit (only tracking; pause_on_limit ignored).
    LimitingServer(std::shared_ptr<ServerInterface> server, std::optional<std::size_t> limit,
                   bool pause_on_limit = false);
    ~LimitingServer() override;
    LimitingServer(const LimitingServer&) = delete;
    LimitingServer& operator=(const LimitingServer&) = delete;

    /// The open connections, oldest first.
    [[nodiscard]] std::vector<std::shared_ptr<Connection>> connections() const;

    [[nodiscard]] std::optional<std::string> address() const override;
    void pause() override;
    void resume() override;
    void close() override;

private:
    struct State;
    void on_connection(const std::shared_ptr<Connection>& connection);
    void on_closed(const Connection* connection);

    std::shared_ptr<ServerInterface> server_;
    std::shared_ptr<State> state_;
};

}  // namespace reactsock
