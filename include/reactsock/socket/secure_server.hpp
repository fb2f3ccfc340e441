// reactsock/socket/secure_server.hpp — TLS on top of any server.
//
//     auto tcp = std::make_shared<rs::TcpServer>("127.0.0.1:8443");
//     auto server = std::make_shared<rs::SecureServer>(tcp, nullptr,
//         rs::TlsOptions{.local_cert = "cert.pem", .local_pk = "key.pem"});
//     server->on(rs::ev::connection, [](std::shared_ptr<rs::Connection> conn) {
//         conn->end("hello over " + rs::tls_info(*conn)->protocol + "\n");
//     });
//     server->on(rs::ev::error, [](const std::system_error& e) { std::cerr << e.what() << '\n'; });
//
// (SocketServer("tls://127.0.0.1:8443", {{"tls", {{"local_cert", "cert.pem"}}}}) builds the same.)
//
// For each connection of the wrapped server (TcpServer, UnixServer,
// FdServer, LimitingServer over those, ...) SecureServer runs the server
// side of the TLS handshake and then emits ev::connection with the same
// Connection, now secure: is_secure() is true, its addresses read
// "tls://...", tls_info() tells what was negotiated.
//
// ev::error (the server keeps serving everyone else; the failed connection
// is closed), a reactsock::Error:
//  * `Connection from tcp://127.0.0.1:50312 failed during TLS handshake: <reason>`
//    where <reason> is OpenSSL's ("error:0A00009C:SSL routines::http
//    request", code EPROTO), `Connection lost during TLS handshake
//    (ECONNRESET)` (the client went away), `TLS handshake timed out after 30
//    seconds (ETIMEDOUT)` (TlsOptions::handshake_timeout), or why the
//    certificate could not be loaded (`Unable to load local_cert "x.pem":
//    No such file or directory (ENOENT)`) — certificates are loaded when the
//    first connection needs them, and again for the next one after a failure;
//  * `Base server does not use internal Connection class exposing stream
//    resource`, a reactsock::Error(EINVAL), for a connection reactsock did
//    not make (the same error type as SecureConnector's and start_tls's);
//  * whatever the wrapped server reports (accept errors), unchanged.
//
// Constructor errors: std::invalid_argument for options that can never work
// (no local_cert at all, an unknown TLS version, an empty ALPN name). Lifetime: close() stops the
// wrapped server and aborts handshakes in progress (their sockets are closed
// at once); connections already emitted stay open. Threads: the loop's thread.
#pragma once

#include <reactsock/loop/loop.hpp>
#include <reactsock/socket/detail/server_decorator.hpp>
#include <reactsock/socket/server.hpp>
#include <reactsock/tls/options.hpp>

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <optional>
#include <string>

namespace reactsock {

class SecureServer final : public detail::ServerDecorator {
public:
    SecureServer(std::shared_ptr<ServerInterface> server, std::shared_ptr<Loop> loop = nullptr,
                 TlsOptions options = {});
    /// Options from JSON (TlsOptions::from_json).
    SecureServer(std::shared_ptr<ServerInterface> server, std::shared_ptr<Loop> loop,
                 const nlohmann::json& options);
    ~SecureServer() override;

    /// The wrapped server's address with "tls://" for "tcp://".
    [[nodiscard]] std::optional<std::string> address() const override;

    /// Handshakes in progress.
    [[nodiscard]] std::size_t pending_handshakes() const noexcept;

    // pause(), resume() are the wrapped server's; close() also aborts the
    // handshakes in progress; inner() is the wrapped server.

private:
    struct State;
    void on_connection(const std::shared_ptr<Connection>& connection) override;
    void on_close() override;

    std::shared_ptr<State> state_;
};

}  // namespace reactsock
