#include <reactsock/promise/promise.hpp>

#include <cstdio>
#include <cstdlib>
#include <cxxabi.h>
#include <mutex>
#include <string>
#include <typeinfo>

namespace reactsock {

namespace {

std::mutex& handler_mutex() {
    static std::mutex m;
    return m;
}

RejectionHandler& handler_slot() {
    static RejectionHandler handler;
    return handler;
}

std::string demangle(const char* name) {
    int status = 0;
    char* readable = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    std::string result = (status == 0 && readable != nullptr) ? readable : name;
    std::free(readable);  // NOLINT(cppcoreguidelines-no-malloc): __cxa_demangle's contract
    return result;
}

void default_report(const std::exception_ptr& error) {
    std::string line = "Unhandled promise rejection with ";
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        line += demangle(typeid(e).name());
        line += ": ";
        line += e.what();
    } catch (...) {
        line += "a non-standard exception";
    }
    line += '\n';
    std::fputs(line.c_str(), stderr);
}

void report_unhandled(const std::exception_ptr& error) {
    RejectionHandler handler;
    {
        std::lock_guard lock(handler_mutex());
        handler = handler_slot();
    }
    if (handler) {
        handler(error);
    } else {
        default_report(error);
    }
}

// The per-thread queue that keeps settlement off the stack. Jobs are run
// last-in first-out, and a settled state pushes its callbacks in reverse, so
// the order is the depth-first order of plain recursive calls.
struct Job {
    detail::StatePtr source;
    std::unique_ptr<detail::Callback> callback;
};

struct Trampoline {
    std::vector<Job> stack;
    bool draining = false;
};

Trampoline& trampoline() {
    thread_local Trampoline t;
    return t;
}

void drain() {
    Trampoline& t = trampoline();
    if (t.draining) return;
    t.draining = true;
    struct Reset {
        Trampoline& t;
        ~Reset() { t.draining = false; }
    } reset{t};
    while (!t.stack.empty()) {
        Job job = std::move(t.stack.back());
        t.stack.pop_back();
        job.callback->run(job.source);
    }
}

// Rejects a cancelled state that nothing settled.
struct FinishCancel final : detail::Callback {
    void run(const detail::StatePtr& state) override {
        if (state->status == detail::Status::pending) {
            state->handled = true;
            detail::reject_state(state,
                                 std::make_exception_ptr(Error(ECANCELED, "Promise cancelled (ECANCELED)")));
        }
    }
};

}  // namespace

RejectionHandler set_rejection_handler(RejectionHandler handler) {
    std::lock_guard lock(handler_mutex());
    return std::exchange(handler_slot(), std::move(handler));
}

namespace detail {

StateBase::~StateBase() {
    if (status == Status::rejected && !handled) report_unhandled(error);
    // Freeing a callback may free the promise it settles, whose callbacks
    // free the next one...: done in a loop, so that dropping a long pending
    // chain cannot overflow the stack.
    if (callbacks.empty()) return;
    thread_local std::vector<std::unique_ptr<Callback>> graveyard;
    thread_local bool freeing = false;
    for (auto& callback : callbacks) graveyard.push_back(std::move(callback));
    callbacks.clear();
    if (freeing) return;
    freeing = true;
    while (!graveyard.empty()) {
        auto callback = std::move(graveyard.back());
        graveyard.pop_back();
        callback.reset();
    }
    freeing = false;
}

void notify(const StatePtr& state) {
    state->canceller = nullptr;  // settled: nothing left to cancel
    state->parent.reset();
    if (state->callbacks.empty()) return;
    auto callbacks = std::move(state->callbacks);
    state->callbacks.clear();
    Trampoline& t = trampoline();
    for (auto it = callbacks.rbegin(); it != callbacks.rend(); ++it) {
        t.stack.push_back(Job{state, std::move(*it)});
    }
    drain();
}

void subscribe(const StatePtr& state, std::unique_ptr<Callback> callback) {
    if (state->status == Status::pending) {
        state->callbacks.push_back(std::move(callback));
        return;
    }
    trampoline().stack.push_back(Job{state, std::move(callback)});
    drain();
}

void link(const StatePtr& child, const StatePtr& parent) {
    child->parent = parent;
    if (parent->status == Status::pending) ++parent->consumers;
}

void reject_state(const StatePtr& state, std::exception_ptr error) {
    if (state->status != Status::pending) return;
    if (!error) {
        error = std::make_exception_ptr(std::logic_error("promise rejected without a reason"));
    }
    state->error = std::move(error);
    state->status = Status::rejected;
    notify(state);
}

void cancel(const StatePtr& start) {
    if (start->status == Status::rejected) {
        start->handled = true;
        return;
    }
    if (start->status != Status::pending || start->cancel_requested) return;

    // Walk up while this consumer was the last one of its parent to cancel.
    // Iterative, so chains of any length cancel without recursion.
    std::vector<StatePtr> path;
    StatePtr current = start;
    for (;;) {
        current->cancel_requested = true;
        current->handled = true;
        path.push_back(current);
        StatePtr parent = current->parent.lock();
        if (!parent || parent->status != Status::pending || parent->cancel_requested) break;
        if (++parent->cancel_requests < parent->consumers) break;
        // A root without a canceller cannot be cancelled by its consumers;
        // they settle on their own below.
        if (!parent->canceller && parent->parent.expired()) break;
        current = std::move(parent);
    }

    Trampoline& t = trampoline();
    // Pushed first, so they run after everything the cancellers settle:
    // each cancelled state that is still pending then rejects with ECANCELED.
    for (const StatePtr& state : path) t.stack.push_back(Job{state, std::make_unique<FinishCancel>()});

    // Cancellers from the top down; hold the queue so that none of them runs
    // handlers before all have run.
    const bool was_draining = t.draining;
    t.draining = true;
    for (auto it = path.rbegin(); it != path.rend(); ++it) {
        const StatePtr& state = *it;
        if (state->status != Status::pending || !state->canceller) continue;
        auto canceller = std::move(state->canceller);
        state->canceller = nullptr;
        try {
            canceller(state);
        } catch (...) {
            reject_state(state, std::current_exception());
        }
    }
    t.draining = was_draining;
    drain();
}

}  // namespace detail

}  // namespace reactsock
