// reactsock/socket/tcp_server.hpp — a TCP/IP server.
//
//     auto server = std::make_shared<rs::TcpServer>("127.0.0.1:8080");
//     server->on(rs::ev::connection, [](std::shared_ptr<rs::Connection> conn) {
//         conn->end("hello\n");
//     });
//     std::cout << "Listening on " << server->address().value_or("?") << '\n';
//
// URIs: "8080" (binds 127.0.0.1), "0" (a random port; address() says
// which), "192.168.0.1:8080", "[::1]:8080", "0.0.0.0:8080", with or without
// "tcp://". The host must be an IP literal.
//
// Errors, thrown by the constructor:
//  * std::invalid_argument — `Invalid URI "tcp://x" given (EINVAL)` for an
//    unparsable URI, a missing port or another scheme;
//    `Given URI "tcp://localhost:80" does not contain a valid host IP (EINVAL)`.
//  * reactsock::Error (a std::system_error) — the listen failed, e.g.
//    `Failed to listen on "tcp://127.0.0.1:8080": Address already in use (EADDRINUSE)`.
//
// Events: ev::connection (a new Connection), ev::error (accept failures such
// as EMFILE: reported once per burst; the server backs off and keeps
// listening).
//
// Lifetime: the server listens from construction until close() or
// destruction — keep the shared_ptr. While it listens (not paused) the
// loop keeps running. Threads: the loop's thread only.
#pragma once

#include <reactsock/loop/loop.hpp>
#include <reactsock/socket/detail/listening_server.hpp>

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace reactsock {

/// Options of TcpServer (also TcpServer::Options).
struct TcpServerOptions {
    /// listen() backlog (ReactPHP's default).
    int backlog = 511;
    /// SO_REUSEPORT: several servers (one per thread) on one port.
    bool so_reuseport = false;
    /// SO_REUSEADDR: rebind at once after a restart (TIME_WAIT).
    bool so_reuseaddr = true;
    /// IPV6_V6ONLY for IPv6 addresses; unset leaves the system default.
    std::optional<bool> ipv6_v6only{};

    /// TCP_NODELAY on every accepted connection.
    bool tcp_nodelay = false;

    /// From {"backlog": 1024, "so_reuseport": true, ...}; an unknown key
    /// or a wrong type throws std::invalid_argument naming it.
    static TcpServerOptions from_json(const nlohmann::json& json);
};

/// nlohmann::json ADL hook: `json.get<TcpServerOptions>()`; same rules as TcpServerOptions::from_json.
void from_json(const nlohmann::json& json, TcpServerOptions& out);

class TcpServer final : public detail::ListeningServer {
public:
    using Options = TcpServerOptions;

    explicit TcpServer(std::string_view uri, std::shared_ptr<Loop> loop = nullptr,
                       const Options& options = {});
    TcpServer(std::string_view uri, std::shared_ptr<Loop> loop, const nlohmann::json& options);
    /// A port on 127.0.0.1 (0: a random one).
    explicit TcpServer(int port, std::shared_ptr<Loop> loop = nullptr, const Options& options = {});
};

}  // namespace reactsock
