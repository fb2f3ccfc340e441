#include <reactsock/socket/tcp_server.hpp>

#include "address.hpp"
#include "options.hpp"
#include "socket/listener.hpp"
#include "socket/uri.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <stdexcept>

namespace reactsock {

namespace {

// "8080" -> "tcp://127.0.0.1:8080"; "host:port" -> "tcp://host:port".
std::string normalise(std::string_view uri) {
    if (!uri.empty() && std::all_of(uri.begin(), uri.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return "tcp://127.0.0.1:" + std::string(uri);
    }
    if (uri.find("://") == std::string_view::npos) return "tcp://" + std::string(uri);
    return std::string(uri);
}

void set_flag(int fd, int level, int name, bool value, const std::string& uri) {
    const int v = value ? 1 : 0;
    if (::setsockopt(fd, level, name, &v, sizeof v) != 0) {
        const int error_number = errno;
        ::close(fd);
        throw make_errno_error(error_number, "Failed to listen on \"" + uri + "\": ");
    }
}

}  // namespace

TcpServerOptions TcpServerOptions::from_json(const nlohmann::json& json) {
    detail::JsonOptions reader(json, "TcpServer");
    TcpServerOptions options;
    reader.read("backlog", options.backlog);
    reader.read("so_reuseport", options.so_reuseport);
    reader.read("so_reuseaddr", options.so_reuseaddr);
    reader.read("ipv6_v6only", options.ipv6_v6only);
    reader.read("tcp_nodelay", options.tcp_nodelay);
    reader.finish();
    if (options.backlog <= 0) reader.wrong_type("backlog", "a positive integer");
    return options;
}

TcpServer::TcpServer(std::string_view uri, std::shared_ptr<Loop> loop, const nlohmann::json& options)
    : TcpServer(uri, std::move(loop), Options::from_json(options)) {}

TcpServer::TcpServer(int port, std::shared_ptr<Loop> loop, const Options& options)
    : TcpServer(std::to_string(port), std::move(loop), options) {}

TcpServer::TcpServer(std::string_view uri_text, std::shared_ptr<Loop> loop, const Options& options)
    : ListeningServer(std::move(loop)) {
    const std::string uri = normalise(uri_text);
    const auto parsed = detail::parse_uri(uri);
    if (!parsed || parsed->scheme != "tcp" || parsed->host.empty() || !parsed->port ||
        !parsed->path.empty() || !parsed->query.empty() || !parsed->fragment.empty()) {
        throw std::invalid_argument("Invalid URI \"" + escape_for_message(uri) + "\" given (EINVAL)");
    }
    const auto ip = detail::parse_ip(parsed->host);
    if (!ip || (ip->is_v6() && !parsed->bracketed)) {
        throw detail::invalid_uri(uri, "does not contain a valid host IP");
    }
    if (options.backlog <= 0) throw std::invalid_argument("TcpServer option \"backlog\" must be a positive integer");

    const std::string failed = "Failed to listen on \"" + uri + "\": ";
    const int fd = detail::open_socket(ip->is_v6() ? AF_INET6 : AF_INET, failed);
    if (options.so_reuseaddr) set_flag(fd, SOL_SOCKET, SO_REUSEADDR, true, uri);
    if (options.so_reuseport) set_flag(fd, SOL_SOCKET, SO_REUSEPORT, true, uri);
    if (ip->is_v6() && options.ipv6_v6only) set_flag(fd, IPPROTO_IPV6, IPV6_V6ONLY, *options.ipv6_v6only, uri);

    sockaddr_storage address{};
    socklen_t length = 0;
    if (ip->is_v4()) {
        auto* in = reinterpret_cast<sockaddr_in*>(&address);
        in->sin_family = AF_INET;
        in->sin_port = htons(*parsed->port);
        in->sin_addr.s_addr = htonl(ip->to_v4().to_uint());
        length = sizeof(sockaddr_in);
    } else {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&address);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(*parsed->port);
        const auto bytes = ip->to_v6().to_bytes();
        std::copy(bytes.begin(), bytes.end(), in6->sin6_addr.s6_addr);
        in6->sin6_scope_id = ip->to_v6().scope_id();
        length = sizeof(sockaddr_in6);
    }
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0 || ::listen(fd, options.backlog) != 0) {
        const int error_number = errno;
        ::close(fd);
        throw make_errno_error(error_number, failed);
    }
    listen_on(fd, detail::local_address_of(fd).value_or(uri), options.tcp_nodelay);
}

void from_json(const nlohmann::json& json, TcpServerOptions& out) { out = TcpServerOptions::from_json(json); }

}  // namespace reactsock
