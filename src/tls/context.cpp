#include "tls/context.hpp"

#include "tls/openssl_util.hpp"
#include "tls/session.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace reactsock::detail {

namespace {

int parse_version(const std::string& text, const char* field) {
    if (text == "TLSv1.3" || text == "1.3") return TLS1_3_VERSION;
    if (text == "TLSv1.2" || text == "1.2") return TLS1_2_VERSION;
    if (text == "TLSv1.1" || text == "1.1") return TLS1_1_VERSION;
    if (text == "TLSv1" || text == "TLSv1.0" || text == "1.0") return TLS1_VERSION;
    throw std::invalid_argument(std::string("TLS option \"") + field +
                                "\" must be one of \"TLSv1\", \"TLSv1.1\", \"TLSv1.2\", \"TLSv1.3\", got \"" +
                                escape_for_message(text) + "\"");
}

std::string alpn_wire(const std::vector<std::string>& protocols) {
    std::string wire;
    for (const auto& protocol : protocols) {
        if (protocol.empty() || protocol.size() > 255) {
            throw std::invalid_argument("TLS option \"alpn_protocols\": each name must be 1 to 255 bytes");
        }
        wire.push_back(static_cast<char>(protocol.size()));
        wire += protocol;
    }
    return wire;
}

// The bytes of a certificate/key option: the file's content for a path.
std::string source_bytes(const std::string& source, const std::string& what) {
    if (source_kind(source) != SourceKind::path) return source;
    std::ifstream file(source, std::ios::binary);
    if (!file) {
        const int error_number = errno != 0 ? errno : ENOENT;
        throw make_errno_error(error_number, "Unable to load " + what + " \"" + escape_for_message(source) + "\": ");
    }
    std::ostringstream content;
    content << file.rdbuf();
    return content.str();
}

int passphrase_callback(char* buffer, int size, int /*rwflag*/, void* user) {
    const auto* passphrase = static_cast<const std::string*>(user);
    if (passphrase == nullptr || passphrase->empty() || size <= 0) return 0;
    const int length = static_cast<int>(std::min<std::size_t>(passphrase->size(), static_cast<std::size_t>(size)));
    std::memcpy(buffer, passphrase->data(), static_cast<std::size_t>(length));
    return length;
}

[[noreturn]] void throw_load_error(const std::string& what) {
    throw Error(EPROTO, "Unable to load " + what + ": " + take_openssl_errors("no usable data"));
}

void use_certificate(SSL_CTX* ctx, const std::string& cert_source, const std::string& key_source,
                     const std::string& passphrase, const std::string& what) {
    ERR_clear_error();
    const std::string cert = source_bytes(cert_source, what + " certificate");
    if (source_kind(cert) == SourceKind::pem) {
        Bio bio(cert);
        X509* leaf = PEM_read_bio_X509_AUX(bio.get(), nullptr, passphrase_callback,
                                           const_cast<std::string*>(&passphrase));
        if (leaf == nullptr || SSL_CTX_use_certificate(ctx, leaf) != 1) {
            X509_free(leaf);
            throw_load_error(what + " certificate");
        }
        X509_free(leaf);
        SSL_CTX_clear_chain_certs(ctx);
        while (X509* extra = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
            if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
                X509_free(extra);
                throw_load_error(what + " certificate chain");
            }
        }
        ERR_clear_error();  // the end of the PEM data
    } else {
        const auto* bytes = reinterpret_cast<const unsigned char*>(cert.data());
        X509* leaf = d2i_X509(nullptr, &bytes, static_cast<long>(cert.size()));
        if (leaf == nullptr || SSL_CTX_use_certificate(ctx, leaf) != 1) {
            X509_free(leaf);
            throw_load_error(what + " certificate");
        }
        X509_free(leaf);
    }

    const std::string key = key_source.empty() ? cert : source_bytes(key_source, what + " key");
    EVP_PKEY* pkey = nullptr;
    if (source_kind(key) == SourceKind::pem) {
        Bio bio(key);
        pkey = PEM_read_bio_PrivateKey(bio.get(), nullptr, passphrase_callback,
                                       const_cast<std::string*>(&passphrase));
    } else {
        const auto* bytes = reinterpret_cast<const unsigned char*>(key.data());
        pkey = d2i_AutoPrivateKey(nullptr, &bytes, static_cast<long>(key.size()));
    }
    if (pkey == nullptr || SSL_CTX_use_PrivateKey(ctx, pkey) != 1) {
        EVP_PKEY_free(pkey);
        throw_load_error(what + " private key");
    }
    EVP_PKEY_free(pkey);
    if (SSL_CTX_check_private_key(ctx) != 1) throw_load_error(what + " private key");
}

