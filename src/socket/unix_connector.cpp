#include <reactsock/socket/unix_connector.hpp>

#include "socket/connect.hpp"
#include "socket/listener.hpp"
#include "socket/uri.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <stdexcept>

namespace reactsock {

UnixConnector::UnixConnector(std::shared_ptr<Loop> loop)
    : loop_keep_(loop ? std::move(loop) : Loop::get()), loop_(loop_keep_.get()) {}

Promise<std::shared_ptr<Connection>> UnixConnector::connect(std::string_view uri_text) {
    using Result = std::shared_ptr<Connection>;
    std::string uri(uri_text);
    if (uri.find("://") == std::string::npos) uri = "unix://" + uri;
    detail::UnixAddress target;
    try {
        target = detail::parse_unix_uri(uri);
    } catch (const std::invalid_argument&) {
        return reject<Result>(std::current_exception());
    }
    sockaddr_un address = target.address;
    const socklen_t length = target.length;
    const std::string failed = "Unable to connect to unix domain socket \"" + uri + "\": ";
    int fd = -1;
    try {
        fd = detail::open_socket(AF_UNIX, failed);
    } catch (const Error& e) {
        return reject<Result>(e);
    }
    return detail::connect_socket(*loop_, fd, reinterpret_cast<sockaddr*>(&address), length, failed,
                                  "Connection to " + uri + " cancelled (ECONNABORTED)");
}

}  // namespace reactsock
