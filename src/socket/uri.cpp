#include "socket/uri.hpp"

#include <reactsock/error.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace reactsock::detail {

namespace {

bool valid_scheme(std::string_view s) {
    if (s.empty() || std::isalpha(static_cast<unsigned char>(s[0])) == 0) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '-' || c == '.';
    });
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            const int hi = hex_value(s[i + 1]);
            const int lo = hex_value(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out += static_cast<char>(hi * 16 + lo);
                i += 2;
                continue;
            }
        }
        out += s[i];  // rawurlencode() style: '+' stays '+'
    }
    return out;
}

}  // namespace

std::string uri_scheme(std::string_view uri, std::string_view fallback) {
    const auto sep = uri.find("://");
    std::string scheme(sep == std::string_view::npos ? fallback : uri.substr(0, sep));
    std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return scheme;
}

bool has_control_character(std::string_view text) noexcept {
    return std::any_of(text.begin(), text.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte < 0x20 || byte == 0x7f;
    });
}

std::invalid_argument invalid_uri(std::string_view uri, std::string_view what, std::string_view detail) {
    std::string message = "Given URI \"";
    message += escape_for_message(uri);
    message += "\" ";
    message += what;
    message += " (EINVAL)";
    message += detail;
    return std::invalid_argument(message);
}

UnixAddress parse_unix_uri(std::string_view uri) {
    const auto sep = uri.find("://");
    if (sep == std::string_view::npos || uri_scheme(uri) != "unix" || sep + 3 == uri.size() ||
        has_control_character(uri)) {
        throw invalid_uri(uri);
    }
    const std::string_view name = uri.substr(sep + 3);
    UnixAddress out;
    out.address.sun_family = AF_UNIX;
    if (name.size() >= sizeof out.address.sun_path) throw invalid_uri(uri, "is invalid", ": path too long");
    if (name.front() == '@') {  // abstract: a leading NUL byte, no file
        out.address.sun_path[0] = '\0';
        std::memcpy(out.address.sun_path + 1, name.data() + 1, name.size() - 1);
        out.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    } else {
        std::memcpy(out.address.sun_path, name.data(), name.size());
        out.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + 1);
        out.path.assign(name);
    }
    return out;
}

std::optional<Uri> parse_uri(std::string_view text) {
    if (has_control_character(text)) return std::nullopt;
    Uri uri;
    std::string_view rest = text;
    if (const auto sep = rest.find("://"); sep != std::string_view::npos) {
        const std::string_view scheme = rest.substr(0, sep);
        if (!valid_scheme(scheme)) return std::nullopt;
        uri.scheme = uri_scheme(text);
        rest.remove_prefix(sep + 3);
    }
    if (const auto hash = rest.find('#'); hash != std::string_view::npos) {
        uri.fragment.assign(rest.substr(hash + 1));
        rest = rest.substr(0, hash);
    }
    if (const auto q = rest.find('?'); q != std::string_view::npos) {
        uri.query.assign(rest.substr(q + 1));
        rest = rest.substr(0, q);
    }
    std::string_view authority = rest;
    if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
        uri.path.assign(rest.substr(slash));
        authority = rest.substr(0, slash);
    }
    // Paths (unix:///tmp/my socket) may hold spaces; host and port may not.
    if (authority.find(' ') != std::string_view::npos) return std::nullopt;
    const auto host_port = split_host_port(authority);
    if (!host_port) return std::nullopt;
    uri.host.assign(host_port->host);
    uri.port = host_port->port;
    uri.bracketed = host_port->bracketed;
    return uri;
}

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        const auto amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        const auto eq = pair.find('=');
        const std::string key = percent_decode(pair.substr(0, eq));
        if (key == name) {
            return eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
        }
    }
    return std::nullopt;
}

std::string format_host_port(const asio::ip::address& address, std::uint16_t port) {
    // Appended piece by piece (GCC 12 flags "[" + s + "]" with a false -Wrestrict).
    std::string out;
    if (address.is_v6()) out += '[';
    out += address.to_string();
    if (address.is_v6()) out += ']';
    out += ':';
    out += std::to_string(port);
    return out;
}

std::optional<std::string> format_sockaddr(const sockaddr* address, std::size_t length,
                                           std::string_view ip_scheme) {
    if (address == nullptr || length < sizeof(sa_family_t)) return std::nullopt;
    std::string prefix(ip_scheme);
    prefix += "://";
    switch (address->sa_family) {
        case AF_INET: {
            const auto* in = reinterpret_cast<const sockaddr_in*>(address);
            asio::ip::address_v4 ip(ntohl(in->sin_addr.s_addr));
            return prefix + format_host_port(asio::ip::address(ip), ntohs(in->sin_port));
        }
        case AF_INET6: {
            const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
            asio::ip::address_v6::bytes_type bytes;
            std::memcpy(bytes.data(), in6->sin6_addr.s6_addr, bytes.size());
            asio::ip::address_v6 ip(bytes, in6->sin6_scope_id);
            return prefix + format_host_port(asio::ip::address(ip), ntohs(in6->sin6_port));
        }
        case AF_UNIX: {
            const auto* un = reinterpret_cast<const sockaddr_un*>(address);
            const std::size_t path_length = length - offsetof(sockaddr_un, sun_path);
            if (length <= offsetof(sockaddr_un, sun_path) || path_length == 0) return std::nullopt;
            if (un->sun_path[0] == '\0') {  // Linux abstract namespace
                return "unix://@" + std::string(un->sun_path + 1, path_length - 1);
            }
            return "unix://" + std::string(un->sun_path, strnlen(un->sun_path, path_length));
        }
        default:
            return std::nullopt;
    }
}

std::optional<std::string> local_address_of(int fd, std::string_view ip_scheme) {
    sockaddr_storage storage{};
    socklen_t length = sizeof storage;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) return std::nullopt;
    return format_sockaddr(reinterpret_cast<sockaddr*>(&storage), length, ip_scheme);
}

std::optional<std::string> remote_address_of(int fd, std::string_view ip_scheme) {
    sockaddr_storage storage{};
    socklen_t length = sizeof storage;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) return std::nullopt;
    return format_sockaddr(reinterpret_cast<sockaddr*>(&storage), length, ip_scheme);
}

}  // namespace reactsock::detail
