#include "socket/listener.hpp"

#include <asio/post.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace reactsock::detail {

namespace {
constexpr int kBatch = 64;
constexpr double kFirstBackOff = 0.05;
constexpr double kMaxBackOff = 1.0;

bool out_of_resources(int error_number) {
    return error_number == EMFILE || error_number == ENFILE || error_number == ENOBUFS ||
           error_number == ENOMEM;
}
}  // namespace

int open_socket(int family, const std::string& what) {
    const int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw make_errno_error(errno, what);
    return fd;
}

Listener::Listener(Loop& loop, int fd, AcceptHandler on_accept, ErrorHandler on_error)
    : loop_(&loop), watcher_(loop.context()), fd_(fd), on_accept_(std::move(on_accept)),
      on_error_(std::move(on_error)) {
    watcher_.assign(fd);
}

Listener::~Listener() {
    if (back_off_timer_) loop_->cancel_timer(back_off_timer_);
}

void Listener::start() { resume(); }

void Listener::pause() {
    if (closed_) return;
    paused_ = true;
    if (waiting_) {
        // Cancel the wait so that a paused server does not keep the loop busy;
        // the readiness it may have consumed is recovered by resume().
        asio::error_code ignored;
        watcher_.cancel(ignored);
    }
}

void Listener::resume() {
    if (closed_ || !paused_) return;
    paused_ = false;
    if (!backing_off_) schedule(true);
}

void Listener::close() {
    if (closed_) return;
    closed_ = true;
    if (back_off_timer_) {
        loop_->cancel_timer(back_off_timer_);
        back_off_timer_.reset();
    }
    asio::error_code ignored;
    watcher_.close(ignored);
    fd_ = -1;
    // The handlers may capture their owner; drop them now.
    on_accept_ = nullptr;
    on_error_ = nullptr;
}

void Listener::schedule(bool speculative) {
    if (closed_ || paused_ || waiting_ || posted_ || backing_off_) return;
    if (speculative) {
        posted_ = true;
        asio::post(loop_->context(), [self = shared_from_this()] {
            self->posted_ = false;
            self->accept_batch();
        });
        return;
    }
    waiting_ = true;
    watcher_.async_wait(asio::posix::stream_descriptor::wait_read,
                        [self = shared_from_this()](const asio::error_code& ec) {
                            self->waiting_ = false;
                            if (self->closed_) return;
                            if (ec) {
                                // Cancelled by pause(); if resumed meanwhile, go on.
                                self->schedule(true);
                                return;
                            }
                            self->accept_batch();
                        });
}

void Listener::accept_batch() {
    auto self = shared_from_this();  // a handler may drop the owner
    for (int i = 0; i < kBatch; ++i) {
        if (closed_ || paused_) return;
        sockaddr_storage peer{};
        socklen_t length = sizeof peer;
        const int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            error_reported_ = false;
            back_off_seconds_ = 0;
            on_accept_(fd, reinterpret_cast<const sockaddr*>(&peer), length);
            continue;
        }
        const int error_number = errno;
        if (error_number == EAGAIN || error_number == EWOULDBLOCK) {
            schedule(false);
            return;
        }
        if (error_number == EINTR || error_number == ECONNABORTED) continue;
        if (out_of_resources(error_number)) {
            if (!error_reported_) {
                error_reported_ = true;
                if (on_error_) on_error_(make_errno_error(error_number, "Unable to accept new connection: "));
            }
            back_off();
            return;
        }
        // Other failures (EPERM from a firewall, EPROTO, ...) concern one
        // connection: report and go on.
        if (on_error_) on_error_(make_errno_error(error_number, "Unable to accept new connection: "));
    }
    schedule(true);  // a full batch: there may be more, after other work
}

void Listener::back_off() {
    if (closed_) return;
    backing_off_ = true;
    back_off_seconds_ = back_off_seconds_ == 0 ? kFirstBackOff : std::min(back_off_seconds_ * 2, kMaxBackOff);
    std::weak_ptr<Listener> weak = shared_from_this();
    back_off_timer_ = loop_->add_timer(back_off_seconds_, [weak] {
        auto self = weak.lock();
        if (!self) return;
        self->back_off_timer_.reset();
        self->backing_off_ = false;
        self->schedule(true);
    });
}

}  // namespace reactsock::detail
