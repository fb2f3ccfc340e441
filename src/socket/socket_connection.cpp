#include "socket/socket_connection.hpp"

#include "socket/uri.hpp"

#include "tls/session.hpp"

#include <reactsock/error.hpp>

#include <asio/post.hpp>
#include <nlohmann/json.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace reactsock::detail {

namespace {

constexpr std::size_t kReadBufferSize = 64 * 1024;

// One read buffer per thread, shared by every connection of that thread's
// loop: data listeners get a view of it that is valid during the call only.
char* shared_read_buffer() {
    thread_local auto buffer = std::make_unique<char[]>(kReadBufferSize);
    return buffer.get();
}

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

bool would_block(int error_number) {
    return error_number == EAGAIN || error_number == EWOULDBLOCK || error_number == EINTR;
}

}  // namespace

std::size_t TransportSend::operator()(ReactorDescriptor& /*socket*/, std::string_view data,
                                      asio::error_code& ec) const {
    return owner->transport_send(data, ec);
}

bool TransportSend::refused_by_kernel() const noexcept {
    if (owner->tls_state_ == SocketConnection::TlsState::on) return owner->tls_->write_blocked_on_socket();
    return owner->tls_state_ == SocketConnection::TlsState::off;
}

std::size_t SocketConnection::transport_send(std::string_view data, asio::error_code& ec) {
    if (tls_state_ == TlsState::on) return tls_->write(data, ec);
    if (tls_state_ == TlsState::handshaking) {  // not reached: writes wait in early_writes_
        ec = asio::error::would_block;
        return 0;
    }
    if (tls_state_ == TlsState::flushing_plaintext) data = data.substr(0, plaintext_left_);
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
        ec = asio::error_code(errno, asio::error::get_system_category());
        return 0;
    }
    ec = {};
    if (tls_state_ == TlsState::flushing_plaintext) {
        plaintext_left_ -= static_cast<std::size_t>(n);
        if (plaintext_left_ == 0) {
            // The clear text is out: the handshake may start (not from inside the writer).
            tls_state_ = TlsState::handshaking;
            asio::post(loop_->context(), [self = shared_this(this)] {
                if (!self->closed_ && self->tls_state_ == TlsState::handshaking) self->handshake_step();
            });
        }
    }
    return static_cast<std::size_t>(n);
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
    if (handshake_timer_) loop_->cancel_timer(handshake_timer_);
    if (destroy_hook_ != 0) loop_->remove_destroy_hook(destroy_hook_);
    // watcher_'s destructor closes the fd if close() did not.
}

// ---- reading ----------------------------------------------------------------------

void SocketConnection::start_reading() {
    if (!readable_ || paused_ || closed_ || read_posted_) return;
    if (tls_state_ == TlsState::flushing_plaintext || tls_state_ == TlsState::handshaking) return;
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
        if (ec == asio::error::operation_aborted || self->closed_) return;
        self->on_readable();
    });
}

void SocketConnection::on_readable() {
    if (!readable_ || paused_ || closed_) return;
    if (tls_state_ != TlsState::off) {
        if (tls_state_ == TlsState::on) read_tls();
        return;  // the handshake drives its own waits
    }
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
                !closed_ && tls_state_ == TlsState::off) {
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
    peer_ended_ = true;
    emit(ev::end);
    if (closed_) return;
    if (is_writable()) {
        if (!allow_half_open_) end();  // flush what is buffered, then close
    } else if (!writer_->is_ending()) {
        close();  // our side was done already: both directions are
    }
}

void SocketConnection::pause() {
    if (closed_) return;
    paused_ = true;
    // A pending wait stays registered; its completion sees paused_ and
    // returns. Readiness it consumed is recovered by resume()'s first read.
}

void SocketConnection::resume() {
    if (closed_ || !readable_ || !paused_) return;
    paused_ = false;
    maybe_readable_ = true;
    start_reading();
}

// ---- writing ----------------------------------------------------------------------

bool SocketConnection::write(std::string_view data) {
    if (closed_) return false;
    touch();
    if (tls_state_ == TlsState::flushing_plaintext || tls_state_ == TlsState::handshaking) {
        if (end_after_handshake_) return false;
        early_writes_.append(data);  // encrypted once the handshake is done
        if (buffered_amount() < writer_->soft_limit()) return true;
        early_drain_armed_ = true;
        return false;
    }
    return writer_->write(data);
}

