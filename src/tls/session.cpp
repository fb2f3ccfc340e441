#include "tls/session.hpp"

#include "tls/openssl_util.hpp"

#include <asio/error.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>

namespace reactsock::detail {

struct TlsSession::BioState {
    int fd;
    std::string unread;
    std::size_t unread_offset = 0;
};

namespace {

int bio_write(BIO* bio, const char* data, int length) {
    auto* state = static_cast<TlsSession::BioState*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    const ssize_t n = ::send(state->fd, data, static_cast<std::size_t>(length), MSG_NOSIGNAL);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) BIO_set_retry_write(bio);
        return -1;
    }
    return static_cast<int>(n);
}

int bio_read(BIO* bio, char* data, int length) {
    auto* state = static_cast<TlsSession::BioState*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    if (length <= 0) return 0;
    if (state->unread_offset < state->unread.size()) {
        const std::size_t n =
            std::min(static_cast<std::size_t>(length), state->unread.size() - state->unread_offset);
        std::memcpy(data, state->unread.data() + state->unread_offset, n);
        state->unread_offset += n;
        if (state->unread_offset == state->unread.size()) std::string().swap(state->unread);
        return static_cast<int>(n);
    }
    const ssize_t n = ::recv(state->fd, data, static_cast<std::size_t>(length), 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) BIO_set_retry_read(bio);
        return -1;
    }
    return static_cast<int>(n);
}

long bio_ctrl(BIO* /*bio*/, int command, long /*num*/, void* /*ptr*/) {
    return command == BIO_CTRL_FLUSH ? 1 : 0;
}

int bio_create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
}

BIO_METHOD* socket_bio_method() {
    // Created once per process, kept for its lifetime (reachable, not leaked).
    static BIO_METHOD* method = [] {
        BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "reactsock socket");
        BIO_meth_set_write(m, bio_write);
        BIO_meth_set_read(m, bio_read);
        BIO_meth_set_ctrl(m, bio_ctrl);
        BIO_meth_set_create(m, bio_create);
        return m;
    }();
    return method;
}

int session_key_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

std::string name_line(X509_NAME* name) {
    if (name == nullptr) return {};
    BIO* bio = BIO_new(BIO_s_mem());
    X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(length));
    BIO_free(bio);
    return out;
}

std::string iso_time(const ASN1_TIME* time) {
    std::tm tm{};
    if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return {};
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}

TlsPeerCertificate describe_certificate(X509* certificate) {
    TlsPeerCertificate out;
    out.subject = name_line(X509_get_subject_name(certificate));
    out.issuer = name_line(X509_get_issuer_name(certificate));
    out.not_before = iso_time(X509_get0_notBefore(certificate));
    out.not_after = iso_time(X509_get0_notAfter(certificate));
    if (BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate), nullptr)) {
        if (char* hex = BN_bn2hex(serial)) {
            out.serial = hex;
            OPENSSL_free(hex);
        }
        BN_free(serial);
    }
    if (auto* names = static_cast<GENERAL_NAMES*>(
            X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr))) {
        for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
            const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
            if (name->type == GEN_DNS) {
                const auto* text = ASN1_STRING_get0_data(name->d.dNSName);
                out.subject_alt_names.push_back(
                    "DNS:" + std::string(reinterpret_cast<const char*>(text),
                                         static_cast<std::size_t>(ASN1_STRING_length(name->d.dNSName))));
            } else if (name->type == GEN_IPADD) {
                const int length = ASN1_STRING_length(name->d.iPAddress);
                char text[INET6_ADDRSTRLEN] = {};
                if ((length == 4 || length == 16) &&
                    ::inet_ntop(length == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(name->d.iPAddress), text,
                                sizeof text) != nullptr) {
                    out.subject_alt_names.push_back(std::string("IP:") + text);
                }
            }
        }
        GENERAL_NAMES_free(names);
    }
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, certificate);
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    out.pem.assign(data, static_cast<std::size_t>(length));
    BIO_free(bio);
    return out;
}

}  // namespace

