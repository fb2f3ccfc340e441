#include <reactsock/loop/loop.hpp>

#include <reactsock/error.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cmath>
#include <deque>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace reactsock {

namespace {

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

constexpr double kMinInterval = 1e-6;     // ReactPHP clamps to one microsecond
constexpr double kMaxInterval = 1e9;      // ~31 years: keeps nanoseconds in range

// Runs `fn` when the scope ends, also when an exception leaves it.
template <class F>
class ScopeExit {
public:
    explicit ScopeExit(F fn) : fn_(std::move(fn)) {}
    ~ScopeExit() { fn_(); }
    ScopeExit(const ScopeExit&) = delete;
    ScopeExit& operator=(const ScopeExit&) = delete;

private:
    F fn_;
};

}  // namespace

struct Loop::Impl {
    struct TimerOrder {
        bool operator()(const TimerHandle& a, const TimerHandle& b) const noexcept {
            return std::tie(a->deadline_ns_, a->sequence_) <
                   std::tie(b->deadline_ns_, b->sequence_);
        }
    };
    struct SignalSlot {
        std::unique_ptr<asio::signal_set> set;
        std::vector<std::pair<std::uint64_t, std::function<void(int)>>> listeners;
    };

    // Declared first so it is destroyed last: every I/O object below uses it.
    // ~Loop destroys `wakeup` and then the io_context explicitly, while the
    // containers below still exist: destroying pending handlers may destroy
    // objects (connections, servers) that call back into the loop.
    std::optional<asio::io_context> io_storage{std::in_place, 1};
    asio::io_context& io = *io_storage;
    std::optional<asio::steady_timer> wakeup{std::in_place, io};
    bool destroying = false;

    std::set<TimerHandle, TimerOrder> timers;
    std::uint64_t next_sequence = 1;
    bool armed = false;
    std::int64_t armed_deadline = 0;
    std::uint64_t arm_generation = 0;

    std::deque<std::function<void()>> ticks;
    bool ticks_scheduled = false;

    std::map<int, SignalSlot> signals;
    std::uint64_t next_signal_id = 1;

    bool running = false;

    // Destroy hooks in reusable slots (a connection adds and removes one, so
    // no allocation per hook once the vectors have grown). An id is
    // (serial << 32) | slot index, so a stale id never removes a newer hook.
    struct DestroyHook {
        std::uint64_t id = 0;  // 0: free slot
        std::function<void()> fn;
    };
    std::vector<DestroyHook> destroy_hooks;
    std::vector<std::uint32_t> free_hook_slots;
    std::uint64_t next_hook_serial = 1;
    std::size_t live_hooks = 0;

    // Points the one asio timer at the earliest deadline, or lets it go idle
    // so that run() can return when there are no timers. A deadline that
    // moves later (the earliest timer was cancelled, e.g. a handshake
    // timeout) keeps the armed one: its wake-up finds nothing due and arms
    // the next, which costs less than a timerfd_settime per change.
    void arm() {
        if (destroying) return;
        if (timers.empty()) {
            if (armed) {
                armed = false;
                ++arm_generation;
                wakeup->cancel();
            }
            return;
        }
        const std::int64_t deadline = (*timers.begin())->deadline_ns_;
        if (armed && armed_deadline <= deadline) return;
        armed = true;
        armed_deadline = deadline;
        const std::uint64_t generation = ++arm_generation;
        wakeup->expires_at(std::chrono::steady_clock::time_point(std::chrono::nanoseconds(deadline)));
        wakeup->async_wait([this, generation](const asio::error_code& ec) {
            if (ec || generation != arm_generation) return;
            armed = false;
            fire_due_timers();
        });
    }

    void fire_due_timers() {
        ScopeExit rearm([this] { arm(); });
        const std::int64_t now = now_ns();
        // Timers added or rescheduled by the callbacks get deadlines after
        // `now`, so this batch is finite.
        while (!timers.empty()) {
            TimerHandle timer = *timers.begin();
            if (timer->deadline_ns_ > now) break;
            timers.erase(timers.begin());
            if (timer->periodic_) {
                timer->deadline_ns_ = now + std::llround(timer->interval_ * 1e9);
                timers.insert(timer);
                timer->running_ = true;
                ScopeExit done([&timer] {
                    timer->running_ = false;
                    if (!timer->active_) timer->callback_ = nullptr;
                });
                timer->callback_(timer);
            } else {
                timer->active_ = false;
                auto callback = std::move(timer->callback_);
                timer->callback_ = nullptr;
                callback(timer);
            }
        }
    }

