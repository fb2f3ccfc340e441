#include "socket/socket_connection.hpp"

#include "socket/socket_options.hpp"
#include "socket/uri.hpp"

#include <reactsock/error.hpp>

#include <asio/post.hpp>
#include <nlohmann/json.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace reactsock::detail {

namespace {

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

bool would_block(int error_number) {
    return error_number == EAGAIN || error_number == EWOULDBLOCK || error_number == EINTR;
}

}  // namespace

char* SocketConnection::shared_read_buffer() {
    thread_local auto buffer = std::make_unique<char[]>(kReadBufferSize);
    return buffer.get();
}

std::shared_ptr<SocketConnection> SocketConnection::adopt(Loop& loop, int fd, int family, const sockaddr* peer,
                                                           socklen_t peer_length) {
    auto connection = std::make_shared<SocketConnection>(Passkey{}, loop, fd, family);
    if (peer != nullptr && peer_length > 0 && peer_length <= sizeof connection->peer_ &&
        (peer->sa_family == AF_INET || peer->sa_family == AF_INET6)) {
        std::memcpy(&connection->peer_, peer, peer_length);
        connection->peer_length_ = peer_length;
    }
    // A raw pointer (small enough for std::function to hold without an
    // allocation) is safe: the destructor removes the hook.
    SocketConnection* raw = connection.get();
    connection->destroy_hook_ = loop.add_destroy_hook([raw] {
        raw->destroy_hook_ = 0;  // being run: nothing to remove
        raw->close();            // keeps itself alive while closing
    });
    connection->start_reading();
    return connection;
}

SocketConnection::SocketConnection(Passkey, Loop& loop, int fd, int family)
    : loop_(&loop), watcher_(loop.context()), fd_(fd) {
    // Made non-blocking by the writer (one ioctl), whatever the caller did.
    if (family == 0) {
        sockaddr_storage address{};
        socklen_t length = sizeof address;
        if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) family = address.ss_family;
    }
    unix_ = family == AF_UNIX;
    watcher_.assign(fd);  // owns the fd from here on
    writer_.emplace(watcher_, static_cast<WriterEvents&>(*this), 65536, TransportSend{this});
}

SocketConnection::~SocketConnection() {
    if (idle_timer_) loop_->cancel_timer(idle_timer_);
    if (destroy_hook_ != 0) loop_->remove_destroy_hook(destroy_hook_);
    // watcher_'s destructor closes the fd if close() did not.
}

// ---- reading ----------------------------------------------------------------------

void SocketConnection::start_reading() {
    if (!readable_ || paused_ || closed() || read_posted_) return;
    if (tls_ && tls_->securing()) return;  // the handshake drives its own waits
    // Read even if a wait is pending: it reports only readiness still to
    // come. A STARTTLS upgrade begun while the plaintext read loop waited
    // keeps that wait; if the handshake then read the peer's last records
    // and data along with them, the socket is drained and the data is in
    // OpenSSL's buffer: no edge will ever announce it.
    if (maybe_readable_) {
        read_posted_ = true;
        asio::post(loop_->context(), [self = shared_this(this)] {
            self->read_posted_ = false;
            self->on_readable();
        });
        return;
    }
    // Here the last read found the socket drained (EAGAIN, or SSL_read
    // wanting more after that): wait for new data, unless a wait is pending.
    if (read_waiting_) return;
    read_waiting_ = true;
    watcher_.async_wait_edge(ReactorDescriptor::wait_read, [self = shared_this(this)](const asio::error_code& ec) {
        self->read_waiting_ = false;
        if (ec == asio::error::operation_aborted || self->closed()) return;
        self->on_readable();
    });
}

void SocketConnection::on_readable() {
    if (!readable_ || paused_ || closed()) return;
    if (!tls_) {
        read_plain();
    } else if (tls_->is_on()) {
        read_secure();
    }  // else: the handshake drives its own waits
}

