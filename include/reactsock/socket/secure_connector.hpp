// reactsock/socket/secure_connector.hpp — TLS client connections through any connector.
//
//     auto tcp = std::make_shared<rs::TcpConnector>();
//     rs::SecureConnector tls(tcp);                        // verifies against the system CAs
//     tls.connect("tls://127.0.0.1:8443?hostname=localhost")
//         .then([](std::shared_ptr<rs::Connection> conn) { conn->write("hello\n"); })
//         .otherwise([](const std::system_error& e) { std::cerr << e.what() << '\n'; });
//
// connect("tls://host:port") (or "host:port") connects the wrapped connector
// to "tcp://host:port" (a ?hostname= query is kept), then runs the client
// handshake and resolves with the Connection, now secure (is_secure(),
// "tls://" addresses, tls_info()). The name sent as SNI and verified is
// TlsOptions::peer_name, else the ?hostname= parameter, else the host.
// Sessions are cached per name and port, so the next connect resumes
// (TLS 1.3 tickets, TLS 1.2 sessions).
//
// Rejections:
//  * std::invalid_argument `Given URI "udp://x:1" is invalid (EINVAL)` for a
//    scheme other than tls; the wrapped connector's std::invalid_argument as is;
//  * the wrapped connector's reactsock::Error with its leading
//    "Connection to <uri>" replaced: `Connection to tls://127.0.0.1:1 failed:
//    Connection refused (ECONNREFUSED)`, same code;
//  * `Connection to tls://host:443 failed during TLS handshake: <reason>`,
//    e.g. `error:0A000086:SSL routines::certificate verify failed: certificate
//    has expired` (EPROTO), `Connection lost during TLS handshake (ECONNRESET)`;
//  * `Connection to tls://host:443 failed: Unable to load local_cert ...` when
//    a configured certificate cannot be loaded (before connecting).
//
// Cancelling: before the TCP connection is up, the wrapped attempt is
// cancelled (its message, rewritten); during the handshake the socket is
// closed at once and the promise rejects with `Connection to tls://host:443
// cancelled during TLS handshake (ECONNABORTED)`. Settlement is never from
// inside connect(), except for an invalid URI. Threads: the loop's thread.
#pragma once

#include <reactsock/loop/loop.hpp>
#include <reactsock/socket/connector_interface.hpp>
#include <reactsock/tls/options.hpp>

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string_view>

namespace reactsock {

namespace detail {
class TlsContext;
}

class SecureConnector final : public ConnectorInterface {
public:
    /// Throws std::invalid_argument for options that can never work.
    explicit SecureConnector(std::shared_ptr<ConnectorInterface> connector, std::shared_ptr<Loop> loop = nullptr,
                             TlsOptions options = {});
    SecureConnector(std::shared_ptr<ConnectorInterface> connector, std::shared_ptr<Loop> loop,
                    const nlohmann::json& options);

    /// Connects the wrapped connector, then runs the client handshake.
    ///  * Resolves with: the Connection, now secure (tls_info() filled in).
    ///  * Rejects with: the errors listed at the top of this header;
    ///    reactsock::Error(EINVAL) `Base connector does not use internal
    ///    Connection class exposing stream resource` (and the connection is
    ///    closed) when the wrapped connector yields a Connection that
    ///    reactsock did not make.
    ///  * Settles: at once for an invalid URI or options; otherwise later,
    ///    inside Loop::run().
    ///  * cancel(): cancels the stage in progress (see the top): nothing stays open.
    ///  * Threads: the loop's thread only.
    [[nodiscard]] Promise<std::shared_ptr<Connection>> connect(std::string_view uri) override;

private:
    std::shared_ptr<ConnectorInterface> connector_;
    std::shared_ptr<Loop> loop_;
    TlsOptions options_;
    std::shared_ptr<detail::TlsContext> context_;  // loaded by the first connect
};

}  // namespace reactsock
