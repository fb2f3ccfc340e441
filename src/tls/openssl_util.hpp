// Private: small OpenSSL helpers shared by src/tls/.
#pragma once

#include <openssl/bio.h>
#include <openssl/err.h>

#include <string>
#include <string_view>

namespace reactsock::detail {

enum class SourceKind { path, pem, der };

// How a certificate/key option is given (see reactsock/tls/options.hpp).
inline SourceKind source_kind(std::string_view source) {
    if (source.find("-----BEGIN") != std::string_view::npos) return SourceKind::pem;
    if (!source.empty() && static_cast<unsigned char>(source[0]) == 0x30 &&
        source.find('\0') != std::string_view::npos) {
        return SourceKind::der;
    }
    return SourceKind::path;
}

// A read-only memory BIO over `data` (which must outlive it).
class Bio {
public:
    explicit Bio(const std::string& data) : bio_(BIO_new_mem_buf(data.data(), static_cast<int>(data.size()))) {}
    ~Bio() { BIO_free(bio_); }
    Bio(const Bio&) = delete;
    Bio& operator=(const Bio&) = delete;
    [[nodiscard]] BIO* get() const noexcept { return bio_; }

private:
    BIO* bio_;
};

// Empties this thread's OpenSSL error queue into one line:
// "error:0A000086:SSL routines::certificate verify failed"; several errors
// are joined with "; ". `fallback` when the queue is empty.
inline std::string take_openssl_errors(std::string_view fallback) {
    std::string out;
    while (const unsigned long code = ERR_get_error()) {
        char text[256];
        ERR_error_string_n(code, text, sizeof text);
        if (!out.empty()) out += "; ";
        out += text;
    }
    return out.empty() ? std::string(fallback) : out;
}

}  // namespace reactsock::detail