const std::string* tls_session_key(SSL* ssl) {
    return static_cast<const std::string*>(SSL_get_ex_data(ssl, session_key_index()));
}

TlsSession::TlsSession(std::shared_ptr<TlsContext> context, int fd, const std::optional<std::string>& peer_name,
                       std::string session_key, std::string unread)
    : context_(std::move(context)),
      session_key_(std::move(session_key)),
      bio_state_(std::make_unique<BioState>(BioState{fd, std::move(unread)})) {
    ERR_clear_error();
    ssl_ = context_->new_ssl(session_key_);
    SSL_set_ex_data(ssl_, session_key_index(), &session_key_);
    BIO* bio = BIO_new(socket_bio_method());
    if (bio == nullptr) {
        SSL_free(ssl_);
        throw Error(ENOMEM, "Unable to create TLS session: " + take_openssl_errors("out of memory"));
    }
    BIO_set_data(bio, bio_state_.get());
    SSL_set_bio(ssl_, bio, bio);  // one reference, owned by ssl_
    if (context_->role() == TlsRole::client) {
        SSL_set_connect_state(ssl_);
        const TlsOptions& options = context_->options();
        if (peer_name && !peer_name->empty()) {
            std::string name = *peer_name;
            if (name.size() > 2 && name.front() == '[' && name.back() == ']') name = name.substr(1, name.size() - 2);
            const bool is_ip = [&] {
                ASN1_OCTET_STRING* ip = a2i_IPADDRESS(name.c_str());
                ASN1_OCTET_STRING_free(ip);
                return ip != nullptr;
            }();
            if (options.sni_enabled && !is_ip) SSL_set_tlsext_host_name(ssl_, name.c_str());
            if (options.verify_peer.value_or(true) && options.verify_peer_name) {
                X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
                if (is_ip) {
                    X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
                } else {
                    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
                    SSL_set1_host(ssl_, name.c_str());
                }
            }
        }
    } else {
        SSL_set_accept_state(ssl_);
    }
    ERR_clear_error();
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

Error TlsSession::failure(int ret, bool handshaking) const {
    const int code = SSL_get_error(ssl_, ret);
    const int saved_errno = errno;
    if (code == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
        if (saved_errno != 0 && ret < 0) {
            ERR_clear_error();
            return make_errno_error(saved_errno, "");
        }
        return Error(ECONNRESET, handshaking ? "Connection lost during TLS handshake (ECONNRESET)"
                                             : "Connection lost (ECONNRESET)");
    }
    if (code == SSL_ERROR_ZERO_RETURN) {
        return Error(ECONNRESET, "Connection lost during TLS handshake (ECONNRESET)");
    }
    std::string message = take_openssl_errors("TLS failure");
    if (message.find("unexpected eof") != std::string::npos) {
        return Error(ECONNRESET, "Connection lost during TLS handshake (ECONNRESET)");
    }
    const long verify = SSL_get_verify_result(ssl_);
    if (verify != X509_V_OK && message.find("certificate verify failed") != std::string::npos) {
        message += ": ";
        message += X509_verify_cert_error_string(verify);
    }
    return Error(EPROTO, message);
}

TlsSession::Step TlsSession::handshake() {
    ERR_clear_error();
    errno = 0;
    const int ret = SSL_do_handshake(ssl_);
    Step step;
    if (ret == 1) {
        step.done = true;
        return step;
    }
    switch (SSL_get_error(ssl_, ret)) {
    case SSL_ERROR_WANT_READ:
        step.want = TlsWant::read;
        return step;
    case SSL_ERROR_WANT_WRITE:
        step.want = TlsWant::write;
        return step;
    default:
        step.error = failure(ret, true);
        return step;
    }
}

TlsSession::Read TlsSession::read(char* buffer, std::size_t size) {
    ERR_clear_error();
    errno = 0;
    Read result;
    const int ret = SSL_read(ssl_, buffer, static_cast<int>(std::min<std::size_t>(size, INT_MAX)));
    if (ret > 0) {
        result.bytes = static_cast<std::size_t>(ret);
        return result;
    }
    switch (SSL_get_error(ssl_, ret)) {
    case SSL_ERROR_WANT_READ:
        result.want = TlsWant::read;
        return result;
    case SSL_ERROR_WANT_WRITE:
        result.want = TlsWant::write;
        return result;
    case SSL_ERROR_ZERO_RETURN:
        result.eof = true;
        return result;
    case SSL_ERROR_SYSCALL:
        if (ERR_peek_error() == 0 && (errno == 0 || ret == 0)) {
            result.eof = true;
            return result;
        }
        [[fallthrough]];
    default: {
        const int saved_errno = errno;
        if (ERR_peek_error() == 0 && saved_errno != 0) {
            result.error = make_errno_error(saved_errno, "Unable to read from stream: ");
        } else {
            result.error = Error(EPROTO, "Unable to read from stream: " + take_openssl_errors("TLS failure"));
        }
        return result;
    }
    }
}

std::size_t TlsSession::write(std::string_view data, asio::error_code& ec) {
    // With SSL_MODE_ENABLE_PARTIAL_WRITE, SSL_write() returns after each
    // record: go on until everything is taken or the socket refuses more.
    std::size_t total = 0;
    write_blocked_on_socket_ = false;
    while (total < data.size()) {
        ERR_clear_error();
        errno = 0;
        const std::string_view rest = data.substr(total);
        const int ret = SSL_write(ssl_, rest.data(), static_cast<int>(std::min<std::size_t>(rest.size(), INT_MAX)));
        if (ret > 0) {
            total += static_cast<std::size_t>(ret);
            continue;
        }
        const int code = SSL_get_error(ssl_, ret);
        if (code == SSL_ERROR_WANT_WRITE || code == SSL_ERROR_WANT_READ) {
            // WANT_READ would need renegotiation, which is disabled.
            write_blocked_on_socket_ = code == SSL_ERROR_WANT_WRITE;
            if (total > 0) break;
            ec = asio::error::would_block;
            return 0;
        }
        if (total > 0) {
            // Report what was taken; the error comes back on the next call.
            ERR_clear_error();
            break;
        }
        const int saved_errno = errno;
        ERR_clear_error();
        ec = asio::error_code(code == SSL_ERROR_SYSCALL && saved_errno != 0 ? saved_errno : EPIPE,
                              asio::error::get_system_category());
        return 0;
    }
    ec = {};
    return total;
}

TlsWant TlsSession::shutdown() {
    ERR_clear_error();
    const int ret = SSL_shutdown(ssl_);
    if (ret >= 0) return TlsWant::nothing;  // sent (1: the peer's came too)
    const int code = SSL_get_error(ssl_, ret);
    ERR_clear_error();
    return code == SSL_ERROR_WANT_WRITE ? TlsWant::write : TlsWant::nothing;
}

TlsInfo TlsSession::info() const {
    TlsInfo info;
    info.protocol = SSL_get_version(ssl_);
    if (const char* cipher = SSL_get_cipher_name(ssl_)) info.cipher = cipher;
    const unsigned char* alpn = nullptr;
    unsigned int alpn_length = 0;
    SSL_get0_alpn_selected(ssl_, &alpn, &alpn_length);
    if (alpn != nullptr && alpn_length > 0) {
        info.alpn_protocol.emplace(reinterpret_cast<const char*>(alpn), alpn_length);
    }
    if (const char* name = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name)) info.server_name = name;
    info.session_reused = SSL_session_reused(ssl_) == 1;
    if (X509* peer = SSL_get1_peer_certificate(ssl_)) {
        info.peer_certificate = describe_certificate(peer);
        X509_free(peer);
    }
    info.verify_result = SSL_get_verify_result(ssl_);
    info.verify_message = info.verify_result == X509_V_OK ? "ok" : X509_verify_cert_error_string(info.verify_result);
    return info;
}

}  // namespace reactsock::detail
