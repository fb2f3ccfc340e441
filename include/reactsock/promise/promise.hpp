// reactsock/promise/promise.hpp — cancellable promises, ReactPHP v3 semantics,
// usable with co_await.
//
//     rs::Deferred<int> deferred([] { /* canceller: stop the work */ });
//     deferred.promise()
//         .then([](int v) { return v * 2; })                      // value
//         .then([](int v) { return rs::resolve(std::to_string(v)); })  // promise: flattened
//         .otherwise([](const std::system_error& e) { return std::string(e.what()); })
//         .finally([] { std::puts("done"); });
//     deferred.resolve(21);
//
// Contract (the same for every promise in reactsock):
//  * Settlement is synchronous, as in ReactPHP: handlers run inside
//    resolve()/reject(), or inside then() when the promise is already settled.
//    Exception: when called from inside another handler, they run right after
//    that handler returns (a per-thread queue keeps chains of any length and
//    recursion through settled promises off the stack).
//  * A handler may return a value, a Promise<U> (adopted: the result settles
//    when it does) or throw (the result rejects with the exception).
//  * Rejection reasons are exceptions (std::exception_ptr). Library failures
//    are reactsock::Error (a std::system_error with the errno condition).
//  * otherwise(handler) catches by the handler's parameter type: a handler
//    taking `const std::system_error&` sees only system errors, others pass
//    through unchanged; `std::exception_ptr` catches everything.
//  * cancel() on a pending promise: its canceller runs; a promise made by
//    then() forwards the cancellation to its parent once every consumer of
//    that parent has cancelled. Whatever the canceller does, a cancelled
//    promise does not stay pending: if nothing settled it, it rejects with
//    reactsock::Error(ECANCELED, "Promise cancelled (ECANCELED)") — the
//    handlers of a cancelled promise's own then() never run. cancel() on a
//    settled promise does nothing (on a rejected one it marks the rejection handled).
//  * A rejection that no handler ever saw (no then with a rejection handler,
//    otherwise, finally, co_await, cancel) is reported when the last reference
//    to the promise goes away: to stderr, or to set_rejection_handler()'s handler.
//  * Ownership: a promise is kept alive by whatever can settle it (its
//    Deferred, the operation behind it). A promise keeps the promises derived
//    from it alive, not the other way round, so `op().then(f)` may be dropped
//    at once and `f` still runs. A promise that nothing can settle any more is
//    freed with its handlers, without running them.
//  * Threads: a promise belongs to the thread that created it.
//  * Values are passed to handlers as `const T&` (several handlers may read them).
//
// Coroutines: a function returning Promise<T> may use co_await and co_return;
// it starts running at once (like a JS async function) and its promise
// settles when it returns or throws. `co_await promise` gives the value or
// throws the rejection. Cancelling the promise of a suspended coroutine
// cancels the promise it is waiting for; the coroutine then sees the
// cancellation as an exception at that co_await.
#pragma once

#include <reactsock/error.hpp>

#include <coroutine>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace reactsock {

template <class T = void>
class Promise;
template <class T = void>
class Deferred;

/// Handler called with each rejection nobody handled. Must not throw.
using RejectionHandler = std::function<void(std::exception_ptr)>;

/// Replaces the handler for unhandled rejections (process-wide); returns the
/// previous one. An empty handler restores the default (a line on stderr:
/// "Unhandled promise rejection with <type>: <what()>").
RejectionHandler set_rejection_handler(RejectionHandler handler);

