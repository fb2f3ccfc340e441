// reactsock/stream/stream.hpp — the stream interfaces and pipe().
//
// ReactPHP's stream contract (react/stream 1.3 / 3.x), in C++:
//
//     auto in  = std::make_shared<rs::ReadableResourceStream>(STDIN_FILENO);
//     auto out = std::make_shared<rs::WritableResourceStream>(STDOUT_FILENO);
//     in->pipe(out);                      // copies stdin to stdout with backpressure
//     rs::Loop::get()->run();
//
// Events (tags in reactsock::ev, listeners' signatures fixed by the tag):
//
//   readable side   data(std::string_view)  a chunk; the view is valid during the call only
//                   end()                   the peer finished sending (EOF)
//                   error(const std::system_error&)   fatal; `close` follows
//                   close()                 exactly once, last
//   writable side   drain()                 the buffer went from >= soft limit to below it
//                   pipe(source)            a readable was piped into this stream
//                   error, close            as above
//
// The rules every stream in reactsock keeps (and tests check):
//  * A stream starts readable and/or writable, and not paused.
//  * `end` is emitted at most once, only on a real end of input (never for an
//    empty read without EOF), never after `error` and never after `close`.
//  * `error` is always followed by `close`.
//  * `close` is emitted at most once and is the last event; afterwards
//    is_readable() and is_writable() are false forever, and the stream drops
//    all its listeners (which breaks stream <-> lambda reference cycles).
//  * `data` is never emitted after `end` or `close`.
//  * pause()/resume() are idempotent and advisory: a stream may emit a chunk it
//    had already read when pause() was called (the resource streams do not:
//    they hold it until resume()).
//  * write() after end() or close() is a no-op returning false; end() and
//    close() are idempotent.
//  * Listeners must not throw: an exception propagates out of the emit and
//    through whatever called it (usually Loop::run()).
//
// Ownership: streams are held by std::shared_ptr. A stream keeps itself alive
// while it emits (a listener may drop the last reference) and while the loop
// has I/O pending for it. Everything here belongs to the thread of its loop.
#pragma once

#include <reactsock/event/event_emitter.hpp>
#include <reactsock/event/events.hpp>

#include <nlohmann/json_fwd.hpp>

#include <concepts>
#include <memory>
#include <string_view>

namespace reactsock {

class ReadableStream;
class WritableStream;

namespace ev {

/// A readable stream was piped into this writable stream (emitted by the
/// writable, with the source, before any data flows).
struct pipe_t : Event<const std::shared_ptr<ReadableStream>&> {};
inline constexpr pipe_t pipe{};

}  // namespace ev

/// Options of pipe().
struct PipeOptions {
    /// Call dest->end() when the source emits `end`.
    bool end = true;

    /// From {"end": false}; an unknown key or a wrong type throws
    /// std::invalid_argument naming it.
    static PipeOptions from_json(const nlohmann::json& json);
};

/// nlohmann::json ADL hook: `json.get<PipeOptions>()`; same rules as PipeOptions::from_json.
void from_json(const nlohmann::json& json, PipeOptions& out);

/// What every stream has: close() and shared ownership. The common virtual
/// base of ReadableStream and WritableStream, so a DuplexStream has one
/// close() and one shared_from_this().
class Stream : public virtual EventEmitter, public std::enable_shared_from_this<Stream> {
public:
    /// Closes the stream at once: buffered output is discarded, the underlying
    /// resource (fd) is released before `close` is emitted, then the stream
    /// removes all its listeners. Emits `close` synchronously, at most once;
    /// a no-op when already closed. Use WritableStream::end() to send what is
    /// buffered first.
    virtual void close() = 0;

protected:
    Stream() = default;
    ~Stream() override = default;

    /// A strong reference to this stream for the duration of an emit (null if
    /// the stream is not owned by a std::shared_ptr).
    [[nodiscard]] std::shared_ptr<Stream> keep_alive() noexcept { return weak_from_this().lock(); }

