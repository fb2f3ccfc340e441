// reactsock/stream/resource_stream.hpp — streams over file descriptors.
//
// ReadableResourceStream, WritableResourceStream and DuplexResourceStream wrap
// a file descriptor — stdin/stdout, a pipe, a FIFO, a character device, a
// socket — on the loop's Asio reactor (epoll on Linux, kqueue on BSD/macOS).
// Regular files work too: they are always ready, so they never wait.
//
//     auto in  = std::make_shared<rs::ReadableResourceStream>(STDIN_FILENO);
//     auto out = std::make_shared<rs::WritableResourceStream>(STDOUT_FILENO);
//     in->pipe(out);
//     rs::Loop::get()->run();   // returns once stdin ended and stdout flushed
//
// The file descriptor
//  * On success the stream owns `fd`: it puts it in non-blocking mode and
//    closes it on close() (restoring blocking mode first if it was blocking,
//    which matters for a stdin/stdout shared with a shell). Pass dup(fd) to
//    keep your own. If the constructor throws, `fd` is left as it was.
//  * Constructor errors, as ReactPHP's:
//    std::invalid_argument("First parameter must be a valid stream resource")
//    for a closed/invalid fd; std::invalid_argument("Given stream resource is
//    not opened in read mode" / "... in write mode" / "... in read and write
//    mode") for a wrong access mode; reactsock::Error("Unable to set stream
//    resource to non-blocking mode: <strerror> (ENAME)") and
//    reactsock::Error("Unable to add stream resource to the loop: ...") for
//    system failures.
//
// Reading
//  * The stream starts reading on the next turn of the loop (not inside the
//    constructor, so listeners added right after construction see every
//    chunk) and reads one chunk of at most `read_chunk_size` bytes per
//    readiness into one buffer it reuses: `data` listeners get a view of it.
//  * An empty read without EOF is ignored; EOF emits `end` then `close`; a
//    read error emits error("Unable to read from stream: <strerror> (ENAME)")
//    then `close`.
//  * pause() stops reading from the fd. A chunk whose read was already under
//    way when pause() was called is held, not emitted, and delivered on a
//    later turn of the loop after resume().
//
// Writing (the same policy as a Connection's)
//  * write() hands the data straight to the fd when nothing is buffered, and
//    copies into the write buffer only what the fd did not take; the buffer is
//    flushed when the fd becomes writable. write() returns false once the
//    buffer holds `soft_limit` bytes or more; `drain` follows when it is back
//    below.
//  * A failed write emits error("Unable to write to stream: <strerror> (ENAME)"),
//    e.g. "Unable to write to stream: Broken pipe (EPIPE)", then `close`,
//    always on a later turn of the loop, never inside write().
//  * SIGPIPE: the first writable resource stream of the process sets SIGPIPE to
//    SIG_IGN if it is still SIG_DFL (as Node, Python and PHP do), so a closed
//    pipe is an EPIPE error event instead of the death of the process.
//
// Lifetime: while a read or a flush is pending the loop keeps the stream
// alive, so `in->pipe(out)` needs no variable to live in. The loop must
// outlive its streams (as Asio requires of its I/O objects); destroying the
// loop destroys the streams it keeps alive.
#pragma once

#include <reactsock/stream/stream.hpp>

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <memory>
#include <string_view>

namespace reactsock {

class Loop;

namespace detail {
class ResourceStreamCore;
}  // namespace detail

// JSON forms: {"read_chunk_size": 4096}, {"soft_limit": 1024}, both for the
// duplex. An unknown key or a wrong type (a negative size included) is a
// std::invalid_argument naming the key.

/// Options of ReadableResourceStream (also ReadableResourceStream::Options).
struct ReadableResourceStreamOptions {
    /// Most bytes one read (and so one `data` event) delivers; must be > 0.
    std::size_t read_chunk_size = 65536;

    /// From {"read_chunk_size": 4096} (see above).
    static ReadableResourceStreamOptions from_json(const nlohmann::json& json);
};

/// Options of WritableResourceStream (also WritableResourceStream::Options).
struct WritableResourceStreamOptions {
    /// write() returns false once this many bytes are buffered.
    std::size_t soft_limit = 65536;

