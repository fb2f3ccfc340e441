#include "address.hpp"

#include <asio/error.hpp>

#include <string>

namespace reactsock::detail {

std::optional<asio::ip::address> parse_ip(std::string_view text, ScopeId scope_id) {
    // Asio parses a C string: a NUL would end it early ("1.2.3.4\0junk").
    if (text.empty() || text.find('\0') != std::string_view::npos)
        return std::nullopt;
    if (scope_id == ScopeId::rejected && text.find('%') != std::string_view::npos)
        return std::nullopt;
    const std::string copy(text);
    asio::error_code ec;
    const auto v4 = asio::ip::make_address_v4(copy, ec);  // inet_pton(AF_INET)
    if (!ec)
        return asio::ip::address(v4);
    const auto v6 = asio::ip::make_address_v6(copy, ec);  // inet_pton(AF_INET6), then the scope id
    if (!ec)
        return asio::ip::address(v6);
    return std::nullopt;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
    if (text.empty() || text.size() > 5)
        return std::nullopt;
    unsigned value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9')
            return std::nullopt;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > 65535)
        return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

std::optional<HostPort> split_host_port(std::string_view authority) {
    HostPort out;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos)
            return std::nullopt;
        out.host = authority.substr(1, close - 1);
        out.bracketed = true;
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':')
                return std::nullopt;
            out.port = parse_port(after.substr(1));
            if (!out.port)
                return std::nullopt;
        }
        return out;
    }
    if (authority.find_first_of("[]@") != std::string_view::npos)
        return std::nullopt;
    const auto colon = authority.rfind(':');
    if (colon != std::string_view::npos && authority.find(':') == colon) {
        out.port = parse_port(authority.substr(colon + 1));
        if (!out.port)
            return std::nullopt;
        authority = authority.substr(0, colon);
        if (authority.empty())
            return std::nullopt;
    }
    // No colon, or a bare IPv6 address: several colons and no port.
    out.host = authority;
    return out;
}

}  // namespace reactsock::detail
