// reactsock/loop/loop.hpp — the event loop.
//
// A Loop owns an asio::io_context and runs everything of reactsock on one
// thread: timers, future ticks, signals and (in the socket layers) I/O.
// Everything on a loop belongs to the thread that runs it; `post()` and
// `stop()` are the only members that other threads may call.
//
//     auto loop = rs::Loop::get();                  // this thread's default loop
//     loop->add_timer(0.5, [] { std::puts("half a second later"); });
//     auto tick = loop->add_periodic_timer(0.1, [](const rs::TimerHandle& self) {
//         if (++count == 3) rs::Loop::get()->cancel_timer(self);
//     });
//     loop->run();                                  // returns when nothing is left to do
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

namespace asio {
class io_context;
}

namespace reactsock {

class Loop;

/// A timer scheduled on a loop. Obtain one from Loop::add_timer or
/// Loop::add_periodic_timer; cancel it with Loop::cancel_timer.
class Timer {
public:
    /// The interval in seconds (after clamping to at least one microsecond).
    [[nodiscard]] double interval() const noexcept { return interval_; }
    [[nodiscard]] bool is_periodic() const noexcept { return periodic_; }
    /// True until a one-shot timer has fired, or until the timer is cancelled.
    [[nodiscard]] bool is_active() const noexcept { return active_; }

    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

private:
    friend class Loop;
    struct Passkey {};

public:
    // Only the Loop creates timers; the key keeps make_shared usable.
    Timer(Passkey, double interval, bool periodic, std::uint64_t sequence,
          std::function<void(const std::shared_ptr<Timer>&)> callback)
        : interval_(interval), periodic_(periodic), sequence_(sequence),
          callback_(std::move(callback)) {}

private:
    double interval_;
    bool periodic_;
    bool active_ = true;
    bool running_ = false;  // inside its own callback
    std::uint64_t sequence_;  // creation order: FIFO among equal deadlines
    std::int64_t deadline_ns_ = 0;  // steady clock
    std::function<void(const std::shared_ptr<Timer>&)> callback_;
};

/// Shared handle to a timer; the loop keeps its own reference while the timer is active.
using TimerHandle = std::shared_ptr<Timer>;

/// Identifies one signal listener; returned by Loop::add_signal.
struct SignalHandle {
    int signal = 0;
    std::uint64_t id = 0;
    [[nodiscard]] explicit operator bool() const noexcept { return id != 0; }
};

class Loop {
public:
    Loop();
    ~Loop();
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;

    /// The default loop of the calling thread, created on first use. Every
    /// reactsock class that takes an optional loop uses this one when given none.
    static std::shared_ptr<Loop> get();

    /// Calls `callback` once, `seconds` from now (negative counts as 0; at
    /// least one microsecond). `callback` is `void()` or `void(const TimerHandle&)`.
    /// Throws std::invalid_argument if `seconds` is NaN or infinite.
    /// Timers due at the same time fire in the order they were added.
    template <class F>
    TimerHandle add_timer(double seconds, F&& callback) {
        return schedule(seconds, false, wrap_timer_callback(std::forward<F>(callback)));
    }

    /// Calls `callback` every `seconds` until cancelled. The next run is
    /// scheduled `seconds` after the current one started (it may drift).
    template <class F>
    TimerHandle add_periodic_timer(double seconds, F&& callback) {
        return schedule(seconds, true, wrap_timer_callback(std::forward<F>(callback)));
    }

    /// Stops `timer`; a no-op if it already fired, was cancelled, or is null.
    /// Safe from inside any timer callback, including its own. Releases the
    /// callback (and what it captured) at once, or right after it returns when
    /// called from inside it.
    void cancel_timer(const TimerHandle& timer);

    /// Number of active timers (for diagnostics and tests).
    [[nodiscard]] std::size_t timer_count() const noexcept;

    /// Runs `callback` on the next turn of the loop, before timers and I/O
    /// that become ready after this call. FIFO; not cancellable. Ticks queued
    /// by a tick run on the following turn.
    void future_tick(std::function<void()> callback);

    /// Calls `callback(signo)` each time the process receives `signo`, on
    /// this loop's thread. Several listeners per signal are allowed. While a
    /// listener exists the loop keeps running. Throws std::system_error if the
    /// signal cannot be handled (e.g. SIGKILL).
    SignalHandle add_signal(int signo, std::function<void(int)> callback);

    /// Removes a listener added by add_signal; the default disposition of the
    /// signal is restored when its last listener goes. A no-op for unknown handles.
    void remove_signal(const SignalHandle& handle);

    /// Runs until there is nothing left to do (no timers, ticks, signals, I/O)
    /// or until stop(). Handlers run inside run(); an exception thrown by one
    /// propagates out of run(), after which run() may be called again.
    /// Throws std::logic_error if called while the loop is already running.
    void run();

    /// Runs until `done()` returns true, there is nothing left to do, or
    /// stop() is called; returns done(). Used by reactsock::await().
    bool run_until(const std::function<bool()>& done);

    /// Makes run() return as soon as the current handler finishes. Safe from any thread.
    void stop();

    /// Hands `callback` to this loop from any thread; it runs inside run() on
    /// the loop's thread. If the loop is not running it waits for the next run().
    void post(std::function<void()> callback);

    /// While the returned token is held, run() does not return for lack of
    /// work (useful when other threads will post()). Release it from any thread.
    [[nodiscard]] std::shared_ptr<void> keep_alive();

    /// Runs `hook` when the loop is destroyed, before it releases anything
    /// else. reactsock's connections close themselves this way, so that
    /// destroying a loop closes what is still open on it (emitting `close`,
    /// which drops their listeners and any reference cycles through them).
    /// Returns an id for remove_destroy_hook(). Loop thread only.
    std::uint64_t add_destroy_hook(std::function<void()> hook);
    void remove_destroy_hook(std::uint64_t id) noexcept;

    /// The io_context, for the library's own I/O objects and for users who
    /// mix in plain Asio. Include <asio.hpp> to use it.
    [[nodiscard]] asio::io_context& context() noexcept;

private:
    template <class F>
    static std::function<void(const TimerHandle&)> wrap_timer_callback(F&& callback) {
        if constexpr (std::is_invocable_v<F&, const TimerHandle&>) {
            return std::function<void(const TimerHandle&)>(std::forward<F>(callback));
        } else {
            static_assert(std::is_invocable_v<F&>,
                          "timer callback must be void() or void(const TimerHandle&)");
            return [fn = std::forward<F>(callback)](const TimerHandle&) mutable { fn(); };
        }
    }
    TimerHandle schedule(double seconds, bool periodic,
                         std::function<void(const TimerHandle&)> callback);

    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace reactsock
