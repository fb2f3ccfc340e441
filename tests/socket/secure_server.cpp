#include <reactsock/socket/secure_server.hpp>

#include <reactsock/promise/await.hpp>
#include <reactsock/socket/secure_connector.hpp>
#include <reactsock/socket/socket_server.hpp>
#include <reactsock/socket/start_tls.hpp>
#include <reactsock/socket/tcp_connector.hpp>
#include <reactsock/socket/tcp_server.hpp>
#include <reactsock/tls/certificate.hpp>

#include "support/foreign.hpp"
#include "support/tls_peers.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <thread>
#include <vector>

namespace rs = reactsock;

namespace {

rs::TlsOptions server_options() {
    return {.local_cert = testtls::certs().server_cert, .local_pk = testtls::certs().server_key};
}

rs::TlsOptions trusting_client() { return {.cafile = testtls::certs().ca}; }

struct Fixture {
    explicit Fixture(rs::TlsOptions options = server_options())
        : loop(std::make_shared<rs::Loop>()),
          tcp(std::make_shared<rs::TcpServer>("127.0.0.1:0", loop)),
          server(std::make_shared<rs::SecureServer>(tcp, loop, std::move(options))) {
        server->on(rs::ev::connection, [this](const std::shared_ptr<rs::Connection>& c) { connections.push_back(c); });
        server->on(rs::ev::error, [this](const std::system_error& e) {
            errors.push_back(e.what());
            error_codes.push_back(e.code().value());
        });
    }
    [[nodiscard]] std::uint16_t port() const { return testnet::port_of(*server->address()); }
    [[nodiscard]] std::string uri(const std::string& host = "localhost") const {
        return "tls://" + host + ":" + std::to_string(port());
    }
    std::shared_ptr<rs::Connection> connect(rs::TlsOptions client = trusting_client(),
                                            const std::string& host = "localhost") {
        rs::SecureConnector connector(std::make_shared<rs::TcpConnector>(loop), loop, std::move(client));
        return rs::await(connector.connect("tls://127.0.0.1:" + std::to_string(port()) + "?hostname=" + host), loop);
    }
    std::shared_ptr<rs::Loop> loop;
    std::shared_ptr<rs::TcpServer> tcp;
    std::shared_ptr<rs::SecureServer> server;
    std::vector<std::shared_ptr<rs::Connection>> connections;
    std::vector<std::string> errors;
    std::vector<int> error_codes;
};

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("address is the TCP address with tls://") {
    Fixture f;
    CHECK(starts_with(*f.server->address(), "tls://127.0.0.1:"));
    f.server->close();
    CHECK_FALSE(f.server->address().has_value());
}

TEST_CASE("openssl s_client talks to SecureServer; details on both sides") {
    Fixture f;
    f.server->on(rs::ev::connection, [](const std::shared_ptr<rs::Connection>& conn) {
        conn->on(rs::ev::data, [conn](std::string_view chunk) { conn->end("echo:" + std::string(chunk)); });
    });
    auto client = testtls::s_client(f.port(), {"-CAfile", testtls::certs().ca, "-servername", "localhost"});
    client->write_stdin("hello\n");
    testnet::run_until(f.loop, [&] { return !f.connections.empty(); });
    auto conn = f.connections.front();
    CHECK(conn->is_secure());
    CHECK(starts_with(*conn->remote_address(), "tls://127.0.0.1:"));
    CHECK(*conn->local_address() == *f.server->address());
    auto info = rs::tls_info(*conn);
    REQUIRE(info.has_value());
    CHECK(info->protocol == "TLSv1.3");
    CHECK_FALSE(info->cipher.empty());
    CHECK(info->server_name == "localhost");
    CHECK_FALSE(info->peer_certificate.has_value());  // no client certificate asked for
    const auto json = conn->info();
    CHECK(json["secure"] == true);
    CHECK(json["tls"]["protocol"] == "TLSv1.3");
    bool closed = false;
    conn->on(rs::ev::close, [&] { closed = true; });
    testnet::run_until(f.loop, [&] { return closed; });
    CHECK(client->read_stdout(30) == "echo:hello\n");
    CHECK(f.errors.empty());
}

TEST_CASE("10 MB each way through openssl s_client, with backpressure") {
    constexpr std::size_t kSize = 10 * 1024 * 1024;
    Fixture f;
    std::size_t received = 0;
    f.server->on(rs::ev::connection, [&](const std::shared_ptr<rs::Connection>& conn) {
        conn->set_soft_limit(64 * 1024);
        conn->on(rs::ev::data, [&received, conn](std::string_view chunk) {
            received += chunk.size();
            if (!conn->write(chunk)) {
                conn->pause();  // backpressure: wait for drain
                conn->once(rs::ev::drain, [conn] { conn->resume(); });
            }
            if (received == kSize) conn->end();
        });
    });
    const std::string payload = testnet::pattern(kSize, 7);
    auto client = testtls::s_client(f.port(), {"-CAfile", testtls::certs().ca});
    std::string echoed;
    std::thread writer([&] { client->write_stdin(payload); });
    std::thread reader([&] { echoed = client->read_stdout(120); });
    bool closed = false;
    testnet::run_until(f.loop, [&] { return !f.connections.empty(); });
    f.connections.front()->on(rs::ev::close, [&] { closed = true; });
    testnet::run_until(f.loop, [&] { return closed; }, 120);
    writer.join();
    reader.join();
    CHECK(received == kSize);
    CHECK(echoed.size() == kSize);
    CHECK(echoed == payload);
}

TEST_CASE("plaintext garbage: one error, the client is closed, others are served") {
    Fixture f;
    const int raw = testnet::raw_connect(f.port());
    testnet::send_all(raw, "GET / HTTP/1.0\r\n\r\n");
    testnet::run_until(f.loop, [&] { return !f.errors.empty(); });
    REQUIRE(f.errors.size() == 1);
    CHECK(starts_with(f.errors[0], "Connection from tcp://127.0.0.1:"));
    CHECK(contains(f.errors[0], " failed during TLS handshake: error:"));
    CHECK(f.error_codes[0] == EPROTO);
    CHECK(testnet::read_to_eof(raw).size() < 100);  // an alert at most, then EOF
    ::close(raw);
    auto conn = f.connect();
    CHECK(conn->is_secure());
    testnet::run_until(f.loop, [&] { return f.connections.size() == 1; });
    CHECK(f.errors.size() == 1);
}

TEST_CASE("a client that leaves during the handshake: Connection lost (ECONNRESET)") {
    Fixture f;
    const int raw = testnet::raw_connect(f.port());
    ::close(raw);
    testnet::run_until(f.loop, [&] { return !f.errors.empty(); });
    CHECK(starts_with(f.errors[0], "Connection from tcp://127.0.0.1:"));
    CHECK(contains(f.errors[0], " failed during TLS handshake: Connection lost during TLS handshake (ECONNRESET)"));
    CHECK(f.error_codes[0] == ECONNRESET);
}

TEST_CASE("a client that resets during the handshake is still named by its address") {
    // The address comes from accept(), not from getpeername(), which fails
    // once the peer has reset the connection.
    Fixture f;
    const int raw = testnet::raw_connect(f.port());
    sockaddr_in local{};
    socklen_t length = sizeof local;
    REQUIRE(::getsockname(raw, reinterpret_cast<sockaddr*>(&local), &length) == 0);
    testnet::reset_on_close(raw);
    ::close(raw);  // RST
    testnet::run_until(f.loop, [&] { return !f.errors.empty(); });
    REQUIRE(f.errors.size() == 1);
    CHECK(starts_with(f.errors[0], "Connection from tcp://127.0.0.1:" + std::to_string(ntohs(local.sin_port)) +
                                       " failed during TLS handshake: "));
}

TEST_CASE("a stalled handshake times out; the server keeps serving meanwhile") {
    auto options = server_options();
    options.handshake_timeout = 1;
    Fixture f(options);
    const int fds_before = testnet::open_fds();
    const int stalled = testnet::raw_connect(f.port());  // says nothing
    auto conn = f.connect();                            // served while the other stalls
    CHECK(conn->is_secure());
    CHECK(f.errors.empty());
    testnet::run_until(f.loop, [&] { return !f.errors.empty(); });
    CHECK(contains(f.errors[0], "failed during TLS handshake: TLS handshake timed out after 1 seconds (ETIMEDOUT)"));
    CHECK(f.error_codes[0] == ETIMEDOUT);
    CHECK(testnet::read_to_eof(stalled).empty());
    ::close(stalled);
    REQUIRE(f.connections.size() == 1);
    bool server_side_closed = false;
    f.connections[0]->on(rs::ev::close, [&] { server_side_closed = true; });
    conn->close();
    testnet::run_until(f.loop, [&] { return server_side_closed; });
    f.connections.clear();
    CHECK(testnet::open_fds() == fds_before);
}

TEST_CASE("a bad certificate path is an error event per connection, not a crash") {
    Fixture f(rs::TlsOptions{.local_cert = "/nonexistent/cert.pem"});
    const int raw = testnet::raw_connect(f.port());
    testnet::run_until(f.loop, [&] { return !f.errors.empty(); });
    CHECK(contains(f.errors[0],
                   "failed during TLS handshake: Unable to load local_cert certificate \"/nonexistent/cert.pem\": "
                   "No such file or directory (ENOENT)"));
    CHECK(testnet::read_to_eof(raw).empty());
    ::close(raw);
}

TEST_CASE("certificates in memory (PEM) and an encrypted key with its passphrase") {
    const auto& certs = testtls::certs();
    const std::string encrypted = certs.dir + "/encrypted.key";
    testtls::run_openssl(certs.dir, "pkey -in server.key -aes256 -passout pass:secret -out encrypted.key");
    SUBCASE("PEM text") {
        Fixture f(rs::TlsOptions{.local_cert = testtls::read_file(certs.server_cert),
                                 .local_pk = testtls::read_file(certs.server_key)});
        CHECK(f.connect()->is_secure());
    }
    SUBCASE("right passphrase") {
        Fixture f(rs::TlsOptions{.local_cert = certs.server_cert, .local_pk = encrypted, .passphrase = "secret"});
        CHECK(f.connect()->is_secure());
    }
    SUBCASE("wrong passphrase") {
        Fixture f(rs::TlsOptions{.local_cert = certs.server_cert, .local_pk = encrypted, .passphrase = "wrong"});
        rs::SecureConnector connector(std::make_shared<rs::TcpConnector>(f.loop), f.loop, trusting_client());
        CHECK_THROWS(rs::await(connector.connect(f.uri("127.0.0.1") + "?hostname=localhost"), f.loop));
        testnet::run_until(f.loop, [&] { return !f.errors.empty(); });
        CHECK(contains(f.errors[0], "Unable to load local_cert private key: error:"));
    }
}

TEST_CASE("SNI chooses the certificate") {
    const auto& certs = testtls::certs();
    auto options = server_options();
    options.sni_server_certs["other.example"] = {certs.other_cert, certs.other_key};
    Fixture f(options);
    auto other = f.connect(trusting_client(), "other.example");
    CHECK(rs::tls_info(*other)->peer_certificate->subject == "CN=other.example");
    auto plain = f.connect(trusting_client(), "localhost");
    CHECK(rs::tls_info(*plain)->peer_certificate->subject == "CN=localhost");
    CHECK(rs::tls_info(*plain)->peer_certificate->issuer == "CN=reactsock test CA");
    const auto sans = rs::tls_info(*plain)->peer_certificate->subject_alt_names;
    CHECK(sans == std::vector<std::string>{"DNS:localhost", "IP:127.0.0.1"});
}

TEST_CASE("ALPN: the server's preference among the client's offers") {
    auto options = server_options();
    options.alpn_protocols = {"h2", "http/1.1"};
    Fixture f(options);
    auto client = trusting_client();
    client.alpn_protocols = {"http/1.1", "h2"};
    auto conn = f.connect(client);
    CHECK(rs::tls_info(*conn)->alpn_protocol == "h2");
    client.alpn_protocols = {"spdy/1"};
    CHECK_FALSE(rs::tls_info(*f.connect(client))->alpn_protocol.has_value());  // no overlap: no ALPN
}

TEST_CASE("client certificates: required and given, required and missing") {
    const auto& certs = testtls::certs();
    auto options = server_options();
    options.verify_peer = true;
    options.cafile = certs.ca;
    Fixture f(options);
    auto client = trusting_client();
    client.local_cert = certs.client_cert;
    client.local_pk = certs.client_key;
    auto conn = f.connect(client);
    testnet::run_until(f.loop, [&] { return f.connections.size() == 1; });
    auto info = rs::tls_info(*f.connections[0]);
    REQUIRE(info->peer_certificate.has_value());
    CHECK(info->peer_certificate->subject == "CN=reactsock client");
    CHECK(info->verify_result == 0);

    // Without: TLS 1.3 clients finish first; the server's alert closes them.
    rs::SecureConnector connector(std::make_shared<rs::TcpConnector>(f.loop), f.loop, trusting_client());
    bool client_done = false;
    connector.connect(f.uri("127.0.0.1") + "?hostname=localhost")
        .then([&](const std::shared_ptr<rs::Connection>& c) { c->on(rs::ev::close, [&] { client_done = true; }); },
              [&](std::exception_ptr) { client_done = true; });
    testnet::run_until(f.loop, [&] { return !f.errors.empty() && client_done; });
    CHECK(contains(f.errors[0], "failed during TLS handshake: error:0A0000C7:SSL routines::peer did not return a certificate"));
    CHECK(f.connections.size() == 1);
}

TEST_CASE("TLS 1.2 when either side pins it") {
    auto options = server_options();
    options.max_version = "TLSv1.2";
    Fixture f(options);
    CHECK(rs::tls_info(*f.connect())->protocol == "TLSv1.2");
    Fixture g;
    auto client = trusting_client();
    client.max_version = "1.2";
    CHECK(rs::tls_info(*g.connect(client))->protocol == "TLSv1.2");
}

TEST_CASE("close() aborts handshakes in progress and frees their sockets") {
    Fixture f;
    const int fds_before = testnet::open_fds();
    const int stalled = testnet::raw_connect(f.port());
    testnet::run_until(f.loop, [&] { return f.server->pending_handshakes() == 1; });
    f.server->close();
    CHECK(f.server->pending_handshakes() == 0);
    CHECK(testnet::read_to_eof(stalled).empty());
    ::close(stalled);
    CHECK(testnet::open_fds() == fds_before - 1);  // the listening socket went too
    CHECK(f.errors.empty());
}

TEST_CASE("SocketServer builds a SecureServer for tls:// and checks the tls options") {
    auto loop = std::make_shared<rs::Loop>();
    const nlohmann::json context = {
        {"tls", {{"local_cert", testtls::certs().server_cert}, {"local_pk", testtls::certs().server_key}}}};
    rs::SocketServer server("tls://127.0.0.1:0", context, loop);
    CHECK(starts_with(*server.address(), "tls://127.0.0.1:"));
    CHECK(std::dynamic_pointer_cast<rs::SecureServer>(server.inner()) != nullptr);
    std::shared_ptr<rs::Connection> accepted;
    server.on(rs::ev::connection, [&](const std::shared_ptr<rs::Connection>& c) { accepted = c; });
    rs::SecureConnector connector(std::make_shared<rs::TcpConnector>(loop), loop, trusting_client());
    auto conn = rs::await(connector.connect(*server.address() + "?hostname=localhost"), loop);
    testnet::run_until(loop, [&] { return accepted != nullptr; });
    CHECK(accepted->is_secure());
    CHECK_THROWS_WITH_AS(rs::SocketServer("tls://127.0.0.1:0", nlohmann::json{{"tls", {{"local_certs", "x"}}}}, loop),
                         "Unknown TLS option \"local_certs\"", std::invalid_argument);
    CHECK_THROWS_AS(rs::SocketServer("tls://127.0.0.1:0", nlohmann::json{{"tls", {{"min_version", "SSLv3"}}}}, loop),
                    std::invalid_argument);
}

TEST_CASE("a wrapped server that emits a Connection reactsock did not make: error event Error(EINVAL), still serving") {
    auto loop = std::make_shared<rs::Loop>();
    auto inner = std::make_shared<testnet::ForeignServer>();
    const auto cert = rs::tls::self_signed_certificate("localhost");
    auto server = std::make_shared<rs::SecureServer>(
        inner, loop, rs::TlsOptions{.local_cert = cert.certificate_pem, .local_pk = cert.private_key_pem});
    std::vector<std::string> errors;
    int codes_einval = 0;
    server->on(rs::ev::error, [&](const std::system_error& e) {
        errors.emplace_back(e.what());
        if (e.code() == std::errc::invalid_argument) ++codes_einval;
    });
    for (int i = 0; i < 2; ++i) {
        auto foreign = std::make_shared<testnet::ForeignConnection>();
        inner->accept(foreign);
        loop->run();
        CHECK_FALSE(foreign->is_readable());
    }
    CHECK(errors == std::vector<std::string>(2, "Base server does not use internal Connection class exposing stream resource"));
    CHECK(codes_einval == 2);
    CHECK(server->pending_handshakes() == 0);
    server->close();
}
