// Private: one TLS session over a non-blocking socket descriptor, in the
// reactor style of SocketConnection: every call does what it can without
// blocking and says which readiness it needs next (want_read/want_write).
//
// Why raw OpenSSL with a socket BIO rather than asio::ssl::stream: the
// connection already owns the fd, its read buffer (one per thread), its
// writer and its waits; asio::ssl would need a proactor-style read buffer per
// connection and a second copy of the write path. Our BIO is a socket BIO
// that sends with MSG_NOSIGNAL (a gone peer is EPIPE, not SIGPIPE) and reads
// first any bytes the plaintext connection had already received (STARTTLS).
#pragma once

#include "tls/context.hpp"

#include <reactsock/error.hpp>
#include <reactsock/tls/info.hpp>

#include <asio/error_code.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct ssl_st;

namespace reactsock::detail {

enum class TlsWant { nothing, read, write };

class TlsSession {
public:
    // Throws reactsock::Error if OpenSSL cannot create the session.
    // `peer_name` (clients): SNI and the name verified; `session_key`
    // (clients): resumption cache key; `unread`: bytes already read from
    // the socket that belong to the TLS stream.
    TlsSession(std::shared_ptr<TlsContext> context, int fd, const std::optional<std::string>& peer_name,
               std::string session_key, std::string unread);
    ~TlsSession();
    struct BioState;  // our socket BIO's data
    TlsSession(const TlsSession&) = delete;
    TlsSession& operator=(const TlsSession&) = delete;

    struct Step {
        bool done = false;           // handshake finished
        TlsWant want = TlsWant::nothing;
        std::optional<Error> error;  // the handshake failed
    };
    // Drives the handshake one step.
    Step handshake();

    struct Read {
        std::size_t bytes = 0;  // > 0: data
        bool eof = false;       // close_notify or the socket's EOF
        TlsWant want = TlsWant::nothing;
        std::optional<Error> error;
    };
    Read read(char* buffer, std::size_t size);

    // The writer's policy: bytes taken, or `ec` (would_block, or the errno).
    // Writes record after record until all is taken or the socket is full.
    std::size_t write(std::string_view data, asio::error_code& ec);
    // Whether the last write() stopped because send() found the socket full
    // (rather than all taken, or OpenSSL wanting to read).
    [[nodiscard]] bool write_blocked_on_socket() const noexcept { return write_blocked_on_socket_; }

    // Sends close_notify. Returns want_write if the socket is full (call again).
    TlsWant shutdown();

    [[nodiscard]] TlsInfo info() const;
    [[nodiscard]] const std::string& session_key() const noexcept { return session_key_; }

private:
    Error failure(int ret, bool handshaking) const;

    std::shared_ptr<TlsContext> context_;
    ssl_st* ssl_ = nullptr;
    bool write_blocked_on_socket_ = false;
    std::string session_key_;
    std::unique_ptr<BioState> bio_state_;
};

// The session key of a TlsSession's SSL (for the client session cache).
const std::string* tls_session_key(ssl_st* ssl);

}  // namespace reactsock::detail
