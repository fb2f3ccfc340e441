#include <reactsock/socket/limiting_server.hpp>

#include <reactsock/error.hpp>

#include <algorithm>
#include <cerrno>

namespace reactsock {

struct LimitingServer::State {
    std::optional<std::size_t> limit;
    bool pause_on_limit = false;
    bool manually_paused = false;
    bool auto_paused = false;
    bool closed = false;
    // Oldest first; with the close listener that removes each one.
    std::vector<std::pair<std::shared_ptr<Connection>, ListenerHandle>> connections;
    ListenerHandle connection_listener;
    ListenerHandle error_listener;
};

LimitingServer::LimitingServer(std::shared_ptr<ServerInterface> server, std::optional<std::size_t> limit,
                               bool pause_on_limit)
    : server_(std::move(server)), state_(std::make_shared<State>()) {
    if (!server_) throw std::invalid_argument("LimitingServer needs a server");
    if (limit && *limit == 0) throw std::invalid_argument("LimitingServer limit must be at least 1");
    state_->limit = limit;
    state_->pause_on_limit = limit.has_value() && pause_on_limit;
    state_->connection_listener =
        server_->on(ev::connection, [this](const std::shared_ptr<Connection>& c) { on_connection(c); });
    state_->error_listener = server_->on(ev::error, [this](const std::system_error& e) {
        auto keep = weak_from_this().lock();
        emit(ev::error, e);
    });
}

LimitingServer::~LimitingServer() {
    server_->remove_listener(state_->connection_listener);
    server_->remove_listener(state_->error_listener);
    for (auto& [connection, handle] : state_->connections) connection->remove_listener(handle);
}

void LimitingServer::on_connection(const std::shared_ptr<Connection>& connection) {
    auto keep = weak_from_this().lock();
    auto& state = *state_;
    if (state.limit && state.connections.size() >= *state.limit) {
        connection->close();
        emit(ev::error, Error(ECONNABORTED, "Connection closed because server reached connection limit"));
        return;
    }
    // Weak: the connection's listener must not keep this server alive.
    std::weak_ptr<State> weak_state = state_;
    const Connection* raw = connection.get();
    auto handle = connection->on(ev::close, [this, weak_state, raw] {
        if (weak_state.lock()) on_closed(raw);
    });
    state.connections.emplace_back(connection, handle);
    if (state.pause_on_limit && !state.auto_paused && state.connections.size() >= *state.limit) {
        state.auto_paused = true;
        server_->pause();
    }
    emit(ev::connection, connection);
}

void LimitingServer::on_closed(const Connection* connection) {
    auto& state = *state_;
    auto it = std::find_if(state.connections.begin(), state.connections.end(),
                           [connection](const auto& entry) { return entry.first.get() == connection; });
    if (it == state.connections.end()) return;
    auto keep_connection = std::move(it->first);  // it is emitting `close` right now
    state.connections.erase(it);
    if (state.auto_paused && state.connections.size() < *state.limit) {
        state.auto_paused = false;
        if (!state.manually_paused && !state.closed) server_->resume();
    }
}

std::vector<std::shared_ptr<Connection>> LimitingServer::connections() const {
    std::vector<std::shared_ptr<Connection>> out;
    out.reserve(state_->connections.size());
    for (const auto& entry : state_->connections) out.push_back(entry.first);
    return out;
}

std::optional<std::string> LimitingServer::address() const { return server_->address(); }

void LimitingServer::pause() {
    if (state_->manually_paused || state_->closed) return;
    state_->manually_paused = true;
    if (!state_->auto_paused) server_->pause();
}

void LimitingServer::resume() {
    if (!state_->manually_paused || state_->closed) return;
    state_->manually_paused = false;
    if (!state_->auto_paused) server_->resume();
}

void LimitingServer::close() {
    if (state_->closed) return;
    state_->closed = true;
    server_->close();
    remove_all_listeners();
}

}  // namespace reactsock
