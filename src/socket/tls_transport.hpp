// Private: the TLS side of a SocketConnection (start_tls), in its own unit.
//
// The connection owns one TlsTransport once TLS has started and keeps it
// until it is destroyed (callbacks may hold `this` while the connection is
// alive). The transport owns the TLS session, the handshake (its promise,
// timer and waits), the writes made during it and close_notify. It sees the
// connection only through TlsHost: its descriptor, a keep-alive, "closed?",
// and two calls for the end of the handshake.
//
// Phases (State):
//   flushing_plaintext  what the connection buffered before start_tls goes out
//                       in clear (send() stops at that many bytes);
//   handshaking         SSL_do_handshake, driven by its own waits; writes are
//                       kept as early writes;
//   on                  SSL_read/SSL_write; the connection's read loop and
//                       writer run as in plaintext;
//   stopped             the connection closed: the session is gone.
#pragma once

#include <reactsock/error.hpp>
#include <reactsock/loop/loop.hpp>
#include <reactsock/promise/promise.hpp>
#include <reactsock/tls/info.hpp>

#include "socket/reactor_descriptor.hpp"
#include "tls/session.hpp"

#include <asio/error_code.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace reactsock {
class Connection;
}  // namespace reactsock

namespace reactsock::detail {

class TlsContext;

using SecureResult = std::shared_ptr<Connection>;

// What start_tls needs besides the connection.
struct StartTlsParams {
    std::shared_ptr<TlsContext> context;
    // Clients: SNI and the name to verify.
    std::optional<std::string> peer_name;
    // Clients: key of the session-resumption cache ("host:port").
    std::string session_key;
    // Bytes already read from the socket that belong to the TLS stream.
    std::string unread;
    // Seconds; 0: none. Expiry fails the handshake with ETIMEDOUT.
    double timeout = 0;
};

// The connection a TlsTransport secures, as the transport sees it.
class TlsHost {
public:
    [[nodiscard]] virtual ReactorDescriptor& tls_descriptor() noexcept = 0;
    // The connection itself (keeps it alive across a callback).
    [[nodiscard]] virtual std::shared_ptr<Connection> tls_self() = 0;
    [[nodiscard]] virtual bool tls_host_closed() const noexcept = 0;
    // The handshake is done: send `early` (written meanwhile), end if end()
    // was called meanwhile, resolve `handshake` with the connection and read
    // on. `drain_armed`: a write() meanwhile returned false (a drain is due
    // once the buffer is below the soft limit).
    virtual void tls_established(std::string early, bool end, bool drain_armed,
                                 std::optional<Deferred<SecureResult>> handshake) = 0;
    // The handshake failed: close (the transport rejects its promise after).
    virtual void tls_failed() = 0;

protected:
    ~TlsHost() = default;
};

class TlsTransport {
public:
    enum class State { flushing_plaintext, handshaking, on, stopped };

    // Throws reactsock::Error when OpenSSL cannot create the session. `fd`:
    // the connection's socket (not owned). `plaintext_buffered`: bytes the
    // connection's writer holds that go out in clear before the handshake.
    TlsTransport(Loop& loop, TlsHost& host, int fd, StartTlsParams params, std::size_t plaintext_buffered);
    ~TlsTransport();
    TlsTransport(const TlsTransport&) = delete;
    TlsTransport& operator=(const TlsTransport&) = delete;

    // Starts the handshake (on a later turn) and returns its promise.
    // Rejects with the bare reason (callers prefix it): Error(EPROTO, "<OpenSSL
    // errors>"), Error(ECONNRESET, ...), Error(ETIMEDOUT, ...); a cancel closes
    // the connection and rejects with "TLS handshake cancelled (ECONNABORTED)".
    Promise<SecureResult> start(double timeout);

    [[nodiscard]] State state() const noexcept { return state_; }
    [[nodiscard]] bool is_on() const noexcept { return state_ == State::on; }
    // Flushing or handshaking: writes are kept as early writes.
    [[nodiscard]] bool securing() const noexcept {
        return state_ == State::flushing_plaintext || state_ == State::handshaking;
    }

    // ---- the connection's writer policy ----
    std::size_t send(std::string_view data, asio::error_code& ec);
    [[nodiscard]] bool refused_by_kernel() const noexcept;

    // ---- writes during the handshake ----
    // Keeps `data` for after the handshake. Returns write()'s answer: false
    // once end() was called, or when `writer_buffered` plus everything kept
    // reaches `soft_limit` (then a drain is due after the handshake).
    bool write_early(std::string_view data, std::size_t writer_buffered, std::size_t soft_limit);
    void end_early(std::string_view data);
    [[nodiscard]] std::size_t early_bytes() const noexcept { return early_writes_.size(); }
    [[nodiscard]] bool ending_early() const noexcept { return end_after_handshake_; }

    // ---- reading, once on ----
    // Everything OpenSSL can give now, up to `size` bytes: decrypted bytes
    // must not wait for the fd to become readable again (they never would).
    // `last` is how the final SSL_read ended (want, eof, error).
    struct Read {
        std::size_t bytes = 0;
        TlsSession::Read last;
    };
    Read read(char* buffer, std::size_t size);

    // ---- closing ----
    // close_notify, best effort, now (the connection closes after).
    void close_notify_now();
    // close_notify, waiting for the socket if it is full, then shutdown(SHUT_WR).
    void close_notify_then_shutdown();
    [[nodiscard]] bool handshake_pending() const noexcept { return handshake_.has_value(); }
    // The connection is closing: stop the timer, drop the session and early
    // writes; a pending handshake is rejected by settle_after_close().
    void stop();
    // After the connection's `close` event: rejects a handshake stop() ended.
    void settle_after_close();

    [[nodiscard]] std::optional<TlsInfo> info() const;

private:
    void post_handshake_step();
    void handshake_step();
    void wait_for_handshake(bool write);
    void finish_handshake();
    void fail_handshake(const Error& error);
    void cancel_timer();

    Loop& loop_;
    TlsHost& host_;
    int fd_;
    State state_;
    std::unique_ptr<TlsSession> session_;
    std::size_t plaintext_left_;       // bytes of the writer's buffer that go out in clear
    std::string early_writes_;         // written during the handshake
    bool early_drain_armed_ = false;   // a write() during it returned false
    bool end_after_handshake_ = false;
    bool wait_pending_ = false;        // a handshake/close_notify wait is pending
    std::optional<Deferred<SecureResult>> handshake_;
    std::optional<Deferred<SecureResult>> aborted_;  // ended by stop(), rejected after `close`
    TimerHandle timer_;
};

}  // namespace reactsock::detail