namespace detail {

struct Unit {};

template <class T>
using stored_t = std::conditional_t<std::is_void_v<T>, Unit, T>;

template <class T>
struct is_promise : std::false_type {};
template <class T>
struct is_promise<Promise<T>> : std::true_type {};
template <class T>
inline constexpr bool is_promise_v = is_promise<std::remove_cvref_t<T>>::value;

template <class R>
struct unwrap {
    using type = R;
};
template <class U>
struct unwrap<Promise<U>> {
    using type = U;
};
template <class R>
using unwrap_t = typename unwrap<std::remove_cvref_t<R>>::type;

enum class Status : unsigned char { pending, fulfilled, rejected };

struct StateBase;
using StatePtr = std::shared_ptr<StateBase>;

// Something to run once a state has settled.
struct Callback {
    virtual ~Callback() = default;
    virtual void run(const StatePtr& source) = 0;
};

struct StateBase {
    StateBase() = default;
    StateBase(const StateBase&) = delete;
    StateBase& operator=(const StateBase&) = delete;
    virtual ~StateBase();  // reports an unhandled rejection

    Status status = Status::pending;
    bool handled = false;           // someone took responsibility for a rejection
    bool cancel_requested = false;  // cancel() reached this state
    int consumers = 0;              // then()/co_await registrations while pending
    int cancel_requests = 0;        // of those, how many have cancelled
    std::exception_ptr error;
    std::weak_ptr<StateBase> parent;  // the state this one follows, for cancellation
    std::vector<std::unique_ptr<Callback>> callbacks;
    std::function<void(const StatePtr&)> canceller;
};

template <class T>
struct State final : StateBase {
    std::optional<stored_t<T>> value;
};

// Runs the callbacks of a state that just settled (through the per-thread queue).
void notify(const StatePtr& state);
// Runs `callback` when `state` settles (now, if it has).
void subscribe(const StatePtr& state, std::unique_ptr<Callback> callback);
// Cancels `state` (see the contract above).
void cancel(const StatePtr& state);
// Records that `child` follows `parent` (then(), adoption, co_await).
void link(const StatePtr& child, const StatePtr& parent);
void reject_state(const StatePtr& state, std::exception_ptr error);

template <class T, class... V>
void fulfill(const std::shared_ptr<State<T>>& state, V&&... value) {
    if (state->status != Status::pending) return;
    state->value.emplace(std::forward<V>(value)...);
    state->status = Status::fulfilled;
    notify(state);
}

// Copies the outcome of a settled `source` into `target`.
template <class T>
void forward_outcome(const State<T>& source, const std::shared_ptr<State<T>>& target) {
    if (source.status == Status::rejected) {
        reject_state(target, source.error);
    } else if constexpr (std::is_void_v<T>) {
        fulfill(target);
    } else {
        fulfill(target, *source.value);
    }
}

template <class T>
struct ForwardCallback final : Callback {
    explicit ForwardCallback(std::shared_ptr<State<T>> t) : target(std::move(t)) {}
    void run(const StatePtr& source) override {
        forward_outcome(static_cast<const State<T>&>(*source), target);
    }
    std::shared_ptr<State<T>> target;
};

struct Access {
    template <class T>
    static const std::shared_ptr<State<T>>& state(const Promise<T>& p) {
        return p.state();
    }
    template <class T>
    static Promise<T> make(std::shared_ptr<State<T>> s) {
        return Promise<T>(std::move(s));
    }
};

template <class T>
void adopt(const std::shared_ptr<State<T>>& target, const Promise<T>& promise);

// Settles `target` with what `produce()` returns: a value, void or a promise.
template <class T, class Produce>
void settle_with(const std::shared_ptr<State<T>>& target, Produce&& produce) {
    using R = decltype(produce());
    if constexpr (is_promise_v<R>) {
        adopt(target, produce());
    } else if constexpr (std::is_void_v<R>) {
        produce();
        fulfill(target);
    } else {
        fulfill(target, produce());
    }
}

// The parameter type of a non-generic callable (lambda, function pointer).
template <class M>
struct first_param;
template <class R, class C, class A>
struct first_param<R (C::*)(A)> {
    using type = A;
};
template <class R, class C, class A>
struct first_param<R (C::*)(A) const> {
    using type = A;
};
template <class R, class C, class A>
struct first_param<R (C::*)(A) noexcept> {
    using type = A;
};
template <class R, class C, class A>
struct first_param<R (C::*)(A) const noexcept> {
    using type = A;
};
template <class R, class A>
struct first_param<R (*)(A)> {
    using type = A;
};
template <class R, class A>
struct first_param<R (*)(A) noexcept> {
    using type = A;
};

template <class G, class = void>
struct error_param {
    // Generic lambdas and other callables: they get the exception_ptr.
    using type = std::exception_ptr;
};
template <class G>
struct error_param<G, std::void_t<decltype(&G::operator())>> {
    using type = std::remove_cvref_t<typename first_param<decltype(&G::operator())>::type>;
};
template <class R, class A>
struct error_param<R (*)(A), void> {
    using type = std::remove_cvref_t<A>;
};

template <class G>
using error_param_t = typename error_param<std::decay_t<G>>::type;

// Result of calling error handler G with its own parameter type.
template <class G>
using error_result_t =
    std::invoke_result_t<G&, std::conditional_t<std::is_same_v<error_param_t<G>, std::exception_ptr>,
                                                std::exception_ptr, const error_param_t<G>&>>;

// Calls `handler` if `error` matches its parameter type and settles `target`
// with its result; otherwise forwards the rejection.
template <class U, class G>
void handle_rejection(const std::shared_ptr<State<U>>& target, G& handler,
                      const std::exception_ptr& error) {
    using E = error_param_t<G>;
    if constexpr (std::is_same_v<E, std::exception_ptr>) {
        settle_with(target, [&]() -> decltype(auto) { return handler(error); });
    } else {
        bool matched = false;
        try {
            std::rethrow_exception(error);
        } catch (const E& e) {
            matched = true;
            // A throw from the handler leaves this block and rejects `target`.
            settle_with(target, [&]() -> decltype(auto) { return handler(e); });
        } catch (...) {
        }
        if (!matched) reject_state(target, error);
    }
}

struct PassThrough {};

template <class T, class U, class F, class G>
struct ThenCallback final : Callback {
    ThenCallback(std::shared_ptr<State<U>> t, F f, G g)
        : target(std::move(t)), on_fulfilled(std::move(f)), on_rejected(std::move(g)) {}

