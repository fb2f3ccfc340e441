// reactsock/tls/certificate.hpp — throwaway certificates for tests and examples.
//
//     auto cert = rs::tls::self_signed_certificate("localhost");
//     rs::TlsOptions server{.local_cert = cert.certificate_pem, .local_pk = cert.private_key_pem};
//     rs::TlsOptions client{.cafile = cert.certificate_pem};  // trust exactly it
//
// Not for production: the key is generated in memory, unprotected.
#pragma once

#include <string>
#include <string_view>

namespace reactsock::tls {

struct CertificateAndKey {
    std::string certificate_pem{};
    std::string private_key_pem{};
};

/// A self-signed certificate (EC P-256, SHA-256) for `name`: CN=name and a
/// subjectAltName for it (an IP address when `name` is one; "localhost"
/// also gets IP 127.0.0.1 and ::1), valid from an hour ago for `days` days.
/// As its own issuer it can also serve as the CA a client trusts (cafile).
/// Throws reactsock::Error (EPROTO) if OpenSSL fails.
[[nodiscard]] CertificateAndKey self_signed_certificate(std::string_view name, int days = 30);

}  // namespace reactsock::tls
