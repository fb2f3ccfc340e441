// Test support: throwaway certificates, generated with the openssl CLI into a
// temporary directory once per test binary (removed at exit).
//
//   const auto& certs = testtls::certs();
//   certs.ca            // the CA that signed the certs below
//   certs.server_cert / server_key     CN=localhost, SAN DNS:localhost, IP:127.0.0.1
//   certs.other_cert / other_key       CN=other.example (wrong name for localhost; SNI)
//   certs.expired_cert / expired_key   localhost, valid in 2020 only
//   certs.client_cert / client_key     CN=reactsock client
//   certs.rogue_cert / rogue_key       self-signed localhost (unknown CA)
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace testtls {

struct Certs {
    std::string dir;
    std::string ca, ca_key;
    std::string server_cert, server_key;
    std::string other_cert, other_key;
    std::string expired_cert, expired_key;
    std::string client_cert, client_key;
    std::string rogue_cert, rogue_key;
};

inline void run_openssl(const std::string& dir, const std::string& args) {
    const std::string command = "cd '" + dir + "' && openssl " + args + " >/dev/null 2>>openssl.log";
    const int rc = std::system(command.c_str());
    REQUIRE_MESSAGE(rc == 0, "openssl failed: ", args);
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

inline const Certs& certs() {
    static const Certs generated = [] {
        Certs c;
        std::string pattern = (std::filesystem::temp_directory_path() / "reactsock-tls-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        c.dir = pattern;
        const std::string& d = c.dir;
        const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
        run_openssl(d, "req -x509 " + ec + " -keyout ca.key -out ca.pem -subj '/CN=reactsock test CA' -days 2");
        auto issue = [&](const std::string& name, const std::string& cn, const std::string& san) {
            run_openssl(d, "req " + ec + " -keyout " + name + ".key -out " + name + ".csr -subj '/CN=" + cn + "'");
            std::ofstream(d + "/" + name + ".ext") << "subjectAltName=" << san << "\n";
            run_openssl(d, "x509 -req -in " + name + ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out " +
                               name + ".pem -extfile " + name + ".ext");
        };
        issue("server", "localhost", "DNS:localhost,IP:127.0.0.1");
        issue("other", "other.example", "DNS:other.example");
        issue("client", "reactsock client", "DNS:client.example");
        // Expired: `openssl ca` is the one that takes explicit dates.
        run_openssl(d, "req " + ec + " -keyout expired.key -out expired.csr -subj '/CN=localhost'");
        std::ofstream(d + "/index.txt").close();
        std::ofstream(d + "/serial.txt") << "1000\n";
        std::ofstream(d + "/ca.cnf") << "[ca]\ndefault_ca = testca\n[testca]\ndatabase = index.txt\n"
                                        "new_certs_dir = .\nserial = serial.txt\ndefault_md = sha256\n"
                                        "policy = anything\nunique_subject = no\nx509_extensions = ext\n"
                                        "[anything]\ncommonName = supplied\n"
                                        "[ext]\nsubjectAltName = DNS:localhost,IP:127.0.0.1\n";
        run_openssl(d, "ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr -out expired.pem "
                       "-startdate 20200101000000Z -enddate 20200102000000Z -notext");
        run_openssl(d, "req -x509 " + ec + " -keyout rogue.key -out rogue.pem -subj '/CN=localhost' -days 2 "
                       "-addext subjectAltName=DNS:localhost,IP:127.0.0.1");
        auto path = [&](const char* file) { return d + "/" + file; };
        c.ca = path("ca.pem");
        c.ca_key = path("ca.key");
        c.server_cert = path("server.pem");
        c.server_key = path("server.key");
        c.other_cert = path("other.pem");
        c.other_key = path("other.key");
        c.expired_cert = path("expired.pem");
        c.expired_key = path("expired.key");
        c.client_cert = path("client.pem");
        c.client_key = path("client.key");
        c.rogue_cert = path("rogue.pem");
        c.rogue_key = path("rogue.key");
        static const std::string cleanup_dir = d;
        std::atexit([] {
            std::error_code ignored;
            std::filesystem::remove_all(cleanup_dir, ignored);
        });
        return c;
    }();
    return generated;
}

}  // namespace testtls