void load_trust(SSL_CTX* ctx, const TlsOptions& options, TlsRole role) {
    ERR_clear_error();
    if (options.cafile && source_kind(*options.cafile) == SourceKind::pem) {
        Bio bio(*options.cafile);
        X509_STORE* store = SSL_CTX_get_cert_store(ctx);
        int count = 0;
        while (X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
            X509_STORE_add_cert(store, ca);
            if (role == TlsRole::server) SSL_CTX_add_client_CA(ctx, ca);
            X509_free(ca);
            ++count;
        }
        ERR_clear_error();
        if (count == 0) throw Error(EPROTO, "Unable to load cafile: no certificate in the PEM text");
    } else if (options.cafile || options.capath) {
        const char* file = options.cafile ? options.cafile->c_str() : nullptr;
        const char* path = options.capath ? options.capath->c_str() : nullptr;
        if (SSL_CTX_load_verify_locations(ctx, file, path) != 1) {
            throw Error(EPROTO, "Unable to load cafile/capath \"" + std::string(file ? file : path) +
                                    "\": " + take_openssl_errors("unreadable"));
        }
        if (file != nullptr && role == TlsRole::server) {
            if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(file)) SSL_CTX_set_client_CA_list(ctx, names);
        }
    } else if (role == TlsRole::client) {
        SSL_CTX_set_default_verify_paths(ctx);
    }
    ERR_clear_error();
}

int select_alpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* out_length, const unsigned char* in,
                unsigned int in_length, void* arg) {
    const auto* server = static_cast<const std::string*>(arg);
    // The server's order of preference wins.
    for (std::size_t i = 0; i < server->size();) {
        const auto length = static_cast<unsigned char>((*server)[i]);
        for (unsigned int j = 0; j < in_length;) {
            const unsigned char offered = in[j];
            if (offered == length && j + 1 + offered <= in_length &&
                std::memcmp(in + j + 1, server->data() + i + 1, length) == 0) {
                *out = in + j + 1;
                *out_length = offered;
                return SSL_TLSEXT_ERR_OK;
            }
            j += 1u + offered;
        }
        i += 1u + length;
    }
    return SSL_TLSEXT_ERR_NOACK;
}

// Sets "ciphers" and "ciphersuites"; a string that selects nothing can never
// work, so it is std::invalid_argument like an unknown version.
void apply_ciphers(SSL_CTX* ctx, const TlsOptions& options) {
    ERR_clear_error();
    if (options.ciphers && SSL_CTX_set_cipher_list(ctx, options.ciphers->c_str()) != 1) {
        std::string message = "TLS option \"ciphers\" selects no cipher: \"" + escape_for_message(*options.ciphers) + "\" (" +
                              take_openssl_errors("no cipher match") + ")";
        // OpenSSL keeps the two lists apart; a TLS 1.3 name here matches nothing.
        if (options.ciphers->find("TLS_") != std::string::npos) {
            message += "; TLS 1.3 suites (TLS_...) belong in \"ciphersuites\"";
        }
        throw std::invalid_argument(message);
    }
    if (options.ciphersuites && SSL_CTX_set_ciphersuites(ctx, options.ciphersuites->c_str()) != 1) {
        throw std::invalid_argument("TLS option \"ciphersuites\" selects no cipher: \"" + escape_for_message(*options.ciphersuites) +
                                    "\" (" + take_openssl_errors("no cipher match") + ")");
    }
}

}  // namespace

void check_peer_name(std::string_view name) {
    // What goes into SNI and certificate name checks: no NUL (it would cut the
    // name short in OpenSSL's C strings), no CR/LF or other control byte, no space.
    const bool bad = std::any_of(name.begin(), name.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte <= 0x20 || byte == 0x7f;
    });
    if (bad) {
        throw std::invalid_argument("Invalid TLS peer name \"" + escape_for_message(name) +
                                    "\": control characters and spaces are not allowed (EINVAL)");
    }
}

