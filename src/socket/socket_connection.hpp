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
// The handshake, the writes made during it and close_notify are
// TlsTransport's (socket/tls_transport.hpp); this class's side of TLS
// (start_tls, the TlsHost callbacks, SSL_read() reads) is in
// socket_connection_tls.cpp; socket options and info() are in
// socket/socket_options.hpp.
#pragma once

#include <reactsock/loop/loop.hpp>
#include <reactsock/promise/promise.hpp>
#include <reactsock/socket/connection.hpp>
#include <reactsock/tls/info.hpp>

#include "socket/reactor_descriptor.hpp"
#include "socket/tls_transport.hpp"
#include "stream/write_buffer.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace reactsock::detail {

class SocketConnection;

// The writer's policy: send() with MSG_NOSIGNAL, or the TLS transport's.
struct TransportSend {
    SocketConnection* owner;
    std::size_t operator()(ReactorDescriptor& socket, std::string_view data,
                           asio::error_code& ec) const;
    // Whether data left over means send() found the socket full: always in
    // plaintext; with TLS when SSL_write() stopped on the socket (not when
    // OpenSSL wants to read). Otherwise BufferedWriter waits with a re-arm.
    [[nodiscard]] bool refused_by_kernel() const noexcept;
};

class SocketConnection : public Connection, private WriterEvents, private TlsHost {
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
        return life_ == Life::open && !(tls_ && tls_->ending_early()) && writer_->is_writable();
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
    using Connection::set_keep_alive;
    void set_keep_alive(const KeepAliveOptions& options) override;
    void set_option(int level, int name, int value) override;
    [[nodiscard]] int get_option(int level, int name) const override;
    [[nodiscard]] std::size_t buffered_amount() const noexcept override {
        return writer_->buffered_amount() + (tls_ ? tls_->early_bytes() : 0);
    }
    void set_soft_limit(std::size_t bytes) override { writer_->set_soft_limit(bytes == 0 ? 1 : bytes); }
    [[nodiscard]] int native_handle() const noexcept override { return fd_; }
    [[nodiscard]] bool is_closed() const noexcept override { return life_ != Life::open; }
    [[nodiscard]] nlohmann::json info() const override;
    [[nodiscard]] bool is_secure() const noexcept override { return tls_ && tls_->is_on(); }
    [[nodiscard]] std::optional<TlsInfo> tls_info() const override;

    /// Upgrades this connection to TLS in place and resolves with it once
    /// the handshake is done. Plaintext still buffered is sent first;
    /// writes made meanwhile are sent encrypted afterwards. Rejects with the
    /// bare reason (callers prefix it): Error(EPROTO, "<OpenSSL errors>"),
    /// Error(ECONNRESET, "Connection lost during TLS handshake (ECONNRESET)"),
    /// Error(ETIMEDOUT, ...), Error(EBADF/EISCONN/ENOTCONN) when closed /
    /// already TLS / ending; after a handshake failure the connection is
    /// closed. Cancelling closes the connection and rejects with
    /// Error(ECONNABORTED, "TLS handshake cancelled (ECONNABORTED)").
    /// Settles on later turns, never from inside this call.
    Promise<SecureResult> start_tls(StartTlsParams params);
    /// Why start_tls would reject at once (closed, already TLS, ending), if it would.
    [[nodiscard]] std::optional<Error> tls_unavailable() const;

    /// The peer's address as it was before the TLS handshake (tcp://...),
    /// also after a failed handshake closed the connection; for the
    /// handshake's failure message, so that a successful handshake costs no lookup.
    [[nodiscard]] std::optional<std::string> handshake_peer() const;

private:
    friend struct TransportSend;
    // open -> closing (close() runs; addresses still answer inside `close`
    // listeners) -> closed.
    enum class Life : std::uint8_t { open, closing, closed };

    // One read buffer per thread, shared by every connection of that thread's
    // loop: data listeners get a view of it that is valid during the call only.
    static constexpr std::size_t kReadBufferSize = 64 * 1024;
    static char* shared_read_buffer();

    [[nodiscard]] bool closed() const noexcept { return life_ != Life::open; }
    std::size_t transport_send(std::string_view data, asio::error_code& ec);
    void start_reading();
    void on_readable();
    void read_plain();
    void read_secure();
    void wait_writable_then_read();
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
    // TlsHost
    [[nodiscard]] ReactorDescriptor& tls_descriptor() noexcept override { return watcher_; }
    [[nodiscard]] std::shared_ptr<Connection> tls_self() override { return shared_this(this); }
    [[nodiscard]] bool tls_host_closed() const noexcept override { return closed(); }
    void tls_established(std::string early, bool end, bool drain_armed,
                         std::optional<Deferred<SecureResult>> handshake) override;
    void tls_failed() override;

    void touch() noexcept;
    void arm_idle_timer(double seconds);
    void on_idle_timer();
    [[nodiscard]] int open_fd() const;  // fd_, or Error(EBADF) once closed
    void remember_peer() const;
    [[nodiscard]] std::optional<std::string> secure_scheme(std::optional<std::string> address) const;

    Loop* loop_;
    ReactorDescriptor watcher_;
    int fd_;
    bool unix_ = false;
    Life life_ = Life::open;

    // Write-through, buffering of the rest, soft limit, drain, end after
    // flush: the same writer as the resource streams'. Constructed once the
    // descriptor is assigned.
    std::optional<BufferedWriter<ReactorDescriptor, TransportSend>> writer_;

    // Reading. readable_ ends with EOF, an error or close.
    bool readable_ = true;
    bool paused_ = false;
    bool read_waiting_ = false;   // an async_wait(read) is pending
    bool read_posted_ = false;    // a speculative read is posted
    bool maybe_readable_ = true;  // readiness may be unreported: try a read first
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

    // Set by start_tls and kept until destruction (its callbacks may hold
    // `this` while the connection lives).
    std::unique_ptr<TlsTransport> tls_;
};

}  // namespace reactsock::detail
