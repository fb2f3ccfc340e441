#include <reactsock/socket/timeout_connector.hpp>

#include <reactsock/error.hpp>

#include <cerrno>
#include <cmath>
#include <stdexcept>

namespace reactsock {

TimeoutConnector::TimeoutConnector(std::shared_ptr<ConnectorInterface> connector, double seconds,
                                   std::shared_ptr<Loop> loop)
    : connector_(std::move(connector)), seconds_(seconds), loop_(loop ? std::move(loop) : Loop::get()) {
    if (!connector_) throw std::invalid_argument("TimeoutConnector needs a connector");
    if (!std::isfinite(seconds) || seconds < 0) {
        throw std::invalid_argument("TimeoutConnector timeout must be a finite number of seconds >= 0");
    }
}

Promise<std::shared_ptr<Connection>> TimeoutConnector::connect(std::string_view uri) {
    using Result = std::shared_ptr<Connection>;
    auto inner = connector_->connect(uri);
    if (!inner.is_pending()) return inner;  // settled at once: no timer

    // Weak handles only (the timer and the inner promise's handlers hold
    // `out`; nothing holds them back).
    std::weak_ptr<detail::StateBase> weak_inner = detail::Access::state(inner);
    std::weak_ptr<Loop> weak_loop = loop_;
    auto timer = std::make_shared<TimerHandle>();
    Deferred<Result> out([weak_inner, weak_loop, timer] {
        if (auto l = weak_loop.lock()) l->cancel_timer(*timer);
        if (auto s = weak_inner.lock()) detail::cancel(s);  // its rejection is ours
    });
    const std::string message =
        "Connection to " + std::string(uri) + " timed out after " + format_seconds(seconds_) + " seconds (ETIMEDOUT)";
    *timer = loop_->add_timer(seconds_, [out, weak_inner, message]() mutable {
        out.reject(Error(ETIMEDOUT, message));
        if (auto s = weak_inner.lock()) detail::cancel(s);
    });
    inner.then(
        [out, weak_loop, timer](const Result& connection) mutable {
            if (auto l = weak_loop.lock()) l->cancel_timer(*timer);
            if (!out.is_pending()) {
                connection->close();  // too late: nobody will take it
                return;
            }
            out.resolve(connection);
        },
        [out, weak_loop, timer](std::exception_ptr e) mutable {
            if (auto l = weak_loop.lock()) l->cancel_timer(*timer);
            out.reject(std::move(e));
        });
    return out.promise();
}

}  // namespace reactsock