    void run(const StatePtr& source_base) override {
        if (target->status != Status::pending) return;  // cancelled meanwhile
        const auto& source = static_cast<const State<T>&>(*source_base);
        try {
            if (source.status == Status::fulfilled) {
                if constexpr (std::is_same_v<F, PassThrough>) {
                    if constexpr (std::is_same_v<T, U>) forward_outcome(source, target);
                } else if constexpr (std::is_void_v<T>) {
                    settle_with(target, [&]() -> decltype(auto) { return on_fulfilled(); });
                } else {
                    settle_with(target,
                                [&]() -> decltype(auto) { return on_fulfilled(*source.value); });
                }
            } else if constexpr (std::is_same_v<G, PassThrough>) {
                reject_state(target, source.error);
            } else {
                handle_rejection(target, on_rejected, source.error);
            }
        } catch (...) {
            reject_state(target, std::current_exception());
        }
    }

    std::shared_ptr<State<U>> target;
    F on_fulfilled;
    G on_rejected;
};

template <class T, class F>
struct FinallyCallback final : Callback {
    FinallyCallback(std::shared_ptr<State<T>> t, F f) : target(std::move(t)), fn(std::move(f)) {}

    void run(const StatePtr& source_base) override {
        if (target->status != Status::pending) return;
        auto source = std::static_pointer_cast<State<T>>(source_base);
        try {
            if constexpr (is_promise_v<std::invoke_result_t<F&>>) {
                // Wait for the returned promise; its rejection wins, else the
                // original outcome passes through.
                auto inner = fn();
                struct After final : Callback {
                    After(std::shared_ptr<State<T>> t, std::shared_ptr<State<T>> s)
                        : target(std::move(t)), source(std::move(s)) {}
                    void run(const StatePtr& inner_state) override {
                        if (inner_state->status == Status::rejected) {
                            reject_state(target, inner_state->error);
                        } else {
                            forward_outcome(*source, target);
                        }
                    }
                    std::shared_ptr<State<T>> target, source;
                };
                auto inner_state = Access::state(inner);
                inner_state->handled = true;
                link(target, inner_state);
                subscribe(inner_state, std::make_unique<After>(target, source));
            } else {
                fn();
                forward_outcome(*source, target);
            }
        } catch (...) {
            reject_state(target, std::current_exception());
        }
    }

