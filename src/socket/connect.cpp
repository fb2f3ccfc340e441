#include "socket/connect.hpp"

#include "socket/socket_connection.hpp"

#include <reactsock/error.hpp>

#include <asio/posix/stream_descriptor.hpp>

#include <unistd.h>

#include <cerrno>

namespace reactsock::detail {

namespace {

struct Attempt {
    Attempt(Loop& l, int fd) : loop(&l), watcher(l.context(), fd) {}
    Loop* loop;
    asio::posix::stream_descriptor watcher;
    Deferred<std::shared_ptr<Connection>> deferred;
    std::string failed_prefix;
    int family = 0;
};

}  // namespace

Promise<std::shared_ptr<Connection>> connect_socket(Loop& loop, int fd, const sockaddr* address,
                                                    socklen_t length, std::string failed_prefix,
                                                    std::string cancelled_message) {
    int rc = 0;
    do {
        rc = ::connect(fd, address, length);
    } while (rc != 0 && errno == EINTR);
    if (rc == 0) {
        return resolve(std::shared_ptr<Connection>(SocketConnection::adopt(loop, fd, address->sa_family)));
    }
    if (errno != EINPROGRESS) {
        const int error_number = errno;
        ::close(fd);
        return reject<std::shared_ptr<Connection>>(make_errno_error(error_number, failed_prefix));
    }

    auto attempt = std::make_shared<Attempt>(loop, fd);
    attempt->failed_prefix = std::move(failed_prefix);
    attempt->family = address->sa_family;
    std::weak_ptr<Attempt> weak = attempt;
    attempt->deferred = Deferred<std::shared_ptr<Connection>>(
        [weak, message = std::move(cancelled_message)](Deferred<std::shared_ptr<Connection>>& self) {
            if (auto a = weak.lock()) {
                asio::error_code ignored;
                a->watcher.close(ignored);  // the socket goes at once
            }
            self.reject(Error(ECONNABORTED, message));
        });
    auto promise = attempt->deferred.promise();
    attempt->watcher.async_wait(asio::posix::stream_descriptor::wait_write,
                                [attempt](const asio::error_code& ec) {
                                    if (ec == asio::error::operation_aborted) return;  // cancelled
                                    int error_number = ec ? ec.value() : 0;
                                    if (error_number == 0) {
                                        socklen_t size = sizeof error_number;
                                        ::getsockopt(attempt->watcher.native_handle(), SOL_SOCKET, SO_ERROR,
                                                     &error_number, &size);
                                    }
                                    if (error_number != 0) {
                                        asio::error_code ignored;
                                        attempt->watcher.close(ignored);
                                        attempt->deferred.reject(
                                            make_errno_error(error_number, attempt->failed_prefix));
                                        return;
                                    }
                                    const int connected = attempt->watcher.release();
                                    attempt->deferred.resolve(std::shared_ptr<Connection>(
                                        SocketConnection::adopt(*attempt->loop, connected, attempt->family)));
                                });
    return promise;
}

}  // namespace reactsock::detail
