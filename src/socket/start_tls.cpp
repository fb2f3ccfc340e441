#include <reactsock/socket/start_tls.hpp>

#include "socket/tls_upgrade.hpp"

namespace reactsock {

namespace {

detail::TlsUpgrade upgrade_of(const TlsOptions& options, detail::TlsRole role, std::string_view unread) {
    return {.role = role,
            .context = [&options, role] { return detail::TlsContext::create(options, role); },
            .peer_name = std::nullopt,
            .session_key = {},
            .unread = std::string(unread),
            .timeout = options.handshake_timeout,
            .label = {},
            .foreign_message = "Base connection does not use internal Connection class exposing stream resource"};
}

}  // namespace

Promise<std::shared_ptr<Connection>> start_tls_client(const std::shared_ptr<Connection>& connection,
                                                      const TlsOptions& options, std::string_view peer_name,
                                                      std::string_view unread) {
    auto upgrade = upgrade_of(options, detail::TlsRole::client, unread);
    upgrade.peer_name = options.peer_name.value_or(std::string(peer_name));
    return detail::upgrade_to_tls(connection, std::move(upgrade));
}

Promise<std::shared_ptr<Connection>> start_tls_server(const std::shared_ptr<Connection>& connection,
                                                      const TlsOptions& options, std::string_view unread) {
    return detail::upgrade_to_tls(connection, upgrade_of(options, detail::TlsRole::server, unread));
}

std::optional<TlsInfo> tls_info(const Connection& connection) { return connection.tls_info(); }

}  // namespace reactsock
