// reactsock/promise/timer.hpp — promises that involve time: sleep, timeout.
#pragma once

#include <reactsock/error.hpp>
#include <reactsock/loop/loop.hpp>
#include <reactsock/promise/promise.hpp>

#include <cerrno>
#include <memory>

namespace reactsock {

/// A promise that fulfils after `seconds` on `loop` (default: Loop::get()).
///  * Resolves with: nothing, once the timer fires.
///  * Rejects with: only when cancelled (below).
///  * Settles: inside Loop::run(), never from inside this call; the timer
///    keeps the loop running until then.
///  * cancel(): stops the timer and rejects with Error(ECANCELED, "Timer cancelled").
///  * Threads: the loop's thread only.
inline Promise<void> sleep(double seconds, std::shared_ptr<Loop> loop = nullptr) {
    if (!loop) loop = Loop::get();
    auto timer = std::make_shared<TimerHandle>();
    std::weak_ptr<Loop> weak_loop = loop;
    Deferred<void> deferred([weak_loop, timer](Deferred<void>& self) {
        if (auto l = weak_loop.lock()) l->cancel_timer(*timer);
        self.reject(Error(ECANCELED, "Timer cancelled"));
    });
    *timer = loop->add_timer(seconds, [deferred]() mutable { deferred.resolve(); });
    return deferred.promise();
}

/// `input`, limited in time.
///  * Resolves with: `input`'s value if it fulfils within `seconds`.
///  * Rejects with: `input`'s reason, or Error(ETIMEDOUT, "Timed out after
///    <seconds> seconds"); then `input` is cancelled.
///  * Settles: when `input` does (at once if it already has), or when the
///    timer fires inside Loop::run().
///  * cancel(): cancels `input` and stops the timer.
///  * Threads: the loop's thread only.
template <class T>
Promise<T> timeout(const Promise<T>& input, double seconds, std::shared_ptr<Loop> loop = nullptr) {
    if (!loop) loop = Loop::get();
    std::weak_ptr<detail::StateBase> weak_input = detail::Access::state(input);
    std::weak_ptr<Loop> weak_loop = loop;
    auto timer = std::make_shared<TimerHandle>();
    Deferred<T> out([weak_loop, timer, weak_input] {
        if (auto l = weak_loop.lock()) l->cancel_timer(*timer);
        if (auto s = weak_input.lock()) detail::cancel(s);
    });
    *timer = loop->add_timer(seconds, [out, weak_input, seconds]() mutable {
        out.reject(Error(ETIMEDOUT, "Timed out after " + format_seconds(seconds) + " seconds"));
        if (auto s = weak_input.lock()) detail::cancel(s);
    });
    auto stop_timer = [weak_loop, timer] {
        if (auto l = weak_loop.lock()) l->cancel_timer(*timer);
    };
    if constexpr (std::is_void_v<T>) {
        input.then([out, stop_timer]() mutable {
            stop_timer();
            out.resolve();
        }, [out, stop_timer](std::exception_ptr e) mutable {
            stop_timer();
            out.reject(std::move(e));
        });
    } else {
        input.then([out, stop_timer](const T& value) mutable {
            stop_timer();
            out.resolve(value);
        }, [out, stop_timer](std::exception_ptr e) mutable {
            stop_timer();
            out.reject(std::move(e));
        });
    }
    return out.promise();
}

}  // namespace reactsock
