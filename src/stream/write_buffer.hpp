// Private: the write half shared by every reactsock stream that writes to an
// Asio object — the resource streams here, and SocketConnection (socket/:
// over ReactorDescriptor, with a WriteSome policy that sends through TLS).
//
// Policy (ReactPHP's WritableResourceStream, plus write-through):
//  * write() hands the data straight to the fd/socket when nothing is buffered
//    and copies only what it did not take; the rest is flushed when the object
//    becomes writable, in order.
//  * write() returns `buffered < soft_limit`; once it has returned false, the
//    owner is told to emit `drain` when the buffer is back below the limit.
//  * end() = no more writes, and `finished` once everything is flushed (at once
//    when nothing is buffered); close() discards the buffer.
//  * A failure is reported as "Unable to write to stream: <strerror> (ENAME)",
//    never from inside write()/end() (a failing write-through posts it).
//
// Usage from a stream class that owns both the Asio object and the writer:
//
//     class MyStream : ..., private detail::WriterEvents {
//         asio::ip::tcp::socket socket_;
//         detail::BufferedWriter<asio::ip::tcp::socket> writer_{socket_, *this, 65536};
//         void on_writer_drain() override { emit(ev::drain); }
//         void on_writer_error(const Error& e) override { emit(ev::error, e); close(); }
//         void on_writer_finished() override { close(); }
//         std::shared_ptr<void> writer_keep_alive() override { return shared_from_this(); }
//     };
//
// AsyncStream needs async_wait(wait_write, h), non_blocking(bool, error_code&)
// and get_executor(): asio::posix::stream_descriptor and asio::ip::tcp /
// local::stream_protocol sockets qualify. The writer puts it in non-blocking
// mode in its constructor. The bytes are written by the WriteSome policy:
// by default AsyncStream::write_some (write(2) for a descriptor, sendmsg with
// MSG_NOSIGNAL for an Asio socket); a stream that watches a raw socket fd
// through a stream_descriptor can pass a policy that calls
// send(fd, ..., MSG_NOSIGNAL) instead.
#pragma once

#include <reactsock/error.hpp>

#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>

#include <cerrno>
#include <concepts>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace reactsock::detail {

/// The byte queue of a writable stream, with its soft-limit bookkeeping. No I/O.
class WriteBuffer {
public:
    explicit WriteBuffer(std::size_t soft_limit) noexcept : soft_limit_(soft_limit) {}

    [[nodiscard]] std::size_t soft_limit() const noexcept { return soft_limit_; }
    /// Takes effect with the next write() (and the next drain check).
    void set_soft_limit(std::size_t bytes) noexcept { soft_limit_ = bytes; }
    [[nodiscard]] std::size_t size() const noexcept { return bytes_.size() - head_; }
    [[nodiscard]] bool empty() const noexcept { return head_ == bytes_.size(); }

    /// The bytes still to send, contiguous.
    [[nodiscard]] std::string_view pending() const noexcept {
        return std::string_view(bytes_).substr(head_);
    }

    /// Queues `data` behind what is pending.
    void append(std::string_view data);

    /// write()'s return value for the current size: true while below the soft
    /// limit. Returning false arms the drain notification.
    bool accepts_more() noexcept {
        if (size() < soft_limit_)
            return true;
        drain_armed_ = true;
        return false;
    }

    /// Removes the first `n` pending bytes (they were sent). Returns true when
    /// `drain` is due: write() returned false since the last drain and the
    /// buffer is now below the soft limit.
    bool consume(std::size_t n) noexcept;

    /// Drops everything (close()).
    void clear() noexcept;

private:
    std::string bytes_;  // pending bytes are bytes_[head_, size)
    std::size_t head_ = 0;
    std::size_t soft_limit_;
    bool drain_armed_ = false;
};

/// Callbacks of a BufferedWriter, implemented by the stream that owns it.
/// None of them is called from inside BufferedWriter::write().
class WriterEvents {
public:
    /// The buffer went from >= soft limit to below it: emit `drain`.
    virtual void on_writer_drain() = 0;
    /// Writing failed for good (the writer is closed): emit `error`, then close.
    virtual void on_writer_error(const Error& error) = 0;
    /// end() was called and everything is sent (may be called from inside
    /// end() when nothing was buffered): close.
    virtual void on_writer_finished() = 0;
    /// A strong reference to the owner, held by pending waits so that the
    /// owner (and the writer inside it) outlives them.
    [[nodiscard]] virtual std::shared_ptr<void> writer_keep_alive() = 0;

protected:
    ~WriterEvents() = default;
};

/// The default way a BufferedWriter hands bytes to its stream: write_some().
/// A policy returns the bytes written, or sets `ec` (would_block when full).
struct WriteSomeMember {
    template <class AsyncStream>
    std::size_t operator()(AsyncStream& stream, std::string_view data, asio::error_code& ec) const {
        return stream.write_some(asio::buffer(data.data(), data.size()), ec);
    }
};

/// Write-through with buffering of the rest, soft limit and drain, end after
/// flush. Single-threaded, like everything on a loop.
template <class AsyncStream, class WriteSome = WriteSomeMember>
class BufferedWriter {
public:
    /// Sets `stream` non-blocking; throws reactsock::Error if that fails.
    BufferedWriter(AsyncStream& stream, WriterEvents& events, std::size_t soft_limit,
                   WriteSome write_some = {})
        : stream_(stream),
          events_(events),
          buffer_(soft_limit),
          write_some_(std::move(write_some)) {
        asio::error_code ec;
        stream_.non_blocking(true, ec);
        if (ec)
            throw make_errno_error(ec.value(),
                                   "Unable to set stream resource to non-blocking mode: ");
    }

