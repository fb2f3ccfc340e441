#include "socket/tls_transport.hpp"

#include "socket/socket_options.hpp"

#include <reactsock/socket/connection.hpp>

#include <asio/post.hpp>

#include <sys/socket.h>

#include <cerrno>
#include <utility>

namespace reactsock::detail {

TlsTransport::TlsTransport(Loop& loop, TlsHost& host, int fd, StartTlsParams params,
                           std::size_t plaintext_buffered)
    : loop_(loop),
      host_(host),
      fd_(fd),
      state_(plaintext_buffered > 0 ? State::flushing_plaintext : State::handshaking),
      session_(std::make_unique<TlsSession>(std::move(params.context), fd, params.peer_name,
                                            std::move(params.session_key), std::move(params.unread))),
      plaintext_left_(plaintext_buffered) {}

TlsTransport::~TlsTransport() { cancel_timer(); }

Promise<SecureResult> TlsTransport::start(double timeout) {
    // The connection owns `this` until it is destroyed: a callback that can
    // lock the connection can use `this`.
    std::weak_ptr<Connection> weak = host_.tls_self();
    handshake_.emplace([weak, this](Deferred<SecureResult>& self) {
        self.reject(Error(ECONNABORTED, "TLS handshake cancelled (ECONNABORTED)"));
        if (auto connection = weak.lock()) {
            handshake_.reset();
            connection->close();
        }
    });
    auto promise = handshake_->promise();
    if (timeout > 0) {
        timer_ = loop_.add_timer(timeout, [weak, this, timeout] {
            if (auto connection = weak.lock()) {
                timer_.reset();
                fail_handshake(Error(ETIMEDOUT, "TLS handshake timed out after " + format_seconds(timeout) +
                                                    " seconds (ETIMEDOUT)"));
            }
        });
    }
    // Flushing: send() starts the handshake once the clear text is out.
    if (state_ == State::handshaking) post_handshake_step();
    return promise;
}

void TlsTransport::cancel_timer() {
    if (timer_) {
        loop_.cancel_timer(timer_);
        timer_.reset();
    }
}

// ---- writing ---------------------------------------------------------------------

std::size_t TlsTransport::send(std::string_view data, asio::error_code& ec) {
    if (state_ == State::on) return session_->write(data, ec);
    if (state_ != State::flushing_plaintext) {  // not reached: writes wait in early_writes_
        ec = asio::error::would_block;
        return 0;
    }
    const std::size_t n = send_some(fd_, data.substr(0, plaintext_left_), ec);
    plaintext_left_ -= n;
    if (!ec && plaintext_left_ == 0) {
        // The clear text is out: the handshake may start (not from inside the writer).
        state_ = State::handshaking;
        post_handshake_step();
    }
    return n;
}

bool TlsTransport::refused_by_kernel() const noexcept {
    return state_ == State::on && session_->write_blocked_on_socket();
}

bool TlsTransport::write_early(std::string_view data, std::size_t writer_buffered, std::size_t soft_limit) {
    if (end_after_handshake_) return false;
    early_writes_.append(data);  // encrypted once the handshake is done
    if (writer_buffered + early_writes_.size() < soft_limit) return true;
    early_drain_armed_ = true;
    return false;
}

void TlsTransport::end_early(std::string_view data) {
    early_writes_.append(data);
    end_after_handshake_ = true;
}

// ---- handshake -------------------------------------------------------------------

void TlsTransport::post_handshake_step() {
    asio::post(loop_.context(), [self = host_.tls_self(), this] {
        if (!host_.tls_host_closed() && state_ == State::handshaking) handshake_step();
    });
}

void TlsTransport::handshake_step() {
    if (host_.tls_host_closed() || state_ != State::handshaking || wait_pending_) return;
    auto keep = host_.tls_self();
    const TlsSession::Step step = session_->handshake();
    if (step.done) {
        finish_handshake();
    } else if (step.error) {
        fail_handshake(*step.error);
    } else {
        wait_for_handshake(step.want == TlsWant::write);
    }
}

void TlsTransport::wait_for_handshake(bool write) {
    wait_pending_ = true;
    host_.tls_descriptor().async_wait(
        write ? ReactorDescriptor::wait_write : ReactorDescriptor::wait_read,
        [self = host_.tls_self(), this](const asio::error_code& ec) {
            wait_pending_ = false;
            if (ec == asio::error::operation_aborted || host_.tls_host_closed()) return;
            if (ec) {
                fail_handshake(make_errno_error(ec.value(), ""));
                return;
            }
            handshake_step();
        });
}

void TlsTransport::finish_handshake() {
    state_ = State::on;
    cancel_timer();
    std::optional<Deferred<SecureResult>> handshake = std::move(handshake_);
    handshake_.reset();
    host_.tls_established(std::exchange(early_writes_, {}), std::exchange(end_after_handshake_, false),
                          std::exchange(early_drain_armed_, false), std::move(handshake));
}

void TlsTransport::fail_handshake(const Error& error) {
    if (host_.tls_host_closed()) return;
    auto keep = host_.tls_self();
    std::optional<Deferred<SecureResult>> handshake = std::move(handshake_);
    handshake_.reset();
    host_.tls_failed();
    if (handshake) handshake->reject(error);
}

// ---- reading ---------------------------------------------------------------------

TlsTransport::Read TlsTransport::read(char* buffer, std::size_t size) {
    Read result;
    while (result.bytes < size) {
        result.last = session_->read(buffer + result.bytes, size - result.bytes);
        if (result.last.bytes == 0) break;
        result.bytes += result.last.bytes;
        result.last = {};
    }
    return result;
}

// ---- closing ---------------------------------------------------------------------

void TlsTransport::close_notify_now() {
    if (state_ == State::on) session_->shutdown();
}

void TlsTransport::close_notify_then_shutdown() {
    if (host_.tls_host_closed()) return;
    if (state_ == State::on && session_->shutdown() == TlsWant::write) {
        host_.tls_descriptor().async_wait(ReactorDescriptor::wait_write,
                                          [self = host_.tls_self(), this](const asio::error_code& ec) {
                                              if (ec == asio::error::operation_aborted || host_.tls_host_closed()) {
                                                  return;
                                              }
                                              close_notify_then_shutdown();
                                          });
        return;
    }
    ::shutdown(fd_, SHUT_WR);
}

void TlsTransport::stop() {
    state_ = State::stopped;
    cancel_timer();
    aborted_ = std::move(handshake_);
    handshake_.reset();
    session_.reset();  // our BIO never closes the fd
    early_writes_.clear();
}

void TlsTransport::settle_after_close() {
    if (!aborted_) return;
    auto handshake = std::move(*aborted_);
    aborted_.reset();
    handshake.reject(Error(ECONNABORTED, "Connection closed during TLS handshake (ECONNABORTED)"));
}

std::optional<TlsInfo> TlsTransport::info() const {
    if (state_ != State::on) return std::nullopt;
    return session_->info();
}

}  // namespace reactsock::detail
