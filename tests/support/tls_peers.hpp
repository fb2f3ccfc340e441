// TLS test support: openssl s_server / s_client as real peers on loopback.
#pragma once

#include "support/net.hpp"
#include "support/process.hpp"
#include "support/tls_certs.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace testtls {

inline std::string openssl_path() {
    for (const char* candidate : {"/usr/bin/openssl", "/usr/local/bin/openssl", "/bin/openssl"}) {
        if (::access(candidate, X_OK) == 0) return candidate;
    }
    FAIL("openssl CLI not found");
    return {};
}

// `openssl s_server -quiet` on 127.0.0.1:<port()>: what it receives goes to
// its stdout, its stdin is sent to the client. Ready when constructed.
class SServer {
public:
    explicit SServer(std::vector<std::string> extra, const std::string& cert = certs().server_cert,
                     const std::string& key = certs().server_key)
        : port_(testnet::closed_port()) {
        std::vector<std::string> argv{openssl_path(), "s_server", "-accept", "127.0.0.1:" + std::to_string(port_),
                                      "-cert", cert, "-key", key, "-quiet"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        process_ = std::make_unique<testproc::Process>(argv);
        // Ready once it accepts: probe with plain TCP connections (each is a
        // failed handshake for s_server, which goes on accepting).
        for (int attempt = 0; attempt < 500; ++attempt) {
            const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_in address{};
            address.sin_family = AF_INET;
            address.sin_port = htons(port_);
            address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            const bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
            ::close(fd);
            if (up) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling a child's startup
        }
        FAIL("openssl s_server did not start");
    }
    [[nodiscard]] std::uint16_t port() const { return port_; }
    // TcpConnector does not resolve names: the name goes in ?hostname=.
    [[nodiscard]] std::string uri(const std::string& query = "?hostname=localhost") const {
        return "tls://127.0.0.1:" + std::to_string(port_) + query;
    }
    testproc::Process& process() { return *process_; }

private:
    std::uint16_t port_;
    std::unique_ptr<testproc::Process> process_;
};

// `openssl s_client -quiet` to 127.0.0.1:port.
inline std::unique_ptr<testproc::Process> s_client(std::uint16_t port, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{openssl_path(), "s_client", "-connect", "127.0.0.1:" + std::to_string(port),
                                  "-quiet"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<testproc::Process>(argv);
}

}  // namespace testtls