    void run_ticks() {
        ticks_scheduled = false;
        ScopeExit reschedule([this] {
            if (!ticks.empty()) schedule_ticks();
        });
        // Only the ticks queued before this turn; later ones wait for the next.
        for (std::size_t n = ticks.size(); n > 0 && !ticks.empty(); --n) {
            auto tick = std::move(ticks.front());
            ticks.pop_front();
            tick();
        }
    }

    void schedule_ticks() {
        if (ticks_scheduled || destroying) return;
        ticks_scheduled = true;
        asio::post(io, [this] { run_ticks(); });
    }

    void wait_signal(int signo, asio::signal_set& set) {
        set.async_wait([this, signo, set_ptr = &set](const asio::error_code& ec, int) {
            if (ec) return;
            auto it = signals.find(signo);
            if (it == signals.end() || it->second.set.get() != set_ptr) return;
            // Snapshot: listeners may add or remove signal listeners.
            const auto listeners = it->second.listeners;
            for (const auto& [id, fn] : listeners) {
                auto current = signals.find(signo);
                if (current == signals.end()) break;
                const auto& live = current->second.listeners;
                bool still_there = false;
                for (const auto& entry : live) still_there = still_there || entry.first == id;
                if (still_there) fn(signo);
            }
            auto again = signals.find(signo);
            if (again != signals.end() && again->second.set.get() == set_ptr) {
                wait_signal(signo, *again->second.set);
            }
        });
    }
};

Loop::Loop() : impl_(std::make_unique<Impl>()) {}

Loop::~Loop() {
    // First let what is still open close itself (its `close` listeners run).
    // Hooks may remove other hooks or add none; take them one by one.
    // A hook may add or remove hooks: passes until none is left.
    while (impl_->live_hooks > 0) {
        for (std::size_t i = 0; i < impl_->destroy_hooks.size(); ++i) {
            auto& slot = impl_->destroy_hooks[i];
            if (slot.id == 0) continue;
            std::function<void()> hook = std::move(slot.fn);
            slot.fn = nullptr;
            slot.id = 0;
            --impl_->live_hooks;
            hook();  // may grow destroy_hooks: `slot` is not used after this
        }
    }
    // Release every callback while the io_context still exists: they may own
    // sockets or timers of this loop. Move the containers out first, because
    // a destructor run here may call back into the loop.
    auto ticks = std::move(impl_->ticks);
    impl_->ticks.clear();
    ticks.clear();
    auto timers = std::move(impl_->timers);
    impl_->timers.clear();
    for (const TimerHandle& timer : timers) {
        timer->active_ = false;
        timer->callback_ = nullptr;
    }
    timers.clear();
    auto signals = std::move(impl_->signals);
    impl_->signals.clear();
    signals.clear();
    // From here on, calls back into the loop (from destructors of objects
    // that pending handlers own) are ignored.
    impl_->destroying = true;
    impl_->wakeup.reset();
    impl_->io_storage.reset();
    impl_->ticks.clear();
    impl_->timers.clear();
}

std::shared_ptr<Loop> Loop::get() {
    thread_local std::shared_ptr<Loop> default_loop = std::make_shared<Loop>();
    return default_loop;
}

TimerHandle Loop::schedule(double seconds, bool periodic,
                           std::function<void(const TimerHandle&)> callback) {
    if (!std::isfinite(seconds)) {
        throw std::invalid_argument("Timer interval must be a finite number of seconds, got " +
                                    format_seconds(seconds));
    }
    if (!callback) throw std::invalid_argument("Timer callback must not be empty");
    if (impl_->destroying) {
        // The loop is being destroyed: such a timer could never fire.
        auto dead = std::make_shared<Timer>(Timer::Passkey{}, seconds, periodic, 0, nullptr);
        dead->active_ = false;
        return dead;
    }
    const double interval = std::min(std::max(seconds, kMinInterval), kMaxInterval);
    auto timer = std::make_shared<Timer>(Timer::Passkey{}, interval, periodic,
                                         impl_->next_sequence++, std::move(callback));
    timer->deadline_ns_ = now_ns() + std::llround(interval * 1e9);
    impl_->timers.insert(timer);
    impl_->arm();
    return timer;
}

void Loop::cancel_timer(const TimerHandle& timer) {
    if (!timer || !timer->active_) return;
    timer->active_ = false;
    impl_->timers.erase(timer);
    if (!timer->running_) timer->callback_ = nullptr;  // else: once it returns
    impl_->arm();
}

