// What an attacker (or a careless caller) can put into the socket layer's
// entry points: control characters in URIs and names, hostile option keys,
// upper-case schemes. Each bad input is an std::invalid_argument (thrown or
// rejected) whose message shows the input escaped; nothing reaches the wire.
#include <reactsock/dns/resolver.hpp>
#include <reactsock/error.hpp>
#include <reactsock/promise/await.hpp>
#include <reactsock/socket/connector.hpp>
#include <reactsock/socket/dns_connector.hpp>
#include <reactsock/socket/happy_eyeballs_connector.hpp>
#include <reactsock/socket/secure_connector.hpp>
#include <reactsock/socket/secure_server.hpp>
#include <reactsock/socket/socket_server.hpp>
#include <reactsock/socket/start_tls.hpp>
#include <reactsock/socket/tcp_connector.hpp>
#include <reactsock/socket/tcp_server.hpp>
#include <reactsock/socket/unix_connector.hpp>
#include <reactsock/socket/unix_server.hpp>
#include <reactsock/tls/certificate.hpp>

#include "support/dnsmasq.hpp"
#include "support/net.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace rs = reactsock;

using testnet::rejection_of;

namespace {

// The what() of the std::invalid_argument that `make` throws; "" if it throws
// nothing, or something else.
template <class F>
std::string invalid_argument_of(F&& make) {
    try {
        make();
    } catch (const std::invalid_argument& e) {
        return e.what();
    } catch (const std::exception& e) {
        return std::string("other exception: ") + e.what();
    }
    return "";
}

// The rejection of `promise` if it is an std::invalid_argument, else a note.
template <class T>
std::string invalid_rejection_of(const rs::Promise<T>& promise, const std::shared_ptr<rs::Loop>& loop) {
    try {
        rs::await(promise, loop);
    } catch (const std::invalid_argument& e) {
        return e.what();
    } catch (const std::exception& e) {
        return std::string("other rejection: ") + e.what();
    }
    return "fulfilled";
}

}  // namespace

TEST_CASE("escape_for_message: printable ASCII stays, quotes and backslashes are escaped, other bytes become \\xNN") {
    CHECK(rs::escape_for_message("tcp://127.0.0.1:80/a b") == "tcp://127.0.0.1:80/a b");
    CHECK(rs::escape_for_message("a\r\nb\t\"c\"\\") == R"(a\r\nb\t\"c\"\\)");
    CHECK(rs::escape_for_message(std::string("\x1b[2J\x07\x7f\x00!", 8)) == R"(\x1b[2J\x07\x7f\x00!)");
    CHECK(rs::escape_for_message("caf\xc3\xa9") == R"(caf\xc3\xa9)");
    CHECK(rs::escape_for_message("") == "");
}

