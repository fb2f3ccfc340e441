// reactsock/socket/server.hpp — what every server offers.
//
//     auto server = std::make_shared<rs::TcpServer>("127.0.0.1:0");
//     server->on(rs::ev::connection, [](std::shared_ptr<rs::Connection> conn) { ... });
//     server->on(rs::ev::error, [](const std::system_error& e) { log(e.what()); });
//
// ev::connection hands over a new Connection; ev::error reports a problem
// that did not stop the server (it keeps listening): an accept failure, a
// TLS handshake that failed, a connection over a limit.
#pragma once

#include <reactsock/event/events.hpp>
#include <reactsock/socket/connection.hpp>

#include <memory>
#include <optional>
#include <string>

namespace reactsock {

namespace ev {
/// A server accepted a connection.
struct connection_t : Event<const std::shared_ptr<Connection>&> {};
inline constexpr connection_t connection{};
}  // namespace ev

/// Servers are held by std::shared_ptr; weak_from_this() lets one keep
/// itself alive while it emits (a listener may drop the last reference).
/// A server of your own inherits this base too: do not add a second
/// std::enable_shared_from_this.
class ServerInterface : public virtual EventEmitter, public std::enable_shared_from_this<ServerInterface> {
public:
    /// The address it listens on, with the real port ("tcp://127.0.0.1:41234",
    /// "unix:///tmp/s.sock", "tls://..."), or std::nullopt once closed.
    [[nodiscard]] virtual std::optional<std::string> address() const = 0;

    /// Stops accepting (the kernel's backlog keeps queueing). Idempotent;
    /// a no-op once closed.
    virtual void pause() = 0;
    /// Accepts again. Idempotent; a no-op once closed.
    virtual void resume() = 0;
    /// Stops listening, releases the socket, drops all listeners. Idempotent.
    /// Connections already accepted stay open.
    virtual void close() = 0;
};

}  // namespace reactsock
