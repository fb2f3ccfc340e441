// reactsock/stream/composite_stream.hpp — a readable and a writable presented as one duplex.
//
//     // stdin and stdout as one duplex stream, e.g. to pass to code expecting a connection
//     auto io = std::make_shared<rs::CompositeStream>(
//         std::make_shared<rs::ReadableResourceStream>(STDIN_FILENO),
//         std::make_shared<rs::WritableResourceStream>(STDOUT_FILENO));
#pragma once

#include <reactsock/event/event_emitter.hpp>
#include <reactsock/stream/stream.hpp>

#include <array>
#include <memory>
#include <string_view>

namespace reactsock {

/// ReactPHP's CompositeStream.
///
///  * Forwards `data`, `end` and `error` of the readable side and `drain`,
///    `error` and `pipe` of the writable side as its own events.
///  * Reading calls (is_readable, pause, resume) go to the readable side;
///    resume() does nothing once the writable side is closed. Writing calls
///    (is_writable, write) go to the writable side; end(x) pauses the readable
///    side and ends the writable side with x.
///  * Either side's `close`, or close(), closes both sides and emits `close` once.
///  * If either side is already closed at construction, the composite closes
///    the other side and itself at once.
///
/// Ownership: the composite holds both sides; the sides' listeners refer to
/// the composite without owning it, so dropping the last reference to an
/// unclosed composite detaches it from both sides (they stay open).
class CompositeStream final : public DuplexStream {
public:
    /// Throws std::invalid_argument if either pointer is null.
    CompositeStream(std::shared_ptr<ReadableStream> readable,
                    std::shared_ptr<WritableStream> writable);
    ~CompositeStream() override;

    [[nodiscard]] bool is_readable() const override;
    [[nodiscard]] bool is_writable() const override;
    void pause() override;
    void resume() override;
    bool write(std::string_view data) override;
    void end(std::string_view data = {}) override;
    void close() override;

    /// The two sides, as given to the constructor.
    [[nodiscard]] const std::shared_ptr<ReadableStream>& readable() const noexcept {
        return readable_;
    }
    [[nodiscard]] const std::shared_ptr<WritableStream>& writable() const noexcept {
        return writable_;
    }

private:
    void detach() noexcept;

    std::shared_ptr<ReadableStream> readable_;
    std::shared_ptr<WritableStream> writable_;
    std::array<ListenerHandle, 4> readable_handles_;  // data, end, error, close
    std::array<ListenerHandle, 4> writable_handles_;  // drain, error, pipe, close
    bool closed_ = false;
};

}  // namespace reactsock
