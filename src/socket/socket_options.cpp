#include "socket/socket_options.hpp"

#include "options.hpp"
#include "socket/uri.hpp"

#include <reactsock/error.hpp>
#include <reactsock/tls/info.hpp>

#include <asio/error.hpp>
#include <nlohmann/json.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <stdexcept>
#include <string>

namespace reactsock {

KeepAliveOptions KeepAliveOptions::from_json(const nlohmann::json& json) {
    detail::JsonOptions reader(json, "keep-alive");
    KeepAliveOptions options;
    reader.read("enable", options.enable);
    reader.read("idle_seconds", options.idle_seconds);
    reader.read("interval_seconds", options.interval_seconds);
    reader.read("probe_count", options.probe_count);
    reader.finish();
    return options;
}

void from_json(const nlohmann::json& json, KeepAliveOptions& out) { out = KeepAliveOptions::from_json(json); }

}  // namespace reactsock

namespace reactsock::detail {

std::size_t send_some(int fd, std::string_view data, asio::error_code& ec) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
        ec = asio::error_code(errno, asio::error::get_system_category());
        return 0;
    }
    ec = {};
    return static_cast<std::size_t>(n);
}

void set_int_option(int fd, int level, int name, int value) {
    if (::setsockopt(fd, level, name, &value, sizeof value) != 0) {
        throw make_errno_error(errno, "Unable to set socket option: ");
    }
}

int get_int_option(int fd, int level, int name) {
    int value = 0;
    socklen_t length = sizeof value;
    if (::getsockopt(fd, level, name, &value, &length) != 0) {
        throw make_errno_error(errno, "Unable to get socket option: ");
    }
    return value;
}

void apply_keep_alive(int fd, bool tcp, const KeepAliveOptions& options) {
    if (options.idle_seconds < 0 || options.interval_seconds < 0 || options.probe_count < 0) {
        throw std::invalid_argument("Keep-alive times and count must not be negative");
    }
    set_int_option(fd, SOL_SOCKET, SO_KEEPALIVE, options.enable ? 1 : 0);
    if (!options.enable || !tcp) return;
    if (options.idle_seconds > 0) set_int_option(fd, IPPROTO_TCP, TCP_KEEPIDLE, options.idle_seconds);
    if (options.interval_seconds > 0) set_int_option(fd, IPPROTO_TCP, TCP_KEEPINTVL, options.interval_seconds);
    if (options.probe_count > 0) set_int_option(fd, IPPROTO_TCP, TCP_KEEPCNT, options.probe_count);
}

nlohmann::json describe_connection(const Connection& connection, bool unix_socket) {
    nlohmann::json out = nlohmann::json::object();
    const auto remote = connection.remote_address();
    const auto local = connection.local_address();
    out["remote"] = remote ? nlohmann::json(*remote) : nlohmann::json(nullptr);
    out["local"] = local ? nlohmann::json(*local) : nlohmann::json(nullptr);
    const auto split = [&out](const std::optional<std::string>& uri, const std::string& prefix) {
        if (!uri) return;
        const auto parsed = parse_uri(*uri);
        if (!parsed) return;
        if (parsed->scheme == "unix") {
            out[prefix + "_path"] = uri->substr(7);
            return;
        }
        out[prefix + "_address"] = parsed->host;
        if (parsed->port) out[prefix + "_port"] = *parsed->port;
        if (prefix == "local") out["family"] = parsed->host.find(':') == std::string::npos ? "ipv4" : "ipv6";
    };
    if (unix_socket) out["family"] = "unix";
    split(remote, "remote");
    split(local, "local");
    out["secure"] = connection.is_secure();
    if (auto tls = connection.tls_info()) out["tls"] = *tls;
    out["readable"] = connection.is_readable();
    out["writable"] = connection.is_writable();
    out["buffered"] = connection.buffered_amount();
    out["closed"] = connection.is_closed();
    return out;
}

}  // namespace reactsock::detail
