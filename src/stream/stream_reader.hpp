// Private: the read half of the resource streams (stream/), reading from an
// Asio object with async_read_some. (Connection does not use it: it reads with
// recv() once ReactorDescriptor reports readiness, into a buffer shared by the
// thread's connections; see src/socket/socket_connection.hpp.)
//
//  * One buffer of `chunk_size` bytes, allocated once and reused: each
//    completed read hands the owner a view of it.
//  * One read in flight at most; the next starts after the owner returned from
//    on_reader_data() (and only if it did not pause or stop the reader).
//  * pause() does not cancel a read under way (that would cancel the writes
//    on the same object too): its result is held and delivered on a later
//    turn of the loop after resume(). Nothing is ever delivered from inside
//    resume() or start().
//  * A read of zero bytes without EOF is ignored (the next read starts);
//    EOF and errors are reported once, and the reader stops.
//
// AsyncStream needs async_read_some(buffer, handler) and get_executor().
#pragma once

#include <reactsock/error.hpp>

#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>

#include <cstddef>
#include <memory>
#include <string_view>

namespace reactsock::detail {

/// Callbacks of a StreamReader, implemented by the stream that owns it.
class ReaderEvents {
public:
    /// A chunk arrived: emit `data`. The view is valid during the call only.
    virtual void on_reader_data(std::string_view chunk) = 0;
    /// End of input (the reader has stopped): emit `end`, then close.
    virtual void on_reader_eof() = 0;
    /// Reading failed (the reader has stopped): emit `error`, then close.
    virtual void on_reader_error(const Error& error) = 0;
    /// A strong reference to the owner, held by pending reads, or null when
    /// the owner is not (or no longer) owned by a std::shared_ptr.
    [[nodiscard]] virtual std::shared_ptr<void> reader_keep_alive() = 0;

protected:
    ~ReaderEvents() = default;
};

template <class AsyncStream>
class StreamReader {
public:
    StreamReader(AsyncStream& stream, ReaderEvents& events, std::size_t chunk_size)
        : stream_(stream),
          events_(events),
          chunk_size_(chunk_size),
          buffer_(std::make_unique_for_overwrite<char[]>(chunk_size)) {}

    StreamReader(const StreamReader&) = delete;
    StreamReader& operator=(const StreamReader&) = delete;

    [[nodiscard]] bool is_paused() const noexcept { return paused_; }
    [[nodiscard]] bool is_stopped() const noexcept { return stopped_; }

    /// Starts reading unless paused or stopped (idempotent).
    void start() {
        if (stopped_ || paused_)
            return;
        if (held_) {
            deliver_held_later();
        } else {
            read();
        }
    }

    void pause() noexcept { paused_ = true; }

    void resume() {
        if (stopped_ || !paused_)
            return;
        paused_ = false;
        start();
    }

    /// No more reads and no more callbacks. The owner closes or cancels the
    /// Asio object, which aborts a read in flight.
    void stop() noexcept {
        stopped_ = true;
        held_ = false;
    }

private:
    void read() {
        if (reading_)
            return;
        auto keep = events_.reader_keep_alive();
        if (!keep)
            return;  // not owned by a shared_ptr: cannot keep it alive
        reading_ = true;
        stream_.async_read_some(
            asio::buffer(buffer_.get(), chunk_size_),
            [this, keep = std::move(keep)](const asio::error_code& ec, std::size_t size) {
                reading_ = false;
                on_read(ec, size);
            });
    }

    void on_read(const asio::error_code& ec, std::size_t size) {
        if (stopped_)
            return;
        if (paused_) {
            held_ = true;
            held_error_ = ec;
            held_size_ = size;
            return;
        }
        deliver(ec, size);
    }

    void deliver(const asio::error_code& ec, std::size_t size) {
        if (!ec) {
            if (size > 0) {
                events_.on_reader_data(std::string_view(buffer_.get(), size));
            }
            // Not `else if`: a zero-byte read without EOF is not the end.
            if (!stopped_ && !paused_)
                read();
            return;
        }
        if (ec == asio::error::operation_aborted)
            return;
        stopped_ = true;
        if (ec == asio::error::eof) {
            events_.on_reader_eof();
        } else {
            events_.on_reader_error(make_errno_error(ec.value(), "Unable to read from stream: "));
        }
    }

    void deliver_held_later() {
        if (delivery_posted_)
            return;
        auto keep = events_.reader_keep_alive();
        if (!keep)
            return;
        delivery_posted_ = true;
        asio::post(stream_.get_executor(), [this, keep = std::move(keep)] {
            delivery_posted_ = false;
            if (stopped_ || paused_ || !held_)
                return;
            held_ = false;
            deliver(held_error_, held_size_);
        });
    }

    AsyncStream& stream_;
    ReaderEvents& events_;
    std::size_t chunk_size_;
    std::unique_ptr<char[]> buffer_;  // the one read buffer, reused
    bool paused_ = false;
    bool stopped_ = false;
    bool reading_ = false;          // an async_read_some is in flight
    bool held_ = false;             // a completed read waits for resume()
    bool delivery_posted_ = false;  // a held result is about to be delivered
    asio::error_code held_error_;
    std::size_t held_size_ = 0;
};

}  // namespace reactsock::detail
