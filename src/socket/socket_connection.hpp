// Private: the Connection over a connected stream socket (TCP or Unix).
//
// Reactor style: Asio only reports readiness (ReactorDescriptor, waits on
// Asio's reactor); reads and writes are plain recv()/send() calls.
// That lets every connection of a thread share one read buffer (an idle
// connection holds no buffer at all) and lets write() send at once.
//
// Asio's epoll reactor is edge-triggered, and a wait that is queued
// without re-arming the descriptor (ReactorDescriptor::async_wait_edge)
// only learns of readiness that arrives later. So we wait only once a read
// found the socket drained (EAGAIN). A short read is not enough: a FIN queued
// behind the data raised no edge of its own, so after a short read we read
// once more at once (EAGAIN, or 0 for the FIN). After a full-buffer read,
// after resume(), after a TLS handshake and at the start we try a read first
// (posted, so that data is never emitted from inside resume()), also when a
// wait is pending: that wait learns only of readiness still to come.
//
// TLS (start_tls) swaps the transport in place: the same object, read loop,
// writer, idle timeout, options and addresses; reads become SSL_read() into
// the same shared buffer and the writer's policy becomes SSL_write(). Before
// waiting on the fd after a TLS read, everything OpenSSL has already
// decrypted is delivered (we read until SSL_read wants the socket again).
#pragma once

#include <reactsock/loop/loop.hpp>
#include <reactsock/promise/promise.hpp>
#include <reactsock/socket/connection.hpp>
#include <reactsock/tls/info.hpp>

#include "socket/reactor_descriptor.hpp"
#include "stream/write_buffer.hpp"


#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace reactsock::detail {

class SocketConnection;
class TlsContext;
class TlsSession;

// The writer's policy: send() with MSG_NOSIGNAL (a peer that went away is
// EPIPE, not SIGPIPE), or SSL_write() once the connection is secure.
struct TransportSend {
    SocketConnection* owner;
    std::size_t operator()(ReactorDescriptor& socket, std::string_view data,
                           asio::error_code& ec) const;
    // Whether data left over means send() found the socket full: always in
    // plaintext; with TLS when SSL_write() stopped on the socket (not when
    // OpenSSL wants to read). Otherwise BufferedWriter waits with a re-arm.
    [[nodiscard]] bool refused_by_kernel() const noexcept;
};

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

class SocketConnection : public Connection, private WriterEvents {
    struct Passkey {};

public:
    /// Takes ownership of `fd` (a connected socket; made non-blocking here)
    /// and starts reading on the next turn of the loop.
    /// `family` (AF_INET, AF_INET6, AF_UNIX) when the caller knows it, which
    /// saves a getsockname() per connection.
    /// `peer` (from accept4) saves the getpeername() of remote_address().
    static std::shared_ptr<SocketConnection> adopt(Loop& loop, int fd, int family = 0,
                                                   const sockaddr* peer = nullptr, socklen_t peer_length = 0);

    SocketConnection(Passkey, Loop& loop, int fd, int family);
    ~SocketConnection() override;
    SocketConnection(const SocketConnection&) = delete;
    SocketConnection& operator=(const SocketConnection&) = delete;

    // ReadableStream
    [[nodiscard]] bool is_readable() const override { return readable_; }
    void pause() override;
    void resume() override;
    // WritableStream
    [[nodiscard]] bool is_writable() const override {
        return !closed_ && !end_after_handshake_ && writer_->is_writable();
    }
    bool write(std::string_view data) override;
    void end(std::string_view data = {}) override;
    // Stream
    void close() override;
    // Connection
    [[nodiscard]] std::optional<std::string> remote_address() const override;
    [[nodiscard]] std::optional<std::string> local_address() const override;
    void set_allow_half_open(bool allow) override { allow_half_open_ = allow; }
    void set_timeout(double seconds) override;
    void set_no_delay(bool enable) override;
    void set_keep_alive(bool enable, int idle_seconds, int interval_seconds,
                        int probe_count) override;
    void set_option(int level, int name, int value) override;
    [[nodiscard]] int get_option(int level, int name) const override;
    [[nodiscard]] std::size_t buffered_amount() const noexcept override {
        return writer_->buffered_amount() + early_writes_.size();
    }
    void set_soft_limit(std::size_t bytes) override { writer_->set_soft_limit(bytes == 0 ? 1 : bytes); }
    [[nodiscard]] int native_handle() const noexcept override { return fd_; }
    [[nodiscard]] bool is_closed() const noexcept override { return closed_; }
    [[nodiscard]] nlohmann::json info() const override;
    [[nodiscard]] bool is_secure() const noexcept override { return tls_state_ == TlsState::on; }

