// reactsock/promise/await.hpp — block on a promise by running the loop.
#pragma once

#include <reactsock/loop/loop.hpp>
#include <reactsock/promise/promise.hpp>

#include <memory>
#include <stdexcept>

namespace reactsock {

/// Runs `loop` (default: Loop::get()) until `promise` settles, then returns
/// its value or throws its rejection. For main() and tests; never call it
/// from inside a handler running on the same loop (throws std::logic_error,
/// as does a loop that runs out of work before the promise settles).
template <class T>
T await(const Promise<T>& promise, std::shared_ptr<Loop> loop = nullptr) {
    const auto& state = detail::Access::state(promise);
    if (state->status == detail::Status::pending) {
        if (!loop) loop = Loop::get();
        loop->run_until([&state] { return state->status != detail::Status::pending; });
    }
    if (state->status == detail::Status::pending) {
        throw std::logic_error(
            "reactsock::await: the loop stopped or ran out of work before the promise settled");
    }
    state->handled = true;
    if (state->status == detail::Status::rejected) std::rethrow_exception(state->error);
    if constexpr (!std::is_void_v<T>) return *state->value;
}

}  // namespace reactsock
