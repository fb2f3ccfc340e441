#include <reactsock/socket/socket_server.hpp>

#include <reactsock/socket/fd_server.hpp>
#include <reactsock/socket/secure_server.hpp>

#include "options.hpp"
#include "socket/uri.hpp"

#include <algorithm>
#include <stdexcept>

namespace reactsock {

SocketServerContext SocketServerContext::from_json(const nlohmann::json& json) {
    detail::JsonOptions reader(json, "SocketServer context");
    SocketServerContext context;
    if (const auto* tcp = reader.raw("tcp")) context.tcp = TcpServer::Options::from_json(*tcp);
    if (const auto* unix_socket = reader.raw("unix")) {
        context.unix_socket = UnixServer::Options::from_json(*unix_socket);
    }
    if (const auto* tls = reader.raw("tls")) context.tls = TlsOptions::from_json(*tls);
    reader.finish();
    return context;
}

namespace {

std::shared_ptr<ServerInterface> make_server(std::string_view uri, const SocketServerContext& context,
                                             std::shared_ptr<Loop> loop) {
    const auto sep = uri.find("://");
    const std::string scheme = detail::uri_scheme(uri);
    if (scheme == "unix") return std::make_shared<UnixServer>(uri, std::move(loop), context.unix_socket);
    if (scheme == "fd" || (scheme == "php" && uri.substr(sep + 3).rfind("fd/", 0) == 0)) {
        return std::make_shared<FdServer>(uri, std::move(loop));
    }
    const std::string_view rest = sep == std::string_view::npos ? uri : uri.substr(sep + 3);
    if (!rest.empty() && std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        throw std::invalid_argument("Invalid URI given (EINVAL)");
    }
    if (scheme == "tls") {
        auto tcp = std::make_shared<TcpServer>("tcp://" + std::string(rest), loop, context.tcp);
        return std::make_shared<SecureServer>(std::move(tcp), std::move(loop), context.tls);
    }
    return std::make_shared<TcpServer>(uri, std::move(loop), context.tcp);
}

}  // namespace

SocketServer::SocketServer(std::string_view uri, const nlohmann::json& context, std::shared_ptr<Loop> loop)
    : SocketServer(uri, Context::from_json(context), std::move(loop)) {}

SocketServer::SocketServer(std::string_view uri, const Context& context, std::shared_ptr<Loop> loop)
    : ServerDecorator(make_server(uri, context, std::move(loop)), "SocketServer") {}

void from_json(const nlohmann::json& json, SocketServerContext& out) { out = SocketServerContext::from_json(json); }

}  // namespace reactsock
