// reactsock/promise/combinators.hpp — all, race, any.
//
// Each takes a vector of promises of one type and returns a new promise.
// Cancelling the returned promise cancels every input that is still pending.
#pragma once

#include <reactsock/promise/promise.hpp>

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <vector>

namespace reactsock {

/// any() rejects with this when every input rejected: the reasons, in input order.
class AggregateError : public std::runtime_error {
public:
    explicit AggregateError(std::vector<std::exception_ptr> errors)
        : std::runtime_error("All promises rejected."), errors_(std::move(errors)) {}
    [[nodiscard]] const std::vector<std::exception_ptr>& errors() const noexcept { return errors_; }

private:
    std::vector<std::exception_ptr> errors_;
};

namespace detail {

template <class T>
std::vector<std::weak_ptr<StateBase>> weak_states(const std::vector<Promise<T>>& promises) {
    std::vector<std::weak_ptr<StateBase>> states;
    states.reserve(promises.size());
    for (const auto& p : promises) states.emplace_back(Access::state(p));
    return states;
}

// Canceller that cancels the inputs (weakly held: the inputs' handlers hold
// the output, not the other way round).
inline auto cancel_all(std::vector<std::weak_ptr<StateBase>> inputs) {
    return [inputs = std::move(inputs)] {
        for (const auto& weak : inputs) {
            if (auto state = weak.lock()) cancel(state);
        }
    };
}

}  // namespace detail

/// Every input's value.
///  * Resolves with: the values in input order once all inputs fulfil
///    (Promise<void> inputs: nothing); an empty input fulfils at once.
///  * Rejects with: the first rejection (the other inputs are left running).
///  * Settles: inside the settling of the last (or first rejecting) input.
///  * cancel(): cancels every input still pending.
///  * Threads: the inputs' loop thread.
template <class T>
auto all(const std::vector<Promise<T>>& promises) {
    using Out = std::conditional_t<std::is_void_v<T>, void, std::vector<T>>;
    Deferred<Out> out(detail::cancel_all(detail::weak_states(promises)));
    struct Context {
        std::vector<std::optional<detail::stored_t<T>>> values;
        std::size_t remaining;
    };
    auto context = std::make_shared<Context>(Context{{}, promises.size()});
    context->values.resize(promises.size());
    if (promises.empty()) {
        if constexpr (std::is_void_v<T>) {
            out.resolve();
        } else {
            out.resolve(std::vector<T>{});
        }
    }
    for (std::size_t i = 0; i < promises.size(); ++i) {
        auto on_rejected = [out](std::exception_ptr e) mutable { out.reject(std::move(e)); };
        if constexpr (std::is_void_v<T>) {
            promises[i].then([out, context]() mutable {
                if (--context->remaining == 0) out.resolve();
            }, on_rejected);
        } else {
            promises[i].then([out, context, i](const T& value) mutable {
                context->values[i].emplace(value);
                if (--context->remaining == 0) {
                    std::vector<T> values;
                    values.reserve(context->values.size());
                    for (auto& v : context->values) values.push_back(std::move(*v));
                    out.resolve(std::move(values));
                }
            }, on_rejected);
        }
    }
    return out.promise();
}

/// The first input to settle.
///  * Resolves with / rejects with: that input's value or reason; an empty
///    input never settles.
///  * Settles: inside the settling of that input.
///  * cancel(): cancels every input still pending.
///  * Threads: the inputs' loop thread.
template <class T>
Promise<T> race(const std::vector<Promise<T>>& promises) {
    Deferred<T> out(detail::cancel_all(detail::weak_states(promises)));
    for (const auto& p : promises) {
        auto on_rejected = [out](std::exception_ptr e) mutable { out.reject(std::move(e)); };
        if constexpr (std::is_void_v<T>) {
            p.then([out]() mutable { out.resolve(); }, on_rejected);
        } else {
            p.then([out](const T& value) mutable { out.resolve(value); }, on_rejected);
        }
    }
    return out.promise();
}

/// The first input to fulfil.
///  * Resolves with: that input's value.
///  * Rejects with: an AggregateError holding every reason, in input order,
///    when all reject; std::length_error at once for an empty input.
///  * Settles: inside the settling of that input (or of the last rejection).
///  * cancel(): cancels every input still pending.
///  * Threads: the inputs' loop thread.
template <class T>
Promise<T> any(const std::vector<Promise<T>>& promises) {
    Deferred<T> out(detail::cancel_all(detail::weak_states(promises)));
    if (promises.empty()) {
        out.reject(std::length_error("Must contain at least 1 item but contains only 0 items."));
        return out.promise();
    }
    struct Context {
        std::vector<std::exception_ptr> errors;
        std::size_t remaining;
    };
    auto context = std::make_shared<Context>(Context{{}, promises.size()});
    context->errors.resize(promises.size());
    for (std::size_t i = 0; i < promises.size(); ++i) {
        auto on_rejected = [out, context, i](std::exception_ptr e) mutable {
            context->errors[i] = std::move(e);
            if (--context->remaining == 0) out.reject(AggregateError(std::move(context->errors)));
        };
        if constexpr (std::is_void_v<T>) {
            promises[i].then([out]() mutable { out.resolve(); }, on_rejected);
        } else {
            promises[i].then([out](const T& value) mutable { out.resolve(value); }, on_rejected);
        }
    }
    return out.promise();
}

}  // namespace reactsock
