#include <reactsock/socket/unix_connector.hpp>

#include "connect.hpp"
#include "listener.hpp"

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
    if (uri.rfind("unix://", 0) != 0 || uri.size() == 7) {
        return reject<Result>(std::invalid_argument("Given URI \"" + uri + "\" is invalid (EINVAL)"));
    }
    const std::string name = uri.substr(7);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (name.size() >= sizeof address.sun_path) {
        return reject<Result>(std::invalid_argument("Given URI \"" + uri + "\" is invalid (EINVAL)"));
    }
    socklen_t length = 0;
    if (name.front() == '@') {
        std::memcpy(address.sun_path + 1, name.data() + 1, name.size() - 1);
        length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    } else {
        std::memcpy(address.sun_path, name.data(), name.size());
        length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + 1);
    }
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
