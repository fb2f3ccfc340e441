#include <reactsock/socket/secure_server.hpp>

#include "socket/socket_connection.hpp"
#include "tls/context.hpp"

#include <reactsock/error.hpp>

#include <map>

namespace reactsock {

struct SecureServer::State {
    SecureServer* owner = nullptr;  // cleared by the destructor
    std::shared_ptr<Loop> loop;
    TlsOptions options;
    std::shared_ptr<detail::TlsContext> context;
    std::map<std::uint64_t, Promise<std::shared_ptr<Connection>>> handshakes;
    std::uint64_t next_id = 1;
    bool closed = false;

    void abort_handshakes() {
        auto pending = std::move(handshakes);
        handshakes.clear();
        for (auto& [id, promise] : pending) promise.cancel();
    }
};

namespace {

Error prefixed(const std::exception_ptr& error, const std::string& prefix) {
    try {
        std::rethrow_exception(error);
    } catch (const std::system_error& e) {
        return Error(e.code(), prefix + e.what());
    } catch (...) {
        return Error(EPROTO, prefix + describe_exception(error));
    }
}

}  // namespace

SecureServer::SecureServer(std::shared_ptr<ServerInterface> server, std::shared_ptr<Loop> loop,
                           const nlohmann::json& options)
    : SecureServer(std::move(server), std::move(loop), TlsOptions::from_json(options)) {}

SecureServer::SecureServer(std::shared_ptr<ServerInterface> server, std::shared_ptr<Loop> loop, TlsOptions options)
    : server_(std::move(server)), state_(std::make_shared<State>()) {
    if (!server_) throw std::invalid_argument("SecureServer needs a server to wrap");
    detail::validate_tls_options(options);
    if (!options.local_cert) {
        throw std::invalid_argument("SecureServer needs a certificate: TLS option \"local_cert\" is missing");
    }
    state_->owner = this;
    state_->loop = loop ? std::move(loop) : Loop::get();
    state_->options = std::move(options);

    connection_listener_ = server_->on(ev::connection, [this](const std::shared_ptr<Connection>& connection) {
        auto keep = weak_from_this().lock();
        const std::shared_ptr<State> state = state_;
        auto* socket = dynamic_cast<detail::SocketConnection*>(connection.get());
        if (socket == nullptr) {
            connection->close();
            emit(ev::error, Error(EINVAL, "Base server does not use internal Connection class exposing stream resource"));
            return;
        }
        // The message names the TCP peer, looked up only when it is needed.
        const auto prefix_of = [](const detail::SocketConnection& c) {
            return "Connection from " + c.handshake_peer().value_or("unknown") + " failed during TLS handshake: ";
        };
        if (!state->context) {
            try {
                state->context = detail::TlsContext::create(state->options, detail::TlsRole::server);
            } catch (const std::exception&) {
                const std::string prefix = prefix_of(*socket);
                connection->close();
                emit(ev::error, prefixed(std::current_exception(), prefix));
                return;
            }
        }
        auto handshake = socket->start_tls({.context = state->context,
                                            .peer_name = std::nullopt,
                                            .session_key = {},
                                            .unread = {},
                                            .timeout = state->options.handshake_timeout});
        const std::uint64_t id = state->next_id++;
        state->handshakes.emplace(id, handshake);
        std::weak_ptr<State> weak = state;
        handshake.then(
            [weak, id](const std::shared_ptr<Connection>& secure) {
                auto s = weak.lock();
                if (!s || s->owner == nullptr || s->closed) {
                    secure->close();
                    return;
                }
                s->handshakes.erase(id);
                auto owner_keep = s->owner->weak_from_this().lock();
                s->owner->emit(ev::connection, secure);
            },
            [weak, id, prefix_of, socket = std::shared_ptr<detail::SocketConnection>(connection, socket)](
                std::exception_ptr error) {
                auto s = weak.lock();
                if (!s) return;
                const bool aborted = s->handshakes.erase(id) == 0;  // close() cancelled it
                if (aborted || s->owner == nullptr || s->closed) return;
                auto owner_keep = s->owner->weak_from_this().lock();
                s->owner->emit(ev::error, prefixed(error, prefix_of(*socket)));
            });
    });
    error_listener_ = server_->on(ev::error, [this](const std::system_error& error) {
        auto keep = weak_from_this().lock();
        emit(ev::error, error);
    });
}

SecureServer::~SecureServer() {
    server_->remove_listener(connection_listener_);
    server_->remove_listener(error_listener_);
    state_->owner = nullptr;
    state_->abort_handshakes();
}

std::optional<std::string> SecureServer::address() const {
    auto address = server_->address();
    if (address && address->rfind("tcp://", 0) == 0) address->replace(0, 3, "tls");
    return address;
}

void SecureServer::pause() { server_->pause(); }

void SecureServer::resume() { server_->resume(); }

void SecureServer::close() {
    if (state_->closed) return;
    state_->closed = true;
    server_->close();
    state_->abort_handshakes();
    remove_all_listeners();
}

std::size_t SecureServer::pending_handshakes() const noexcept { return state_->handshakes.size(); }

}  // namespace reactsock
