#include <reactsock/socket/secure_connector.hpp>

#include <reactsock/promise/await.hpp>
#include <reactsock/socket/secure_server.hpp>
#include <reactsock/socket/start_tls.hpp>
#include <reactsock/socket/tcp_connector.hpp>
#include <reactsock/socket/tcp_server.hpp>
#include <reactsock/tls/certificate.hpp>

#include "support/foreign.hpp"
#include "support/tls_peers.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <poll.h>

#include <string>
#include <thread>

namespace rs = reactsock;

namespace {

struct Client {
    explicit Client(rs::TlsOptions options = {.cafile = testtls::certs().ca})
        : loop(std::make_shared<rs::Loop>()),
          connector(std::make_shared<rs::TcpConnector>(loop), loop, std::move(options)) {}
    std::shared_ptr<rs::Connection> connect(const std::string& uri) { return rs::await(connector.connect(uri), loop); }
    // s_server serves one client at a time: close before the next.
    bool secure_and_close(const std::string& uri) {
        auto conn = connect(uri);
        const bool secure = conn->is_secure();
        conn->close();
        return secure;
    }
    // The rejection's message and code.
    std::pair<std::string, int> failure(const std::string& uri) {
        try {
            connect(uri);
        } catch (const std::system_error& e) {
            return {e.what(), e.code().value()};
        }
        FAIL("connect did not fail");
        return {};
    }
    std::shared_ptr<rs::Loop> loop;
    rs::SecureConnector connector;
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("connects to openssl s_server, verifies it, exchanges data") {
    testtls::SServer peer({});
    Client client;
    auto conn = client.connect(peer.uri());
    CHECK(conn->is_secure());
    CHECK(conn->remote_address() == "tls://127.0.0.1:" + std::to_string(peer.port()));
    auto info = rs::tls_info(*conn);
    REQUIRE(info.has_value());
    CHECK(info->protocol == "TLSv1.3");
    CHECK(info->verify_result == 0);
    CHECK(info->verify_message == "ok");
    CHECK(info->peer_certificate->subject == "CN=localhost");
    CHECK_FALSE(info->peer_certificate->not_after.empty());
    CHECK(conn->info()["tls"]["peer_certificate"]["issuer"] == "CN=reactsock test CA");

    std::string received;
    conn->on(rs::ev::data, [&](std::string_view chunk) { received.append(chunk); });
    conn->write("ping\n");
    CHECK(peer.process().read_line(30) == "ping");
    peer.process().write_stdin("pong\n");
    testnet::run_until(client.loop, [&] { return received == "pong\n"; });
}

TEST_CASE("the URI's ?hostname= is the peer name; IP literals are verified as IPs") {
    testtls::SServer peer({});
    Client client;
    CHECK(client.secure_and_close(peer.uri()));
    CHECK(client.secure_and_close(peer.uri("")));  // SAN IP:127.0.0.1
}

TEST_CASE("verification failures: unknown CA, wrong name, expired; verify_peer false accepts") {
    const auto& certs = testtls::certs();
    SUBCASE("unknown CA (the system store does not know ours)") {
        testtls::SServer peer({});
        Client client(rs::TlsOptions{});
        const auto [message, code] = client.failure(peer.uri());
        CHECK(message == "Connection to " + peer.uri() +
                             " failed during TLS handshake: error:0A000086:SSL routines::certificate verify failed: "
                             "unable to get local issuer certificate");
        CHECK(code == EPROTO);
    }
    SUBCASE("self-signed by someone else") {
        testtls::SServer peer({}, certs.rogue_cert, certs.rogue_key);
        Client client;
        CHECK(contains(client.failure(peer.uri()).first, "certificate verify failed: self-signed certificate"));
    }
    SUBCASE("wrong name") {
        testtls::SServer peer({}, certs.other_cert, certs.other_key);
        Client client;
        CHECK(contains(client.failure(peer.uri()).first, "certificate verify failed: hostname mismatch"));
        Client by_peer_name({.peer_name = "other.example", .cafile = certs.ca});
        CHECK(by_peer_name.secure_and_close(peer.uri()));
        Client no_name_check({.verify_peer_name = false, .cafile = certs.ca});
        CHECK(no_name_check.secure_and_close(peer.uri()));
    }
    SUBCASE("expired") {
        testtls::SServer peer({}, certs.expired_cert, certs.expired_key);
        Client client;
        CHECK(contains(client.failure(peer.uri()).first, "certificate verify failed: certificate has expired"));
    }
    SUBCASE("verify_peer: false accepts anything, and says what verification found") {
        testtls::SServer peer({}, certs.rogue_cert, certs.rogue_key);
        Client client({.verify_peer = false});
        auto conn = client.connect(peer.uri());
        CHECK(conn->is_secure());
        CHECK(rs::tls_info(*conn)->verify_result != 0);
    }
}

TEST_CASE("ALPN with s_server") {
    testtls::SServer peer({"-alpn", "h2,http/1.1"});
    Client client({.alpn_protocols = {"http/1.1"}, .cafile = testtls::certs().ca});
    CHECK(rs::tls_info(*client.connect(peer.uri()))->alpn_protocol == "http/1.1");
}

TEST_CASE("client certificate for s_server -Verify") {
    const auto& certs = testtls::certs();
    testtls::SServer peer({"-Verify", "1", "-CAfile", certs.ca});
    Client client({.local_cert = certs.client_cert, .local_pk = certs.client_key, .cafile = certs.ca});
    auto conn = client.connect(peer.uri());
    conn->write("with cert\n");
    CHECK(peer.process().read_line(30) == "with cert");
}

TEST_CASE("10 MB from s_server and 10 MB to it") {
    constexpr std::size_t kSize = 10 * 1024 * 1024;
    // Ends with a newline: the peer's side is read line by line.
    const std::string payload = testnet::pattern(kSize - 1, 3) + "\n";
    testtls::SServer peer({});
    Client client;
    auto conn = client.connect(peer.uri());
    std::size_t received = 0;
    bool same = true;
    conn->on(rs::ev::data, [&](std::string_view chunk) {
        same = same && payload.compare(received, chunk.size(), chunk) == 0;
        received += chunk.size();
    });
    std::string at_peer;
    std::thread writer([&] { peer.process().write_stdin(payload); });
    std::thread reader([&] {
        std::string all;
        while (all.size() < kSize) {
            std::string line = peer.process().read_line(60);
            all += line;
            all += '\n';
        }
        at_peer = all;
    });
    // Write with backpressure: stop at the soft limit, go on at drain.
    std::size_t sent = 0;
    std::function<void()> pump = [&] {
        while (sent < kSize) {
            const std::size_t n = std::min<std::size_t>(65536, kSize - sent);
            const bool more = conn->write(std::string_view(payload).substr(sent, n));
            sent += n;
            if (!more) return;
        }
    };
    conn->on(rs::ev::drain, [&] { pump(); });
    pump();
    testnet::run_until(client.loop, [&] { return received == kSize && sent == kSize && conn->buffered_amount() == 0; },
                       120);
    writer.join();
    reader.join();
    CHECK(same);
    CHECK(at_peer.substr(0, kSize) == payload);
}

TEST_CASE("TCP failures are rewritten with the tls:// URI; bad URIs are rejected") {
    Client client;
    const auto port = testnet::closed_port();
    const auto [message, code] = client.failure("tls://127.0.0.1:" + std::to_string(port));
    CHECK(message == "Connection to tls://127.0.0.1:" + std::to_string(port) + " failed: Connection refused (ECONNREFUSED)");
    CHECK(code == ECONNREFUSED);
    CHECK_THROWS_WITH_AS(rs::await(client.connector.connect("tcp://127.0.0.1:80"), client.loop),
                         "Given URI \"tcp://127.0.0.1:80\" is invalid (EINVAL)", std::invalid_argument);
    CHECK_THROWS_AS(rs::SecureConnector(std::make_shared<rs::TcpConnector>(client.loop), client.loop,
                                        nlohmann::json{{"verify_peers", false}}),
                    std::invalid_argument);
}

TEST_CASE("cancel at every stage: the right message and no descriptor left open") {
    std::uint16_t port = 0;
    const int listener = testnet::raw_listen(port);  // completes TCP, never answers TLS
    Client client;
    const std::string uri = "tls://127.0.0.1:" + std::to_string(port);
    const int fds_before = testnet::open_fds();
    auto message_of = [&](rs::Promise<std::shared_ptr<rs::Connection>> p) {
        std::string message;
        p.then([](const std::shared_ptr<rs::Connection>&) {},
               [&](std::exception_ptr e) { message = rs::describe_exception(e); });
        p.cancel();
        testnet::run_until(client.loop, [&] { return !message.empty(); });
        return message;
    };
    SUBCASE("during TCP/IP") {
        CHECK(message_of(client.connector.connect(uri)) ==
              "Connection to " + uri + " cancelled during TCP/IP handshake (ECONNABORTED)");
    }
    SUBCASE("during the TLS handshake") {
        auto p = client.connector.connect(uri);
        const int accepted = ::accept(listener, nullptr, nullptr);  // the kernel completed TCP
        // The ClientHello arrives: the client is handshaking, waiting for an answer.
        testnet::run_until(client.loop, [&] {
            pollfd p{accepted, POLLIN, 0};
            return ::poll(&p, 1, 0) == 1;
        });
        CHECK(testnet::open_fds() == fds_before + 2);
        CHECK(message_of(p) == "Connection to " + uri + " cancelled during TLS handshake (ECONNABORTED)");
        testnet::read_to_eof(accepted);  // returns at EOF: the client closed its socket
        ::close(accepted);
    }
    CHECK(testnet::open_fds() == fds_before);
    ::close(listener);
}

TEST_CASE("TLS 1.3 session tickets: the second connection resumes") {
    auto loop = std::make_shared<rs::Loop>();
    auto cert = rs::tls::self_signed_certificate("localhost");
    auto server = std::make_shared<rs::SecureServer>(
        std::make_shared<rs::TcpServer>("127.0.0.1:0", loop), loop,
        rs::TlsOptions{.local_cert = cert.certificate_pem, .local_pk = cert.private_key_pem});
    server->on(rs::ev::connection, [](const std::shared_ptr<rs::Connection>& c) { c->pipe(c); });
    rs::SecureConnector connector(std::make_shared<rs::TcpConnector>(loop), loop,
                                  rs::TlsOptions{.cafile = cert.certificate_pem});
    const std::string uri = *server->address() + "?hostname=localhost";
    for (int round = 0; round < 2; ++round) {
        auto conn = rs::await(connector.connect(uri), loop);
        CHECK(rs::tls_info(*conn)->protocol == "TLSv1.3");
        CHECK(rs::tls_info(*conn)->session_reused == (round == 1));
        std::string echoed;
        conn->on(rs::ev::data, [&](std::string_view chunk) { echoed.append(chunk); });
        conn->write("ticket please");  // the tickets arrive before the echo
        testnet::run_until(loop, [&] { return echoed == "ticket please"; });
        bool closed = false;
        conn->on(rs::ev::close, [&] { closed = true; });
        conn->end();  // close_notify, then the server's
        testnet::run_until(loop, [&] { return closed; });
    }
}

TEST_CASE("a connector that yields a Connection reactsock did not make: Error(EINVAL), connection closed") {
    auto loop = std::make_shared<rs::Loop>();
    auto foreign = std::make_shared<testnet::ForeignConnection>();
    rs::SecureConnector connector(std::make_shared<testnet::ForeignConnector>(foreign), loop);
    try {
        rs::await(connector.connect("tls://127.0.0.1:443"), loop);
        FAIL("SecureConnector accepted a foreign connection");
    } catch (const rs::Error& e) {
        CHECK(std::string(e.what()) ==
              "Base connector does not use internal Connection class exposing stream resource");
        CHECK(e.code() == std::errc::invalid_argument);
    }
    CHECK_FALSE(foreign->is_readable());
}
