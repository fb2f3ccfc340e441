#include <reactsock/event/event_emitter.hpp>

#include <algorithm>

namespace reactsock {

EventEmitter::~EventEmitter() = default;

EventEmitter::EmitScope::EmitScope(EventEmitter& emitter)
    : count(emitter.entries_.size()), emitter_(emitter) {
    ++emitter_.emitting_;
}

EventEmitter::EmitScope::~EmitScope() {
    if (--emitter_.emitting_ == 0 && emitter_.dirty_) emitter_.compact();
}

void EventEmitter::EmitScope::take_once(Entry& entry) {
    // Marked, not erased: the listener object must outlive its own call.
    entry.removed = true;
    emitter_.dirty_ = true;
}

ListenerHandle EventEmitter::insert(const void* event,
                                    std::unique_ptr<detail::ListenerBase> listener, bool once) {
    // Room for the listeners a piped connection gets, in one allocation.
    if (entries_.capacity() == 0) entries_.reserve(8);
    const std::uint64_t id = next_id_++;
    entries_.push_back(Entry{event, id, once, false, std::move(listener)});
    return ListenerHandle(event, id);
}

void EventEmitter::mark_removed(Entry& entry) {
    entry.removed = true;
    dirty_ = true;
}

bool EventEmitter::remove_listener(const ListenerHandle& handle) {
    auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) {
        return e.id == handle.id_ && e.event == handle.event_;
    });
    if (it == entries_.end() || it->removed) return false;
    if (emitting_ > 0) {
        mark_removed(*it);
    } else {
        entries_.erase(it);
    }
    return true;
}

void EventEmitter::remove_all_of(const void* event) {
    if (emitting_ > 0) {
        for (Entry& e : entries_) {
            if (e.event == event && !e.removed) mark_removed(e);
        }
    } else {
        std::erase_if(entries_, [event](const Entry& e) { return e.event == event; });
    }
}

void EventEmitter::remove_all_listeners() {
    if (emitting_ > 0) {
        for (Entry& e : entries_) {
            if (!e.removed) mark_removed(e);
        }
    } else {
        // Moved out first: a listener's destructor may touch this emitter.
        std::vector<Entry> gone;
        gone.swap(entries_);
    }
}

std::size_t EventEmitter::count_of(const void* event) const {
    return static_cast<std::size_t>(std::count_if(entries_.begin(), entries_.end(), [event](const Entry& e) {
        return e.event == event && !e.removed;
    }));
}

void EventEmitter::compact() {
    std::erase_if(entries_, [](const Entry& e) { return e.removed; });
    dirty_ = false;
}

}  // namespace reactsock
