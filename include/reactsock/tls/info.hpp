// reactsock/tls/info.hpp — what a TLS connection negotiated.
//
//     if (auto tls = rs::tls_info(*conn)) {
//         std::cout << tls->protocol << ' ' << tls->cipher << '\n';   // "TLSv1.3 TLS_AES_256_GCM_SHA384"
//     }
//
// The same fields are in Connection::info() under "tls".
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <vector>

namespace reactsock {

/// The peer's certificate, as far as a program usually needs it.
struct TlsPeerCertificate {
    std::string subject{};    ///< one line, e.g. "CN=localhost, O=Example"
    std::string issuer{};     ///< same format
    std::string not_before{}; ///< "2024-01-31T12:00:00Z"
    std::string not_after{};  ///< same format
    std::string serial{};     ///< hexadecimal
    std::vector<std::string> subject_alt_names{};  ///< "DNS:localhost", "IP:127.0.0.1"
    std::string pem{};        ///< the whole certificate
};

struct TlsInfo {
    std::string protocol{};  ///< "TLSv1.3", "TLSv1.2"
    std::string cipher{};    ///< OpenSSL's name, e.g. "TLS_AES_256_GCM_SHA384"
    /// The ALPN protocol both sides agreed on, if any.
    std::optional<std::string> alpn_protocol{};
    /// The server name the client asked for (SNI), if any.
    std::optional<std::string> server_name{};
    /// True when an earlier session was resumed.
    bool session_reused = false;
    /// The peer's certificate; a server sees one only if it asked (verify_peer).
    std::optional<TlsPeerCertificate> peer_certificate{};
    /// The verification result: 0 (X509_V_OK) with "ok", else OpenSSL's
    /// code and text. Without verification it is still computed and reported.
    long verify_result = 0;
    std::string verify_message{};
};

/// {"protocol": ..., "cipher": ..., "alpn_protocol": ..., "peer_certificate": {...}, ...}
void to_json(nlohmann::json& json, const TlsInfo& info);
void to_json(nlohmann::json& json, const TlsPeerCertificate& certificate);

}  // namespace reactsock