void SocketConnection::end(std::string_view data) {
    if (!is_writable()) return;
    touch();
    if (tls_state_ == TlsState::flushing_plaintext || tls_state_ == TlsState::handshaking) {
        early_writes_.append(data);
        end_after_handshake_ = true;
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
    if (closed_) return;
    if (peer_ended_ || !readable_) {
        if (tls_state_ == TlsState::on) tls_->shutdown();  // close_notify, best effort
        close();
        return;
    }
    // Half-close: the peer sees close_notify and EOF; we keep reading until it ends too.
    write_shut_ = true;
    send_close_notify(true);
}

// ---- errors and closing ---------------------------------------------------------

void SocketConnection::fail(const Error& error) {
    if (closed_) return;
    auto keep = keep_alive();
    readable_ = false;
    emit(ev::error, error);
    close();
}

void SocketConnection::fail_errno(int error_number, const char* prefix) {
    if (listener_count(ev::error) == 0) {
        if (closed_) return;
        readable_ = false;
        close();
        return;
    }
    fail(make_errno_error(error_number, prefix));
}

void SocketConnection::close() {
    if (closed_) return;
    auto keep = keep_alive();
    if (handshake_) remember_peer();  // for the handshake's failure message
    closed_ = true;
    readable_ = false;
    writer_->close();
    if (idle_timer_) {
        loop_->cancel_timer(idle_timer_);
        idle_timer_.reset();
    }
    if (destroy_hook_ != 0) {
        loop_->remove_destroy_hook(std::exchange(destroy_hook_, 0));
    }
    if (handshake_timer_) {
        loop_->cancel_timer(handshake_timer_);
        handshake_timer_.reset();
    }
    std::optional<Deferred<std::shared_ptr<Connection>>> handshake = std::move(handshake_);
    handshake_.reset();
    tls_.reset();  // our BIO never closes the fd
    early_writes_.clear();
    // Pending waits end (operation_aborted, on a later turn) and nothing new
    // starts: everything checks closed_. The descriptor itself stays open
    // until the `close` listeners have run, so that they can still ask for
    // the addresses, which costs the two system calls only when asked.
    asio::error_code ignored;
    watcher_.cancel(ignored);
    emitting_close_ = true;
    try {
        emit(ev::close);
    } catch (...) {
        emitting_close_ = false;
        watcher_.close(ignored);
        fd_ = -1;
        throw;
    }
    emitting_close_ = false;
    watcher_.close(ignored);
    fd_ = -1;
    remove_all_listeners();
    if (handshake) handshake->reject(Error(ECONNABORTED, "Connection closed during TLS handshake (ECONNABORTED)"));
}


// ---- TLS ---------------------------------------------------------------------------

std::optional<Error> SocketConnection::tls_unavailable() const {
    if (closed_) return Error(EBADF, "Connection is closed (EBADF)");
    if (tls_state_ != TlsState::off) return Error(EISCONN, "Connection is already secure or securing (EISCONN)");
    if (!is_writable() || !readable_) return Error(ENOTCONN, "Connection is ending, cannot start TLS (ENOTCONN)");
    return std::nullopt;
}

Promise<std::shared_ptr<Connection>> SocketConnection::start_tls(StartTlsParams params) {
    using Result = std::shared_ptr<Connection>;
    if (auto error = tls_unavailable()) return reject<Result>(*error);
    try {
        tls_ = std::make_unique<TlsSession>(std::move(params.context), fd_, params.peer_name,
                                            std::move(params.session_key), std::move(params.unread));
    } catch (const Error& error) {
        return reject<Result>(error);
    }
    std::weak_ptr<SocketConnection> weak = shared_this(this);
    handshake_.emplace([weak](Deferred<Result>& self) {
        self.reject(Error(ECONNABORTED, "TLS handshake cancelled (ECONNABORTED)"));
        if (auto connection = weak.lock()) {
            connection->handshake_.reset();
            connection->close();
        }
    });
    auto promise = handshake_->promise();
    if (params.timeout > 0) {
        handshake_timer_ = loop_->add_timer(params.timeout, [weak, seconds = params.timeout] {
            if (auto connection = weak.lock()) {
                connection->handshake_timer_.reset();
                connection->fail_handshake(Error(ETIMEDOUT, "TLS handshake timed out after " +
                                                                format_seconds(seconds) + " seconds (ETIMEDOUT)"));
            }
        });
    }
    plaintext_left_ = writer_->buffered_amount();
    if (plaintext_left_ > 0) {
        tls_state_ = TlsState::flushing_plaintext;  // transport_send() starts the handshake
    } else {
        tls_state_ = TlsState::handshaking;
        asio::post(loop_->context(), [self = shared_this(this)] {
            if (!self->closed_ && self->tls_state_ == TlsState::handshaking) self->handshake_step();
        });
    }
    return promise;
}

void SocketConnection::handshake_step() {
    if (closed_ || tls_state_ != TlsState::handshaking || tls_wait_pending_) return;
    auto keep = keep_alive();
    const TlsSession::Step step = tls_->handshake();
    if (step.done) {
        finish_handshake();
    } else if (step.error) {
        fail_handshake(*step.error);
    } else {
        wait_for_handshake(step.want == TlsWant::write);
    }
}

void SocketConnection::wait_for_handshake(bool write) {
    tls_wait_pending_ = true;
    watcher_.async_wait(write ? ReactorDescriptor::wait_write
                              : ReactorDescriptor::wait_read,
                        [self = shared_this(this)](const asio::error_code& ec) {
                            self->tls_wait_pending_ = false;
                            if (ec == asio::error::operation_aborted || self->closed_) return;
                            if (ec) {
                                self->fail_handshake(make_errno_error(ec.value(), ""));
                                return;
                            }
                            self->handshake_step();
                        });
}

void SocketConnection::finish_handshake() {
    tls_state_ = TlsState::on;
    touch();
    if (handshake_timer_) {
        loop_->cancel_timer(handshake_timer_);
        handshake_timer_.reset();
    }
    // The handshake may have read application data along with its last
    // records: read before waiting on the fd.
    maybe_readable_ = true;
    bool drain_due = false;
    if (!early_writes_.empty()) {
        std::string pending;
        pending.swap(early_writes_);
        const bool below_limit = writer_->write(pending);
        drain_due = early_drain_armed_ && below_limit;
        early_drain_armed_ = false;
    }
    if (end_after_handshake_) {
        end_after_handshake_ = false;
        writer_->end({});
    }
    auto keep = keep_alive();
    if (handshake_) {
        auto deferred = std::move(*handshake_);
        handshake_.reset();
        deferred.resolve(std::shared_ptr<Connection>(shared_this(this)));
    }
    if (closed_) return;
    if (drain_due) emit(ev::drain);
    start_reading();
}

void SocketConnection::fail_handshake(const Error& error) {
    if (closed_) return;
    auto keep = keep_alive();
    remember_peer();
    std::optional<Deferred<std::shared_ptr<Connection>>> handshake = std::move(handshake_);
    handshake_.reset();
    close();
    if (handshake) handshake->reject(error);
}

void SocketConnection::read_tls() {
    char* buffer = shared_read_buffer();
    std::size_t total = 0;
    TlsSession::Read last;
    // Everything OpenSSL can give now, up to a full buffer: decrypted bytes
    // must not wait for the fd to become readable again (they never would).
    while (total < kReadBufferSize) {
        last = tls_->read(buffer + total, kReadBufferSize - total);
        if (last.bytes == 0) break;
        total += last.bytes;
        last = {};
    }
    auto keep = keep_alive();
    if (total > 0) {
        touch();
        emit(ev::data, std::string_view(buffer, total));
        if (closed_ || !readable_) return;
        if (paused_) {
            maybe_readable_ = true;  // resume() reads again and sees the rest
            return;
        }
    }
    if (last.eof) {
        handle_eof();
    } else if (last.error) {
        fail(*last.error);
    } else if (last.want == TlsWant::write) {
        // OpenSSL must send something (a key update answer) before reading on.
        read_waiting_ = true;
        watcher_.async_wait(ReactorDescriptor::wait_write,
                            [self = shared_this(this)](const asio::error_code& ec) {
                                self->read_waiting_ = false;
                                if (ec == asio::error::operation_aborted || self->closed_) return;
                                self->on_readable();
                            });
    } else {
        // want_read: the socket is drained; a full buffer: maybe more.
        maybe_readable_ = last.want != TlsWant::read;
        start_reading();
    }
}

void SocketConnection::send_close_notify(bool then_shutdown) {
    if (closed_) return;
    if (tls_ && tls_state_ == TlsState::on && tls_->shutdown() == TlsWant::write) {
        watcher_.async_wait(ReactorDescriptor::wait_write,
                            [self = shared_this(this), then_shutdown](const asio::error_code& ec) {
                                if (ec == asio::error::operation_aborted || self->closed_) return;
                                self->send_close_notify(then_shutdown);
                            });
        return;
    }
    if (then_shutdown) ::shutdown(fd_, SHUT_WR);
}

std::optional<TlsInfo> SocketConnection::tls_info() const {
    if (tls_state_ != TlsState::on || !tls_) return std::nullopt;
    return tls_->info();
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
    if (seconds > 0 && !closed_) {
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
    if (closed_ || idle_timeout_ <= 0) return;
    const double idle = static_cast<double>(now_ns() - last_activity_ns_) / 1e9;
    if (idle + 1e-6 < idle_timeout_) {
        arm_idle_timer(idle_timeout_ - idle);  // there was activity: wait for the rest
        return;
    }
    auto keep = keep_alive();
    emit(ev::timeout);
    if (!closed_ && idle_timeout_ > 0 && !idle_timer_) {
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

std::optional<std::string> SocketConnection::handshake_peer() const {
    remember_peer();
    return remote_;
}

std::optional<std::string> SocketConnection::secure_scheme(std::optional<std::string> address) const {
    if (address && tls_state_ == TlsState::on && address->rfind("tcp://", 0) == 0) address->replace(0, 3, "tls");
    return address;
}

std::optional<std::string> SocketConnection::remote_address() const {
    if (closed_ && !emitting_close_) return std::nullopt;
    remember_peer();
    return secure_scheme(remote_);
}

std::optional<std::string> SocketConnection::local_address() const {
    if (closed_ && !emitting_close_) return std::nullopt;
    if (!local_ && fd_ >= 0) local_ = local_address_of(fd_);
    return secure_scheme(local_);
}

void SocketConnection::require_open() const {
    if (closed_) throw Error(EBADF, "Connection is closed (EBADF)");
}

void SocketConnection::set_option(int level, int name, int value) {
    require_open();
    if (::setsockopt(fd_, level, name, &value, sizeof value) != 0) {
        throw make_errno_error(errno, "Unable to set socket option: ");
    }
}

int SocketConnection::get_option(int level, int name) const {
    require_open();
    int value = 0;
    socklen_t length = sizeof value;
    if (::getsockopt(fd_, level, name, &value, &length) != 0) {
        throw make_errno_error(errno, "Unable to get socket option: ");
    }
    return value;
}

void SocketConnection::set_no_delay(bool enable) {
    require_open();
    if (unix_) return;
    set_option(IPPROTO_TCP, TCP_NODELAY, enable ? 1 : 0);
}

void SocketConnection::set_keep_alive(bool enable, int idle_seconds, int interval_seconds,
                                      int probe_count) {
    require_open();
    if (idle_seconds < 0 || interval_seconds < 0 || probe_count < 0) {
        throw std::invalid_argument("Keep-alive times and count must not be negative");
    }
    set_option(SOL_SOCKET, SO_KEEPALIVE, enable ? 1 : 0);
    if (!enable || unix_) return;
    if (idle_seconds > 0) set_option(IPPROTO_TCP, TCP_KEEPIDLE, idle_seconds);
    if (interval_seconds > 0) set_option(IPPROTO_TCP, TCP_KEEPINTVL, interval_seconds);
    if (probe_count > 0) set_option(IPPROTO_TCP, TCP_KEEPCNT, probe_count);
}

nlohmann::json SocketConnection::info() const {
    nlohmann::json out = nlohmann::json::object();
    const auto remote = remote_address();
    const auto local = local_address();
    out["remote"] = remote ? nlohmann::json(*remote) : nlohmann::json(nullptr);
    out["local"] = local ? nlohmann::json(*local) : nlohmann::json(nullptr);
    auto split = [&out](const std::optional<std::string>& uri, const char* prefix) {
        if (!uri) return;
        auto parsed = parse_uri(*uri);
        if (!parsed) return;
        if (parsed->scheme == "unix") {
            out[std::string(prefix) + "_path"] = uri->substr(7);
            return;
        }
        out[std::string(prefix) + "_address"] = parsed->host;
        if (parsed->port) out[std::string(prefix) + "_port"] = *parsed->port;
        if (std::string(prefix) == "local") {
            out["family"] = parsed->host.find(':') == std::string::npos ? "ipv4" : "ipv6";
        }
    };
    if (unix_) out["family"] = "unix";
    split(remote, "remote");
    split(local, "local");
    out["secure"] = is_secure();
    if (auto tls = tls_info()) out["tls"] = *tls;
    out["readable"] = readable_;
    out["writable"] = is_writable();
    out["buffered"] = buffered_amount();
    out["closed"] = closed_;
    return out;
}

}  // namespace reactsock::detail