    BufferedWriter(const BufferedWriter&) = delete;
    BufferedWriter& operator=(const BufferedWriter&) = delete;

    /// True until end(), close() or a failure.
    [[nodiscard]] bool is_writable() const noexcept { return state_ == State::open; }
    /// True after end() until everything is flushed.
    [[nodiscard]] bool is_ending() const noexcept { return state_ == State::ending; }
    /// True when a write failed and its error is about to be reported.
    [[nodiscard]] bool is_failed() const noexcept { return state_ == State::failed; }
    [[nodiscard]] std::size_t buffered_amount() const noexcept { return buffer_.size(); }
    [[nodiscard]] std::size_t soft_limit() const noexcept { return buffer_.soft_limit(); }
    void set_soft_limit(std::size_t bytes) noexcept { buffer_.set_soft_limit(bytes); }

    /// WritableStream::write().
    bool write(std::string_view data) {
        if (state_ != State::open)
            return false;
        if (!data.empty()) {
            if (buffer_.empty()) {
                asio::error_code ec;
                const std::size_t sent = write_some_(stream_, data, ec);
                if (ec && !is_transient(ec)) {
                    fail_later(ec.value());
                    return false;
                }
                data.remove_prefix(sent);
            }
            if (!data.empty()) {
                buffer_.append(data);
                wait_writable();
            }
        }
        return buffer_.accepts_more();
    }

    /// WritableStream::end(): writes `data`, then finishes once flushed;
    /// calls on_writer_finished() before returning when nothing is buffered.
    void end(std::string_view data) {
        if (state_ != State::open)
            return;
        if (!data.empty()) {
            write(data);
            if (state_ != State::open)
                return;  // failed: the error comes later
        }
        state_ = State::ending;
        if (buffer_.empty())
            finish();
    }

    /// Discards the buffer; no callback is made afterwards. The owner closes
    /// or cancels the Asio object, which aborts a pending wait.
    void close() noexcept {
        state_ = State::closed;
        buffer_.clear();
    }

private:
    enum class State { open, ending, failed, closed };

    static bool is_transient(const asio::error_code& ec) noexcept {
        return ec == asio::error::would_block || ec == asio::error::try_again ||
               ec == asio::error::interrupted;
    }

    void wait_writable() {
        if (waiting_)
            return;
        waiting_ = true;
        auto handler = [this, keep = events_.writer_keep_alive()](const asio::error_code& ec) {
            waiting_ = false;
            on_writable(ec);
        };
        // Called after the stream refused data. When the policy vouches that
        // the kernel refused it (EAGAIN or a partial send, which leaves the
        // socket flagged for a write-space wakeup), the next writability is
        // a new edge, and a stream that can wait for one without re-arming
        // (ReactorDescriptor) does.
        if constexpr (requires {
                          stream_.async_wait_edge(AsyncStream::wait_write, std::move(handler));
                          { write_some_.refused_by_kernel() } -> std::convertible_to<bool>;
                      }) {
            if (write_some_.refused_by_kernel()) {
                stream_.async_wait_edge(AsyncStream::wait_write, std::move(handler));
                return;
            }
        }
        stream_.async_wait(AsyncStream::wait_write, std::move(handler));
    }

    void on_writable(const asio::error_code& wait_error) {
        if (state_ != State::open && state_ != State::ending)
            return;
        if (wait_error) {
            if (wait_error == asio::error::operation_aborted)
                return;
            fail_now(wait_error.value());
            return;
        }
        bool drain = false;
        while (!buffer_.empty()) {
            asio::error_code ec;
            const std::string_view pending = buffer_.pending();
            const std::size_t sent = write_some_(stream_, pending, ec);
            if (ec) {
                if (is_transient(ec))
                    break;
                fail_now(ec.value());
                return;
            }
            drain = buffer_.consume(sent) || drain;
        }
        if (drain) {
            events_.on_writer_drain();  // may write, end or close
            if (state_ != State::open && state_ != State::ending)
                return;
        }
        if (!buffer_.empty()) {
            wait_writable();
        } else if (state_ == State::ending) {
            finish();
        }
    }

    void finish() {
        state_ = State::closed;
        events_.on_writer_finished();
    }

    void fail_now(int errno_value) {
        state_ = State::failed;
        buffer_.clear();
        events_.on_writer_error(make_errno_error(errno_value, "Unable to write to stream: "));
    }

    // A write-through failed inside write(): report it on a later turn.
    void fail_later(int errno_value) {
        state_ = State::failed;
        buffer_.clear();
        asio::post(stream_.get_executor(), [this, errno_value, keep = events_.writer_keep_alive()] {
            if (state_ != State::failed)
                return;  // closed meanwhile
            state_ = State::closed;
            events_.on_writer_error(make_errno_error(errno_value, "Unable to write to stream: "));
        });
    }

    AsyncStream& stream_;
    WriterEvents& events_;
    WriteBuffer buffer_;
    WriteSome write_some_;
    State state_ = State::open;
    bool waiting_ = false;  // an async_wait is pending
};

}  // namespace reactsock::detail
