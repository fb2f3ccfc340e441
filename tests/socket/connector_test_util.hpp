// Helpers shared by the DnsConnector and HappyEyeballsConnector tests.
#pragma once

#include <reactsock/dns/resolver.hpp>
#include <reactsock/socket/connector_interface.hpp>
#include <reactsock/socket/tcp_connector.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace testconnector {

// Records the URIs the decorators hand down, then connects for real.
class RecordingConnector final : public reactsock::ConnectorInterface {
public:
    explicit RecordingConnector(std::shared_ptr<reactsock::Loop> loop) : tcp_(std::move(loop)) {}
    reactsock::Promise<std::shared_ptr<reactsock::Connection>> connect(std::string_view uri) override {
        uris.emplace_back(uri);
        return tcp_.connect(uri);
    }
    std::vector<std::string> uris;

private:
    reactsock::TcpConnector tcp_;
};

// A resolver that asks only `nameserver` (no resolv.conf, no hosts file), once, for 0.5 s.
inline std::shared_ptr<reactsock::Resolver> resolver_for(const std::shared_ptr<reactsock::Loop>& loop,
                                                         const std::string& nameserver) {
    reactsock::Resolver::Config config;
    config.nameservers = {nameserver};
    config.resolv_conf = "";
    config.hosts_file = "";
    config.timeout = 0.5;
    config.attempts = 1;
    return reactsock::Resolver::create(loop, config);
}

}  // namespace testconnector
