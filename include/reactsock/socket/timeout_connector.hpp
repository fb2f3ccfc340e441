// reactsock/socket/timeout_connector.hpp — gives up on slow connects.
//
//     rs::TimeoutConnector connector(std::make_shared<rs::TcpConnector>(), 3.0);
//
// Rejects with reactsock::Error(ETIMEDOUT) `Connection to <uri as given> timed
// out after 3 seconds (ETIMEDOUT)` when the wrapped connector has not settled
// in time, and cancels its attempt (which releases its socket or query). If
// the wrapped promise settles at once, no timer is made. Cancelling cancels the
// wrapped attempt and the timer; the wrapped attempt's cancellation is the
// result. Throws std::invalid_argument for a null connector or a negative or
// non-finite timeout.
#pragma once

#include <reactsock/loop/loop.hpp>
#include <reactsock/socket/connector_interface.hpp>

#include <memory>

namespace reactsock {

class TimeoutConnector final : public ConnectorInterface {
public:
    TimeoutConnector(std::shared_ptr<ConnectorInterface> connector, double seconds,
                     std::shared_ptr<Loop> loop = nullptr);
    /// The wrapped connector's connect(uri), limited in time.
    ///  * Resolves with: the wrapped connector's Connection.
    ///  * Rejects with: the wrapped connector's reason, or Error(ETIMEDOUT)
    ///    `Connection to <uri> timed out after <n> seconds (ETIMEDOUT)`.
    ///  * Settles: when the wrapped attempt does (at once if it does), or when
    ///    the timer fires inside Loop::run().
    ///  * cancel(): cancels the wrapped attempt and the timer; the wrapped
    ///    attempt's cancellation is the reason. Nothing stays open.
    ///  * Threads: the loop's thread only.
    [[nodiscard]] Promise<std::shared_ptr<Connection>> connect(std::string_view uri) override;

private:
    std::shared_ptr<ConnectorInterface> connector_;
    double seconds_;
    std::shared_ptr<Loop> loop_;
};

}  // namespace reactsock
