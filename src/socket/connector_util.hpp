// Private: what the connector decorators share — URI rebuilding and the
// ReactPHP message rewriting of failures from the connector below.
#pragma once

#include "socket/uri.hpp"

#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace reactsock::detail {

// ReactPHP's Connector::uri(): `parts` with `ip` as host (IPv6 bracketed),
// "hostname=<host>" added to the query unless it has one; the scheme only if
// the original had one.
std::string uri_with_ip(const Uri& parts, bool had_scheme, const std::string& ip, const std::string& host);

// A URI a name-resolving connector was asked for: `described` is the URI
// with "tcp://" added when it had no scheme (ReactPHP's messages use it).
struct NamedTarget {
    Uri parts;
    bool had_scheme = false;
    std::string described;
};

// Parses `uri` for DnsConnector / HappyEyeballsConnector: std::nullopt when
// it has no host (the caller rejects with `Given URI "<uri>" is invalid (EINVAL)`).
std::optional<NamedTarget> parse_named_target(const std::string& uri);

// `text` without "?hostname=..." / "&hostname=..." parameters.
std::string strip_hostname_query(std::string_view text);

// A failure reworded for the layer that passes it on: a std::system_error
// becomes reactsock::Error(same code, reword(what())); std::invalid_argument
// (a bad argument, not a failure) is passed on unchanged; any other exception
// too, unless `other_code` is given: then Error(*other_code,
// reword(describe_exception(error))).
std::exception_ptr reword_failure(const std::exception_ptr& error,
                                  const std::function<std::string(std::string_view what)>& reword,
                                  std::optional<int> other_code = std::nullopt);

// "Connection to <uri> failed: <inner message without hostname queries>",
// keeping the inner code; std::invalid_argument and non-system errors pass
// through unchanged.
std::exception_ptr wrap_connect_failure(const std::exception_ptr& inner, const std::string& uri);

// The errno condition of a system_error rejection (EIO otherwise).
int error_code_of(const std::exception_ptr& error);

}  // namespace reactsock::detail