    std::shared_ptr<State<T>> target;
    F fn;
};

template <class T>
struct CoroutinePromise;

}  // namespace detail

/// The eventual result of an asynchronous operation: a T, or an exception.
/// Copies share one state. A default-constructed Promise is empty (valid() is false).
template <class T>
class Promise {
public:
    using value_type = T;
    using promise_type = detail::CoroutinePromise<T>;

    Promise() = default;

    /// Registers handlers; returns a promise of what they return.
    /// `on_fulfilled` is called with `const T&` (nothing for Promise<void>).
    template <class F>
    auto then(F&& on_fulfilled) const {
        return then_impl(std::forward<F>(on_fulfilled), detail::PassThrough{});
    }

    /// As then(on_fulfilled), and `on_rejected` handles rejections whose type
    /// matches its parameter (see otherwise()). Both must yield the same type.
    template <class F, class G>
    auto then(F&& on_fulfilled, G&& on_rejected) const {
        return then_impl(std::forward<F>(on_fulfilled), std::forward<G>(on_rejected));
    }

    /// Handles a rejection whose exception type matches the handler's
    /// parameter (`const std::system_error&`, `const std::exception&`, or
    /// `std::exception_ptr` for all); other rejections and fulfilments pass
    /// through. The handler returns a T (or Promise<T>) to recover, or throws.
    template <class G>
    Promise<T> otherwise(G&& on_rejected) const {
        using R = detail::unwrap_t<detail::error_result_t<std::decay_t<G>>>;
        static_assert(std::is_same_v<R, T>,
                      "otherwise(): the handler must return the promise's value type "
                      "(or a Promise of it)");
        return then_impl(detail::PassThrough{}, std::forward<G>(on_rejected));
    }

    /// Runs `fn()` once settled, either way, and passes the outcome through.
    /// If `fn` throws, or returns a promise that rejects, that rejection wins;
    /// if it returns a promise, the result waits for it.
    template <class F>
    Promise<T> finally(F&& fn) const {
        static_assert(std::is_invocable_v<std::decay_t<F>&>, "finally(): handler takes no arguments");
        auto target = std::make_shared<detail::State<T>>();
        detail::link(target, state());
        state()->handled = true;
        detail::subscribe(state(), std::make_unique<detail::FinallyCallback<T, std::decay_t<F>>>(
                                       target, std::forward<F>(fn)));
        return Promise<T>(std::move(target));
    }

    /// Cancels the operation (see the contract at the top of this header).
    void cancel() const { detail::cancel(state()); }

    [[nodiscard]] bool valid() const noexcept { return state_ != nullptr; }
    [[nodiscard]] bool is_pending() const { return state()->status == detail::Status::pending; }
    [[nodiscard]] bool is_fulfilled() const { return state()->status == detail::Status::fulfilled; }
    [[nodiscard]] bool is_rejected() const { return state()->status == detail::Status::rejected; }

    struct Awaiter;
    Awaiter operator co_await() const& { return Awaiter{state()}; }
    Awaiter operator co_await() && {
        // Take the state out of the temporary, so the suspended coroutine
        // frame does not keep it alive (no frame <-> promise cycle).
        state();
        return Awaiter{std::move(state_)};
    }

    /// Awaits the promise from inside a coroutine (any coroutine type).
    struct Awaiter {
        std::shared_ptr<detail::State<T>> awaited;

        [[nodiscard]] bool await_ready() const noexcept {
            return awaited->status != detail::Status::pending;
        }

        template <class P>
        void await_suspend(std::coroutine_handle<P> handle) {
            auto state = std::move(awaited);  // the callback hands it back
            state->handled = true;
            if constexpr (requires { handle.promise().reactsock_state(); }) {
                detail::link(handle.promise().reactsock_state(), state);
            }
            detail::subscribe(state, std::make_unique<Resume>(this, handle));
        }

