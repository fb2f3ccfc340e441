#include <reactsock/tls/certificate.hpp>

#include <reactsock/error.hpp>

#include "tls/openssl_util.hpp"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <memory>
#include <stdexcept>

namespace reactsock::tls {

namespace {

[[noreturn]] void fail(const char* what) {
    throw Error(EPROTO, std::string("Unable to create a self-signed certificate (") + what +
                            "): " + detail::take_openssl_errors("unknown error"));
}

std::string to_pem(BIO* bio) {
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(length));
}

void add_extension(X509* certificate, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, certificate, certificate, nullptr, nullptr, 0);
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (extension == nullptr) fail("extension");
    X509_add_ext(certificate, extension, -1);
    X509_EXTENSION_free(extension);
}

}  // namespace

CertificateAndKey self_signed_certificate(std::string_view name_view, int days) {
    const std::string name(name_view);
    if (name.empty() || days <= 0) throw std::invalid_argument("self_signed_certificate: need a name and days > 0");
    ERR_clear_error();
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
    if (!key) fail("key");
    std::unique_ptr<X509, decltype(&X509_free)> certificate(X509_new(), X509_free);
    if (!certificate) fail("certificate");
    X509* cert = certificate.get();
    X509_set_version(cert, 2);
    unsigned char serial_bytes[16];
    RAND_bytes(serial_bytes, sizeof serial_bytes);
    serial_bytes[0] &= 0x7f;
    BIGNUM* serial = BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr);
    BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert));
    BN_free(serial);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), static_cast<long>(days) * 86400);
    X509_NAME* subject = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(name.c_str()),
                               -1, -1, 0);
    X509_set_issuer_name(cert, subject);
    X509_set_pubkey(cert, key.get());

    const bool is_ip = [&] {
        ASN1_OCTET_STRING* ip = a2i_IPADDRESS(name.c_str());
        ASN1_OCTET_STRING_free(ip);
        return ip != nullptr;
    }();
    std::string alt_names = (is_ip ? "IP:" : "DNS:") + name;
    if (name == "localhost") alt_names += ",IP:127.0.0.1,IP:::1";
    add_extension(cert, NID_subject_alt_name, alt_names);
    add_extension(cert, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert, NID_key_usage, "critical,digitalSignature,keyCertSign");
    add_extension(cert, NID_subject_key_identifier, "hash");
    if (X509_sign(cert, key.get(), EVP_sha256()) == 0) fail("signature");

    CertificateAndKey out;
    std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(BIO_new(BIO_s_mem()), BIO_free);
    std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(BIO_new(BIO_s_mem()), BIO_free);
    if (PEM_write_bio_X509(cert_bio.get(), cert) != 1) fail("PEM");
    if (PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) fail("PEM");
    out.certificate_pem = to_pem(cert_bio.get());
    out.private_key_pem = to_pem(key_bio.get());
    return out;
}

}  // namespace reactsock::tls
