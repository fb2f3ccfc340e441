// reactsock/socket/limiting_server.hpp — caps the number of open connections.
//
//     auto server = std::make_shared<rs::LimitingServer>(
//         std::make_shared<rs::TcpServer>("127.0.0.1:8080"), 100);
//     for (const auto& conn : server->connections()) conn->write("broadcast\n");
//
// Wraps any server and tracks its open connections (a connection leaves the
// list when it closes). With a limit and pause_on_limit = false, a connection
// arriving while the limit is reached is closed at once and ev::error reports
// reactsock::Error(ECONNABORTED, "Connection closed because server reached
// connection limit"). With pause_on_limit = true the wrapped server is paused
// when the limit is reached (new clients wait in the kernel's backlog) and
// resumed once a connection closes; pause()/resume() by the user are kept
// apart from that, so the server accepts only when neither paused it.
// ev::error of the wrapped server is forwarded.
//
// One limit for several servers (a TCP and a TLS port, say): give each
// LimitingServer the same ConnectionLimiter.
//
//     auto limiter = std::make_shared<rs::ConnectionLimiter>(1000, rs::ConnectionLimiterOptions{.pause_on_limit = true});
//     auto plain = std::make_shared<rs::LimitingServer>(tcp_server, limiter);
//     auto secure = std::make_shared<rs::LimitingServer>(tls_server, limiter);
//
// The limit then counts the open connections of all of them; with
// pause_on_limit every one of them pauses at the limit and resumes below it.
#pragma once

#include <reactsock/socket/detail/server_decorator.hpp>
#include <reactsock/socket/server.hpp>

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace reactsock {

class LimitingServer;

/// Options of a ConnectionLimiter or LimitingServer (also ConnectionLimiter::Options).
struct ConnectionLimiterOptions {
    /// At the limit, pause every server (clients wait in the kernel's
    /// backlog) instead of closing the newcomer; resume below it.
    bool pause_on_limit = false;

    /// From {"pause_on_limit": true}. Strict: an unknown key or a wrong type
    /// is std::invalid_argument.
    static ConnectionLimiterOptions from_json(const nlohmann::json& json);
};

/// nlohmann::json ADL hook: `json.get<ConnectionLimiterOptions>()`; same rules as ConnectionLimiterOptions::from_json.
void from_json(const nlohmann::json& json, ConnectionLimiterOptions& out);

/// A connection count, and optionally a limit, shared by the LimitingServers
/// given it. Held by std::shared_ptr; the servers hold it too. Loop thread only.
class ConnectionLimiter {
public:
    using Options = ConnectionLimiterOptions;

    /// `limit` std::nullopt: count only. A limit of 0 is std::invalid_argument.
    explicit ConnectionLimiter(std::optional<std::size_t> limit, Options options);
    explicit ConnectionLimiter(std::optional<std::size_t> limit) : ConnectionLimiter(limit, Options{}) {}
    ~ConnectionLimiter();
    ConnectionLimiter(const ConnectionLimiter&) = delete;
    ConnectionLimiter& operator=(const ConnectionLimiter&) = delete;

    [[nodiscard]] std::optional<std::size_t> limit() const noexcept { return limit_; }
    /// Open connections of every server that uses this limiter.
    [[nodiscard]] std::size_t count() const noexcept { return entries_.size(); }
    /// Those connections, oldest first.
    [[nodiscard]] std::vector<std::shared_ptr<Connection>> connections() const;

private:
    friend class LimitingServer;
    struct Entry {
        std::shared_ptr<Connection> connection;
        ListenerHandle close_listener;
        std::uint64_t owner;
    };
    [[nodiscard]] bool full() const noexcept { return limit_ && entries_.size() >= *limit_; }
    // Whether pause_on_limit has the servers paused (the limit is reached).
    [[nodiscard]] bool paused() const noexcept { return options_.pause_on_limit && full(); }
    void add(const std::shared_ptr<Connection>& connection, std::uint64_t owner);
    void remove(const Connection* connection);
    void pause_servers(bool paused);
    std::vector<std::shared_ptr<Connection>> connections_of(std::uint64_t owner) const;

    std::optional<std::size_t> limit_;
    Options options_;
    std::vector<Entry> entries_;
    std::vector<LimitingServer*> servers_;  // they detach in their destructors
};

class LimitingServer final : public detail::ServerDecorator {
public:
    /// `limit` std::nullopt: no limit (only tracking; pause_on_limit ignored).
    /// A limit of 0 is std::invalid_argument.
    LimitingServer(std::shared_ptr<ServerInterface> server, std::optional<std::size_t> limit,
                   ConnectionLimiterOptions options = {});
    /// Deprecated (kept for one release): use
    /// `LimitingServer(server, limit, {.pause_on_limit = true})`.
    [[deprecated("use LimitingServer(server, limit, rs::ConnectionLimiterOptions{.pause_on_limit = ...})")]]
    LimitingServer(std::shared_ptr<ServerInterface> server, std::optional<std::size_t> limit, bool pause_on_limit)
        : LimitingServer(std::move(server), limit, ConnectionLimiterOptions{.pause_on_limit = pause_on_limit}) {}
    /// Counts against `limiter`, which other LimitingServers may share.
    LimitingServer(std::shared_ptr<ServerInterface> server, std::shared_ptr<ConnectionLimiter> limiter);
    ~LimitingServer() override;

    /// The open connections accepted by this server, oldest first.
    [[nodiscard]] std::vector<std::shared_ptr<Connection>> connections() const;

    /// Pauses accepting; kept apart from the limiter's pausing: the server
    /// accepts only when neither paused it.
    void pause() override;
    void resume() override;

    /// The limiter this server counts against.
    [[nodiscard]] const std::shared_ptr<ConnectionLimiter>& limiter() const noexcept { return limiter_; }

    // address() and close() are the wrapped server's; inner() is the wrapped server.

private:
    friend class ConnectionLimiter;
    void on_connection(const std::shared_ptr<Connection>& connection) override;
    void set_limit_paused(bool paused);  // called by the limiter when its paused() changes

    std::shared_ptr<ConnectionLimiter> limiter_;
    std::uint64_t id_;
    bool manually_paused_ = false;
};

}  // namespace reactsock
