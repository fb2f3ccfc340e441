// reactsock/event/event_emitter.hpp — typed event emitter.
//
// An event is a tag type derived from reactsock::Event<Args...>; the tag fixes
// the listener signature at compile time:
//
//     struct progress_t : rs::Event<std::size_t /*done*/, std::size_t /*total*/> {};
//     inline constexpr progress_t progress{};
//
//     emitter.on(progress, [](std::size_t done, std::size_t total) { ... });  // ok
//     emitter.on(progress, [](std::string) { ... });   // compile error: wrong signature
//     emitter.emit(progress, 3, 10);
//
// Semantics (one thread; an emitter belongs to the thread of its loop):
//  * Listeners of one event run synchronously, in registration order, inside emit().
//  * A listener added while the same event is being emitted is not called by
//    that emit; it is called by the next one.
//  * A listener removed while an emit is in progress is not called afterwards,
//    not even by the emit that is in progress. Removing the running listener
//    itself is safe.
//  * `once` listeners are removed just before they are called, so an emit from
//    inside them does not call them again.
//  * An exception thrown by a listener propagates out of emit() (remaining
//    listeners of that emit are skipped). Listeners should not throw.
//  * Emitting an event without listeners does nothing, `error` included
//    (ReactPHP's evenement behaves the same; Node would throw).
//  * An emitter must not be destroyed from inside one of its own listeners;
//    classes built on it (streams, servers) keep themselves alive while emitting.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace reactsock {

/// Base of every event tag: `Args...` are the arguments listeners receive.
template <class... Args>
struct Event {
    using event_type = Event<Args...>;
};

/// Identifies one registered listener; returned by on() and once().
class ListenerHandle {
public:
    ListenerHandle() = default;
    /// True if this handle was returned by on()/once() (it may be removed since).
    [[nodiscard]] explicit operator bool() const noexcept { return id_ != 0; }
    friend bool operator==(const ListenerHandle&, const ListenerHandle&) = default;

private:
    friend class EventEmitter;
    ListenerHandle(const void* event, std::uint64_t id) : event_(event), id_(id) {}
    const void* event_ = nullptr;
    std::uint64_t id_ = 0;
};

namespace detail {

template <class Tag>
inline constexpr char event_key = 0;  // its address identifies the event type

struct ListenerBase {
    virtual ~ListenerBase() = default;
};

template <class EventType>
struct EventTraits;
template <class... Args>
struct EventTraits<Event<Args...>> {
    struct Invoker : ListenerBase {
        virtual void call(Args... args) = 0;
    };
    template <class F>
    struct Callable final : Invoker {
        explicit Callable(F f) : fn(std::move(f)) {}
        void call(Args... args) override { fn(std::forward<Args>(args)...); }
        F fn;
    };
    template <class F>
    static constexpr bool accepts = std::is_invocable_v<F&, Args...>;
};

}  // namespace detail

/// Base class for everything that emits events.
class EventEmitter {
public:
    EventEmitter() = default;
    EventEmitter(const EventEmitter&) = delete;
    EventEmitter& operator=(const EventEmitter&) = delete;
    virtual ~EventEmitter();

    /// Calls `listener` on every emit of `Tag` until removed.
    template <class Tag, class F>
    ListenerHandle on(const Tag& tag, F&& listener) {
        return add<Tag>(tag, std::forward<F>(listener), false);
    }

    /// Calls `listener` on the next emit of `Tag` only.
    template <class Tag, class F>
    ListenerHandle once(const Tag& tag, F&& listener) {
        return add<Tag>(tag, std::forward<F>(listener), true);
    }

    /// Removes the listener `handle` names. Returns false if it was already gone.
    bool remove_listener(const ListenerHandle& handle);

    /// Removes every listener of event `Tag`.
    template <class Tag>
    void remove_all_listeners(const Tag&) {
        remove_all_of(&detail::event_key<Tag>);
    }

    /// Removes every listener of every event.
    void remove_all_listeners();

    /// Number of listeners currently registered for `Tag`.
    template <class Tag>
    [[nodiscard]] std::size_t listener_count(const Tag&) const {
        return count_of(&detail::event_key<Tag>);
    }

    /// Calls the listeners of `Tag` with `args`.
    template <class Tag, class... A>
    void emit(const Tag&, A&&... args) {
        using Invoker = typename detail::EventTraits<typename Tag::event_type>::Invoker;
        if (entries_.empty()) return;
        const void* const event = &detail::event_key<Tag>;
        EmitScope scope(*this);
        for (std::size_t i = 0; i < scope.count; ++i) {
            if (detail::ListenerBase* listener = scope.take(i, event)) {
                static_cast<Invoker*>(listener)->call(args...);
            }
        }
    }

private:
    // Every listener of every event in one vector, in registration order: an
    // emitter has a handful of listeners, so one allocation and a short scan
    // beat a container per event.
    struct Entry {
        const void* event;
        std::uint64_t id;
        bool once;
        bool removed;
        std::unique_ptr<detail::ListenerBase> listener;
    };

    // Keeps the entries in place while listeners run (they may add or remove
    // listeners, or emit again): removals only mark entries until the
    // outermost emit ends, additions go after `count`.
    class EmitScope {
    public:
        explicit EmitScope(EventEmitter& emitter);
        ~EmitScope();
        EmitScope(const EmitScope&) = delete;
        EmitScope& operator=(const EmitScope&) = delete;
        // The listener to call for entry i if it listens to `event` and was
        // not removed, else nullptr.
        detail::ListenerBase* take(std::size_t i, const void* event) {
            Entry& entry = emitter_.entries_[i];
            if (entry.event != event || entry.removed) return nullptr;
            if (entry.once) take_once(entry);
            return entry.listener.get();
        }
        const std::size_t count;

    private:
        void take_once(Entry& entry);
        EventEmitter& emitter_;
    };

    template <class Tag, class F>
    ListenerHandle add(const Tag&, F&& listener, bool once) {
        using Traits = detail::EventTraits<typename Tag::event_type>;
        using Fn = std::decay_t<F>;
        static_assert(Traits::template accepts<Fn>,
                      "reactsock: this listener cannot be called with the arguments of the "
                      "event tag (see the tag's reactsock::Event<...> base)");
        return insert(&detail::event_key<Tag>,
                      std::make_unique<typename Traits::template Callable<Fn>>(
                          std::forward<F>(listener)),
                      once);
    }

    ListenerHandle insert(const void* event, std::unique_ptr<detail::ListenerBase> listener,
                          bool once);
    void remove_all_of(const void* event);
    [[nodiscard]] std::size_t count_of(const void* event) const;
    void mark_removed(Entry& entry);
    void compact();

    std::vector<Entry> entries_;
    std::uint64_t next_id_ = 1;
    unsigned emitting_ = 0;  // nesting depth of emits in progress
    bool dirty_ = false;     // entries marked removed, to erase
};

}  // namespace reactsock
