// SocketConnection's side of TLS: start_tls, the TlsHost callbacks, the
// read loop's SSL_read() branch and the writer's TLS policy. The handshake,
// early writes and close_notify themselves are TlsTransport's
// (socket/tls_transport.hpp); the plaintext path is socket_connection.cpp.
#include "socket/socket_connection.hpp"

#include "socket/socket_options.hpp"

#include <reactsock/error.hpp>

#include <cerrno>
#include <utility>

namespace reactsock::detail {

std::size_t TransportSend::operator()(ReactorDescriptor& /*socket*/, std::string_view data,
                                      asio::error_code& ec) const {
    return owner->transport_send(data, ec);
}

bool TransportSend::refused_by_kernel() const noexcept {
    return owner->tls_ ? owner->tls_->refused_by_kernel() : true;
}

std::size_t SocketConnection::transport_send(std::string_view data, asio::error_code& ec) {
    return tls_ ? tls_->send(data, ec) : send_some(fd_, data, ec);
}

std::optional<Error> SocketConnection::tls_unavailable() const {
    if (closed()) return Error(EBADF, "Connection is closed (EBADF)");
    if (tls_) return Error(EISCONN, "Connection is already secure or securing (EISCONN)");
    if (!is_writable() || !readable_) return Error(ENOTCONN, "Connection is ending, cannot start TLS (ENOTCONN)");
    return std::nullopt;
}

Promise<SecureResult> SocketConnection::start_tls(StartTlsParams params) {
    if (auto error = tls_unavailable()) return reject<SecureResult>(*error);
    const double timeout = params.timeout;
    try {
        tls_ = std::make_unique<TlsTransport>(*loop_, static_cast<TlsHost&>(*this), fd_, std::move(params), writer_->buffered_amount());
    } catch (const Error& error) {
        return reject<SecureResult>(error);
    }
    return tls_->start(timeout);
}

void SocketConnection::tls_established(std::string early, bool end, bool drain_armed,
                                       std::optional<Deferred<SecureResult>> handshake) {
    touch();
    // The handshake may have read application data along with its last
    // records: read before waiting on the fd.
    maybe_readable_ = true;
    bool drain_due = false;
    if (!early.empty()) {
        const bool below_limit = writer_->write(early);
        drain_due = drain_armed && below_limit;
    }
    if (end) writer_->end({});
    auto keep = keep_alive();
    if (handshake) handshake->resolve(std::shared_ptr<Connection>(shared_this(this)));
    if (closed()) return;
    if (drain_due) emit(ev::drain);
    start_reading();
}

void SocketConnection::tls_failed() {
    remember_peer();
    close();
}

void SocketConnection::read_secure() {
    char* buffer = shared_read_buffer();
    const TlsTransport::Read read = tls_->read(buffer, kReadBufferSize);
    auto keep = keep_alive();
    if (read.bytes > 0) {
        touch();
        emit(ev::data, std::string_view(buffer, read.bytes));
        if (closed() || !readable_) return;
        if (paused_) {
            maybe_readable_ = true;  // resume() reads again and sees the rest
            return;
        }
    }
    if (read.last.eof) {
        handle_eof();
    } else if (read.last.error) {
        fail(*read.last.error);
    } else if (read.last.want == TlsWant::write) {
        wait_writable_then_read();
    } else {
        // want_read: the socket is drained; a full buffer: maybe more.
        maybe_readable_ = read.last.want != TlsWant::read;
        start_reading();
    }
}

void SocketConnection::wait_writable_then_read() {
    // OpenSSL must send something (a key update answer) before reading on.
    read_waiting_ = true;
    watcher_.async_wait(ReactorDescriptor::wait_write, [self = shared_this(this)](const asio::error_code& ec) {
        self->read_waiting_ = false;
        if (ec == asio::error::operation_aborted || self->closed()) return;
        self->on_readable();
    });
}

std::optional<TlsInfo> SocketConnection::tls_info() const {
    return tls_ ? tls_->info() : std::nullopt;
}

std::optional<std::string> SocketConnection::handshake_peer() const {
    remember_peer();
    return remote_;
}

}  // namespace reactsock::detail
