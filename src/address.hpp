// src/address.hpp — private: the one parser of IP literals, ports and
// "host:port" authorities, below every layer (DNS nameservers, the hosts file,
// the resolver's IP-literal check and the socket layer's URIs all use it).
#pragma once

#include <asio/ip/address.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace reactsock::detail {

// Whether parse_ip() takes an IPv6 scope id ("fe80::1%eth0", "fe80::1%2").
// The socket layer connects and binds to scoped addresses; DNS has no use for
// them (c-ares' nameservers carry none, and a lookup of "fe80::1%eth0" is not
// of an IP literal).
enum class ScopeId { accepted, rejected };

// An IP literal: IPv4 in inet_pton's strict dotted-quad form ("127.0.0.1",
// not "127.1") or IPv6 in its text form without brackets ("::1",
// "::ffff:1.2.3.4"). std::nullopt for anything else, including text with a NUL
// byte anywhere.
std::optional<asio::ip::address> parse_ip(std::string_view text,
                                          ScopeId scope_id = ScopeId::accepted);

// A decimal port: one to five digits, "0" to "65535", nothing else (no sign,
// no space).
std::optional<std::uint16_t> parse_port(std::string_view text);

// An authority split at its port. Views into the text given to split_host_port().
struct HostPort {
    std::string_view host;  // without IPv6 brackets; may be empty when there is no port
    std::optional<std::uint16_t> port;
    bool bracketed = false;  // host was written as [...]
};

// Splits "host", "host:port", "[v6]", "[v6]:port", or a bare IPv6 address
// ("::1", "2001:db8::1": two or more colons, never a port). std::nullopt for
// an unbalanced '[', anything but ":port" after ']', '[' or ']' or '@'
// outside brackets, a port that parse_port() rejects, or an empty host before
// ":port". The host itself is not checked: parse_ip() it if it must be an IP.
std::optional<HostPort> split_host_port(std::string_view authority);

}  // namespace reactsock::detail
