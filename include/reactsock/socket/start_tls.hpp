// reactsock/socket/start_tls.hpp — upgrade a live plaintext connection to TLS
// (STARTTLS: SMTP, IMAP, PostgreSQL, proxies), and read what TLS negotiated.
//
//     // server side, after answering "220 Ready to start TLS"
//     rs::start_tls_server(conn, options).then([](std::shared_ptr<rs::Connection> secure) { ... });
//     // client side, after reading that answer
//     rs::start_tls_client(conn, options, "mail.example.com").then(...);
//
// The promise resolves with the same Connection object, now secure
// (is_secure(), "tls://" addresses); listeners stay attached. Plaintext the
// connection still buffers for sending goes out first, in clear; what you
// write() during the handshake is sent encrypted after it. No data event is
// emitted during the handshake. Bytes that a data listener already received
// but that belong to the TLS stream (the peer sent its handshake right behind
// the command) are handed back as `unread`, and the TLS layer reads them first.
//
// Rejections:
//  * `Connection to tls://1.2.3.4:25 failed during TLS handshake: <reason>`
//    (client) / `Connection from tcp://1.2.3.4:5000 failed during TLS
//    handshake: <reason>` (server), reasons as for SecureConnector/SecureServer;
//    the connection is closed;
//  * reactsock::Error(EINVAL) `Base connection does not use internal
//    Connection class exposing stream resource` for a Connection reactsock
//    did not make (a mock, your own class); it is closed. Earlier versions
//    rejected with std::invalid_argument here; SecureServer and
//    SecureConnector report the same case with the same error type.
//  * `Connection is closed (EBADF)`, `... already secure ... (EISCONN)`,
//    `... ending ... (ENOTCONN)`; std::invalid_argument for options that can
//    never work: the connection is left as it is.
// Cancelling closes the connection: `... cancelled during TLS handshake (ECONNABORTED)`.
// Options: TlsOptions; handshake_timeout applies to both sides here.
#pragma once

#include <reactsock/promise/promise.hpp>
#include <reactsock/socket/connection.hpp>
#include <reactsock/tls/info.hpp>
#include <reactsock/tls/options.hpp>

#include <memory>
#include <optional>
#include <string_view>

namespace reactsock {

/// Client side: `peer_name` is sent as SNI and verified (unless options say otherwise).
///  * Resolves with: `connection` itself, now secure.
///  * Rejects with: the errors listed above.
///  * Settles: at once for EBADF/EISCONN/ENOTCONN, a foreign connection or
///    bad options; otherwise later, inside Loop::run(), never from inside
///    this call.
///  * cancel(): closes the connection and rejects with `Connection to
///    tls://<peer> cancelled during TLS handshake (ECONNABORTED)`.
///  * Threads: the connection's loop thread only.
Promise<std::shared_ptr<Connection>> start_tls_client(const std::shared_ptr<Connection>& connection,
                                                      const TlsOptions& options, std::string_view peer_name,
                                                      std::string_view unread = {});

/// Server side: options need local_cert. Resolves, rejects, settles and
/// cancels as start_tls_client(); messages name the connection `Connection
/// from tcp://<peer>`.
Promise<std::shared_ptr<Connection>> start_tls_server(const std::shared_ptr<Connection>& connection,
                                                      const TlsOptions& options, std::string_view unread = {});

/// What a secure connection negotiated; std::nullopt for a plaintext one.
/// The same as `connection.tls_info()` (kept as a free function).
[[nodiscard]] std::optional<TlsInfo> tls_info(const Connection& connection);

}  // namespace reactsock