namespace {

// The checks that need no OpenSSL context.
void check_options(const TlsOptions& options) {
    const int min = parse_version(options.min_version, "min_version");
    if (options.max_version && min > parse_version(*options.max_version, "max_version")) {
        throw std::invalid_argument("TLS option \"min_version\" (\"" + escape_for_message(options.min_version) +
                                    "\") is newer than \"max_version\" (\"" + escape_for_message(*options.max_version) +
                                    "\")");
    }
    alpn_wire(options.alpn_protocols);
    if (!(options.handshake_timeout >= 0) || options.handshake_timeout > 1e9) {
        throw std::invalid_argument(
            "TLS option \"handshake_timeout\" must be a number of seconds from 0 to 1e9 (0 = no timeout)");
    }
    if (options.peer_name) check_peer_name(*options.peer_name);
    for (const auto& [name, certificate] : options.sni_server_certs) {
        if (name.empty() || certificate.local_cert.empty()) {
            throw std::invalid_argument("TLS option \"sni_server_certs\": each entry needs a name and a local_cert");
        }
    }
}

// The per-connection-independent settings, the same for the main and the SNI contexts.
SSL_CTX* new_configured_context(const TlsOptions& options, TlsRole role, const std::string& alpn) {
    SSL_CTX* ctx = SSL_CTX_new(role == TlsRole::client ? TLS_client_method() : TLS_server_method());
    if (ctx == nullptr) throw Error(EPROTO, "Unable to create TLS context: " + take_openssl_errors("out of memory"));
    try {
        SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
                                     SSL_OP_CIPHER_SERVER_PREFERENCE);
        SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                  SSL_MODE_RELEASE_BUFFERS);
        // Read ahead: one recv() takes what the kernel has (several records)
        // instead of a header and then a body per record. Safe because a
        // connection reads until SSL_read() wants the socket again before it
        // waits on the fd (SocketConnection::read_tls).
        SSL_CTX_set_read_ahead(ctx, 1);
        SSL_CTX_set_min_proto_version(ctx, parse_version(options.min_version, "min_version"));
        if (options.max_version) {
            SSL_CTX_set_max_proto_version(ctx, parse_version(*options.max_version, "max_version"));
        }
        apply_ciphers(ctx, options);
        load_trust(ctx, options, role);
        if (role == TlsRole::client) {
            SSL_CTX_set_verify(ctx, options.verify_peer.value_or(true) ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
            if (!alpn.empty()) {
                SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(alpn.data()),
                                        static_cast<unsigned int>(alpn.size()));
            }
        } else {
            SSL_CTX_set_verify(ctx,
                               options.verify_peer.value_or(false)
                                   ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                                   : SSL_VERIFY_NONE,
                               nullptr);
            static const unsigned char kSessionContext[] = "reactsock";
            SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
        }
    } catch (...) {
        SSL_CTX_free(ctx);
        throw;
    }
    return ctx;
}

bool name_matches(const std::string& pattern, const char* name) {
    const std::size_t length = std::strlen(name);
    if (pattern.rfind("*.", 0) == 0) {
        const char* dot = std::strchr(name, '.');
        return dot != nullptr && dot != name && OPENSSL_strcasecmp(dot + 1, pattern.c_str() + 2) == 0;
    }
    return pattern.size() == length && OPENSSL_strcasecmp(pattern.c_str(), name) == 0;
}

}  // namespace

void validate_tls_options(const TlsOptions& options) {
    check_options(options);
    if (options.ciphers || options.ciphersuites) {
        // Only OpenSSL knows its cipher names: ask a throwaway context.
        std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> probe(SSL_CTX_new(TLS_method()), SSL_CTX_free);
        if (!probe) throw Error(ENOMEM, "Unable to create TLS context: " + take_openssl_errors("out of memory"));
        apply_ciphers(probe.get(), options);
    }
}

TlsContext::TlsContext(const TlsOptions& options, TlsRole role) : options_(options), role_(role) {}

