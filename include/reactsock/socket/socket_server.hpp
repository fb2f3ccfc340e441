// reactsock/socket/socket_server.hpp — one class for every kind of server.
//
//     rs::SocketServer tcp("127.0.0.1:8080");
//     rs::SocketServer unix_socket("unix:///tmp/app.sock");
//     rs::SocketServer inherited("fd://3");
//     rs::SocketServer tuned("0.0.0.0:8080", {{"tcp", {{"backlog", 1024}}}});
//
// Chooses TcpServer (tcp:// or no scheme), UnixServer (unix://), FdServer
// (fd://N, php://fd/N) or SecureServer over a TcpServer (tls://),
// and re-emits their ev::connection and ev::error. The context holds each
// kind's options, as ReactPHP's $context array: {"tcp": {...}, "unix": {...},
// "tls": {...}}; an unknown key throws std::invalid_argument.
//
// A bare port ("8080") is not accepted here, as in ReactPHP:
// std::invalid_argument `Invalid URI given (EINVAL)`. Other errors are those
// of the chosen server: for tls://, a certificate that cannot be loaded is
// reported per connection through ev::error (see secure_server.hpp).
#pragma once

#include <reactsock/loop/loop.hpp>
#include <reactsock/socket/detail/server_decorator.hpp>
#include <reactsock/socket/server.hpp>
#include <reactsock/socket/tcp_server.hpp>
#include <reactsock/socket/unix_server.hpp>
#include <reactsock/tls/options.hpp>

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace reactsock {

/// Options of SocketServer (also SocketServer::Context).
struct SocketServerContext {
    TcpServerOptions tcp{};

    UnixServerOptions unix_socket{};

    /// For tls:// (SecureServer); local_cert is required there.
    TlsOptions tls{};

    /// From {"tcp": {...}, "unix": {...}, "tls": {...}}.
    static SocketServerContext from_json(const nlohmann::json& json);
};

/// nlohmann::json ADL hook: `json.get<SocketServerContext>()`; same rules as SocketServerContext::from_json.
void from_json(const nlohmann::json& json, SocketServerContext& out);

class SocketServer final : public detail::ServerDecorator {
public:
    using Context = SocketServerContext;

    explicit SocketServer(std::string_view uri, const Context& context = {},
                          std::shared_ptr<Loop> loop = nullptr);
    SocketServer(std::string_view uri, const nlohmann::json& context,
                 std::shared_ptr<Loop> loop = nullptr);

    // address(), pause(), resume(), close() are the inner server's; inner()
    // is the server doing the work (TcpServer, UnixServer, FdServer, SecureServer).
};

}  // namespace reactsock
