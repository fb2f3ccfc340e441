#include <reactsock/socket/tcp_connector.hpp>

#include "address.hpp"
#include "options.hpp"
#include "socket/connect.hpp"
#include "socket/listener.hpp"
#include "socket/uri.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

namespace reactsock {

namespace {

socklen_t to_sockaddr(const asio::ip::address& ip, std::uint16_t port, sockaddr_storage& out) {
    out = sockaddr_storage{};
    if (ip.is_v4()) {
        auto* in = reinterpret_cast<sockaddr_in*>(&out);
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        in->sin_addr.s_addr = htonl(ip.to_v4().to_uint());
        return sizeof(sockaddr_in);
    }
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&out);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    const auto bytes = ip.to_v6().to_bytes();
    std::copy(bytes.begin(), bytes.end(), in6->sin6_addr.s6_addr);
    in6->sin6_scope_id = ip.to_v6().scope_id();
    return sizeof(sockaddr_in6);
}

}  // namespace

TcpConnectorOptions TcpConnectorOptions::from_json(const nlohmann::json& json) {
    detail::JsonOptions reader(json, "TcpConnector");
    TcpConnectorOptions options;
    reader.read("bindto", options.bindto);
    reader.read("tcp_nodelay", options.tcp_nodelay);
    reader.finish();
    return options;
}

TcpConnector::TcpConnector(std::shared_ptr<Loop> loop, const nlohmann::json& options)
    : TcpConnector(std::move(loop), Options::from_json(options)) {}

TcpConnector::TcpConnector(std::shared_ptr<Loop> loop, Options options)
    : loop_keep_(loop ? std::move(loop) : Loop::get()), loop_(loop_keep_.get()), options_(std::move(options)) {
    if (options_.bindto) {
        const auto parsed = detail::parse_uri("tcp://" + *options_.bindto);
        if (!parsed || !detail::parse_ip(parsed->host) || !parsed->path.empty()) {
            throw std::invalid_argument("TcpConnector option \"bindto\" must be an IP address with an optional port, got \"" +
                                        *options_.bindto + "\"");
        }
    }
}

Promise<std::shared_ptr<Connection>> TcpConnector::connect(std::string_view uri_text) {
    using Result = std::shared_ptr<Connection>;
    const std::string uri = uri_text.find("://") == std::string_view::npos ? "tcp://" + std::string(uri_text)
                                                                         : std::string(uri_text);
    const auto parsed = detail::parse_uri(uri);
    if (!parsed || parsed->scheme != "tcp" || parsed->host.empty() || !parsed->port) {
        return reject<Result>(detail::invalid_uri(uri));
    }
    const auto ip = detail::parse_ip(parsed->host);
    if (!ip || (ip->is_v6() && !parsed->bracketed)) {
        return reject<Result>(
            detail::invalid_uri(uri, "does not contain a valid host IP"));
    }
    const std::string failed = "Connection to " + uri + " failed: ";
    int fd = -1;
    try {
        fd = detail::open_socket(ip->is_v6() ? AF_INET6 : AF_INET, failed);
    } catch (const Error& e) {
        return reject<Result>(e);
    }
    if (options_.tcp_nodelay) {
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    if (options_.bindto) {
        const auto local = detail::parse_uri("tcp://" + *options_.bindto);
        const auto local_ip = detail::parse_ip(local->host);
        sockaddr_storage bind_address{};
        const socklen_t bind_length = to_sockaddr(*local_ip, local->port.value_or(0), bind_address);
        if (local_ip->is_v6() != ip->is_v6() ||
            ::bind(fd, reinterpret_cast<sockaddr*>(&bind_address), bind_length) != 0) {
            const int error_number = local_ip->is_v6() != ip->is_v6() ? EAFNOSUPPORT : errno;
            ::close(fd);
            return reject<Result>(make_errno_error(error_number, failed));
        }
    }
    sockaddr_storage address{};
    const socklen_t length = to_sockaddr(*ip, *parsed->port, address);
    return detail::connect_socket(*loop_, fd, reinterpret_cast<sockaddr*>(&address), length, failed,
                                  "Connection to " + uri + " cancelled during TCP/IP handshake (ECONNABORTED)");
}

void from_json(const nlohmann::json& json, TcpConnectorOptions& out) { out = TcpConnectorOptions::from_json(json); }

}  // namespace reactsock
