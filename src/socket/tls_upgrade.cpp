#include "socket/tls_upgrade.hpp"

#include "socket/connector_util.hpp"
#include "socket/socket_connection.hpp"

#include <reactsock/error.hpp>

#include <stdexcept>
#include <utility>

namespace reactsock::detail {

namespace {

using Result = std::shared_ptr<Connection>;

// How the messages of one upgrade name the connection; built only when a
// message is (a successful handshake costs no address lookup).
std::string label_of(const std::weak_ptr<SocketConnection>& weak, TlsRole role, const std::string& label) {
    if (!label.empty()) return label;
    const auto socket = weak.lock();
    std::string peer = (socket ? socket->handshake_peer() : std::nullopt).value_or("unknown");
    if (role == TlsRole::server) return "Connection from " + peer;
    if (peer.rfind("tcp://", 0) == 0) peer.replace(0, 3, "tls");
    return "Connection to " + peer;
}

std::exception_ptr with_label(const std::exception_ptr& error, const std::string& label) {
    return reword_failure(
        error, [&](std::string_view what) { return label + " failed during TLS handshake: " + std::string(what); },
        EPROTO);
}

}  // namespace

Promise<Result> upgrade_to_tls(const std::shared_ptr<Connection>& connection, TlsUpgrade upgrade) {
    auto* raw = dynamic_cast<SocketConnection*>(connection.get());
    if (raw == nullptr) {
        connection->close();
        return reject<Result>(Error(EINVAL, upgrade.foreign_message));
    }
    std::shared_ptr<SocketConnection> socket(connection, raw);
    if (auto error = socket->tls_unavailable()) return reject<Result>(*error);
    if (upgrade.peer_name) {
        try {
            check_peer_name(*upgrade.peer_name);
        } catch (const std::invalid_argument&) {
            return reject<Result>(std::current_exception());
        }
    }
    std::shared_ptr<TlsContext> context;
    try {
        context = upgrade.context();
    } catch (const std::invalid_argument&) {
        return reject<Result>(std::current_exception());
    } catch (const std::exception&) {
        auto error = with_label(std::current_exception(), label_of(socket, upgrade.role, upgrade.label));
        socket->close();
        return reject<Result>(error);
    }
    auto handshake = socket->start_tls({.context = std::move(context),
                                        .peer_name = std::move(upgrade.peer_name),
                                        .session_key = std::move(upgrade.session_key),
                                        .unread = std::move(upgrade.unread),
                                        .timeout = upgrade.timeout});
    // Weak: the connection holds the handshake, which holds these handlers.
    const std::weak_ptr<SocketConnection> weak = socket;
    const TlsRole role = upgrade.role;
    Deferred<Result> outer([handshake, weak, role, label = upgrade.label](Deferred<Result>& self) {
        self.reject(Error(ECONNABORTED,
                          label_of(weak, role, label) + " cancelled during TLS handshake (ECONNABORTED)"));
        handshake.cancel();  // closes the connection
    });
    handshake.then([outer](const Result& secure) mutable { outer.resolve(secure); },
                   [outer, weak, role, label = std::move(upgrade.label)](std::exception_ptr error) mutable {
                       if (!outer.is_pending()) return;  // cancelled: settled by the canceller
                       outer.reject(with_label(error, label_of(weak, role, label)));
                   });
    return outer.promise();
}

}  // namespace reactsock::detail
