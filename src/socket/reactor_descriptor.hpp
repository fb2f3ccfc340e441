// Private: readiness of a connected socket, straight from Asio's reactor.
//
// asio::posix::stream_descriptor::async_wait() is never speculative, so
// Asio re-arms the descriptor with epoll_ctl(EPOLL_CTL_MOD) on every wait, to
// learn about readiness that is already there. A connection reads with
// recv() itself and only waits after a read found the socket drained
// (SocketConnection: a short read or EAGAIN), and then the edge-triggered
// registration reports the next data anyway: that is exactly what Asio relies
// on for its own async_read_some(). async_wait_edge() queues such a wait
// without the re-arm: one system call less per message (and per wait for
// writability after the kernel refused data).
//
// Same interface as the stream_descriptor it replaces (assign, non_blocking,
// async_wait, cancel, close, get_executor), so BufferedWriter takes it too.
// It uses Asio's epoll reactor directly (asio/detail, stable across the 1.2x
// releases); on any other configuration it is a stream_descriptor and
// async_wait_edge() is async_wait().
//
// The descriptor must be one this process created (accept4/socket with
// SOCK_CLOEXEC): close() lets the kernel drop the epoll registration (no
// EPOLL_CTL_DEL), as Asio does for its own sockets.
#pragma once

#include <asio/io_context.hpp>
#include <asio/posix/descriptor_base.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/version.hpp>

#include <utility>

#if defined(ASIO_HAS_EPOLL) && !defined(ASIO_HAS_IO_URING_AS_DEFAULT) && ASIO_VERSION >= 102200 && \
    ASIO_VERSION < 103200
#define REACTSOCK_DIRECT_REACTOR 1
#include <asio/detail/epoll_reactor.hpp>
#include <asio/detail/reactor_op.hpp>
#include <asio/recycling_allocator.hpp>
#endif

namespace reactsock::detail {

#if defined(REACTSOCK_DIRECT_REACTOR)

class ReactorDescriptor {
public:
    using wait_type = asio::posix::descriptor_base::wait_type;
    static constexpr wait_type wait_read = asio::posix::descriptor_base::wait_read;
    static constexpr wait_type wait_write = asio::posix::descriptor_base::wait_write;
    using executor_type = asio::io_context::executor_type;

    explicit ReactorDescriptor(asio::io_context& io);
    ~ReactorDescriptor();
    ReactorDescriptor(const ReactorDescriptor&) = delete;
    ReactorDescriptor& operator=(const ReactorDescriptor&) = delete;

    /// Registers `fd` with the reactor and owns it from then on; throws
    /// asio::system_error if the reactor refuses it.
    void assign(int fd);
    void non_blocking(bool mode, asio::error_code& ec);

    /// Calls `handler(ec)` once the descriptor is ready (readiness that is
    /// already there included), or with operation_aborted after cancel/close.
    template <class Handler>
    void async_wait(wait_type type, Handler&& handler) {
        start(type == wait_write ? reactor::write_op : reactor::read_op, std::forward<Handler>(handler), false);
    }

    /// Readiness that arrives after a read found the socket drained (EAGAIN)
    /// or a write found it full (EAGAIN or a partial write): no re-arm.
    template <class Handler>
    void async_wait_edge(wait_type type, Handler&& handler) {
        start(type == wait_write ? reactor::write_op : reactor::read_op, std::forward<Handler>(handler), true);
    }

    /// Pending waits complete with operation_aborted (on a later turn).
    void cancel(asio::error_code& ec);
    /// Cancels and closes the descriptor.
    void close(asio::error_code& ec);
    [[nodiscard]] executor_type get_executor() const noexcept { return io_->get_executor(); }

private:
    using reactor = asio::detail::epoll_reactor;

    // A wait: "performing" it means "the descriptor is ready", except for
    // the speculative attempt start_op() makes while queueing it.
    template <class Handler>
    class WaitOp : public asio::detail::reactor_op {
    public:
        explicit WaitOp(Handler handler)
            : reactor_op(asio::error_code(), &WaitOp::do_perform, &WaitOp::do_complete),
              handler_(std::move(handler)) {}
        bool starting = true;

    private:
        static status do_perform(reactor_op* base) {
            return static_cast<WaitOp*>(base)->starting ? not_done : done;
        }
        static void do_complete(void* owner, asio::detail::operation* base, const asio::error_code&,
                                std::size_t) {
            auto* op = static_cast<WaitOp*>(base);
            Handler handler(std::move(op->handler_));
            const asio::error_code ec = op->ec_;
            op->~WaitOp();
            asio::recycling_allocator<WaitOp> allocator;
            allocator.deallocate(op, 1);
            if (owner != nullptr) handler(ec);  // null: the io_context is being destroyed
        }
        Handler handler_;
    };

    template <class Handler>
    void start(int op_type, Handler&& handler, bool speculative) {
        using Op = WaitOp<std::decay_t<Handler>>;
        asio::recycling_allocator<Op> allocator;
        Op* op = allocator.allocate(1);
        new (op) Op(std::forward<Handler>(handler));
        if (fd_ < 0) {
            op->ec_ = asio::error::bad_descriptor;
            reactor_->post_immediate_completion(op, false);
            return;
        }
        // Speculative: start_op() "performs" the wait at once, which fails
        // (starting), and queues it without touching the epoll registration.
        reactor_->start_op(op_type, fd_, data_, op, false, speculative);
        op->starting = false;
    }

    asio::io_context* io_;
    reactor* reactor_;
    reactor::per_descriptor_data data_ = nullptr;
    int fd_ = -1;
};

#else

class ReactorDescriptor : public asio::posix::stream_descriptor {
public:
    explicit ReactorDescriptor(asio::io_context& io) : asio::posix::stream_descriptor(io) {}
    template <class Handler>
    void async_wait_edge(wait_type type, Handler&& handler) {
        async_wait(type, std::forward<Handler>(handler));
    }
};

#endif

}  // namespace reactsock::detail
