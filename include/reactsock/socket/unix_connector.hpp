// reactsock/socket/unix_connector.hpp — connects to a Unix domain socket.
//
//     rs::UnixConnector connector;
//     auto conn = rs::await(connector.connect("unix:///tmp/app.sock"));
//
// URIs: "unix:///path", a plain "/path", or "unix://@name" (Linux abstract).
// Another scheme rejects with std::invalid_argument `Given URI "<uri>" is
// invalid (EINVAL)`. A Unix connect completes at once, so the promise is
// settled when connect() returns; a failure is reactsock::Error
// `Unable to connect to unix domain socket "unix:///path": No such file or
// directory (ENOENT)`. The connection's remote_address() is the URI.
#pragma once

#include <reactsock/loop/loop.hpp>
#include <reactsock/socket/connector_interface.hpp>

#include <memory>

namespace reactsock {

class UnixConnector final : public ConnectorInterface {
public:
    explicit UnixConnector(std::shared_ptr<Loop> loop = nullptr);

    /// Connects to the Unix socket of `uri`.
    ///  * Resolves with: the Connection; remote_address() is the URI.
    ///  * Rejects with: std::invalid_argument for another scheme or a path too
    ///    long for sockaddr_un; reactsock::Error `Unable to connect to unix
    ///    domain socket "<uri>": <reason> (ENAME)` when connect() fails.
    ///  * Settles: before connect() returns: a Unix connect completes or
    ///    fails at once (a listener whose backlog is full is EAGAIN).
    ///  * cancel(): nothing to do once settled; the cancellation path
    ///    (`Connection to <uri> cancelled (ECONNABORTED)`, socket closed) is
    ///    there for a connect that the kernel reports as in progress.
    ///  * Threads: the loop's thread only.
    [[nodiscard]] Promise<std::shared_ptr<Connection>> connect(std::string_view uri) override;

private:
    std::shared_ptr<Loop> loop_keep_;
    Loop* loop_;
};

}  // namespace reactsock
