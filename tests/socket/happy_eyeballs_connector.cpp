#include <reactsock/socket/happy_eyeballs_connector.hpp>

#include <reactsock/promise/await.hpp>
#include <reactsock/socket/tcp_connector.hpp>
#include <reactsock/socket/tcp_server.hpp>

#include "socket/connector_test_util.hpp"
#include "support/dnsmasq.hpp"
#include "support/net.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace rs = reactsock;
using testconnector::RecordingConnector;
using testconnector::resolver_for;
using testnet::rejection_of;

TEST_CASE("HappyEyeballs: AAAA points at a closed ::1 port, A at a live server: IPv4 wins") {
    if (!testnet::has_ipv6_loopback()) {
        MESSAGE("skipped: no IPv6 loopback on this machine");
        return;
    }
    auto loop = std::make_shared<rs::Loop>();
    testdns::Dnsmasq dns({"--local=/test/", "--host-record=dual.test,127.0.0.1,::1"});
    auto server = std::make_shared<rs::TcpServer>("127.0.0.1:0", loop);
    const auto port = std::to_string(testnet::port_of(*server->address()));
    auto recording = std::make_shared<RecordingConnector>(loop);
    rs::HappyEyeballsConnector connector(recording, resolver_for(loop, dns.nameserver()), loop);
    auto conn = rs::await(connector.connect("dual.test:" + port), loop);
    CHECK(conn->remote_address() == "tcp://127.0.0.1:" + port);
    // Both families were tried; the refused IPv6 attempt led to IPv4 at once.
    bool tried_v6 = false;
    for (const auto& uri : recording->uris) tried_v6 = tried_v6 || uri.rfind("[::1]:" + port, 0) == 0;
    CHECK(tried_v6);
    CHECK(loop->timer_count() == 0);  // no delay timer left running
}

TEST_CASE("HappyEyeballs: an IPv6 attempt that never answers, IPv4 wins after the attempt delay") {
    if (!testnet::has_ipv6_loopback()) {
        MESSAGE("skipped: no IPv6 loopback on this machine");
        return;
    }
    auto loop = std::make_shared<rs::Loop>();
    // ::1 listener with a full accept queue: connects there stay pending.
    const int v6_listener = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in6 v6{};
    v6.sin6_family = AF_INET6;
    v6.sin6_addr = in6addr_loopback;
    REQUIRE(::bind(v6_listener, reinterpret_cast<sockaddr*>(&v6), sizeof v6) == 0);
    REQUIRE(::listen(v6_listener, 0) == 0);
    socklen_t length = sizeof v6;
    ::getsockname(v6_listener, reinterpret_cast<sockaddr*>(&v6), &length);
    const std::uint16_t port = ntohs(v6.sin6_port);
    std::vector<int> fillers;
    for (int i = 0; i < 4; ++i) {
        const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        ::connect(fd, reinterpret_cast<sockaddr*>(&v6), sizeof v6);
        fillers.push_back(fd);
    }
    // The IPv4 server on the same port number.
    std::shared_ptr<rs::TcpServer> server;
    try {
        server = std::make_shared<rs::TcpServer>("127.0.0.1:" + std::to_string(port), loop);
    } catch (const std::system_error&) {
        MESSAGE("skipped: port taken on 127.0.0.1");
        return;
    }
    testdns::Dnsmasq dns({"--local=/test/", "--host-record=slow6.test,127.0.0.1,::1"});
    auto recording = std::make_shared<RecordingConnector>(loop);
    auto resolver = resolver_for(loop, dns.nameserver());
    rs::await(resolver->resolve_all("slow6.test", rs::RecordType::AAAA), loop);  // c-ares opens its socket
    rs::HappyEyeballsConnector connector(recording, resolver, loop);
    const int fds_before = testnet::open_fds();
    bool server_side_closed = false;
    server->on(rs::ev::connection, [&](const std::shared_ptr<rs::Connection>& c) {
        c->close();
        server_side_closed = true;
    });
    std::shared_ptr<rs::Connection> conn = rs::await(connector.connect("slow6.test:" + std::to_string(port)), loop);
    CHECK(conn->remote_address() == "tcp://127.0.0.1:" + std::to_string(port));
    CHECK(recording->uris.size() == 2);
    conn->close();
    testnet::run_until(loop, [&] { return server_side_closed; });
    CHECK(testnet::open_fds() <= fds_before);  // the pending IPv6 attempt was cancelled and closed
    for (int fd : fillers) ::close(fd);
    ::close(v6_listener);
}