std::shared_ptr<TlsContext> TlsContext::create(const TlsOptions& options, TlsRole role) {
    check_options(options);  // the ciphers are checked on the real context below
    std::shared_ptr<TlsContext> context(new TlsContext(options, role));
    TlsOptions& o = context->options_;
    const std::string alpn = alpn_wire(o.alpn_protocols);
    context->ctx_ = new_configured_context(o, role, alpn);
    SSL_CTX_set_app_data(context->ctx_, context.get());

    auto server_setup = [&](SSL_CTX* ctx, const std::string& cert, const std::string& key, const std::string& what) {
        use_certificate(ctx, cert, key, o.passphrase, what);
    };

    if (role == TlsRole::server) {
        if (!o.local_cert) throw Error(EINVAL, "TLS server needs a certificate: set \"local_cert\" (EINVAL)");
        server_setup(context->ctx_, *o.local_cert, o.local_pk.value_or(""), "local_cert");
        context->alpn_storage_ = alpn;
        for (const auto& [name, certificate] : o.sni_server_certs) {
            SSL_CTX* sni = new_configured_context(o, role, alpn);
            context->sni_contexts_.emplace_back(name, sni);
            server_setup(sni, certificate.local_cert, certificate.local_pk, "SNI certificate for \"" + escape_for_message(name) + "\"");
        }
        for (SSL_CTX* ctx : context->all_contexts()) {
            if (!context->alpn_storage_.empty()) {
                SSL_CTX_set_alpn_select_cb(ctx, select_alpn, &context->alpn_storage_);
            }
        }
        if (!context->sni_contexts_.empty()) {
            SSL_CTX_set_tlsext_servername_callback(context->ctx_, on_server_name);
            SSL_CTX_set_tlsext_servername_arg(context->ctx_, context.get());
        }
    } else {
        if (o.local_cert) server_setup(context->ctx_, *o.local_cert, o.local_pk.value_or(""), "local_cert");
        SSL_CTX_set_session_cache_mode(context->ctx_, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(context->ctx_, on_new_session);
    }
    return context;
}

std::vector<SSL_CTX*> TlsContext::all_contexts() const {
    std::vector<SSL_CTX*> out{ctx_};
    for (const auto& entry : sni_contexts_) out.push_back(entry.second);
    return out;
}

TlsContext::~TlsContext() {
    for (auto& [key, session] : sessions_) SSL_SESSION_free(session);
    for (auto& entry : sni_contexts_) SSL_CTX_free(entry.second);
    SSL_CTX_free(ctx_);
}

int TlsContext::on_server_name(SSL* ssl, int* /*alert*/, void* arg) {
    auto* context = static_cast<TlsContext*>(arg);
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (name == nullptr) return SSL_TLSEXT_ERR_NOACK;
    for (const auto& [pattern, sni] : context->sni_contexts_) {
        if (pattern.rfind("*.", 0) != 0 && name_matches(pattern, name)) {
            SSL_set_SSL_CTX(ssl, sni);
            return SSL_TLSEXT_ERR_OK;
        }
    }
    for (const auto& [pattern, sni] : context->sni_contexts_) {
        if (name_matches(pattern, name)) {
            SSL_set_SSL_CTX(ssl, sni);
            return SSL_TLSEXT_ERR_OK;
        }
    }
    return SSL_TLSEXT_ERR_OK;  // the default certificate
}

SSL* TlsContext::new_ssl(const std::string& session_key) {
    SSL* ssl = SSL_new(ctx_);
    if (ssl == nullptr) throw Error(ENOMEM, "Unable to create TLS session: " + take_openssl_errors("out of memory"));
    if (role_ == TlsRole::client && !session_key.empty()) {
        const auto it = sessions_.find(session_key);
        if (it != sessions_.end()) {
            SSL_set_session(ssl, it->second);
            // A TLS 1.3 ticket is meant for one use: the next handshake brings new ones.
            if (SSL_SESSION_get_protocol_version(it->second) >= TLS1_3_VERSION) {
                SSL_SESSION_free(it->second);
                sessions_.erase(it);
            }
        }
    }
    return ssl;
}

int TlsContext::on_new_session(SSL* ssl, SSL_SESSION* session) {
    auto* context = static_cast<TlsContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
    const std::string* key = tls_session_key(ssl);
    if (context == nullptr || key == nullptr || key->empty()) return 0;
    if (context->sessions_.size() >= 1024 && context->sessions_.count(*key) == 0) {
        SSL_SESSION_free(context->sessions_.begin()->second);  // bounded: forget one
        context->sessions_.erase(context->sessions_.begin());
    }
    auto& slot = context->sessions_[*key];
    if (slot != nullptr) SSL_SESSION_free(slot);
    slot = session;
    return 1;  // we keep the reference
}

}  // namespace reactsock::detail
