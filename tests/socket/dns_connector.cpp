#include <reactsock/socket/dns_connector.hpp>

#include <reactsock/promise/await.hpp>
#include <reactsock/socket/tcp_connector.hpp>
#include <reactsock/socket/tcp_server.hpp>

#include "socket/connector_test_util.hpp"
#include "support/dnsmasq.hpp"
#include "support/net.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <string>
#include <vector>

namespace rs = reactsock;
using testnet::rejection_of;
using testconnector::RecordingConnector;
using testconnector::resolver_for;

TEST_CASE("DnsConnector resolves, then connects to ip:port?hostname=host") {
    auto loop = std::make_shared<rs::Loop>();
    testdns::Dnsmasq dns({"--local=/test/", "--host-record=app.test,127.0.0.1"});
    auto server = std::make_shared<rs::TcpServer>("127.0.0.1:0", loop);
    const auto port = std::to_string(testnet::port_of(*server->address()));
    auto recording = std::make_shared<RecordingConnector>(loop);
    rs::DnsConnector connector(recording, resolver_for(loop, dns.nameserver()));

    auto conn = rs::await(connector.connect("app.test:" + port), loop);
    CHECK(conn->remote_address() == "tcp://127.0.0.1:" + port);
    auto again = rs::await(connector.connect("tcp://app.test:" + port + "?hostname=other.test"), loop);
    CHECK(again->remote_address() == "tcp://127.0.0.1:" + port);
    // IP literals are passed through untouched, with no query.
    rs::await(connector.connect("127.0.0.1:" + port), loop);
    CHECK(recording->uris == std::vector<std::string>{"127.0.0.1:" + port + "?hostname=app.test",
                                                      "tcp://127.0.0.1:" + port + "?hostname=other.test",
                                                      "127.0.0.1:" + port});
}

TEST_CASE("DnsConnector failure messages: lookup failed, connect refused, invalid URI") {
    auto loop = std::make_shared<rs::Loop>();
    testdns::Dnsmasq dns({"--local=/test/", "--host-record=app.test,127.0.0.1"});
    rs::DnsConnector connector(std::make_shared<rs::TcpConnector>(loop), resolver_for(loop, dns.nameserver()));
    int code = 0;
    CHECK(rejection_of(connector.connect("nonexistent.test:80"), loop, &code) ==
          "Connection to tcp://nonexistent.test:80 failed during DNS lookup: DNS query for nonexistent.test (A) "
          "returned an error response (Non-Existent Domain / NXDOMAIN)");
    CHECK(code == ENOENT);
    const auto port = std::to_string(testnet::closed_port());
    CHECK(rejection_of(connector.connect("app.test:" + port), loop, &code) ==
          "Connection to tcp://app.test:" + port + " failed: Connection to tcp://127.0.0.1:" + port +
              " failed: Connection refused (ECONNREFUSED)");
    CHECK(code == ECONNREFUSED);
    CHECK(rejection_of(connector.connect("tcp://:80"), loop) == "Given URI \"tcp://:80\" is invalid (EINVAL)");
}

TEST_CASE("DnsConnector cancelled during the lookup cancels the query and leaves nothing behind") {
    auto loop = std::make_shared<rs::Loop>();
    testdns::SilentNameserver silent;
    rs::DnsConnector connector(std::make_shared<rs::TcpConnector>(loop), resolver_for(loop, silent.nameserver()));
    const int fds_before = testnet::open_fds();
    auto pending = connector.connect("slow.test:80");
    testnet::run_until(loop, [&] { return silent.received_query(); });
    pending.cancel();
    int code = 0;
    CHECK(rejection_of(pending, loop, &code) == "Connection to tcp://slow.test:80 cancelled during DNS lookup (ECONNABORTED)");
    CHECK(code == ECONNABORTED);
    loop->run();  // returns at once: no socket, no timer left
    CHECK(loop->timer_count() == 0);
    CHECK(testnet::open_fds() <= fds_before);
}

TEST_CASE("DnsConnector cancelled after the lookup cancels the TCP attempt") {
    auto loop = std::make_shared<rs::Loop>();
    testdns::Dnsmasq dns({"--local=/test/", "--host-record=busy.test,127.0.0.1"});
    testnet::BlackHole hole;  // the TCP connect stays pending
    const std::uint16_t port = hole.port;
    auto recording = std::make_shared<RecordingConnector>(loop);
    rs::DnsConnector connector(recording, resolver_for(loop, dns.nameserver()));
    const int fds_before = testnet::open_fds();
    auto pending = connector.connect("busy.test:" + std::to_string(port));
    testnet::run_until(loop, [&] { return !recording->uris.empty(); });
    CHECK(pending.is_pending());
    pending.cancel();
    CHECK(rejection_of(pending, loop) == "Connection to tcp://busy.test:" + std::to_string(port) +
                                             " failed: Connection to tcp://127.0.0.1:" + std::to_string(port) +
                                             " cancelled during TCP/IP handshake (ECONNABORTED)");
    CHECK(testnet::open_fds() <= fds_before);
}