    /// From {"soft_limit": 1024} (see above).
    static WritableResourceStreamOptions from_json(const nlohmann::json& json);
};

/// Options of DuplexResourceStream (also DuplexResourceStream::Options).
struct DuplexResourceStreamOptions {
    std::size_t read_chunk_size = 65536;
    std::size_t soft_limit = 65536;

    /// From {"read_chunk_size": 4096, "soft_limit": 1024} (see above).
    static DuplexResourceStreamOptions from_json(const nlohmann::json& json);
};

/// nlohmann::json ADL hooks: `json.get<ReadableResourceStreamOptions>()`, ...
/// Same rules as the static from_json; a key absent from `json` leaves its
/// field in `options` as it was.
void from_json(const nlohmann::json& json, ReadableResourceStreamOptions& options);
void from_json(const nlohmann::json& json, WritableResourceStreamOptions& options);
void from_json(const nlohmann::json& json, DuplexResourceStreamOptions& options);

/// A readable stream over a file descriptor open for reading.
class ReadableResourceStream final : public ReadableStream {
public:
    using Options = ReadableResourceStreamOptions;

    /// Takes ownership of `fd` (see the top of this header). `loop`: default Loop::get().
    explicit ReadableResourceStream(int fd, std::shared_ptr<Loop> loop = nullptr,
                                    Options options = {});
    ~ReadableResourceStream() override;

    [[nodiscard]] bool is_readable() const override;
    void pause() override;
    void resume() override;
    void close() override;

    /// The file descriptor, or -1 once closed.
    [[nodiscard]] int fd() const noexcept;

private:
    std::unique_ptr<detail::ResourceStreamCore> core_;
};

/// A writable stream over a file descriptor open for writing.
class WritableResourceStream final : public WritableStream {
public:
    using Options = WritableResourceStreamOptions;

    /// Takes ownership of `fd` (see the top of this header). `loop`: default Loop::get().
    explicit WritableResourceStream(int fd, std::shared_ptr<Loop> loop = nullptr,
                                    Options options = {});
    ~WritableResourceStream() override;

    [[nodiscard]] bool is_writable() const override;
    bool write(std::string_view data) override;
    void end(std::string_view data = {}) override;
    void close() override;

    /// Bytes accepted by write() and not yet handed to the fd.
    [[nodiscard]] std::size_t buffered_amount() const noexcept;
    /// The file descriptor, or -1 once closed.
    [[nodiscard]] int fd() const noexcept;

private:
    std::unique_ptr<detail::ResourceStreamCore> core_;
};

/// A duplex stream over a file descriptor open for reading and writing
/// (a socket, a pty, a FIFO opened O_RDWR).
///
///  * end(x) stops reading at once (not readable, not writable any more) and
///    closes once x and everything buffered before it are sent.
///  * EOF emits `end`; the stream then closes at once if nothing is buffered,
///    otherwise once the buffer is flushed (so a reply written from a `data` or
///    `end` listener is not lost — unlike ReactPHP, which discards it).
///  * The write side's `error` and `drain` are the duplex's own events.
class DuplexResourceStream final : public DuplexStream {
public:
    using Options = DuplexResourceStreamOptions;

    /// Takes ownership of `fd` (see the top of this header). `loop`: default Loop::get().
    explicit DuplexResourceStream(int fd, std::shared_ptr<Loop> loop = nullptr,
                                  Options options = {});
    ~DuplexResourceStream() override;

    [[nodiscard]] bool is_readable() const override;
    [[nodiscard]] bool is_writable() const override;
    void pause() override;
    void resume() override;
    bool write(std::string_view data) override;
    void end(std::string_view data = {}) override;
    void close() override;

    /// Bytes accepted by write() and not yet handed to the fd.
    [[nodiscard]] std::size_t buffered_amount() const noexcept;
    /// The file descriptor, or -1 once closed.
    [[nodiscard]] int fd() const noexcept;

private:
    std::unique_ptr<detail::ResourceStreamCore> core_;
};

}  // namespace reactsock