        T await_resume() {
            awaited->handled = true;
            if (awaited->status == detail::Status::rejected) std::rethrow_exception(awaited->error);
            if constexpr (!std::is_void_v<T>) return *awaited->value;
        }

    private:
        // Owns the suspended coroutine until it resumes it; destroys the
        // frame if the awaited promise is freed without settling.
        struct Resume final : detail::Callback {
            Resume(Awaiter* a, std::coroutine_handle<> h) : awaiter(a), handle(h) {}
            Resume(const Resume&) = delete;
            Resume& operator=(const Resume&) = delete;
            ~Resume() override {
                if (handle) handle.destroy();
            }
            void run(const detail::StatePtr& source) override {
                awaiter->awaited = std::static_pointer_cast<detail::State<T>>(source);
                std::exchange(handle, {}).resume();
            }
            Awaiter* awaiter;
            std::coroutine_handle<> handle;
        };
    };

private:
    friend struct detail::Access;
    template <class>
    friend class Deferred;
    template <class>
    friend class Promise;
    friend struct detail::CoroutinePromise<T>;

    explicit Promise(std::shared_ptr<detail::State<T>> state) : state_(std::move(state)) {}

    const std::shared_ptr<detail::State<T>>& state() const {
        if (!state_) throw std::logic_error("reactsock::Promise: use of an empty promise");
        return state_;
    }

    template <class F, class G>
    auto then_impl(F&& on_fulfilled, G&& on_rejected) const {
        using Fn = std::decay_t<F>;
        using Gn = std::decay_t<G>;
        using U = typename then_result<Fn, Gn>::type;
        auto target = std::make_shared<detail::State<U>>();
        detail::link(target, state());
        state()->handled = true;  // the rejection goes to `target`, which reports it if unseen
        detail::subscribe(state(), std::make_unique<detail::ThenCallback<T, U, Fn, Gn>>(
                                       target, std::forward<F>(on_fulfilled),
                                       std::forward<G>(on_rejected)));
        return Promise<U>(std::move(target));
    }

    template <class F, class G>
    struct then_result {
        static auto fulfilled_type() {
            if constexpr (std::is_same_v<F, detail::PassThrough>) {
                return std::type_identity<T>{};
            } else if constexpr (std::is_void_v<T>) {
                static_assert(std::is_invocable_v<F&>,
                              "then(): a Promise<void> handler takes no arguments");
                return std::type_identity<detail::unwrap_t<std::invoke_result_t<F&>>>{};
            } else {
                static_assert(std::is_invocable_v<F&, const T&>,
                              "then(): the handler must accept the promise's value (const T&)");
                return std::type_identity<detail::unwrap_t<std::invoke_result_t<F&, const T&>>>{};
            }
        }
        using type = typename decltype(fulfilled_type())::type;
        static constexpr bool handlers_agree() {
            if constexpr (std::is_same_v<G, detail::PassThrough>) {
                return true;
            } else {
                return std::is_same_v<detail::unwrap_t<detail::error_result_t<G>>, type>;
            }
        }
        static_assert(handlers_agree(), "then(): both handlers must return the same type");
    };

    std::shared_ptr<detail::State<T>> state_;
};

/// The producer side of a promise: settle it with resolve()/reject().
/// Copies share one state. Settling a settled promise does nothing — also one
/// that was cancelled: the value is dropped (resolve() does not even move from
/// its argument) and a late reason is neither kept nor reported.
template <class T>
class Deferred {
public:
    /// No canceller: cancel() on this Deferred's own promise rejects it with
    /// ECANCELED (see the contract at the top); cancelling only promises
    /// derived from it leaves it pending, to be settled by its producer.
    Deferred() : state_(std::make_shared<detail::State<T>>()) {}