void SocketConnection::read_plain() {
    char* buffer = shared_read_buffer();
    auto keep = keep_alive();  // across the listeners and the read after them
    for (bool retried = false;; retried = true) {
        const ssize_t n = ::recv(fd_, buffer, kReadBufferSize, 0);
        if (n > 0) {
            touch();
            emit(ev::data, std::string_view(buffer, static_cast<std::size_t>(n)));
            // A short read does not prove the socket drained: a FIN queued
            // behind the data raised no edge of its own. So read once more
            // now (EAGAIN: drained, and the next data raises an edge; 0: the
            // FIN). After a full buffer or a second read with data, let the
            // other connections have their turn first.
            if (!retried && static_cast<std::size_t>(n) < kReadBufferSize && readable_ && !paused_ &&
                !closed() && !tls_) {
                continue;
            }
            maybe_readable_ = true;
            start_reading();
            return;
        }
        if (n == 0) {
            handle_eof();
            return;
        }
        const int error_number = errno;
        if (would_block(error_number)) {
            maybe_readable_ = error_number == EINTR;
            start_reading();
            return;
        }
        fail_errno(error_number, "Unable to read from stream: ");
        return;
    }
}

void SocketConnection::handle_eof() {
    auto keep = keep_alive();
    readable_ = false;
    emit(ev::end);
    if (closed()) return;
    if (is_writable()) {
        if (!allow_half_open_) end();  // flush what is buffered, then close
    } else if (!writer_->is_ending()) {
        close();  // our side was done already: both directions are
    }
}

void SocketConnection::pause() {
    if (closed()) return;
    paused_ = true;
    // A pending wait stays registered; its completion sees paused_ and
    // returns. Readiness it consumed is recovered by resume()'s first read.
}

void SocketConnection::resume() {
    if (closed() || !readable_ || !paused_) return;
    paused_ = false;
    maybe_readable_ = true;
    start_reading();
}

// ---- writing ----------------------------------------------------------------------

bool SocketConnection::write(std::string_view data) {
    if (closed()) return false;
    touch();
    if (tls_ && tls_->securing()) return tls_->write_early(data, writer_->buffered_amount(), writer_->soft_limit());
    return writer_->write(data);
}

void SocketConnection::end(std::string_view data) {
    if (!is_writable()) return;
    touch();
    if (tls_ && tls_->securing()) {
        tls_->end_early(data);
        return;
    }
    writer_->end(data);  // on_writer_finished() once flushed, maybe right now
}

void SocketConnection::on_writer_drain() {
    touch();
    auto keep = keep_alive();
    emit(ev::drain);
}

void SocketConnection::on_writer_error(const Error& error) { fail(error); }

void SocketConnection::on_writer_finished() { finish_write_side(); }

void SocketConnection::finish_write_side() {
    if (closed()) return;
    if (!readable_) {  // the peer ended (or reading failed): both directions are done
        if (tls_) tls_->close_notify_now();  // best effort
        close();
        return;
    }
    // Half-close: the peer sees (close_notify and) EOF; we keep reading until it ends too.
    if (tls_) {
        tls_->close_notify_then_shutdown();
    } else {
        ::shutdown(fd_, SHUT_WR);
    }
}

// ---- errors and closing ---------------------------------------------------------

void SocketConnection::fail(const Error& error) {
    if (closed()) return;
    auto keep = keep_alive();
    readable_ = false;
    emit(ev::error, error);
    close();
}

void SocketConnection::fail_errno(int error_number, const char* prefix) {
    if (listener_count(ev::error) == 0) {
        if (closed()) return;
        readable_ = false;
        close();
        return;
    }
    fail(make_errno_error(error_number, prefix));
}

