#include <reactsock/event/event_emitter.hpp>

#include <algorithm>

namespace reactsock {

EventEmitter::~EventEmitter() = default;

EventEmitter::EmitScope::EmitScope(EventEmitter& emitter, std::size_t slot)
    : count(emitter.slots_[slot].entries.size()), emitter_(emitter), slot_(slot) {
    ++emitter_.slots_[slot_].emitting;
}

EventEmitter::EmitScope::~EmitScope() {
    Slot& slot = emitter_.slots_[slot_];
    if (--slot.emitting == 0 && slot.dirty) emitter_.compact(slot);
}

detail::ListenerBase* EventEmitter::EmitScope::take(std::size_t i) {
    // Index, not reference: a listener may add listeners and so reallocate.
    Entry& entry = emitter_.slots_[slot_].entries[i];
    if (entry.removed) return nullptr;
    if (entry.once) {
        // Marked, not erased: the listener object must outlive its own call.
        entry.removed = true;
        Slot& slot = emitter_.slots_[slot_];
        --slot.active;
        slot.dirty = true;
    }
    return entry.listener.get();
}

ListenerHandle EventEmitter::insert(const void* event,
                                    std::unique_ptr<detail::ListenerBase> listener, bool once) {
    std::size_t index = find_slot(event);
    if (index == npos) {
        index = slots_.size();
        slots_.push_back(Slot{event, {}, 0, 0, false});
    }
    const std::uint64_t id = next_id_++;
    Slot& slot = slots_[index];
    slot.entries.push_back(Entry{id, once, false, std::move(listener)});
    ++slot.active;
    return ListenerHandle(event, id);
}

std::size_t EventEmitter::find_slot(const void* event) const {
    // Few distinct events per emitter: a linear scan beats hashing.
    for (std::size_t i = 0; i < slots_.size(); ++i) {
        if (slots_[i].event == event) return i;
    }
    return npos;
}

bool EventEmitter::remove_listener(const ListenerHandle& handle) {
    const std::size_t index = find_slot(handle.event_);
    if (index == npos) return false;
    Slot& slot = slots_[index];
    auto it = std::find_if(slot.entries.begin(), slot.entries.end(),
                           [&](const Entry& e) { return e.id == handle.id_; });
    if (it == slot.entries.end() || it->removed) return false;
    --slot.active;
    if (slot.emitting > 0) {
        it->removed = true;
        slot.dirty = true;
    } else {
        slot.entries.erase(it);
    }
    return true;
}

void EventEmitter::remove_all_of(const void* event) {
    const std::size_t index = find_slot(event);
    if (index == npos) return;
    Slot& slot = slots_[index];
    slot.active = 0;
    if (slot.emitting > 0) {
        for (Entry& e : slot.entries) e.removed = true;
        slot.dirty = true;
    } else {
        slot.entries.clear();
    }
}

void EventEmitter::remove_all_listeners() {
    for (Slot& slot : slots_) remove_all_of(slot.event);
}

std::size_t EventEmitter::count_of(const void* event) const {
    const std::size_t index = find_slot(event);
    return index == npos ? 0 : slots_[index].active;
}

void EventEmitter::compact(Slot& slot) {
    std::erase_if(slot.entries, [](const Entry& e) { return e.removed; });
    slot.dirty = false;
}

}  // namespace reactsock
