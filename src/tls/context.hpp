// Private: an OpenSSL SSL_CTX built from TlsOptions (the only place that
// turns options into OpenSSL settings), and the pieces shared by sessions.
#pragma once

#include <reactsock/error.hpp>
#include <reactsock/tls/options.hpp>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct ssl_ctx_st;
struct ssl_st;
struct ssl_session_st;

namespace reactsock::detail {

enum class TlsRole { client, server };

// Throws std::invalid_argument for options that can never work (unknown
// version, min_version newer than max_version, empty or too long ALPN name,
// negative handshake_timeout, ciphers/ciphersuites that select no cipher).
// Called by constructors, so such mistakes surface at once.
void validate_tls_options(const TlsOptions& options);

// Throws std::invalid_argument (EINVAL in the text) if `name` cannot be a TLS
// peer name (SNI and the certificate check): a control character, NUL or space.
void check_peer_name(std::string_view name);

class TlsContext {
public:
    // Loads certificates, keys and CAs. Throws std::invalid_argument as
    // validate_tls_options does, and reactsock::Error with a
    // message such as `Unable to load local_cert "/x.pem": No such file or
    // directory (ENOENT)` or `Unable to load local_pk: error:...:bad decrypt`.
    static std::shared_ptr<TlsContext> create(const TlsOptions& options, TlsRole role);

    ~TlsContext();
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;

    [[nodiscard]] TlsRole role() const noexcept { return role_; }
    [[nodiscard]] const TlsOptions& options() const noexcept { return options_; }
    [[nodiscard]] ssl_ctx_st* native() const noexcept { return ctx_; }

    // Client session cache (TLS 1.3 tickets, TLS 1.2 sessions), keyed by
    // "host:port": SSL_new() + resumption of the last session for `key`.
    ssl_st* new_ssl(const std::string& session_key);

private:
    TlsContext(const TlsOptions& options, TlsRole role);
    [[nodiscard]] std::vector<ssl_ctx_st*> all_contexts() const;
    static int on_new_session(ssl_st* ssl, ssl_session_st* session);
    static int on_server_name(ssl_st* ssl, int* alert, void* arg);

    TlsOptions options_;
    TlsRole role_;
    ssl_ctx_st* ctx_ = nullptr;
    // SNI: one context per configured name, configured like ctx_ apart from
    // the certificate.
    std::vector<std::pair<std::string, ssl_ctx_st*>> sni_contexts_;
    std::map<std::string, ssl_session_st*> sessions_;
    std::string alpn_storage_;  // server preference list, ALPN wire format
};

}  // namespace reactsock::detail