    /// shared_from_this() as the derived type `T` (`self` is `this`).
    /// Throws std::bad_weak_ptr if the stream is not owned by a std::shared_ptr.
    template <class T>
    [[nodiscard]] std::shared_ptr<T> shared_this(T* self) {
        return std::shared_ptr<T>(shared_from_this(), self);
    }
};

namespace detail {
// The one implementation of pipe(); see reactsock::pipe below.
void pipe_streams(const std::shared_ptr<ReadableStream>& source,
                  const std::shared_ptr<WritableStream>& dest, PipeOptions options);
}  // namespace detail

/// A source of data: events `data`, `end`, `error`, `close`.
class ReadableStream : public virtual Stream {
public:
    /// True until the stream ended, failed or closed.
    [[nodiscard]] virtual bool is_readable() const = 0;

    /// Stops emitting `data` until resume(). Idempotent; a no-op once closed.
    virtual void pause() = 0;

    /// Emits `data` again after pause(). Idempotent; a no-op once closed or
    /// ended. Never emits synchronously for resource streams (a chunk held
    /// while paused is delivered on a later turn of the loop).
    virtual void resume() = 0;

    /// pipe(this, dest, options); returns dest so pipes chain:
    /// `in->pipe(through)->pipe(out)`.
    template <std::derived_from<WritableStream> W>
    std::shared_ptr<W> pipe(std::shared_ptr<W> dest, PipeOptions options = {}) {
        detail::pipe_streams(shared_this<ReadableStream>(this), dest, options);
        return dest;
    }

protected:
    ReadableStream() = default;
    ~ReadableStream() override = default;
};

/// A sink for data: events `drain`, `pipe`, `error`, `close`.
class WritableStream : public virtual Stream {
public:
    /// True until end() or close() was called, or the stream failed.
    [[nodiscard]] virtual bool is_writable() const = 0;

    /// Queues `data` for sending. Returns false when the stream is not
    /// writable (the data is discarded), or when the buffered data reached the
    /// stream's soft limit: the data is still accepted and will be sent, but the
    /// caller should wait for `drain` before writing more. Copies only what it
    /// cannot hand on at once; the view need not outlive the call. Never emits
    /// `error` or `close` from inside the call (a failure is reported on a later
    /// turn of the loop); ThroughStream emits `data` synchronously.
    virtual bool write(std::string_view data) = 0;

    /// Writes `data` (if not empty), then finishes: no further writes are
    /// accepted, and the stream closes once everything buffered is sent
    /// (at once, synchronously, when nothing is buffered). A no-op when not
    /// writable.
    /// (Implementations repeat the default argument `= {}`.)
    virtual void end(std::string_view data = {}) = 0;

protected:
    WritableStream() = default;
    ~WritableStream() override = default;
};

/// Both a readable and a writable stream (a connection, a ThroughStream, ...).
class DuplexStream : public ReadableStream, public WritableStream {
protected:
    DuplexStream() = default;
    ~DuplexStream() override = default;
};

/// Forwards every chunk of `source` to `dest` and returns `dest`:
///  * source `data` -> dest->write(); when write() returns false the source is
///    paused, and dest's `drain` resumes it;
///  * source `end` -> dest->end(), unless `options.end` is false;
///  * when either side closes, every listener pipe() added (on both sides) is
///    removed, and a closed dest pauses the source. Errors and close() are not
///    propagated: close the other side yourself if you need to.
/// Before anything flows dest emits `pipe` with the source. A source that is
/// not readable makes pipe() a no-op; a dest that is not writable pauses the
/// source. While the pipe is active, source and dest reference each other (the
/// listeners hold them), so a pipeline stays alive until one side closes.
/// Throws std::invalid_argument if either pointer is null.
template <std::derived_from<WritableStream> W>
std::shared_ptr<W> pipe(const std::shared_ptr<ReadableStream>& source, std::shared_ptr<W> dest,
                        PipeOptions options = {}) {
    detail::pipe_streams(source, dest, options);
    return dest;
}

}  // namespace reactsock