void SocketConnection::close() {
    if (closed()) return;
    auto keep = keep_alive();
    if (tls_ && tls_->handshake_pending()) remember_peer();  // for the handshake's failure message
    life_ = Life::closing;
    readable_ = false;
    writer_->close();
    if (idle_timer_) {
        loop_->cancel_timer(idle_timer_);
        idle_timer_.reset();
    }
    if (destroy_hook_ != 0) {
        loop_->remove_destroy_hook(std::exchange(destroy_hook_, 0));
    }
    if (tls_) tls_->stop();
    // Pending waits end (operation_aborted, on a later turn) and nothing new
    // starts: everything checks closed(). The descriptor itself stays open
    // until the `close` listeners have run, so that they can still ask for
    // the addresses, which costs the two system calls only when asked.
    asio::error_code ignored;
    watcher_.cancel(ignored);
    try {
        emit(ev::close);
    } catch (...) {
        life_ = Life::closed;
        watcher_.close(ignored);
        fd_ = -1;
        throw;
    }
    life_ = Life::closed;
    watcher_.close(ignored);
    fd_ = -1;
    remove_all_listeners();
    if (tls_) tls_->settle_after_close();
}

// ---- idle timeout ---------------------------------------------------------------

void SocketConnection::touch() noexcept {
    if (idle_timeout_ > 0) last_activity_ns_ = now_ns();
}

void SocketConnection::set_timeout(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) {
        throw std::invalid_argument("Connection timeout must be a finite number of seconds >= 0, got " +
                                    format_seconds(seconds));
    }
    if (idle_timer_) {
        loop_->cancel_timer(idle_timer_);
        idle_timer_.reset();
    }
    idle_timeout_ = seconds;
    if (seconds > 0 && !closed()) {
        last_activity_ns_ = now_ns();
        arm_idle_timer(seconds);
    }
}

void SocketConnection::arm_idle_timer(double seconds) {
    // Weak: the timer must not keep a connection alive.
    std::weak_ptr<SocketConnection> weak = shared_this(this);
    idle_timer_ = loop_->add_timer(seconds, [weak] {
        if (auto self = weak.lock()) self->on_idle_timer();
    });
}

void SocketConnection::on_idle_timer() {
    idle_timer_.reset();
    if (closed() || idle_timeout_ <= 0) return;
    const double idle = static_cast<double>(now_ns() - last_activity_ns_) / 1e9;
    if (idle + 1e-6 < idle_timeout_) {
        arm_idle_timer(idle_timeout_ - idle);  // there was activity: wait for the rest
        return;
    }
    auto keep = keep_alive();
    emit(ev::timeout);
    if (!closed() && idle_timeout_ > 0 && !idle_timer_) {
        last_activity_ns_ = now_ns();
        arm_idle_timer(idle_timeout_);
    }
}

// ---- addresses, options, info ---------------------------------------------------

void SocketConnection::remember_peer() const {
    if (remote_) return;
    if (peer_length_ > 0) {
        remote_ = format_sockaddr(reinterpret_cast<const sockaddr*>(&peer_), peer_length_);
    } else if (fd_ >= 0) {
        remote_ = remote_address_of(fd_);
    }
}

std::optional<std::string> SocketConnection::secure_scheme(std::optional<std::string> address) const {
    if (address && is_secure() && address->rfind("tcp://", 0) == 0) address->replace(0, 3, "tls");
    return address;
}

std::optional<std::string> SocketConnection::remote_address() const {
    if (life_ == Life::closed) return std::nullopt;
    remember_peer();
    return secure_scheme(remote_);
}

std::optional<std::string> SocketConnection::local_address() const {
    if (life_ == Life::closed) return std::nullopt;
    if (!local_ && fd_ >= 0) local_ = local_address_of(fd_);
    return secure_scheme(local_);
}

int SocketConnection::open_fd() const {
    if (closed()) throw Error(EBADF, "Connection is closed (EBADF)");
    return fd_;
}

void SocketConnection::set_option(int level, int name, int value) { set_int_option(open_fd(), level, name, value); }

int SocketConnection::get_option(int level, int name) const { return get_int_option(open_fd(), level, name); }

void SocketConnection::set_no_delay(bool enable) {
    const int fd = open_fd();
    if (!unix_) set_int_option(fd, IPPROTO_TCP, TCP_NODELAY, enable ? 1 : 0);
}

void SocketConnection::set_keep_alive(const KeepAliveOptions& options) { apply_keep_alive(open_fd(), !unix_, options); }

nlohmann::json SocketConnection::info() const { return describe_connection(*this, unix_); }

}  // namespace reactsock::detail
