#include <reactsock/socket/connector.hpp>

#include <reactsock/promise/await.hpp>
#include <reactsock/socket/tcp_server.hpp>
#include <reactsock/socket/unix_server.hpp>

#include "support/dnsmasq.hpp"
#include "support/net.hpp"
#include "support/tls_certs.hpp"
#include "support/tls_peers.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <string>
#include <vector>

namespace rs = reactsock;

using testnet::BlackHole;
using testnet::rejection_of;

TEST_CASE("Connector: tcp with DNS from a local nameserver, unix, and schemes switched off") {
    auto loop = std::make_shared<rs::Loop>();
    testdns::Dnsmasq dns({"--local=/test/", "--host-record=svc.test,127.0.0.1,::1"});
    auto server = std::make_shared<rs::TcpServer>("127.0.0.1:0", loop);
    const auto port = std::to_string(testnet::port_of(*server->address()));
    const std::string path = testnet::temp_socket_path("facade");
    auto unix_server = std::make_shared<rs::UnixServer>(path, loop);

    rs::Connector connector(nlohmann::json{{"dns", dns.nameserver()}, {"timeout", 5}}, loop);
    CHECK(rs::await(connector.connect("svc.test:" + port), loop)->remote_address() == "tcp://127.0.0.1:" + port);
    CHECK(rs::await(connector.connect("tcp://127.0.0.1:" + port), loop)->remote_address() == "tcp://127.0.0.1:" + port);
    CHECK(rs::await(connector.connect("unix://" + path), loop)->remote_address() == "unix://" + path);

    rs::Connector plain(nlohmann::json{{"dns", false}, {"unix", false}, {"timeout", false}}, loop);
    int code = 0;
    CHECK(rejection_of(plain.connect("unix://" + path), loop, &code) ==
          "No connector available for URI scheme \"unix\" (EINVAL)");
    CHECK(code == EINVAL);
    CHECK(rejection_of(plain.connect("ftp://127.0.0.1:21"), loop) == "No connector available for URI scheme \"ftp\" (EINVAL)");
    CHECK(rejection_of(plain.connect("svc.test:" + port), loop) ==
          "Given URI \"tcp://svc.test:" + port + "\" does not contain a valid host IP (EINVAL)");

    rs::Connector dns_only(rs::Connector::Options{.dns = dns.nameserver(), .happy_eyeballs = false}, loop);
    CHECK(rs::await(dns_only.connect("svc.test:" + port), loop)->remote_address() == "tcp://127.0.0.1:" + port);
}

TEST_CASE("Connector: the default timeout wraps tcp connects; cancel reaches every stage") {
    auto loop = std::make_shared<rs::Loop>();
    BlackHole hole;
    rs::Connector connector(nlohmann::json{{"timeout", 0.05}, {"dns", false}}, loop);
    const std::string uri = "127.0.0.1:" + std::to_string(hole.port);
    CHECK(rejection_of(connector.connect(uri), loop) == "Connection to " + uri + " timed out after 0.05 seconds (ETIMEDOUT)");

    testdns::SilentNameserver silent;
    rs::Connector slow(nlohmann::json{{"dns", silent.nameserver()}}, loop);
    const int fds_before = testnet::open_fds();
    auto pending = slow.connect("slow.test:80");
    testnet::run_until(loop, [&] { return silent.received_query(); });
    pending.cancel();
    CHECK(rejection_of(pending, loop) == "Connection to tcp://slow.test:80 cancelled during DNS lookup (ECONNABORTED)");
    CHECK(loop->timer_count() == 0);
    CHECK(testnet::open_fds() <= fds_before + 1);  // the cached resolver may keep its channel
}

TEST_CASE("Connector options: JSON with an unknown key or a wrong type is refused, naming it") {
    auto loop = std::make_shared<rs::Loop>();
    CHECK_THROWS_WITH_AS(rs::Connector(nlohmann::json{{"timout", 3}}, loop), "Unknown Connector option \"timout\"",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(rs::Connector(nlohmann::json{{"dns", 5}}, loop),
                         "Connector option \"dns\" must be true, false or a nameserver address", std::invalid_argument);
    CHECK_THROWS_WITH_AS(rs::Connector(nlohmann::json{{"tcp", {{"bind", "x"}}}}, loop),
                         "Unknown TcpConnector option \"bind\"", std::invalid_argument);
    const auto options = nlohmann::json{{"happy_eyeballs", false}, {"timeout", true}}.get<rs::Connector::Options>();
    CHECK_FALSE(options.happy_eyeballs);
    CHECK(options.timeout == 60.0);
}

// ---- tls:// against openssl s_server ------------------------------------------

TEST_CASE("Connector connects tls://localhost through its DNS layer and verifies the peer") {
    auto loop = std::make_shared<rs::Loop>();
    testtls::SServer peer({});
    // "localhost" is answered by the resolver itself: no query leaves the process.
    rs::Connector connector(nlohmann::json{{"tls", {{"cafile", testtls::certs().ca}}}, {"timeout", 10}}, loop);
    auto conn = rs::await(connector.connect("tls://localhost:" + std::to_string(peer.port())), loop);
    CHECK(conn->is_secure());
    CHECK(conn->remote_address()->rfind("tls://", 0) == 0);
    std::string received;
    conn->on(rs::ev::data, [&](std::string_view chunk) { received.append(chunk); });
    conn->write("hello over tls\n");
    CHECK(peer.process().read_line(30) == "hello over tls");
    peer.process().write_stdin("back\n");
    testnet::run_until(loop, [&] { return received == "back\n"; });
    conn->close();
}

TEST_CASE("Connector tls:// verifies by default, and tls can be switched off") {
    auto loop = std::make_shared<rs::Loop>();
    testtls::SServer peer({});
    rs::Connector strict(nlohmann::json{{"dns", false}}, loop);  // system CA store: our test CA is unknown
    const std::string uri = "tls://127.0.0.1:" + std::to_string(peer.port()) + "?hostname=localhost";
    try {
        rs::await(strict.connect(uri), loop);
        FAIL("an unknown CA must fail verification");
    } catch (const std::system_error& e) {
        CHECK(std::string(e.what()).rfind("Connection to " + uri + " failed during TLS handshake: ", 0) == 0);
        CHECK(std::string(e.what()).find("certificate verify failed") != std::string::npos);
    }
    rs::Connector no_tls(nlohmann::json{{"tls", false}}, loop);
    try {
        rs::await(no_tls.connect(uri), loop);
        FAIL("tls:// is switched off");
    } catch (const std::system_error& e) {
        CHECK(e.code().value() == EINVAL);
        CHECK(std::string(e.what()) == "No connector available for URI scheme \"tls\" (EINVAL)");
    }
    CHECK_THROWS_WITH_AS(rs::Connector(nlohmann::json{{"tls", {{"verify_peers", false}}}}, loop),
                         "Unknown TLS option \"verify_peers\"", std::invalid_argument);
}
