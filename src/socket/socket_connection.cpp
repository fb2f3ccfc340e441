#include "socket_connection.hpp"

#include "uri.hpp"

#include <reactsock/error.hpp>

#include <asio/post.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
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

std::size_t SocketSend::operator()(asio::posix::stream_descriptor& socket, std::string_view data,
                                   asio::error_code& ec) const {
    const ssize_t n = ::send(socket.native_handle(), data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
        ec = asio::error_code(errno, asio::error::get_system_category());
        return 0;
    }
    ec = {};
    return static_cast<std::size_t>(n);
}

std::shared_ptr<SocketConnection> SocketConnection::adopt(Loop& loop, int fd) {
    auto connection = std::make_shared<SocketConnection>(Passkey{}, loop, fd);
    std::weak_ptr<SocketConnection> weak = connection;
    connection->destroy_hook_ = loop.add_destroy_hook([weak] {
        if (auto self = weak.lock()) {
            self->destroy_hook_ = 0;  // being run: nothing to remove
            self->close();
        }
    });
    connection->start_reading();
    return connection;
}

SocketConnection::SocketConnection(Passkey, Loop& loop, int fd)
    : loop_(&loop), watcher_(loop.context()), fd_(fd) {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0 && (flags & O_NONBLOCK) == 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
        unix_ = address.ss_family == AF_UNIX;
    }
    watcher_.assign(fd);  // owns the fd from here on
    writer_.emplace(watcher_, static_cast<WriterEvents&>(*this), 65536);
}

SocketConnection::~SocketConnection() {
    if (idle_timer_) loop_->cancel_timer(idle_timer_);
    if (destroy_hook_ != 0) loop_->remove_destroy_hook(destroy_hook_);
    // watcher_'s destructor closes the fd if close() did not.
}

// ---- reading ----------------------------------------------------------------------

void SocketConnection::start_reading() {
    if (!readable_ || paused_ || closed_ || read_waiting_ || read_posted_) return;
    if (maybe_readable_) {
        read_posted_ = true;
        asio::post(loop_->context(), [self = shared_this(this)] {
            self->read_posted_ = false;
            self->on_readable();
        });
        return;
    }
    read_waiting_ = true;
    watcher_.async_wait(asio::posix::stream_descriptor::wait_read,
                        [self = shared_this(this)](const asio::error_code& ec) {
                            self->read_waiting_ = false;
                            if (ec == asio::error::operation_aborted || self->closed_) return;
                            self->on_readable();
                        });
}

void SocketConnection::on_readable() {
    if (!readable_ || paused_ || closed_) return;
    char* buffer = shared_read_buffer();
    const ssize_t n = ::recv(fd_, buffer, kReadBufferSize, 0);
    if (n > 0) {
        // A short read drained the socket: the next data raises a new edge.
        maybe_readable_ = static_cast<std::size_t>(n) == kReadBufferSize;
        touch();
        auto keep = keep_alive();
        emit(ev::data, std::string_view(buffer, static_cast<std::size_t>(n)));
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
    fail(make_errno_error(error_number, "Unable to read from stream: "));
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
    return writer_->write(data);
}

void SocketConnection::end(std::string_view data) {
    if (!is_writable()) return;
    touch();
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
        close();
        return;
    }
    // Half-close: the peer sees EOF; we keep reading until it ends too.
    ::shutdown(fd_, SHUT_WR);
    write_shut_ = true;
}

// ---- errors and closing ---------------------------------------------------------

void SocketConnection::fail(const Error& error) {
    if (closed_) return;
    auto keep = keep_alive();
    readable_ = false;
    emit(ev::error, error);
    close();
}

void SocketConnection::close() {
    if (closed_) return;
    auto keep = keep_alive();
    cache_addresses();  // still readable inside `close` listeners
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
    asio::error_code ignored;
    watcher_.close(ignored);  // cancels pending waits and closes the fd
    fd_ = -1;
    emitting_close_ = true;
    emit(ev::close);
    emitting_close_ = false;
    remove_all_listeners();
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

void SocketConnection::cache_addresses() const {
    if (fd_ < 0) return;
    if (!remote_) remote_ = remote_address_of(fd_);
    if (!local_) local_ = local_address_of(fd_);
}

std::optional<std::string> SocketConnection::remote_address() const {
    if (closed_ && !emitting_close_) return std::nullopt;
    if (!remote_ && fd_ >= 0) remote_ = remote_address_of(fd_);
    return remote_;
}

std::optional<std::string> SocketConnection::local_address() const {
    if (closed_ && !emitting_close_) return std::nullopt;
    if (!local_ && fd_ >= 0) local_ = local_address_of(fd_);
    return local_;
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
    out["readable"] = readable_;
    out["writable"] = is_writable();
    out["buffered"] = buffered_amount();
    out["closed"] = closed_;
    return out;
}

}  // namespace reactsock::detail
