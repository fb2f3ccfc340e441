// reactsock/socket/fd_server.hpp — serve on an inherited listening socket.
//
// For systemd socket activation and similar: the process receives an
// already listening socket (often fd 3) and accepts on it.
//
//     auto server = std::make_shared<rs::FdServer>(3);        // or "fd://3"
//
// The descriptor is duplicated (the original stays yours). Errors thrown:
// std::invalid_argument `Invalid FD number given (EINVAL)` for a malformed
// one; reactsock::Error `Failed to listen on FD 3: Bad file descriptor (EBADF)`,
// `... Socket operation on non-socket (ENOTSOCK)`, or
// `... Transport endpoint is already connected (EISCONN)` for a connected
// rather than listening socket (`... Invalid argument (EINVAL)` for a socket
// that is neither). address() is tcp://... or unix://... as the socket is.
// Events and lifetime as TcpServer.
#pragma once

#include <reactsock/loop/loop.hpp>
#include <reactsock/socket/detail/listening_server.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace reactsock {

class FdServer final : public detail::ListeningServer {
public:
    explicit FdServer(int fd, std::shared_ptr<Loop> loop = nullptr);
    /// "fd://3" (also ReactPHP's "php://fd/3") or "3".
    explicit FdServer(std::string_view uri, std::shared_ptr<Loop> loop = nullptr);
};

}  // namespace reactsock
