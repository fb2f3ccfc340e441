// Private: the accept loop shared by TcpServer, UnixServer and FdServer.
//
// Accepts in batches on readiness (edge-triggered reactor: it accepts until
// EAGAIN, or posts a continuation after a full batch to stay fair to other
// work). When the process runs out of descriptors (EMFILE, ENFILE, ENOBUFS,
// ENOMEM) it reports one error per burst and retries on a back-off timer
// (50 ms doubling to 1 s) instead of spinning; the first successful accept
// ends the burst.
#pragma once

#include <reactsock/error.hpp>
#include <reactsock/loop/loop.hpp>

#include <asio/posix/stream_descriptor.hpp>

#include <sys/socket.h>

#include <functional>
#include <memory>

namespace reactsock::detail {

class Listener : public std::enable_shared_from_this<Listener> {
public:
    // The accepted descriptor and the peer address accept4() reported
    // (length 0 if none).
    using AcceptHandler = std::function<void(int fd, const sockaddr* peer, socklen_t length)>;
    using ErrorHandler = std::function<void(const Error&)>;

    // Takes ownership of the listening socket `fd`.
    Listener(Loop& loop, int fd, AcceptHandler on_accept, ErrorHandler on_error);
    ~Listener();
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

    void start();
    void pause();
    void resume();
    // Stops accepting, closes the socket and drops the handlers. Idempotent.
    void close();

    [[nodiscard]] bool is_closed() const noexcept { return closed_; }
    [[nodiscard]] int fd() const noexcept { return fd_; }

private:
    void schedule(bool speculative);
    void accept_batch();
    void back_off();

    Loop* loop_;
    asio::posix::stream_descriptor watcher_;
    int fd_;
    AcceptHandler on_accept_;
    ErrorHandler on_error_;
    bool paused_ = true;
    bool closed_ = false;
    bool waiting_ = false;   // async_wait pending
    bool posted_ = false;    // speculative accept posted
    bool backing_off_ = false;
    bool error_reported_ = false;  // one error event per burst of EMFILE & co.
    double back_off_seconds_ = 0;
    TimerHandle back_off_timer_;
};

// Creates a non-blocking, close-on-exec socket; throws reactsock::Error.
int open_socket(int family, const std::string& what);

}  // namespace reactsock::detail
