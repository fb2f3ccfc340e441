#include <reactsock/socket/fd_server.hpp>

#include "socket/uri.hpp"

#include <reactsock/error.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

namespace reactsock {

namespace {

int parse_fd(std::string_view uri) {
    std::string_view number = uri;
    const std::string scheme = detail::uri_scheme(uri, "");
    if (scheme == "fd") {
        number.remove_prefix(5);
    } else if (scheme == "php" && number.substr(6, 3) == "fd/") {
        number.remove_prefix(9);
    }
    if (number.empty() || number.size() > 9) throw std::invalid_argument("Invalid FD number given (EINVAL)");
    int fd = 0;
    for (char c : number) {
        if (c < '0' || c > '9') throw std::invalid_argument("Invalid FD number given (EINVAL)");
        fd = fd * 10 + (c - '0');
    }
    return fd;
}

}  // namespace

FdServer::FdServer(std::string_view uri, std::shared_ptr<Loop> loop) : FdServer(parse_fd(uri), std::move(loop)) {}

FdServer::FdServer(int fd, std::shared_ptr<Loop> loop)
    : ListeningServer(std::move(loop)) {
    if (fd < 0) throw std::invalid_argument("Invalid FD number given (EINVAL)");
    const std::string failed = "Failed to listen on FD " + std::to_string(fd) + ": ";
    struct stat info {};
    if (::fstat(fd, &info) != 0) throw make_errno_error(errno, failed);
    if (!S_ISSOCK(info.st_mode)) throw make_errno_error(ENOTSOCK, failed);
    int listening = 0;
    socklen_t length = sizeof listening;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) != 0) {
        throw make_errno_error(errno, failed);
    }
    if (listening == 0) {
        sockaddr_storage peer{};
        socklen_t peer_length = sizeof peer;
        const bool connected = ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_length) == 0;
        throw make_errno_error(connected ? EISCONN : EINVAL, failed);
    }
    const int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (own < 0) throw make_errno_error(errno, failed);
    const int flags = ::fcntl(own, F_GETFL);
    ::fcntl(own, F_SETFL, flags | O_NONBLOCK);
    listen_on(own, detail::local_address_of(own).value_or("fd://" + std::to_string(fd)));
}

}  // namespace reactsock
