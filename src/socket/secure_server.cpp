#include <reactsock/socket/secure_server.hpp>

#include "socket/tls_upgrade.hpp"
#include "tls/context.hpp"

#include <reactsock/error.hpp>

#include <map>

namespace reactsock {

struct SecureServer::State {
    SecureServer* owner = nullptr;  // cleared by the destructor
    TlsOptions options;
    std::shared_ptr<detail::TlsContext> context;  // created for the first connection
    std::map<std::uint64_t, Promise<std::shared_ptr<Connection>>> handshakes;
    std::uint64_t next_id = 1;

    void abort_handshakes() {
        auto pending = std::move(handshakes);
        handshakes.clear();
        for (auto& [id, promise] : pending) promise.cancel();
    }
    [[nodiscard]] bool serving() const noexcept { return owner != nullptr && !owner->is_closed(); }
};

SecureServer::SecureServer(std::shared_ptr<ServerInterface> server, std::shared_ptr<Loop> loop,
                           const nlohmann::json& options)
    : SecureServer(std::move(server), std::move(loop), TlsOptions::from_json(options)) {}

SecureServer::SecureServer(std::shared_ptr<ServerInterface> server, std::shared_ptr<Loop> /*loop*/,
                           TlsOptions options)
    : ServerDecorator(std::move(server), "SecureServer"), state_(std::make_shared<State>()) {
    detail::validate_tls_options(options);
    if (!options.local_cert) {
        throw std::invalid_argument("SecureServer needs a certificate: TLS option \"local_cert\" is missing");
    }
    state_->owner = this;
    state_->options = std::move(options);
}

SecureServer::~SecureServer() {
    state_->owner = nullptr;
    state_->abort_handshakes();
}

void SecureServer::on_connection(const std::shared_ptr<Connection>& connection) {
    const std::shared_ptr<State> state = state_;
    auto handshake = detail::upgrade_to_tls(
        connection,
        {.role = detail::TlsRole::server,
         // Created for the first connection, and again for the next one after a failure.
         .context =
             [state] {
                 if (!state->context) state->context = detail::TlsContext::create(state->options, detail::TlsRole::server);
                 return state->context;
             },
         .peer_name = std::nullopt,
         .session_key = {},
         .unread = {},
         .timeout = state->options.handshake_timeout,
         .label = {},
         .foreign_message = "Base server does not use internal Connection class exposing stream resource"});
    const std::uint64_t id = state->next_id++;
    state->handshakes.emplace(id, handshake);
    std::weak_ptr<State> weak = state;
    handshake.then(
        [weak, id](const std::shared_ptr<Connection>& secure) {
            auto s = weak.lock();
            if (!s || !s->serving()) {
                secure->close();
                return;
            }
            s->handshakes.erase(id);
            s->owner->emit_alive(ev::connection, secure);
        },
        [weak, id](std::exception_ptr error) {
            auto s = weak.lock();
            if (!s) return;
            const bool aborted = s->handshakes.erase(id) == 0;  // close() cancelled it
            if (aborted || !s->serving()) return;
            try {
                std::rethrow_exception(error);
            } catch (const std::system_error& e) {
                s->owner->emit_alive(ev::error, e);
            } catch (...) {
                s->owner->emit_alive(ev::error, Error(EINVAL, describe_exception(error)));
            }
        });
}

std::optional<std::string> SecureServer::address() const {
    auto address = ServerDecorator::address();
    if (address && address->rfind("tcp://", 0) == 0) address->replace(0, 3, "tls");
    return address;
}

void SecureServer::on_close() { state_->abort_handshakes(); }

std::size_t SecureServer::pending_handshakes() const noexcept { return state_->handshakes.size(); }

}  // namespace reactsock
