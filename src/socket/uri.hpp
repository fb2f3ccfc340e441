// Private: URI parsing and address formatting for the socket layer.
#pragma once

#include <asio/ip/address.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sockaddr;

namespace reactsock::detail {

// The parts of "scheme://host:port/path?query#fragment" (parse_url-like).
struct Uri {
    std::string scheme;  // lower case; empty when the text has no "://"
    std::string host;    // without IPv6 brackets
    std::optional<std::uint16_t> port;
    std::string path;
    std::string query;  // without '?'
    std::string fragment;
    bool bracketed = false;  // host was written as [v6]
};

// Parses `text`; std::nullopt if it is not a well-formed URI (bad port,
// unbalanced brackets, empty host with a port, ...).
std::optional<Uri> parse_uri(std::string_view text);

// The value of `name` in a query string ("a=1&hostname=x"), percent-decoded.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

// An IP literal (IPv4 dotted quad, or IPv6 when `bracketed` or bare).
std::optional<asio::ip::address> parse_ip(std::string_view host);

// "127.0.0.1:80" / "[::1]:80": host (bracketed if v6) and port.
std::string format_host_port(const asio::ip::address& address, std::uint16_t port);

// "tcp://127.0.0.1:80", "tcp://[::1]:80", "unix:///path", "unix://@abstract",
// or std::nullopt for an unnamed unix socket or unknown family.
std::optional<std::string> format_sockaddr(const sockaddr* address, std::size_t length,
                                           std::string_view ip_scheme = "tcp");

// The local / peer address of a socket descriptor, formatted as above.
std::optional<std::string> local_address_of(int fd, std::string_view ip_scheme = "tcp");
std::optional<std::string> remote_address_of(int fd, std::string_view ip_scheme = "tcp");

}  // namespace reactsock::detail