    /// Upgrades this connection to TLS in place and resolves with it once
    /// the handshake is done. Plaintext still buffered is sent first;
    /// writes made meanwhile are sent encrypted afterwards. Rejects with the
    /// bare reason (callers prefix it): Error(EPROTO, "<OpenSSL errors>"),
    /// Error(ECONNRESET, "Connection lost during TLS handshake (ECONNRESET)"),
    /// Error(ETIMEDOUT, ...), Error(EBADF/EISCONN) when closed / already TLS;
    /// after a failure the connection is closed. Cancelling closes the
    /// connection and rejects with Error(ECONNABORTED, "TLS handshake cancelled (ECONNABORTED)").
    /// Settles on later turns, never from inside this call.
    Promise<std::shared_ptr<Connection>> start_tls(StartTlsParams params);
    /// Why start_tls would reject at once (closed, already TLS, ending), if it would.
    [[nodiscard]] std::optional<Error> tls_unavailable() const;

    /// The peer's address as it was before the TLS handshake (tcp://...),
    /// also after a failed handshake closed the connection; for SecureServer's
    /// failure message, so that a successful handshake costs no lookup.
    [[nodiscard]] std::optional<std::string> handshake_peer() const;

    /// Negotiated details once secure.
    [[nodiscard]] std::optional<TlsInfo> tls_info() const;

private:
    friend struct TransportSend;
    enum class TlsState { off, flushing_plaintext, handshaking, on };

    std::size_t transport_send(std::string_view data, asio::error_code& ec);
    void read_tls();
    void handshake_step();
    void wait_for_handshake(bool write);
    void finish_handshake();
    void fail_handshake(const Error& error);
    void send_close_notify(bool then_shutdown);
    [[nodiscard]] std::optional<std::string> secure_scheme(std::optional<std::string> address) const;

    void start_reading();
    void on_readable();
    void handle_eof();
    void finish_write_side();
    void fail(const Error& error);
    // fail() with "<prefix><strerror> (ENAME)"; the text is only built when
    // someone listens for `error` (a reset peer is common and often unheard).
    void fail_errno(int error_number, const char* prefix);
    // WriterEvents
    void on_writer_drain() override;
    void on_writer_error(const Error& error) override;
    void on_writer_finished() override;
    [[nodiscard]] std::shared_ptr<void> writer_keep_alive() override { return keep_alive(); }
    void touch() noexcept;
    void arm_idle_timer(double seconds);
    void on_idle_timer();
    void require_open() const;
    void remember_peer() const;

    Loop* loop_;
    ReactorDescriptor watcher_;
    int fd_;
    bool unix_ = false;

    // Write-through, buffering of the rest, soft limit, drain, end after
    // flush: the same writer as the resource streams'. Constructed once the
    // descriptor is assigned.
    std::optional<BufferedWriter<ReactorDescriptor, TransportSend>> writer_;

    bool readable_ = true;
    bool paused_ = false;
    bool closed_ = false;
    bool emitting_close_ = false;
    bool read_waiting_ = false;   // an async_wait(read) is pending
    bool read_posted_ = false;    // a speculative read is posted
    bool maybe_readable_ = true;  // readiness may be unreported: try a read first
    bool write_shut_ = false;     // shutdown(SHUT_WR) done
    bool peer_ended_ = false;     // EOF read
    bool allow_half_open_ = false;

    std::uint64_t destroy_hook_ = 0;  // closes us if the loop goes first

    double idle_timeout_ = 0;
    std::int64_t last_activity_ns_ = 0;
    TimerHandle idle_timer_;

    mutable std::optional<std::string> remote_;
    // The IP peer address accept4() reported, formatted into remote_ when
    // first asked for (unix peers are unnamed: not kept).
    sockaddr_in6 peer_{};
    socklen_t peer_length_ = 0;
    mutable std::optional<std::string> local_;

    // ---- TLS ----
    TlsState tls_state_ = TlsState::off;
    std::unique_ptr<TlsSession> tls_;
    std::size_t plaintext_left_ = 0;  // bytes of the writer's buffer that go out in clear
    std::string early_writes_;       // written during the handshake
    bool early_drain_armed_ = false;
    bool end_after_handshake_ = false;
    std::optional<Deferred<std::shared_ptr<Connection>>> handshake_;
    TimerHandle handshake_timer_;
    bool tls_wait_pending_ = false;   // a handshake/close_notify wait is pending
};

}  // namespace reactsock::detail
