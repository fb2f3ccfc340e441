// reactsock/tls/options.hpp — TLS settings of SecureServer, SecureConnector
// and start_tls().
//
//     rs::TlsOptions server{.local_cert = "/etc/app/cert.pem", .local_pk = "/etc/app/key.pem"};
//     rs::TlsOptions client{.cafile = "/etc/app/ca.pem", .alpn_protocols = {"h2", "http/1.1"}};
//     auto same = rs::TlsOptions::from_json({{"local_cert", "/etc/app/cert.pem"}});
//
// Certificates and keys (local_cert, local_pk, the SNI entries) are each one
// of: a file path; PEM text (anything containing "-----BEGIN"); DER bytes
// (a string whose first byte is 0x30 and that contains a NUL byte). A PEM
// local_cert may hold the chain after the leaf, and the key too (then leave
// local_pk empty). They are loaded when the first connection needs them, so a
// bad path is reported per connection (SecureServer: ev::error; connectors:
// the rejection), with OpenSSL's reason — never at construction.
//
// Defaults are safe: TLS 1.2 or newer; a client verifies the server's
// certificate against the system CA store and its name against the URI's
// host; a server does not ask for client certificates unless verify_peer.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace reactsock {

/// A certificate and its private key (path, PEM or DER each, see above).
struct TlsCertificate {
    std::string local_cert{};
    /// Empty: the key is in local_cert.
    std::string local_pk{};
};

/// Options of TLS servers and clients. JSON keys are the field names.
struct TlsOptions {
    // ---- identity ----------------------------------------------------------
    /// The certificate (chain) to present; required for servers, optional
    /// client certificate for clients.
    std::optional<std::string> local_cert{};
    /// Its private key, when not inside local_cert.
    std::optional<std::string> local_pk{};
    /// Decrypts an encrypted private key ("" : the key is not encrypted;
    /// OpenSSL never prompts).
    std::string passphrase{};
    /// Servers: certificates by server name (SNI), e.g.
    /// {"example.com": {"local_cert": ...}}; a name may start with "*." to
    /// match one label. Clients that send no or another name get local_cert.
    std::map<std::string, TlsCertificate> sni_server_certs{};

    // ---- negotiation -------------------------------------------------------
    /// ALPN protocols in order of preference, e.g. {"h2", "http/1.1"}. A
    /// server picks its first one that the client offers; no overlap means no
    /// ALPN (not a failure).
    std::vector<std::string> alpn_protocols{};
    /// "TLSv1.2" or "TLSv1.3" (also "1.2", "1.3"); also "TLSv1"/"TLSv1.1"
    /// if the system's OpenSSL policy allows them.
    std::string min_version = "TLSv1.2";
    /// Unset: the newest OpenSSL offers.
    std::optional<std::string> max_version{};
    /// OpenSSL cipher list for TLS 1.2 and older, e.g.
    /// "ECDHE-ECDSA-AES128-GCM-SHA256". A list that selects no cipher is
    /// std::invalid_argument when the server/connector is constructed (as
    /// are an unknown version and min_version newer than max_version).
    std::optional<std::string> ciphers{};
    /// OpenSSL ciphersuites for TLS 1.3, e.g. "TLS_AES_128_GCM_SHA256";
    /// "" turns TLS 1.3 off. Checked like `ciphers`.
    std::optional<std::string> ciphersuites{};

    // ---- verification ------------------------------------------------------
    /// Clients: verify the server's certificate (default true). Servers:
    /// require and verify a client certificate (default false).
    std::optional<bool> verify_peer{};
    /// Clients: check that the certificate is for peer_name (default true).
    bool verify_peer_name = true;
    /// Clients: the name to verify and to send as SNI. Default: the
    /// URI's ?hostname= parameter, else its host.
    std::optional<std::string> peer_name{};
    /// Clients: send SNI (never for IP addresses).
    bool sni_enabled = true;
    /// Trusted CAs: a PEM file (or PEM text) / a hashed directory. Unset: the system store
    /// for clients; the CAs for client certificates for servers.
    std::optional<std::string> cafile{};
    std::optional<std::string> capath{};

    // ---- servers -----------------------------------------------------------
    /// Seconds a client has to finish its handshake; then SecureServer
    /// reports it through ev::error and closes it. 0: wait forever
    /// (ReactPHP's behaviour).
    double handshake_timeout = 30;

    /// From {"local_cert": "...", "verify_peer": false, ...}: the field
    /// names as keys; an unknown key or a wrong type throws
    /// std::invalid_argument naming it.
    static TlsOptions from_json(const nlohmann::json& json);
};

/// nlohmann::json ADL hook: `json.get<TlsOptions>()`; same rules as TlsOptions::from_json.
void from_json(const nlohmann::json& json, TlsOptions& out);

}  // namespace reactsock
