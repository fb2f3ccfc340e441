// reactsock/stream/through_stream.hpp — a duplex stream whose writes come out as `data`.
//
//     auto upper = std::make_shared<rs::ThroughStream>([](std::string_view in, std::string& out) {
//         out.resize(in.size());
//         std::transform(in.begin(), in.end(), out.begin(),
//                        [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
//     });
//     in->pipe(upper)->pipe(out);
#pragma once

#include <reactsock/stream/stream.hpp>

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace reactsock {

/// ReactPHP's ThroughStream: write() emits `data` synchronously, optionally
/// transformed; end() emits `end` then `close`.
///
///  * write(x) emits `data` with x (or its transformation) before it returns.
///    It returns false when the stream is not writable, when it is paused (and
///    then emits `drain` on the next resume()), or when a `data` listener ended
///    or closed it. Pausing is advisory: a paused ThroughStream still emits the
///    data written to it; the false return value is what makes pipe() stop.
///  * A transform that throws makes the stream emit `error` — a
///    reactsock::Error whose code is the exception's own if it is a
///    std::system_error, EINVAL otherwise, and whose what() is the exception's —
///    then `close`; write() returns false and no `data` is emitted.
///  * end(x) writes x (if not empty), then emits `end` and `close`.
///  * No I/O and no loop: everything happens synchronously, on the caller's thread.
class ThroughStream final : public DuplexStream {
public:
    /// A transform writes the chunk to emit into `out` (cleared before each call;
    /// its capacity is reused, so steady-state transforms do not allocate).
    using Transform = std::function<void(std::string_view in, std::string& out)>;

    /// Passes data through unchanged (without copying it).
    ThroughStream() = default;

    /// Transforms each chunk with `transform`, either
    /// `void(std::string_view in, std::string& out)` or
    /// `R(std::string_view in)` with R convertible to std::string.
    /// Throws std::invalid_argument("Invalid transformation callback given") if
    /// `transform` is empty (a null std::function or function pointer).
    template <class F>
    requires std::is_invocable_v < std::decay_t<F>
    &, std::string_view,
        std::string& > ||
            std::is_convertible_v<std::invoke_result_t<std::decay_t<F>&, std::string_view>,
                                  std::string> explicit ThroughStream(F&& transform)
        : transform_(make_transform(std::forward<F>(transform))) {}

    ~ThroughStream() override;

    [[nodiscard]] bool is_readable() const override { return readable_; }
    [[nodiscard]] bool is_writable() const override { return writable_; }
    void pause() override;
    void resume() override;
    bool write(std::string_view data) override;
    void end(std::string_view data = {}) override;
    void close() override;

private:
    template <class T>
    struct IsStdFunction : std::false_type {};
    template <class Signature>
    struct IsStdFunction<std::function<Signature>> : std::true_type {};

    template <class F>
    static Transform make_transform(F&& transform) {
        using Fn = std::decay_t<F>;
        Fn fn(std::forward<F>(transform));
        if constexpr (std::is_pointer_v<Fn> || IsStdFunction<Fn>::value) {
            if (!fn)
                throw std::invalid_argument("Invalid transformation callback given");
        }
        if constexpr (std::is_invocable_v<Fn&, std::string_view, std::string&>) {
            return Transform(std::move(fn));
        } else {
            return [fn = std::move(fn)](std::string_view in, std::string& out) mutable {
                out = fn(in);
            };
        }
    }

    class TransformScope;

    Transform transform_;
    std::string output_;         // the transform's reusable output buffer
    unsigned transforming_ = 0;  // nesting depth of write() calls using output_ / transform_
    bool readable_ = true;
    bool writable_ = true;
    bool closed_ = false;
    bool paused_ = false;
    bool drain_ = false;  // a write was throttled: emit `drain` on resume()
};

}  // namespace reactsock