std::size_t Loop::timer_count() const noexcept { return impl_->timers.size(); }

void Loop::future_tick(std::function<void()> callback) {
    if (!callback) throw std::invalid_argument("future_tick callback must not be empty");
    if (impl_->destroying) return;
    impl_->ticks.push_back(std::move(callback));
    impl_->schedule_ticks();
}

SignalHandle Loop::add_signal(int signo, std::function<void(int)> callback) {
    if (!callback) throw std::invalid_argument("Signal callback must not be empty");
    if (impl_->destroying) return {};
    auto& slot = impl_->signals[signo];
    if (!slot.set) {
        auto set = std::make_unique<asio::signal_set>(impl_->io);
        asio::error_code ec;
        set->add(signo, ec);
        if (ec) {
            impl_->signals.erase(signo);
            throw make_errno_error(ec.value(),
                                   "Unable to listen for signal " + std::to_string(signo) + ": ");
        }
        slot.set = std::move(set);
        impl_->wait_signal(signo, *slot.set);
    }
    const std::uint64_t id = impl_->next_signal_id++;
    slot.listeners.emplace_back(id, std::move(callback));
    return SignalHandle{signo, id};
}

void Loop::remove_signal(const SignalHandle& handle) {
    auto it = impl_->signals.find(handle.signal);
    if (it == impl_->signals.end()) return;
    auto& listeners = it->second.listeners;
    std::erase_if(listeners, [&](const auto& entry) { return entry.first == handle.id; });
    if (listeners.empty()) {
        // Destroying the set restores the default disposition (asio does it
        // when the last registration of a signal goes).
        auto set = std::move(it->second.set);
        impl_->signals.erase(it);
        set->cancel();
    }
}

void Loop::run() {
    if (impl_->running) throw std::logic_error("Loop::run() called while the loop is already running");
    impl_->running = true;
    ScopeExit not_running([this] { impl_->running = false; });
    impl_->io.restart();
    impl_->io.run();
}

bool Loop::run_until(const std::function<bool()>& done) {
    if (impl_->running) {
        throw std::logic_error("Loop::run_until() called while the loop is already running");
    }
    impl_->running = true;
    ScopeExit not_running([this] { impl_->running = false; });
    impl_->io.restart();
    while (!done()) {
        if (impl_->io.run_one() == 0) break;  // out of work, or stopped
    }
    return done();
}

void Loop::stop() { impl_->io.stop(); }

void Loop::post(std::function<void()> callback) {
    if (!callback) throw std::invalid_argument("post callback must not be empty");
    if (impl_->destroying) return;
    asio::post(impl_->io, std::move(callback));
}

std::shared_ptr<void> Loop::keep_alive() {
    return std::make_shared<asio::executor_work_guard<asio::io_context::executor_type>>(
        impl_->io.get_executor());
}

std::uint64_t Loop::add_destroy_hook(std::function<void()> hook) {
    if (!hook) throw std::invalid_argument("destroy hook must not be empty");
    if (impl_->destroying) return 0;
    std::uint32_t index = 0;
    if (!impl_->free_hook_slots.empty()) {
        index = impl_->free_hook_slots.back();
        impl_->free_hook_slots.pop_back();
    } else {
        index = static_cast<std::uint32_t>(impl_->destroy_hooks.size());
        impl_->destroy_hooks.emplace_back();
    }
    const std::uint64_t id = (impl_->next_hook_serial++ << 32) | index;
    impl_->destroy_hooks[index] = Impl::DestroyHook{id, std::move(hook)};
    ++impl_->live_hooks;
    return id;
}

void Loop::remove_destroy_hook(std::uint64_t id) noexcept {
    const auto index = static_cast<std::uint32_t>(id & 0xffffffffU);
    if (id == 0 || index >= impl_->destroy_hooks.size() || impl_->destroy_hooks[index].id != id) return;
    auto& slot = impl_->destroy_hooks[index];
    slot.id = 0;
    std::function<void()> gone = std::move(slot.fn);  // destroyed after the bookkeeping
    slot.fn = nullptr;
    --impl_->live_hooks;
    try {
        impl_->free_hook_slots.push_back(index);
    } catch (...) {
        // Out of memory: the slot stays unused; nothing else depends on it.
    }
}

asio::io_context& Loop::context() noexcept { return impl_->io; }

}  // namespace reactsock
