// reactsock/socket/connection.hpp — a stream socket connection (TCP or Unix).
//
// A Connection is a DuplexStream (see reactsock/stream/stream.hpp) over a
// connected socket, emitted by servers and resolved by connectors:
//
//     server->on(rs::ev::connection, [](std::shared_ptr<rs::Connection> conn) {
//         conn->write("hello " + conn->remote_address().value_or("?") + "\n");
//         conn->on(rs::ev::data, [conn](std::string_view chunk) { conn->write(chunk); });
//     });
//
// Events: ev::data, ev::end (the peer finished sending), ev::drain,
// ev::error (a reactsock::Error with the errno, then close), ev::close
// (exactly once, last), ev::timeout (idle for set_timeout() seconds; the
// connection stays open).
//
// Writing: write() sends at once what the kernel takes and buffers only the
// rest; it returns false once the buffer reaches the soft limit (64 KiB by
// default): wait for ev::drain. end(data) flushes, then half-closes (shuts
// down the sending side); reading goes on until the peer ends. close()
// discards the buffer and releases the socket at once.
//
// Peer ends first (ev::end): by default the connection then flushes what it
// has buffered and closes (ReactPHP would discard the buffer — reactsock
// does not). With set_allow_half_open(true) it stays writable until you
// call end().
//
// Lifetime: held by std::shared_ptr. While reading (not paused) or while
// writes are pending, the loop keeps the connection alive; closing it
// releases the descriptor at once and drops all listeners.
// Threads: everything on the loop's thread.
#pragma once

#include <reactsock/promise/promise.hpp>
#include <reactsock/stream/stream.hpp>
#include <reactsock/tls/info.hpp>

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

namespace reactsock {

namespace ev {
/// The connection was idle (nothing read or written) for the time given to
/// Connection::set_timeout. Informational: close it yourself if you want.
struct timeout_t : Event<> {};
inline constexpr timeout_t timeout{};
}  // namespace ev

/// TCP keep-alive for Connection::set_keep_alive():
/// `conn->set_keep_alive({.idle_seconds = 60, .interval_seconds = 10, .probe_count = 3});`
/// Zero leaves the system's default. JSON keys are the field names.
struct KeepAliveOptions {
    bool enable = true;        ///< SO_KEEPALIVE
    int idle_seconds = 0;      ///< TCP_KEEPIDLE: idle time before the first probe
    int interval_seconds = 0;  ///< TCP_KEEPINTVL: time between probes
    int probe_count = 0;       ///< TCP_KEEPCNT: unanswered probes before the connection fails

    /// Strict: an unknown key or a wrong type is std::invalid_argument.
    static KeepAliveOptions from_json(const nlohmann::json& json);
};

/// nlohmann::json ADL hook: `json.get<KeepAliveOptions>()`; same rules as KeepAliveOptions::from_json.
void from_json(const nlohmann::json& json, KeepAliveOptions& out);

class Connection : public DuplexStream {
public:
    /// "tcp://127.0.0.1:8080", "tcp://[::1]:8080", "unix:///path",
    /// "tls://..." once secure; std::nullopt when unknown (an unnamed unix
    /// peer) or once closed. Still readable inside `close` listeners.
    [[nodiscard]] virtual std::optional<std::string> remote_address() const = 0;
    [[nodiscard]] virtual std::optional<std::string> local_address() const = 0;

    /// True for TLS connections.
    [[nodiscard]] virtual bool is_secure() const noexcept { return false; }

    /// What TLS negotiated (protocol, cipher, ALPN, peer certificate...) once
    /// secure; std::nullopt for a plaintext connection or during a handshake.
    /// rs::tls_info(conn) is the same call.
    [[nodiscard]] virtual std::optional<TlsInfo> tls_info() const { return std::nullopt; }

    /// Keeps the connection writable after the peer's end (see above).
    virtual void set_allow_half_open(bool allow) = 0;

    /// Emits ev::timeout after `seconds` without reads or writes; 0 turns it
    /// off. Re-arms after each timeout. Throws std::invalid_argument for a
    /// negative or non-finite value.
    virtual void set_timeout(double seconds) = 0;

    /// TCP_NODELAY (no effect on Unix sockets). Throws reactsock::Error on failure.
    virtual void set_no_delay(bool enable) = 0;

    /// SO_KEEPALIVE, and on TCP the non-zero idle time, probe interval and
    /// probe count. Throws std::invalid_argument for negative values,
    /// reactsock::Error when the socket refuses or the connection is closed.
    virtual void set_keep_alive(const KeepAliveOptions& options) = 0;

    /// Deprecated (kept for one release): use set_keep_alive(KeepAliveOptions).
    [[deprecated("use set_keep_alive(rs::KeepAliveOptions{...})")]]
    void set_keep_alive(bool enable, int idle_seconds = 0, int interval_seconds = 0, int probe_count = 0) {
        set_keep_alive(KeepAliveOptions{.enable = enable,
                                        .idle_seconds = idle_seconds,
                                        .interval_seconds = interval_seconds,
                                        .probe_count = probe_count});
    }

    /// Generic integer socket options (setsockopt/getsockopt), e.g.
    /// set_option(SOL_SOCKET, SO_SNDBUF, 1 << 20). Throw reactsock::Error.
    virtual void set_option(int level, int name, int value) = 0;
    [[nodiscard]] virtual int get_option(int level, int name) const = 0;

    /// Bytes accepted by write() but not yet taken by the kernel.
    [[nodiscard]] virtual std::size_t buffered_amount() const noexcept = 0;

    /// The soft limit of the write buffer (default 65536).
    virtual void set_soft_limit(std::size_t bytes) = 0;

    /// The socket descriptor, or -1 once closed. Do not close it yourself.
    [[nodiscard]] virtual int native_handle() const noexcept = 0;

    /// Addresses, ports, family and state as JSON (Qore-style socket info):
    /// {"remote": "tcp://...", "local": ..., "family": "ipv4"|"ipv6"|"unix",
    ///  "remote_address": "127.0.0.1", "remote_port": 8080, "local_address": ...,
    ///  "local_port": ..., "secure": false, "readable": true, "writable": true,
    ///  "buffered": 0}. Include <nlohmann/json.hpp> to use the result.
    [[nodiscard]] virtual nlohmann::json info() const = 0;

    /// Whether the connection has closed (`ev::close` was emitted, or is being).
    /// The default, for other implementations, is "neither readable nor writable".
    [[nodiscard]] virtual bool is_closed() const noexcept { return !is_readable() && !is_writable(); }

    /// The end of this connection, as a promise: `co_await conn->closed();`.
    ///  * Resolves: when `ev::close` is emitted (after `ev::error`, if there is
    ///    one: an error does not reject it), at once if the connection has
    ///    already closed, or when the connection is destroyed.
    ///  * Rejects: only when cancelled, with reactsock::Error(ECANCELED,
    ///    "Waiting for the connection to close was cancelled (ECANCELED)").
    ///  * cancel(): removes its close listener; the connection stays open.
    ///  * Threads: the connection's loop thread.
    /// (rs::once(conn, ev::close), by contrast, rejects on `ev::error`.)
    [[nodiscard]] Promise<void> closed();
};

}  // namespace reactsock
