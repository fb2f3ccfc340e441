#include "echo/cert.hpp"

#include <reactsock/tls/certificate.hpp>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>

namespace bench::echo {

namespace fs = std::filesystem;

bool write_certificate(const std::string& dir, std::string& cert_path, std::string& key_path) {
    try {
        const auto cert = reactsock::tls::self_signed_certificate("localhost", 2);
        fs::create_directories(dir);
        cert_path = fs::absolute(dir + "/cert.pem").lexically_normal().string();
        key_path = fs::absolute(dir + "/key.pem").lexically_normal().string();
        std::ofstream(cert_path, std::ios::trunc) << cert.certificate_pem;
        {
            std::ofstream key(key_path, std::ios::trunc);
            key << cert.private_key_pem;
        }
        fs::permissions(key_path, fs::perms::owner_read | fs::perms::owner_write);
        return fs::file_size(cert_path) > 0 && fs::file_size(key_path) > 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_echo: cannot write a TLS certificate to %s: %s\n", dir.c_str(),
                     e.what());
        return false;
    }
}

}  // namespace bench::echo
