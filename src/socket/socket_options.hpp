// Private: system calls on a connected socket that every socket-backed
// connection shares (sending without SIGPIPE, integer socket options,
// keep-alive) and the JSON of Connection::info().
#pragma once

#include <reactsock/socket/connection.hpp>

#include <asio/error_code.hpp>
#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <string_view>

namespace reactsock::detail {

// send() with MSG_NOSIGNAL (a peer that went away is EPIPE, not SIGPIPE):
// the bytes the kernel took, or 0 and `ec` (would_block, or the errno).
std::size_t send_some(int fd, std::string_view data, asio::error_code& ec);

// setsockopt()/getsockopt() of an int. Throw reactsock::Error
// ("Unable to set socket option: <strerror> (ENAME)").
void set_int_option(int fd, int level, int name, int value);
[[nodiscard]] int get_int_option(int fd, int level, int name);

// SO_KEEPALIVE, and on TCP sockets the non-zero TCP_KEEPIDLE, TCP_KEEPINTVL
// and TCP_KEEPCNT. std::invalid_argument for negative values (checked
// before any change), reactsock::Error when the kernel refuses.
void apply_keep_alive(int fd, bool tcp, const KeepAliveOptions& options);

// Connection::info() of a connection over a socket, from its public state.
[[nodiscard]] nlohmann::json describe_connection(const Connection& connection, bool unix_socket);

}  // namespace reactsock::detail
