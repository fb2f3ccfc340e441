#include <reactsock/socket/limiting_server.hpp>

#include "options.hpp"

#include <reactsock/error.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <stdexcept>

namespace reactsock {

// --- ConnectionLimiter --------------------------------------------------------

ConnectionLimiterOptions ConnectionLimiterOptions::from_json(const nlohmann::json& json) {
    detail::JsonOptions reader(json, "ConnectionLimiter");
    ConnectionLimiterOptions options;
    reader.read("pause_on_limit", options.pause_on_limit);
    reader.finish();
    return options;
}

void from_json(const nlohmann::json& json, ConnectionLimiterOptions& out) {
    out = ConnectionLimiterOptions::from_json(json);
}

ConnectionLimiter::ConnectionLimiter(std::optional<std::size_t> limit, Options options)
    : limit_(limit), options_(options) {
    if (limit && *limit == 0) throw std::invalid_argument("LimitingServer limit must be at least 1");
    if (!limit) options_.pause_on_limit = false;
}

ConnectionLimiter::~ConnectionLimiter() {
    // Its close listeners go with it: none can call into a destroyed limiter.
    for (auto& entry : entries_) entry.connection->remove_listener(entry.close_listener);
}

std::vector<std::shared_ptr<Connection>> ConnectionLimiter::connections() const {
    std::vector<std::shared_ptr<Connection>> out;
    out.reserve(entries_.size());
    for (const auto& entry : entries_) out.push_back(entry.connection);
    return out;
}

std::vector<std::shared_ptr<Connection>> ConnectionLimiter::connections_of(std::uint64_t owner) const {
    std::vector<std::shared_ptr<Connection>> out;
    for (const auto& entry : entries_) {
        if (entry.owner == owner) out.push_back(entry.connection);
    }
    return out;
}

void ConnectionLimiter::add(const std::shared_ptr<Connection>& connection, std::uint64_t owner) {
    // Raw `this`: the destructor removes this listener, and the listener
    // keeps neither the limiter nor a server alive.
    const Connection* raw = connection.get();
    auto handle = connection->on(ev::close, [this, raw] { remove(raw); });
    entries_.push_back(Entry{connection, handle, owner});
    if (paused()) pause_servers(true);  // callers add only below the limit: it was just reached
}

void ConnectionLimiter::remove(const Connection* connection) {
    auto it = std::find_if(entries_.begin(), entries_.end(),
                           [connection](const Entry& entry) { return entry.connection.get() == connection; });
    if (it == entries_.end()) return;
    auto keep_connection = std::move(it->connection);  // it is emitting `close` right now
    const bool was_paused = paused();
    entries_.erase(it);
    if (was_paused) pause_servers(false);
}

void ConnectionLimiter::pause_servers(bool paused) {
    const auto servers = servers_;  // a server may detach while pausing
    for (LimitingServer* server : servers) server->set_limit_paused(paused);
}

// --- LimitingServer ---------------------------------------------------------

namespace {
std::uint64_t next_server_id() {
    static std::atomic<std::uint64_t> next{0};  // servers may live on several loop threads
    return ++next;
}
}  // namespace

LimitingServer::LimitingServer(std::shared_ptr<ServerInterface> server, std::optional<std::size_t> limit,
                               ConnectionLimiterOptions options)
    : LimitingServer(std::move(server), std::make_shared<ConnectionLimiter>(limit, options)) {}

LimitingServer::LimitingServer(std::shared_ptr<ServerInterface> server, std::shared_ptr<ConnectionLimiter> limiter)
    : ServerDecorator(std::move(server), "LimitingServer"), limiter_(std::move(limiter)), id_(next_server_id()) {
    if (!limiter_) throw std::invalid_argument("LimitingServer needs a limiter");
    limiter_->servers_.push_back(this);
    if (limiter_->paused()) set_limit_paused(true);  // joined a limiter already at its limit
}

LimitingServer::~LimitingServer() { std::erase(limiter_->servers_, this); }

void LimitingServer::on_connection(const std::shared_ptr<Connection>& connection) {
    if (limiter_->full()) {
        connection->close();
        emit(ev::error, Error(ECONNABORTED, "Connection closed because server reached connection limit"));
        return;
    }
    limiter_->add(connection, id_);
    emit(ev::connection, connection);
}

void LimitingServer::set_limit_paused(bool paused) {
    if (manually_paused_ || is_closed()) return;
    if (paused) {
        ServerDecorator::pause();
    } else {
        ServerDecorator::resume();
    }
}

std::vector<std::shared_ptr<Connection>> LimitingServer::connections() const { return limiter_->connections_of(id_); }

void LimitingServer::pause() {
    if (manually_paused_ || is_closed()) return;
    manually_paused_ = true;
    if (!limiter_->paused()) ServerDecorator::pause();
}

void LimitingServer::resume() {
    if (!manually_paused_ || is_closed()) return;
    manually_paused_ = false;
    if (!limiter_->paused()) ServerDecorator::resume();
}

}  // namespace reactsock