TEST_CASE("Every connector rejects control characters in a URI, with the URI escaped") {
    auto loop = std::make_shared<rs::Loop>();
    auto tcp = std::make_shared<rs::TcpConnector>(loop);
    testdns::Dnsmasq dns({"--local=/test/", "--host-record=www.test,127.0.0.1"});
    auto resolver = rs::Resolver::create(loop, nlohmann::json{{"nameservers", {dns.nameserver()}}});
    rs::DnsConnector dns_connector(tcp, resolver);
    rs::HappyEyeballsConnector happy(tcp, resolver, loop);
    rs::UnixConnector unix_connector(loop);
    const auto cert = rs::tls::self_signed_certificate("localhost");
    rs::SecureConnector secure(tcp, loop, rs::TlsOptions{.cafile = cert.certificate_pem});
    rs::Connector facade({{"dns", dns.nameserver()}}, loop);

    struct Case {
        rs::ConnectorInterface* connector;
        std::string uri;
        std::string message;
    };
    const std::vector<Case> cases{
        {tcp.get(), "tcp://127.0.0.1:80\r\n", R"(Given URI "tcp://127.0.0.1:80\r\n" is invalid (EINVAL))"},
        {tcp.get(), "tcp://127.0.0.1\n:80", R"(Given URI "tcp://127.0.0.1\n:80" is invalid (EINVAL))"},
        {&dns_connector, "www.test:80/\r\nHost: x", R"(Given URI "www.test:80/\r\nHost: x" is invalid (EINVAL))"},
        {&dns_connector, std::string("www.test\0.evil:80", 17), R"(Given URI "www.test\x00.evil:80" is invalid (EINVAL))"},
        {&happy, "www.test:80\x1b[2J", R"(Given URI "www.test:80\x1b[2J" is invalid (EINVAL))"},
        {&happy, "www test:80", R"(Given URI "www test:80" is invalid (EINVAL))"},
        {&unix_connector, "unix:///tmp/x\ny", R"(Given URI "unix:///tmp/x\ny" is invalid (EINVAL))"},
        {&secure, "tls://localhost\r:443", R"(Given URI "tls://localhost\r:443" is invalid (EINVAL))"},
        {&facade, "www.test:80\x7f", R"(Given URI "www.test:80\x7f" is invalid (EINVAL))"},
        {&facade, "tls://www.test:443?hostname=a\nb", R"(Given URI "tls://www.test:443?hostname=a\nb" is invalid (EINVAL))"},
        {&facade, "bad\r\n://x", R"(No connector available for URI scheme "bad\r\n" (EINVAL))"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.uri);
        if (c.connector == &facade && c.uri.rfind("bad", 0) == 0) {
            CHECK(rejection_of(c.connector->connect(c.uri), loop) == c.message);  // a system_error, EINVAL
        } else {
            CHECK(invalid_rejection_of(c.connector->connect(c.uri), loop) == c.message);
        }
    }
}

TEST_CASE("Every server refuses control characters in its URI, with the URI escaped") {
    auto loop = std::make_shared<rs::Loop>();
    CHECK(invalid_argument_of([&] { rs::TcpServer("127.0.0.1:0\r\n", loop); }) ==
          R"(Invalid URI "tcp://127.0.0.1:0\r\n" given (EINVAL))");
    CHECK(invalid_argument_of([&] { rs::UnixServer("unix:///tmp/a\x1b]0;x\x07", loop); }) ==
          R"(Given URI "unix:///tmp/a\x1b]0;x\x07" is invalid (EINVAL))");
    CHECK(invalid_argument_of([&] { rs::SocketServer("tls://127.0.0.1:0\n", nlohmann::json::object(), loop); }) ==
          R"(Invalid URI "tcp://127.0.0.1:0\n" given (EINVAL))");
}

TEST_CASE("Schemes are case-insensitive everywhere: TCP://, Tcp://, UNIX://, TLS://") {
    auto loop = std::make_shared<rs::Loop>();
    auto server = std::make_shared<rs::SocketServer>("TCP://127.0.0.1:0", nlohmann::json::object(), loop);
    const auto port = std::to_string(testnet::port_of(*server->address()));
    int accepted = 0;
    server->on(rs::ev::connection, [&accepted](const std::shared_ptr<rs::Connection>& conn) {
        ++accepted;
        conn->close();
    });
    rs::Connector facade(nlohmann::json::object(), loop);
    for (const std::string scheme : {"TCP", "Tcp", "tcp"}) {
        auto conn = rs::await(facade.connect(scheme + "://127.0.0.1:" + port), loop);
        CHECK(conn->remote_address() == "tcp://127.0.0.1:" + port);
        conn->close();
    }
    testnet::run_until(loop, [&] { return accepted == 3; });
    CHECK(accepted == 3);
    server->close();

    const std::string path = testnet::temp_socket_path("scheme");
    auto unix_server = std::make_shared<rs::SocketServer>("UNIX://" + path, nlohmann::json::object(), loop);
    unix_server->on(rs::ev::connection, [](const std::shared_ptr<rs::Connection>& conn) { conn->close(); });
    auto unix_conn = rs::await(facade.connect("Unix://" + path), loop);
    CHECK(unix_conn->remote_address() == "unix://" + path);
    unix_conn->close();
    unix_server->close();

    const auto cert = rs::tls::self_signed_certificate("localhost");
    auto tls_server = std::make_shared<rs::SocketServer>(
        "TLS://127.0.0.1:0",
        nlohmann::json{{"tls", {{"local_cert", cert.certificate_pem}, {"local_pk", cert.private_key_pem}}}}, loop);
    tls_server->on(rs::ev::connection, [](const std::shared_ptr<rs::Connection>& conn) { conn->end("secure"); });
    rs::Connector tls_facade({{"tls", {{"cafile", cert.certificate_pem}}}}, loop);
    const auto tls_port = std::to_string(testnet::port_of(*tls_server->address()));
    auto tls_conn = rs::await(tls_facade.connect("TLS://127.0.0.1:" + tls_port + "?hostname=localhost"), loop);
    CHECK(tls_conn->remote_address() == "tls://127.0.0.1:" + tls_port);
    tls_conn->close();
    tls_server->close();
}

TEST_CASE("TLS peer names (SNI and the certificate check) cannot carry control characters or spaces") {
    auto loop = std::make_shared<rs::Loop>();
    const auto cert = rs::tls::self_signed_certificate("localhost");
    auto server = std::make_shared<rs::SecureServer>(
        std::make_shared<rs::TcpServer>("127.0.0.1:0", loop), loop,
        rs::TlsOptions{.local_cert = cert.certificate_pem, .local_pk = cert.private_key_pem});
    int connections = 0;
    server->on(rs::ev::connection, [&connections](const std::shared_ptr<rs::Connection>& c) {
        ++connections;
        c->close();
    });
    const std::string address = *server->address();
    rs::SecureConnector secure(std::make_shared<rs::TcpConnector>(loop), loop,
                               rs::TlsOptions{.cafile = cert.certificate_pem});
    // ?hostname= is percent-decoded, so parse_uri sees no control character.
    CHECK(invalid_rejection_of(secure.connect(address + "?hostname=local%0d%0ahost"), loop) ==
          R"(Invalid TLS peer name "local\r\nhost": control characters and spaces are not allowed (EINVAL))");
    CHECK(invalid_rejection_of(secure.connect(address + "?hostname=localhost%00.evil"), loop) ==
          R"(Invalid TLS peer name "localhost\x00.evil": control characters and spaces are not allowed (EINVAL))");
    CHECK(invalid_rejection_of(secure.connect(address + "?hostname=a%20b"), loop) ==
          R"(Invalid TLS peer name "a b": control characters and spaces are not allowed (EINVAL))");
    CHECK(invalid_argument_of([&] {
              rs::SecureConnector(std::make_shared<rs::TcpConnector>(loop), loop,
                                  rs::TlsOptions{.peer_name = std::string("x\ny")});
          }) == R"(Invalid TLS peer name "x\ny": control characters and spaces are not allowed (EINVAL))");

    // start_tls_client: the peer name it is given is checked the same way.
    rs::TcpConnector tcp(loop);
    auto plain = rs::await(tcp.connect("tcp://" + address.substr(6)), loop);  // "tls://..." less the scheme
    CHECK(invalid_rejection_of(rs::start_tls_client(plain, rs::TlsOptions{.cafile = cert.certificate_pem}, "a\rb"),
                               loop) ==
          R"(Invalid TLS peer name "a\rb": control characters and spaces are not allowed (EINVAL))");
    plain->close();

    // A good name still works, and the server served nobody with a bad name.
    auto good = rs::await(secure.connect(address + "?hostname=localhost"), loop);
    testnet::run_until(loop, [&] { return connections == 1; });
    CHECK(connections == 1);
    good->close();
    server->close();
}

TEST_CASE("Option keys and values are echoed escaped in error messages") {
    auto loop = std::make_shared<rs::Loop>();
    CHECK(invalid_argument_of([&] { rs::TcpServer("127.0.0.1:0", loop, nlohmann::json{{"x\r\n\x1b[31m", 1}}); }) ==
          R"(Unknown TcpServer option "x\r\n\x1b[31m")");
    CHECK(invalid_argument_of([&] { (void)rs::Resolver::create(loop, nlohmann::json{{"bad\nkey", 1}}); }) ==
          R"(Unknown DNS config option "bad\nkey")");
    CHECK(invalid_argument_of([&] {
              rs::SecureConnector(std::make_shared<rs::TcpConnector>(loop), loop,
                                  nlohmann::json{{"min_version", "TLSv1.3\r\nx"}});
          }) == R"(TLS option "min_version" must be one of "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", got "TLSv1.3\r\nx")");
    CHECK(invalid_argument_of([&] {
              rs::SecureConnector(std::make_shared<rs::TcpConnector>(loop), loop,
                                  rs::TlsOptions{.handshake_timeout = 2e9});
          }) == R"(TLS option "handshake_timeout" must be a number of seconds from 0 to 1e9 (0 = no timeout))");
}

TEST_CASE("A DNS lookup of a hostile name is refused with the name escaped") {
    auto loop = std::make_shared<rs::Loop>();
    testdns::Dnsmasq dns({"--local=/test/"});
    auto resolver = rs::Resolver::create(loop, nlohmann::json{{"nameservers", {dns.nameserver()}}});
    CHECK(invalid_rejection_of(resolver->resolve("www.test\r\n\x1b[2J"), loop) ==
          R"(DNS query for www.test\r\n\x1b[2J (A) failed: Invalid domain name)");
}
