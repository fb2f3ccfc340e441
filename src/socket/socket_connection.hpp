// Private: the Connection over a connected stream socket (TCP or Unix).
//
// Reactor style: Asio only reports readiness (async_wait on a
// posix::stream_descriptor); reads and writes are plain recv()/send() calls.
// That lets every connection of a thread share one read buffer (an idle
// connection holds no buffer at all) and lets write() send at once.
//
// Asio's epoll reactor is edge-triggered and async_wait is never
// speculative, so readiness that arrives while no wait is pending is not
// reported again. Hence: after a short read the socket is known to be
// drained and we wait; after a full-buffer read, after resume() and at the
// start we try a read first (posted, so that data is never emitted from
// inside resume()).
#pragma once

#include <reactsock/loop/loop.hpp>
#include <reactsock/socket/connection.hpp>

#include "stream/write_buffer.hpp"

#include <asio/posix/stream_descriptor.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace reactsock::detail {

// send() with MSG_NOSIGNAL: a peer that went away is EPIPE, not SIGPIPE.
struct SocketSend {
    std::size_t operator()(asio::posix::stream_descriptor& socket, std::string_view data,
                           asio::error_code& ec) const;
};

class SocketConnection : public Connection, private WriterEvents {
    struct Passkey {};

public:
    /// Takes ownership of `fd` (a connected socket; made non-blocking here)
    /// and starts reading on the next turn of the loop.
    static std::shared_ptr<SocketConnection> adopt(Loop& loop, int fd);

    SocketConnection(Passkey, Loop& loop, int fd);
    ~SocketConnection() override;
    SocketConnection(const SocketConnection&) = delete;
    SocketConnection& operator=(const SocketConnection&) = delete;

    // ReadableStream
    [[nodiscard]] bool is_readable() const override { return readable_; }
    void pause() override;
    void resume() override;
    // WritableStream
    [[nodiscard]] bool is_writable() const override { return !closed_ && writer_->is_writable(); }
    bool write(std::string_view data) override;
    void end(std::string_view data = {}) override;
    // Stream
    void close() override;
    // Connection
    [[nodiscard]] std::optional<std::string> remote_address() const override;
    [[nodiscard]] std::optional<std::string> local_address() const override;
    void set_allow_half_open(bool allow) override { allow_half_open_ = allow; }
    void set_timeout(double seconds) override;
    void set_no_delay(bool enable) override;
    void set_keep_alive(bool enable, int idle_seconds, int interval_seconds,
                        int probe_count) override;
    void set_option(int level, int name, int value) override;
    [[nodiscard]] int get_option(int level, int name) const override;
    [[nodiscard]] std::size_t buffered_amount() const noexcept override {
        return writer_->buffered_amount();
    }
    void set_soft_limit(std::size_t bytes) override { writer_->set_soft_limit(bytes == 0 ? 1 : bytes); }
    [[nodiscard]] int native_handle() const noexcept override { return fd_; }
    [[nodiscard]] nlohmann::json info() const override;

private:
    void start_reading();
    void on_readable();
    void handle_eof();
    void finish_write_side();
    void fail(const Error& error);
    // WriterEvents
    void on_writer_drain() override;
    void on_writer_error(const Error& error) override;
    void on_writer_finished() override;
    [[nodiscard]] std::shared_ptr<void> writer_keep_alive() override { return keep_alive(); }
    void touch() noexcept;
    void arm_idle_timer(double seconds);
    void on_idle_timer();
    void require_open() const;
    void cache_addresses() const;

    Loop* loop_;
    asio::posix::stream_descriptor watcher_;
    int fd_;
    bool unix_ = false;

    // Write-through, buffering of the rest, soft limit, drain, end after
    // flush: the same writer as the resource streams'. Constructed once the
    // descriptor is assigned.
    std::optional<BufferedWriter<asio::posix::stream_descriptor, SocketSend>> writer_;

    bool readable_ = true;
    bool paused_ = false;
    bool closed_ = false;
    bool emitting_close_ = false;
    bool read_waiting_ = false;   // an async_wait(read) is pending
    bool read_posted_ = false;    // a speculative read is posted
    bool maybe_readable_ = true;  // readiness may be unreported: try a read first
    bool write_shut_ = false;     // shutdown(SHUT_WR) done
    bool peer_ended_ = false;     // EOF read
    bool allow_half_open_ = false;

    std::uint64_t destroy_hook_ = 0;  // closes us if the loop goes first

    double idle_timeout_ = 0;
    std::int64_t last_activity_ns_ = 0;
    TimerHandle idle_timer_;

    mutable std::optional<std::string> remote_;
    mutable std::optional<std::string> local_;
};

}  // namespace reactsock::detail
