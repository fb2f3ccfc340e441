// Private: a non-blocking connect() as a cancellable promise.
#pragma once

#include <reactsock/loop/loop.hpp>
#include <reactsock/promise/promise.hpp>
#include <reactsock/socket/connection.hpp>

#include <sys/socket.h>

#include <memory>
#include <string>

namespace reactsock::detail {

// Connects the socket `fd` (owned from now on) to `address`. Rejects with
// make_errno_error(errno, failed_prefix); cancelling closes the socket and
// rejects with Error(ECONNABORTED, cancelled_message).
Promise<std::shared_ptr<Connection>> connect_socket(Loop& loop, int fd, const sockaddr* address,
                                                    socklen_t length, std::string failed_prefix,
                                                    std::string cancelled_message);

}  // namespace reactsock::detail
