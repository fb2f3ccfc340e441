#include <reactsock/socket/start_tls.hpp>

#include "socket/socket_connection.hpp"
#include "tls/context.hpp"

#include <reactsock/error.hpp>

#include <stdexcept>

namespace reactsock {

namespace {

using Result = std::shared_ptr<Connection>;

Promise<Result> upgrade(const std::shared_ptr<Connection>& connection, const TlsOptions& options,
                        detail::TlsRole role, std::optional<std::string> peer_name, std::string_view unread) {
    auto* socket = dynamic_cast<detail::SocketConnection*>(connection.get());
    if (socket == nullptr) {
        return reject<Result>(
            std::invalid_argument("Base connection does not use internal Connection class exposing stream resource"));
    }
    if (auto error = socket->tls_unavailable()) return reject<Result>(*error);
    if (peer_name) {
        try {
            detail::check_peer_name(*peer_name);
        } catch (const std::invalid_argument&) {
            return reject<Result>(std::current_exception());
        }
    }
    const std::string address = connection->remote_address().value_or("unknown");
    const std::string prefix =
        role == detail::TlsRole::client
            ? "Connection to " + (address.rfind("tcp://", 0) == 0 ? "tls" + address.substr(3) : address)
            : "Connection from " + address;
    std::shared_ptr<detail::TlsContext> context;
    try {
        context = detail::TlsContext::create(options, role);
    } catch (const std::invalid_argument&) {
        return reject<Result>(std::current_exception());
    } catch (const std::system_error& e) {
        connection->close();
        return reject<Result>(Error(e.code(), prefix + " failed during TLS handshake: " + e.what()));
    }
    auto handshake = socket->start_tls({.context = std::move(context),
                                        .peer_name = std::move(peer_name),
                                        .session_key = {},
                                        .unread = std::string(unread),
                                        .timeout = options.handshake_timeout});
    Deferred<Result> outer([handshake, prefix](Deferred<Result>& self) {
        self.reject(Error(ECONNABORTED, prefix + " cancelled during TLS handshake (ECONNABORTED)"));
        handshake.cancel();
    });
    handshake.then([outer](const Result& secure) mutable { outer.resolve(secure); },
                   [outer, prefix](std::exception_ptr error) mutable {
                       if (!outer.is_pending()) return;  // cancelled: settled by the canceller
                       try {
                           std::rethrow_exception(error);
                       } catch (const std::system_error& e) {
                           outer.reject(Error(e.code(), prefix + " failed during TLS handshake: " + e.what()));
                       } catch (...) {
                           outer.reject(error);
                       }
                   });
    return outer.promise();
}

}  // namespace

Promise<std::shared_ptr<Connection>> start_tls_client(const std::shared_ptr<Connection>& connection,
                                                      const TlsOptions& options, std::string_view peer_name,
                                                      std::string_view unread) {
    return upgrade(connection, options, detail::TlsRole::client,
                   options.peer_name ? options.peer_name : std::optional<std::string>(std::string(peer_name)), unread);
}

Promise<std::shared_ptr<Connection>> start_tls_server(const std::shared_ptr<Connection>& connection,
                                                      const TlsOptions& options, std::string_view unread) {
    return upgrade(connection, options, detail::TlsRole::server, std::nullopt, unread);
}

std::optional<TlsInfo> tls_info(const Connection& connection) {
    const auto* socket = dynamic_cast<const detail::SocketConnection*>(&connection);
    return socket != nullptr ? socket->tls_info() : std::nullopt;
}

}  // namespace reactsock