    /// `canceller` runs when the promise is cancelled while pending: `void()`,
    /// or `void(Deferred<T>&)` to settle it with a reason of its own (prefer
    /// that to capturing the Deferred, which would keep it alive until then).
    template <class C>
        requires(!std::is_same_v<std::decay_t<C>, Deferred>)
    explicit Deferred(C&& canceller) : Deferred() {
        using Cn = std::decay_t<C>;
        if constexpr (std::is_invocable_v<Cn&, Deferred<T>&>) {
            state_->canceller = [fn = Cn(std::forward<C>(canceller))](
                                    const detail::StatePtr& s) mutable {
                Deferred<T> self(std::static_pointer_cast<detail::State<T>>(s));
                fn(self);
            };
        } else {
            static_assert(std::is_invocable_v<Cn&>,
                          "Deferred canceller must be void() or void(Deferred<T>&)");
            state_->canceller = [fn = Cn(std::forward<C>(canceller))](
                                    const detail::StatePtr&) mutable { fn(); };
        }
    }

    [[nodiscard]] Promise<T> promise() const { return Promise<T>(state_); }

    /// Fulfils the promise (Promise<void>: no argument).
    void resolve()
        requires std::is_void_v<T>
    {
        detail::fulfill(state_);
    }
    template <class V>
        requires(!std::is_void_v<T> && std::is_constructible_v<detail::stored_t<T>, V &&>)
    void resolve(V&& value) {
        detail::fulfill(state_, std::forward<V>(value));
    }

    /// Rejects the promise with an exception object or an exception_ptr.
    void reject(std::exception_ptr error) { detail::reject_state(state_, std::move(error)); }
    template <class E>
        requires(!std::is_same_v<std::decay_t<E>, std::exception_ptr>)
    void reject(E&& error) {
        reject(std::make_exception_ptr(std::forward<E>(error)));
    }

    [[nodiscard]] bool is_pending() const noexcept {
        return state_->status == detail::Status::pending;
    }

private:
    template <class>
    friend class Deferred;
    explicit Deferred(std::shared_ptr<detail::State<T>> state) : state_(std::move(state)) {}
    std::shared_ptr<detail::State<T>> state_;
};

namespace detail {


template <class T>
void adopt(const std::shared_ptr<State<T>>& target, const Promise<T>& promise) {
    const auto& source = Access::state(promise);
    if (source == target) {
        reject_state(target,
                     std::make_exception_ptr(std::logic_error("Cannot resolve a promise with itself.")));
        return;
    }
    source->handled = true;
    link(target, source);
    subscribe(source, std::make_unique<ForwardCallback<T>>(target));
}

template <class T>
struct CoroutinePromiseBase {
    std::shared_ptr<State<T>> state = std::make_shared<State<T>>();

    Promise<T> get_return_object() { return Access::make(state); }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void unhandled_exception() { reject_state(state, std::current_exception()); }
    const std::shared_ptr<State<T>>& reactsock_state() const noexcept { return state; }
};

template <class T>
struct CoroutinePromise : CoroutinePromiseBase<T> {
    template <class V>
        requires std::is_constructible_v<T, V &&>
    void return_value(V&& value) {
        fulfill(this->state, std::forward<V>(value));
    }
};

template <>
struct CoroutinePromise<void> : CoroutinePromiseBase<void> {
    void return_void() { fulfill(this->state); }
};

}  // namespace detail

/// A promise already fulfilled with `value` (a Promise is returned as is).
template <class V>
auto resolve(V&& value) {
    if constexpr (detail::is_promise_v<V>) {
        return std::forward<V>(value);
    } else {
        Deferred<std::decay_t<V>> d;
        d.resolve(std::forward<V>(value));
        return d.promise();
    }
}

/// A fulfilled Promise<void>.
inline Promise<void> resolve() {
    Deferred<void> d;
    d.resolve();
    return d.promise();
}

/// A promise already rejected with `error` (an exception object or exception_ptr).
template <class T = void, class E>
Promise<T> reject(E&& error) {
    Deferred<T> d;
    d.reject(std::forward<E>(error));
    return d.promise();
}

}  // namespace reactsock
