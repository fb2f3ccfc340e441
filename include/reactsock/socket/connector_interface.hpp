// reactsock/socket/connector_interface.hpp — what every connector offers.
//
//     connector->connect("127.0.0.1:8080")
//         .then([](std::shared_ptr<rs::Connection> conn) { conn->write("hi\n"); })
//         .otherwise([](const std::system_error& e) { std::cerr << e.what() << '\n'; });
//
// connect() returns a promise of an open Connection. It rejects with
// reactsock::Error (`code()` the errno condition, `what()` ReactPHP's message,
// e.g. "Connection to tcp://127.0.0.1:1 failed: Connection refused
// (ECONNREFUSED)") or, for a URI the connector cannot use, with
// std::invalid_argument. It never throws. Cancelling the promise aborts the
// attempt, releases its socket at once and rejects with ECONNABORTED.
// Connectors compose: each decorator takes a std::shared_ptr to the connector
// it wraps. Threads: the loop's thread only.
#pragma once

#include <reactsock/promise/promise.hpp>
#include <reactsock/socket/connection.hpp>

#include <memory>
#include <string_view>

namespace reactsock {

class ConnectorInterface {
public:
    virtual ~ConnectorInterface() = default;
    /// The contract every connector keeps (each header adds its own URIs and messages):
    ///  * Resolves with: an open Connection, already reading (attach listeners
    ///    in the handler: data is never emitted before the promise settles).
    ///  * Rejects with: std::invalid_argument for a URI this connector cannot
    ///    use; reactsock::Error (errno condition, ReactPHP's message) for a
    ///    failed attempt. connect() itself never throws.
    ///  * Settles: at once for an invalid URI; otherwise usually later, inside
    ///    Loop::run().
    ///  * cancel(): aborts the attempt, releases its socket (and query, timer)
    ///    at once and rejects with Error(ECONNABORTED, "... cancelled ...");
    ///    nothing stays open. A settled promise is left as it is.
    ///  * Threads: the loop's thread only.
    [[nodiscard]] virtual Promise<std::shared_ptr<Connection>> connect(std::string_view uri) = 0;
};

}  // namespace reactsock
