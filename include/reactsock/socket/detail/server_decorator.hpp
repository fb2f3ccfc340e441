// reactsock/socket/detail/server_decorator.hpp — implementation detail: what
// every server that wraps another one shares (SecureServer, SocketServer,
// LimitingServer, and any later decorator). Not for direct use.
//
// It holds the inner server, forwards address/pause/resume/close to it,
// hands each inner `connection` to on_connection(), re-emits the inner
// `error` events unchanged, keeps itself alive while it emits (a listener
// may drop the last reference), and unhooks from the inner server when it
// is destroyed. A decorator overrides on_connection() and, where it must,
// address/pause/resume or on_close().
#pragma once

#include <reactsock/socket/server.hpp>

#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace reactsock::detail {

class ServerDecorator : public ServerInterface {
public:
    ~ServerDecorator() override;
    ServerDecorator(const ServerDecorator&) = delete;
    ServerDecorator& operator=(const ServerDecorator&) = delete;

    /// The inner server's address.
    [[nodiscard]] std::optional<std::string> address() const override { return inner_->address(); }
    void pause() override { inner_->pause(); }
    void resume() override { inner_->resume(); }
    /// Closes the inner server, then on_close(), then drops all listeners. Idempotent.
    void close() override;

    /// The wrapped server.
    [[nodiscard]] const std::shared_ptr<ServerInterface>& inner() const noexcept { return inner_; }

protected:
    /// `inner` must not be null: std::invalid_argument("<name> needs a server to wrap").
    /// The hooks are installed at once; the inner server only emits on later
    /// turns of the loop, once the derived class is constructed.
    ServerDecorator(std::shared_ptr<ServerInterface> inner, const char* name);

    /// A connection the inner server accepted. The default emits it as is.
    virtual void on_connection(const std::shared_ptr<Connection>& connection);
    /// Called once by close(), after the inner server closed and before the
    /// listeners are dropped.
    virtual void on_close() {}

    [[nodiscard]] bool is_closed() const noexcept { return closed_; }

    /// emit(), keeping this server alive during the listeners.
    template <class Tag, class... A>
    void emit_alive(const Tag& tag, A&&... args) {
        auto keep = weak_from_this().lock();
        emit(tag, std::forward<A>(args)...);
    }

private:
    std::shared_ptr<ServerInterface> inner_;
    ListenerHandle connection_listener_;
    ListenerHandle error_listener_;
    bool closed_ = false;
};

}  // namespace reactsock::detail
