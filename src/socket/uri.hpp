// Private: URI parsing and address formatting for the socket layer.
#pragma once

#include "address.hpp"  // parse_ip, parse_port, split_host_port: shared with dns/

#include <asio/ip/address.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <sys/socket.h>
#include <sys/un.h>

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
// unbalanced brackets, empty host with a port, a control character (0x00-0x1f,
// 0x7f) anywhere, a space in scheme, host or port, ...). Rejecting control
// characters here keeps CR/LF and NUL out of everything built from a URI:
// request lines, SNI, DNS queries, PROXY headers, log lines.
std::optional<Uri> parse_uri(std::string_view text);

// The scheme of `uri` in lower case (schemes are case-insensitive, RFC 3986
// 3.1: "TCP://x:1" is "tcp"), or `fallback` when it has no "://".
std::string uri_scheme(std::string_view uri, std::string_view fallback = "tcp");

// A unix:// URI (scheme in any case; "@name" is Linux's abstract namespace)
// as a socket address. `path` is the file's path, empty for an abstract name.
struct UnixAddress {
    sockaddr_un address{};
    socklen_t length = 0;
    std::string path;
};
// Throws invalid_uri(uri) for another scheme, an empty name or a control
// character, and invalid_uri(uri, "is invalid", ": path too long") when the
// name does not fit sun_path.
UnixAddress parse_unix_uri(std::string_view uri);

// Whether `text` holds a control character (0x00-0x1f or 0x7f).
bool has_control_character(std::string_view text) noexcept;

// The std::invalid_argument for a URI that cannot be used, ReactPHP's text with
// the URI escaped: `Given URI "<uri>" <what> (EINVAL)<detail>`.
std::invalid_argument invalid_uri(std::string_view uri, std::string_view what = "is invalid",
                                  std::string_view detail = {});

// The value of `name` in a query string ("a=1&hostname=x"), percent-decoded.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

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
