#include <reactsock/socket/unix_server.hpp>

#include "options.hpp"
#include "socket/listener.hpp"
#include "socket/uri.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace reactsock {

UnixServerOptions UnixServerOptions::from_json(const nlohmann::json& json) {
    detail::JsonOptions reader(json, "UnixServer");
    UnixServerOptions options;
    reader.read("backlog", options.backlog);
    reader.read("mode", options.mode);
    reader.finish();
    if (options.backlog <= 0) reader.wrong_type("backlog", "a positive integer");
    if (options.mode && *options.mode > 07777) reader.wrong_type("mode", "a permission mode such as 0660 (432)");
    return options;
}

UnixServer::UnixServer(std::string_view uri, std::shared_ptr<Loop> loop, const nlohmann::json& options)
    : UnixServer(uri, std::move(loop), Options::from_json(options)) {}

UnixServer::UnixServer(std::string_view uri_text, std::shared_ptr<Loop> loop, const Options& options)
    : ListeningServer(std::move(loop)) {
    std::string uri(uri_text);
    if (uri.find("://") == std::string::npos) uri = "unix://" + uri;
    auto [address, length, path] = detail::parse_unix_uri(uri);
    path_ = std::move(path);
    if (options.backlog <= 0) throw std::invalid_argument("UnixServer option \"backlog\" must be a positive integer");

    const std::string failed = "Failed to listen on Unix domain socket \"" + uri + "\": ";
    const int fd = detail::open_socket(AF_UNIX, failed);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0) {
        const int error_number = errno;
        ::close(fd);
        throw make_errno_error(error_number, failed);
    }
    if (!path_.empty()) {
        struct stat info {};
        if (::stat(path_.c_str(), &info) == 0) {
            inode_ = info.st_ino;
            device_ = info.st_dev;
        }
        if (options.mode && ::chmod(path_.c_str(), *options.mode) != 0) {
            const int error_number = errno;
            ::close(fd);
            ::unlink(path_.c_str());
            throw make_errno_error(error_number, failed);
        }
    }
    if (::listen(fd, options.backlog) != 0) {
        const int error_number = errno;
        ::close(fd);
        if (!path_.empty()) ::unlink(path_.c_str());
        throw make_errno_error(error_number, failed);
    }
    listen_on(fd, uri);
}

UnixServer::~UnixServer() { close(); }

void UnixServer::after_close() {
    // Remove the socket file, but only if it is still the one we created.
    struct stat info {};
    if (!path_.empty() && ::stat(path_.c_str(), &info) == 0 && info.st_ino == inode_ &&
        info.st_dev == device_ && S_ISSOCK(info.st_mode)) {
        ::unlink(path_.c_str());
    }
}

void from_json(const nlohmann::json& json, UnixServerOptions& out) { out = UnixServerOptions::from_json(json); }

}  // namespace reactsock
