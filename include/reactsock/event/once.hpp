// reactsock/event/once.hpp — the next emit of an event, as a promise.
//
//     co_await rs::once(conn, rs::ev::close);                       // Promise<void>
//     std::string chunk = co_await rs::once(conn, rs::ev::data);    // Promise<std::string>
//     auto conn = co_await rs::once(server, rs::ev::connection);    // Promise<std::shared_ptr<Connection>>
//
// rs::once(emitter, tag) is Node's events.once() for typed events: a promise
// of the arguments of the next `tag` emit on `emitter`.
//  * Resolves with: nothing for Event<>; the argument for Event<A>; a
//    std::tuple of them for Event<A, B, ...>. Arguments are copied into values
//    that outlive the emit: std::string_view becomes std::string, and
//    `const std::system_error&` becomes reactsock::Error (same code and what()).
//  * Rejects with: the error, if `emitter` emits ev::error first (as Node does;
//    not when waiting for ev::error itself); reactsock::Error(ECANCELED,
//    "Emitter dropped its listeners before the event (ECANCELED)") if the
//    emitter removes its listeners (a stream does on close) or is destroyed
//    first — so `once(conn, ev::data)` on a connection that closes without
//    data does not stay pending forever.
//  * Settles: synchronously inside the emit (handlers run as for any promise).
//  * cancel(): removes both listeners from the emitter at once and rejects with
//    reactsock::Error(ECANCELED, "Waiting for the event was cancelled (ECANCELED)");
//    the emitter is left as it was.
//  * Threads: the emitter's (its loop's) thread only.
// The promise does not keep the emitter alive; the emitter keeps the promise's
// listeners until the event, an error, cancel() or its own close.
#pragma once

#include <reactsock/error.hpp>
#include <reactsock/event/event_emitter.hpp>
#include <reactsock/event/events.hpp>
#include <reactsock/promise/promise.hpp>

#include <cerrno>
#include <concepts>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <type_traits>

namespace reactsock {

namespace detail {

// What an event argument is kept as once the emit is over.
template <class A>
struct once_value {
    using type = std::remove_cvref_t<A>;
};
template <>
struct once_value<std::string_view> {
    using type = std::string;
};
template <>
struct once_value<const std::system_error&> {
    using type = Error;
};

template <class EventType>
struct once_result;
template <>
struct once_result<Event<>> {
    using type = void;
};
template <class A>
struct once_result<Event<A>> {
    using type = typename once_value<A>::type;
};
template <class A, class B, class... More>
struct once_result<Event<A, B, More...>> {
    using type = std::tuple<typename once_value<A>::type, typename once_value<B>::type,
                            typename once_value<More>::type...>;
};

template <class V, class A>
V once_keep(A&& argument) {
    if constexpr (std::is_same_v<V, Error>) {
        return Error(argument.code(), argument.what());
    } else {
        return V(std::forward<A>(argument));
    }
}

// Shared by the event listener, the error listener and the canceller. The
// listeners own it; when the emitter drops both without either having run,
// it rejects the promise on its way out.
template <class R>
struct OnceState {
    Deferred<R> deferred;
    std::weak_ptr<EventEmitter> emitter;
    ListenerHandle event_listener;
    ListenerHandle error_listener;

    explicit OnceState(Deferred<R> d) : deferred(std::move(d)) {}
    OnceState(const OnceState&) = delete;
    OnceState& operator=(const OnceState&) = delete;
    ~OnceState() {
        if (deferred.is_pending()) {
            deferred.reject(Error(ECANCELED, "Emitter dropped its listeners before the event (ECANCELED)"));
        }
    }
    // Removes whichever listener is still registered (no-op for the one
    // running, which `once` already removed).
    void unhook() {
        if (auto e = emitter.lock()) {
            if (event_listener) e->remove_listener(event_listener);
            if (error_listener) e->remove_listener(error_listener);
        }
    }
};

template <class R, class EventType>
struct OnceListener;
template <class R, class... Args>
struct OnceListener<R, Event<Args...>> {
    std::shared_ptr<OnceState<R>> state;
    void operator()(Args... args) const {
        state->unhook();
        if (!state->deferred.is_pending()) return;
        if constexpr (std::is_void_v<R>) {
            state->deferred.resolve();
        } else if constexpr (sizeof...(Args) == 1) {
            state->deferred.resolve(once_keep<R>(args...));
        } else {
            state->deferred.resolve(R(once_keep<typename once_value<Args>::type>(args)...));
        }
    }
};

}  // namespace detail

/// The result type of once() for event tag `Tag`.
template <class Tag>
using once_result_t = typename detail::once_result<typename Tag::event_type>::type;

/// A promise of the next `tag` emit on `emitter` (see the top of this file).
/// Throws std::invalid_argument for a null emitter.
template <class E, class Tag>
    requires std::derived_from<E, EventEmitter>
[[nodiscard]] Promise<once_result_t<Tag>> once(const std::shared_ptr<E>& emitter, const Tag& tag) {
    using R = once_result_t<Tag>;
    using State = detail::OnceState<R>;
    if (!emitter) throw std::invalid_argument("reactsock::once needs an emitter");

    // The canceller reaches the state (which holds the Deferred) through a
    // weak cell filled in once the state exists.
    auto cell = std::make_shared<std::weak_ptr<State>>();
    Deferred<R> deferred([cell](Deferred<R>& self) {
        self.reject(Error(ECANCELED, "Waiting for the event was cancelled (ECANCELED)"));
        if (auto state = cell->lock()) state->unhook();
    });
    auto state = std::make_shared<State>(deferred);
    *cell = state;
    state->emitter = std::shared_ptr<EventEmitter>(emitter);

    EventEmitter& target = *emitter;
    state->event_listener = target.once(tag, detail::OnceListener<R, typename Tag::event_type>{state});
    if constexpr (!std::is_same_v<Tag, ev::error_t>) {
        state->error_listener = target.once(ev::error, [state](const std::system_error& e) {
            state->unhook();
            if (state->deferred.is_pending()) state->deferred.reject(Error(e.code(), e.what()));
        });
    }
    return deferred.promise();
}

}  // namespace reactsock
