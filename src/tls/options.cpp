#include <reactsock/tls/info.hpp>
#include <reactsock/tls/options.hpp>

#include "options.hpp"

namespace reactsock {

TlsOptions TlsOptions::from_json(const nlohmann::json& json) {
    detail::JsonOptions reader(json, "TLS");
    TlsOptions options;
    reader.read("local_cert", options.local_cert);
    reader.read("local_pk", options.local_pk);
    reader.read("passphrase", options.passphrase);
    if (const auto* sni = reader.raw("sni_server_certs")) {
        if (!sni->is_object()) reader.wrong_type("sni_server_certs", "an object of {\"local_cert\", \"local_pk\"} objects");
        for (const auto& [name, entry] : sni->items()) {
            detail::JsonOptions inner(entry, "TLS sni_server_certs \"" + escape_for_message(name) + "\"");
            TlsCertificate certificate;
            inner.read("local_cert", certificate.local_cert);
            inner.read("local_pk", certificate.local_pk);
            inner.finish();
            options.sni_server_certs[name] = std::move(certificate);
        }
    }
    reader.read("alpn_protocols", options.alpn_protocols);
    reader.read("min_version", options.min_version);
    reader.read("max_version", options.max_version);
    reader.read("ciphers", options.ciphers);
    reader.read("ciphersuites", options.ciphersuites);
    reader.read("verify_peer", options.verify_peer);
    reader.read("verify_peer_name", options.verify_peer_name);
    reader.read("peer_name", options.peer_name);
    reader.read("sni_enabled", options.sni_enabled);
    reader.read("cafile", options.cafile);
    reader.read("capath", options.capath);
    reader.read("handshake_timeout", options.handshake_timeout);
    reader.finish();
    return options;
}

void from_json(const nlohmann::json& json, TlsOptions& out) { out = TlsOptions::from_json(json); }

void to_json(nlohmann::json& json, const TlsPeerCertificate& certificate) {
    json = nlohmann::json{{"subject", certificate.subject},
                          {"issuer", certificate.issuer},
                          {"not_before", certificate.not_before},
                          {"not_after", certificate.not_after},
                          {"serial", certificate.serial},
                          {"subject_alt_names", certificate.subject_alt_names}};
}

void to_json(nlohmann::json& json, const TlsInfo& info) {
    json = nlohmann::json{{"protocol", info.protocol},
                          {"cipher", info.cipher},
                          {"alpn_protocol", info.alpn_protocol ? nlohmann::json(*info.alpn_protocol) : nlohmann::json()},
                          {"server_name", info.server_name ? nlohmann::json(*info.server_name) : nlohmann::json()},
                          {"session_reused", info.session_reused},
                          {"peer_certificate", info.peer_certificate ? nlohmann::json(*info.peer_certificate)
                                                                     : nlohmann::json()},
                          {"verify_result", info.verify_result},
                          {"verify_message", info.verify_message}};
}

}  // namespace reactsock
