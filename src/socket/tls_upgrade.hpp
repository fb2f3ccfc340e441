// Private: the one way a plaintext Connection becomes a TLS one, shared by
// SecureServer, SecureConnector and start_tls_client/start_tls_server. It
// checks that reactsock made the connection, creates the context, runs the
// handshake (SocketConnection::start_tls) and names the connection in every
// rejection, the same way for all three.
#pragma once

#include <reactsock/promise/promise.hpp>
#include <reactsock/socket/connection.hpp>

#include "tls/context.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace reactsock::detail {

struct TlsUpgrade {
    TlsRole role = TlsRole::client;
    // Called once, synchronously, when the connection can be upgraded. May
    // throw: std::invalid_argument is passed on as is; a std::system_error
    // closes the connection and becomes "<label> failed during TLS handshake: ...".
    std::function<std::shared_ptr<TlsContext>()> context;
    // Clients: SNI and the name to verify (checked: std::invalid_argument).
    std::optional<std::string> peer_name;
    // Clients: key of the session-resumption cache ("host:port").
    std::string session_key;
    // Bytes already read from the socket that belong to the TLS stream.
    std::string unread;
    // Seconds; 0: none.
    double timeout = 0;
    // How rejections name the connection, e.g. "Connection to tls://example.com:443".
    // Empty: named after the peer when a message is needed: "Connection to
    // tls://<peer>" (client) or "Connection from tcp://<peer>" (server).
    std::string label;
    // The text of the error for a connection reactsock did not make, e.g.
    // "Base server does not use internal Connection class exposing stream resource".
    std::string foreign_message;
};

// Resolves with the same connection, now secure. Rejects with
//  * Error(EINVAL, foreign_message) when reactsock did not make the
//    connection (it is closed): the one error type for that case;
//  * the bare Error(EBADF/EISCONN/ENOTCONN) when it is closed, already
//    secure or ending (it is left as it is);
//  * std::invalid_argument for a bad peer name or options (left open);
//  * Error(<code>, label + " failed during TLS handshake: <reason>") when the
//    handshake fails or times out (it is closed).
// cancel(): closes the connection and rejects with
// Error(ECONNABORTED, label + " cancelled during TLS handshake (ECONNABORTED)").
Promise<std::shared_ptr<Connection>> upgrade_to_tls(const std::shared_ptr<Connection>& connection,
                                                    TlsUpgrade upgrade);

}  // namespace reactsock::detail