TEST_CASE("HappyEyeballs: every attempt fails; no address at all; cancelled during DNS") {
    auto loop = std::make_shared<rs::Loop>();
    testdns::Dnsmasq dns({"--local=/test/", "--host-record=v4only.test,127.0.0.1"});
    rs::HappyEyeballsConnector connector(std::make_shared<rs::TcpConnector>(loop),
                                         resolver_for(loop, dns.nameserver()), loop);
    const auto port = std::to_string(testnet::closed_port());
    int code = 0;
    CHECK(rejection_of(connector.connect("v4only.test:" + port), loop, &code) ==
          "Connection to tcp://v4only.test:" + port + " failed: Last error for IPv4: Connection to tcp://127.0.0.1:" +
              port +
              " failed: Connection refused (ECONNREFUSED). Previous error for IPv6: DNS query for v4only.test (AAAA) "
              "did not return a valid answer (NOERROR / NODATA)");
    CHECK(code == ECONNREFUSED);
    const std::string none = rejection_of(connector.connect("missing.test:80"), loop);
    CHECK(none.rfind("Connection to tcp://missing.test:80 failed during DNS lookup. Last error for IPv", 0) == 0);
    CHECK(none.find("DNS query for missing.test (A) returned an error response (Non-Existent Domain / NXDOMAIN)") !=
          std::string::npos);
    CHECK(none.find("DNS query for missing.test (AAAA) returned an error response (Non-Existent Domain / NXDOMAIN)") !=
          std::string::npos);

    testdns::SilentNameserver silent;
    rs::HappyEyeballsConnector stuck(std::make_shared<rs::TcpConnector>(loop), resolver_for(loop, silent.nameserver()),
                                     loop);
    auto pending = stuck.connect("slow.test:80");
    pending.cancel();
    CHECK(rejection_of(pending, loop, &code) == "Connection to tcp://slow.test:80 cancelled during DNS lookup (ECONNABORTED)");
    CHECK(code == ECONNABORTED);
    loop->run();  // nothing left behind
    CHECK(loop->timer_count() == 0);
}

TEST_CASE("HappyEyeballs: an IP literal is connected directly, with no lookup; invalid arguments") {
    auto loop = std::make_shared<rs::Loop>();
    testdns::SilentNameserver silent;  // a query would go unanswered
    auto server = std::make_shared<rs::TcpServer>("127.0.0.1:0", loop);
    const auto port = std::to_string(testnet::port_of(*server->address()));
    auto recording = std::make_shared<RecordingConnector>(loop);
    auto resolver = resolver_for(loop, silent.nameserver());
    rs::HappyEyeballsConnector connector(recording, resolver, loop);
    auto conn = rs::await(connector.connect("127.0.0.1:" + port), loop);
    CHECK(conn->remote_address() == "tcp://127.0.0.1:" + port);
    CHECK(recording->uris == std::vector<std::string>{"127.0.0.1:" + port});  // handed down as given
    CHECK_FALSE(silent.received_query());
    CHECK(loop->timer_count() == 0);
    conn->close();

    CHECK(rejection_of(connector.connect("tcp://:80"), loop) == "Given URI \"tcp://:80\" is invalid (EINVAL)");
    CHECK_THROWS_AS(rs::HappyEyeballsConnector(nullptr, resolver, loop), std::invalid_argument);
    CHECK_THROWS_AS(rs::HappyEyeballsConnector(recording, nullptr, loop), std::invalid_argument);
    CHECK_THROWS_AS(rs::HappyEyeballsConnector(recording, resolver, loop, {.resolution_delay = -1}),
                    std::invalid_argument);
    CHECK_THROWS_AS(rs::HappyEyeballsConnector(recording, resolver, loop,
                                               {.connection_attempt_delay = std::numeric_limits<double>::infinity()}),
                    std::invalid_argument);
}

TEST_CASE("HappyEyeballsConnectorOptions from JSON: both forms, strict; the old names still work") {
    using nlohmann::json;
    const auto options = rs::HappyEyeballsConnectorOptions::from_json(
        json{{"resolution_delay", 0.01}, {"connection_attempt_delay", 0.2}});
    CHECK(options.resolution_delay == 0.01);
    CHECK(options.connection_attempt_delay == 0.2);
    CHECK(json{{"connection_attempt_delay", 1}}.get<rs::HappyEyeballsConnector::Options>().connection_attempt_delay ==
          1.0);
    CHECK(rs::HappyEyeballsConnectorOptions::from_json(nullptr).resolution_delay == 0.05);

    CHECK_THROWS_WITH_AS(rs::HappyEyeballsConnectorOptions::from_json(json{{"resolution_dealy", 0.1}}),
                         "Unknown HappyEyeballsConnector option \"resolution_dealy\"", std::invalid_argument);
    CHECK_THROWS_WITH_AS((json{{"connection_attempt_delay", "100ms"}}).get<rs::HappyEyeballsConnectorOptions>(),
                         "HappyEyeballsConnector option \"connection_attempt_delay\" must be a number",
                         std::invalid_argument);
    CHECK_THROWS_AS(rs::HappyEyeballsConnectorOptions::from_json(json::array()), std::invalid_argument);

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    rs::HappyEyeballsOptions old_name{.resolution_delay = 0.02};
#pragma GCC diagnostic pop
    const rs::HappyEyeballsConnectorOptions& same = old_name;
    CHECK(same.resolution_delay == 0.02);
}
