// TlsOptions end to end: DER certificates, capath, ciphers/ciphersuites,
// protocol versions, and the server side of SNI, ALPN and client
// certificates with openssl s_client as the peer.
#include <reactsock/tls/options.hpp>

#include <reactsock/promise/await.hpp>
#include <reactsock/socket/connector.hpp>
#include <reactsock/socket/secure_connector.hpp>
#include <reactsock/socket/secure_server.hpp>
#include <reactsock/socket/socket_server.hpp>
#include <reactsock/socket/start_tls.hpp>
#include <reactsock/socket/tcp_connector.hpp>
#include <reactsock/socket/tcp_server.hpp>
#include <reactsock/tls/info.hpp>

#include "support/tls_peers.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

namespace rs = reactsock;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

// "Connection from tcp://127.0.0.1:<port> failed during TLS handshake: " + rest, exactly.
bool server_failure(const std::string& message, const std::string& rest) {
    static const std::regex prefix("^Connection from tcp://127\\.0\\.0\\.1:[0-9]+ failed during TLS handshake: ");
    std::smatch match;
    return std::regex_search(message, match, prefix) && message.substr(match.length(0)) == rest;
}

// "Connection from tcp://127.0.0.1:<port> failed during TLS handshake: " + anything.
bool server_failure_prefix(const std::string& message) {
    static const std::regex prefix("^Connection from tcp://127\\.0\\.0\\.1:[0-9]+ failed during TLS handshake: .+");
    return std::regex_search(message, prefix);
}

// What `openssl <args>` prints on stdout, trailing newline removed.
std::string openssl_output(const std::string& args) {
    const std::string command = testtls::openssl_path() + " " + args + " 2>/dev/null";
    FILE* pipe = ::popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::string out;
    char buffer[256];
    while (const std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
    REQUIRE(::pclose(pipe) == 0);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
}

// The DER form of a PEM certificate ("x509") or key ("pkey") from testtls::certs(), as bytes.
std::string der(const std::string& kind, const std::string& pem_path) {
    const std::string out = pem_path + "." + kind + ".der";
    testtls::run_openssl(testtls::certs().dir, kind + " -in '" + pem_path + "' -outform DER -out '" + out + "'");
    return testtls::read_file(out);
}

// A hashed CA directory under the certificates' temp dir holding `pems`
// (each as a copy plus its "<subject hash>.0" link, as c_rehash makes it).
std::string make_capath(const std::string& name, const std::vector<std::string>& pems) {
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(testtls::certs().dir) / name;
    fs::create_directories(dir);
    for (const auto& pem : pems) {
        const fs::path file = fs::path(pem).filename();
        fs::copy_file(pem, dir / file, fs::copy_options::overwrite_existing);
        const std::string hash = openssl_output("x509 -hash -noout -in '" + pem + "'");
        REQUIRE(hash.size() == 8);
        const fs::path link = dir / (hash + ".0");
        if (!fs::exists(fs::symlink_status(link))) fs::create_symlink(file, link);
    }
    return dir.string();
}

// `openssl s_client` without -quiet: it prints its report (the server's
// certificate subject, "Cipher is ...", "ALPN protocol: ...") on stdout.
// Its stdin is closed at once, so it says goodbye right after the handshake.
std::unique_ptr<testproc::Process> s_client_report(std::uint16_t port, std::vector<std::string> extra) {
    std::vector<std::string> argv{testtls::openssl_path(), "s_client", "-connect", "127.0.0.1:" + std::to_string(port)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto process = std::make_unique<testproc::Process>(argv);
    process->close_stdin();
    return process;
}

rs::TlsOptions server_options() {
    return {.local_cert = testtls::certs().server_cert, .local_pk = testtls::certs().server_key};
}

rs::TlsOptions trusting_client() { return {.cafile = testtls::certs().ca}; }

// A SecureServer on 127.0.0.1 that records what it emits.
struct Server {
    explicit Server(rs::TlsOptions options = server_options())
        : loop(std::make_shared<rs::Loop>()),
          tcp(std::make_shared<rs::TcpServer>("127.0.0.1:0", loop)),
          server(std::make_shared<rs::SecureServer>(tcp, loop, std::move(options))) {
        server->on(rs::ev::connection, [this](const std::shared_ptr<rs::Connection>& c) {
            connections.push_back(c);
            // Taken now: once closed, a connection has no TLS details any more.
            infos.push_back(rs::tls_info(*c).value());
            details.push_back(c->info());
            c->on(rs::ev::data, [this](std::string_view chunk) { received.append(chunk); });
            c->on(rs::ev::close, [this] { ++closed; });
        });
        server->on(rs::ev::error, [this](const std::system_error& e) {
            errors.push_back(e.what());
            error_codes.push_back(e.code().value());
        });
    }
    [[nodiscard]] std::uint16_t port() const { return testnet::port_of(*server->address()); }
    [[nodiscard]] std::string uri() const { return "tls://127.0.0.1:" + std::to_string(port()) + "?hostname=localhost"; }
    rs::Promise<std::shared_ptr<rs::Connection>> connect_async(rs::TlsOptions client) {
        connectors.push_back(
            std::make_shared<rs::SecureConnector>(std::make_shared<rs::TcpConnector>(loop), loop, std::move(client)));
        return connectors.back()->connect(uri());
    }
    std::shared_ptr<rs::Connection> connect(rs::TlsOptions client = trusting_client()) {
        return rs::await(connect_async(std::move(client)), loop);
    }
    // A good client is still served: connect, see the server's side, close both.
    void serves_next_client(rs::TlsOptions client = trusting_client()) {
        const std::size_t before = connections.size();
        auto conn = connect(std::move(client));
        CHECK(conn->is_secure());
        testnet::run_until(loop, [&] { return connections.size() == before + 1; });
        const int closed_before = closed;
        conn->close();
        testnet::run_until(loop, [&] { return closed == closed_before + 1; });
    }
    // Waits until the server side of the first connection has closed (the peer left).
    void until_first_closed() {
        testnet::run_until(loop, [&] { return !connections.empty() && closed >= 1; });
    }

    int closed = 0;  // declared first: outlives the connections whose listeners count
    std::string received;
    std::vector<std::string> errors;
    std::vector<int> error_codes;
    std::shared_ptr<rs::Loop> loop;
    std::shared_ptr<rs::TcpServer> tcp;
    std::shared_ptr<rs::SecureServer> server;
    std::vector<std::shared_ptr<rs::SecureConnector>> connectors;
    std::vector<std::shared_ptr<rs::Connection>> connections;
    std::vector<rs::TlsInfo> infos;          // of each connection, when it was emitted
    std::vector<nlohmann::json> details;     // its info()
};

// A SecureConnector on its own loop.
struct Client {
    explicit Client(rs::TlsOptions options = trusting_client())
        : loop(std::make_shared<rs::Loop>()),
          connector(std::make_shared<rs::TcpConnector>(loop), loop, std::move(options)) {}
    std::shared_ptr<rs::Connection> connect(const std::string& uri) { return rs::await(connector.connect(uri), loop); }
    std::string failure(const std::string& uri, int* code = nullptr) {
        return testnet::rejection_of(connector.connect(uri), loop, code);
    }
    std::shared_ptr<rs::Loop> loop;
    rs::SecureConnector connector;
};

// Checks that the test leaves no descriptor open (declare before anything that opens one).
struct NoFdLeft {
    NoFdLeft() : before(testnet::open_fds()) {}
    ~NoFdLeft() { CHECK(testnet::open_fds() == before); }
    NoFdLeft(const NoFdLeft&) = delete;
    NoFdLeft& operator=(const NoFdLeft&) = delete;
    int before;
};

}  // namespace

// ---- DER ---------------------------------------------------------------------

TEST_CASE("DER in memory: the server's certificate and key, and a client certificate") {
    const auto& certs = testtls::certs();
    const std::string server_cert = der("x509", certs.server_cert);
    const std::string server_key = der("pkey", certs.server_key);
    // What the documented detection relies on: DER starts with SEQUENCE and holds a NUL.
    REQUIRE(static_cast<unsigned char>(server_cert[0]) == 0x30);
    REQUIRE(server_cert.find('\0') != std::string::npos);
    REQUIRE(static_cast<unsigned char>(server_key[0]) == 0x30);
    REQUIRE(server_key.find('\0') != std::string::npos);
    NoFdLeft no_fd_left;

    SUBCASE("server certificate and key as DER bytes") {
        Server s(rs::TlsOptions{.local_cert = server_cert, .local_pk = server_key});
        auto conn = s.connect();
        const auto info = rs::tls_info(*conn);
        REQUIRE(info->peer_certificate.has_value());
        CHECK(info->peer_certificate->subject == "CN=localhost");
        CHECK(info->peer_certificate->issuer == "CN=reactsock test CA");
        CHECK(info->verify_result == 0);
        CHECK(s.errors.empty());
    }
    SUBCASE("DER files by path work too") {
        Server s(rs::TlsOptions{.local_cert = certs.server_cert + ".x509.der",
                                .local_pk = certs.server_key + ".pkey.der"});
        CHECK(rs::tls_info(*s.connect())->peer_certificate->subject == "CN=localhost");
    }
    SUBCASE("client certificate as DER to a verify_peer SecureServer") {
        auto options = server_options();
        options.verify_peer = true;
        options.cafile = certs.ca;
        Server s(options);
        auto client = trusting_client();
        client.local_cert = der("x509", certs.client_cert);
        client.local_pk = der("pkey", certs.client_key);
        auto conn = s.connect(client);
        testnet::run_until(s.loop, [&] { return s.connections.size() == 1; });
        const auto& info = s.infos.at(0);
        REQUIRE(info.peer_certificate.has_value());
        CHECK(info.peer_certificate->subject == "CN=reactsock client");
        CHECK(info.verify_result == 0);
        CHECK(s.errors.empty());
    }
    SUBCASE("client certificate as DER to openssl s_server -Verify") {
        testtls::SServer peer({"-Verify", "1", "-CAfile", certs.ca});
        Client client({.local_cert = der("x509", certs.client_cert),
                       .local_pk = der("pkey", certs.client_key),
                       .cafile = certs.ca});
        auto conn = client.connect(peer.uri());
        conn->write("der client\n");
        CHECK(peer.process().read_line(30) == "der client");  // s_server accepted the certificate
        conn->close();
    }
}

TEST_CASE("garbage DER: an error naming what could not be loaded") {
    const auto& certs = testtls::certs();
    const std::string garbage("\x30\x0b\x00garbage!", 11);
    const std::string server_cert = der("x509", certs.server_cert);
    NoFdLeft no_fd_left;

    SUBCASE("server certificate: ev::error per connection, the client is turned away") {
        Server s(rs::TlsOptions{.local_cert = garbage, .local_pk = der("pkey", certs.server_key)});
        int code = 0;
        const std::string rejection = testnet::rejection_of(s.connect_async(trusting_client()), s.loop, &code);
        CHECK(starts_with(rejection, "Connection to " + s.uri() + " failed during TLS handshake: "));
        testnet::run_until(s.loop, [&] { return !s.errors.empty(); });
        REQUIRE(s.errors.size() == 1);
        CHECK(server_failure_prefix(s.errors[0]));
        CHECK(contains(s.errors[0], "failed during TLS handshake: Unable to load local_cert certificate: error:"));
        CHECK(s.error_codes[0] == EPROTO);
        CHECK(s.connections.empty());
    }
    SUBCASE("server key") {
        Server s(rs::TlsOptions{.local_cert = server_cert, .local_pk = garbage});
        const int raw = testnet::raw_connect(s.port());
        testnet::run_until(s.loop, [&] { return !s.errors.empty(); });
        CHECK(contains(s.errors[0], "failed during TLS handshake: Unable to load local_cert private key: error:"));
        CHECK(testnet::read_to_eof(raw).empty());  // closed without a word
        ::close(raw);
    }
    SUBCASE("a DER key that does not belong to the certificate") {
        Server s(rs::TlsOptions{.local_cert = server_cert, .local_pk = der("pkey", certs.other_key)});
        const int raw = testnet::raw_connect(s.port());
        testnet::run_until(s.loop, [&] { return !s.errors.empty(); });
        CHECK(contains(s.errors[0], "Unable to load local_cert private key: error:"));
        CHECK(contains(s.errors[0], "key values mismatch"));
        CHECK(testnet::read_to_eof(raw).empty());
        ::close(raw);
    }
    SUBCASE("client certificate: the connector rejects before connecting") {
        Client client({.local_cert = garbage, .local_pk = der("pkey", certs.client_key), .cafile = certs.ca});
        int code = 0;
        const std::string uri = "tls://127.0.0.1:" + std::to_string(testnet::closed_port()) + "?hostname=localhost";
        const std::string message = client.failure(uri, &code);
        CHECK(starts_with(message, "Connection to " + uri + " failed: Unable to load local_cert certificate: error:"));
        CHECK(code == EPROTO);
    }
}

// ---- capath --------------------------------------------------------------------

TEST_CASE("capath: a hashed CA directory for SecureConnector and for SecureServer") {
    const auto& certs = testtls::certs();
    const std::string good = make_capath("capath-good", {certs.ca});
    const std::string wrong = make_capath("capath-wrong", {certs.rogue_cert});  // some other CA only
    NoFdLeft no_fd_left;

    SUBCASE("SecureConnector verifies s_server's certificate with it") {
        testtls::SServer peer({});
        Client client({.capath = good});
        auto conn = client.connect(peer.uri());
        const auto info = rs::tls_info(*conn);
        CHECK(info->verify_result == 0);
        CHECK(info->peer_certificate->issuer == "CN=reactsock test CA");
        conn->close();
    }
    SUBCASE("SecureConnector: a capath without the CA is an unknown CA") {
        testtls::SServer peer({});
        Client client({.capath = wrong});
        int code = 0;
        CHECK(client.failure(peer.uri(), &code) ==
              "Connection to " + peer.uri() +
                  " failed during TLS handshake: error:0A000086:SSL routines::certificate verify failed: "
                  "unable to get local issuer certificate");
        CHECK(code == EPROTO);
    }
    SUBCASE("SecureServer verifies s_client's certificate with it") {
        auto options = server_options();
        options.verify_peer = true;
        options.capath = good;
        Server s(options);
        auto client = testtls::s_client(s.port(), {"-CAfile", certs.ca, "-cert", certs.client_cert, "-key",
                                                   certs.client_key});
        client->write_stdin("with cert\n");
        testnet::run_until(s.loop, [&] { return s.received == "with cert\n"; });
        const auto& info = s.infos.at(0);
        REQUIRE(info.peer_certificate.has_value());
        CHECK(info.peer_certificate->subject == "CN=reactsock client");
        CHECK(info.verify_result == 0);
        CHECK(s.errors.empty());
        s.connections[0]->close();  // -quiet ignores EOF on stdin: close from our side
        CHECK(client->read_stdout(30).empty());
        CHECK(client->wait() != -1);
    }
    SUBCASE("SecureServer: a capath without the client's CA turns it away") {
        auto options = server_options();
        options.verify_peer = true;
        options.capath = wrong;
        Server s(options);
        // Without -CAfile s_client sends its certificate alone; with it, it
        // sends the chain up to the (self-signed) CA, which the server does not trust either.
        auto client = testtls::s_client(s.port(), {"-cert", certs.client_cert, "-key", certs.client_key});
        testnet::run_until(s.loop, [&] { return !s.errors.empty(); });
        CHECK(server_failure(s.errors[0], "error:0A000086:SSL routines::certificate verify failed: "
                                          "unable to get local issuer certificate"));
        CHECK(s.error_codes[0] == EPROTO);
        CHECK(client->wait() != 0);
        auto with_chain = testtls::s_client(s.port(), {"-CAfile", certs.ca, "-cert", certs.client_cert, "-key",
                                                       certs.client_key});
        testnet::run_until(s.loop, [&] { return s.errors.size() == 2; });
        CHECK(server_failure(s.errors[1], "error:0A000086:SSL routines::certificate verify failed: "
                                          "self-signed certificate in certificate chain"));
        CHECK(with_chain->wait() != 0);
        CHECK(s.connections.empty());
    }
}

// ---- ciphers and ciphersuites ------------------------------------------------

TEST_CASE("ciphers (TLS 1.2) and ciphersuites (TLS 1.3) negotiate exactly the chosen one") {
    NoFdLeft no_fd_left;
    // Neither is the first that OpenSSL prefers by default, so a match is our choice.
    const std::string cipher = "ECDHE-ECDSA-CHACHA20-POLY1305";
    const std::string suite = "TLS_AES_128_GCM_SHA256";

    SUBCASE("SecureServer ciphers, s_client -tls1_2") {
        auto options = server_options();
        options.ciphers = cipher;
        Server s(options);
        auto client = s_client_report(s.port(), {"-CAfile", testtls::certs().ca, "-tls1_2"});
        s.until_first_closed();
        const auto& info = s.infos.at(0);
        CHECK(info.protocol == "TLSv1.2");
        CHECK(info.cipher == cipher);
        CHECK(s.details.at(0)["tls"]["cipher"] == cipher);
        CHECK(contains(client->read_stdout(30), "New, TLSv1.2, Cipher is " + cipher + "\n"));
        CHECK(client->wait() == 0);
    }
    SUBCASE("SecureServer ciphersuites, s_client") {
        auto options = server_options();
        options.ciphersuites = suite;
        Server s(options);
        auto client = s_client_report(s.port(), {"-CAfile", testtls::certs().ca});
        s.until_first_closed();
        const auto& info = s.infos.at(0);
        CHECK(info.protocol == "TLSv1.3");
        CHECK(info.cipher == suite);
        CHECK(s.details.at(0)["tls"]["cipher"] == suite);
        CHECK(contains(client->read_stdout(30), "New, TLSv1.3, Cipher is " + suite + "\n"));
        CHECK(client->wait() == 0);
    }
    SUBCASE("SecureConnector ciphers against s_server") {
        testtls::SServer peer({});
        Client client({.max_version = "TLSv1.2", .ciphers = cipher, .cafile = testtls::certs().ca});
        auto conn = client.connect(peer.uri());
        CHECK(rs::tls_info(*conn)->protocol == "TLSv1.2");
        CHECK(rs::tls_info(*conn)->cipher == cipher);
        CHECK(conn->info()["tls"]["cipher"] == cipher);
        conn->close();
    }
    SUBCASE("SecureConnector ciphersuites against s_server") {
        testtls::SServer peer({});
        Client client({.ciphersuites = "TLS_CHACHA20_POLY1305_SHA256", .cafile = testtls::certs().ca});
        auto conn = client.connect(peer.uri());
        CHECK(rs::tls_info(*conn)->protocol == "TLSv1.3");
        CHECK(rs::tls_info(*conn)->cipher == "TLS_CHACHA20_POLY1305_SHA256");
        conn->close();
    }
}

TEST_CASE("no cipher in common: a handshake failure on both sides") {
    NoFdLeft no_fd_left;
    SUBCASE("TLS 1.3: SecureConnector against s_server") {
        testtls::SServer peer({"-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"});
        Client client({.ciphersuites = "TLS_AES_128_GCM_SHA256", .cafile = testtls::certs().ca});
        int code = 0;
        CHECK(client.failure(peer.uri(), &code) ==
              "Connection to " + peer.uri() +
                  " failed during TLS handshake: error:0A000410:SSL routines::sslv3 alert handshake failure");
        CHECK(code == EPROTO);
    }
    SUBCASE("TLS 1.2: s_client against SecureServer, which then serves the next client") {
        auto options = server_options();
        options.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
        Server s(options);
        auto client = s_client_report(s.port(), {"-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384"});
        testnet::run_until(s.loop, [&] { return !s.errors.empty(); });
        CHECK(server_failure(s.errors[0], "error:0A0000C1:SSL routines::no shared cipher"));
        CHECK(s.error_codes[0] == EPROTO);
        CHECK(client->wait() != 0);
        s.serves_next_client();
        CHECK(s.errors.size() == 1);
    }
    SUBCASE("TLS 1.3: SecureConnector against SecureServer, both report it") {
        auto options = server_options();
        options.ciphersuites = "TLS_AES_256_GCM_SHA384";
        Server s(options);
        auto client = trusting_client();
        client.ciphersuites = "TLS_AES_128_GCM_SHA256";
        int code = 0;
        CHECK(testnet::rejection_of(s.connect_async(client), s.loop, &code) ==
              "Connection to " + s.uri() +
                  " failed during TLS handshake: error:0A000410:SSL routines::sslv3 alert handshake failure");
        CHECK(code == EPROTO);
        testnet::run_until(s.loop, [&] { return !s.errors.empty(); });
        CHECK(server_failure(s.errors[0], "error:0A0000C1:SSL routines::no shared cipher"));
        s.serves_next_client();
    }
}

TEST_CASE("an invalid cipher string is std::invalid_argument at construction") {
    auto loop = std::make_shared<rs::Loop>();
    auto tcp = std::make_shared<rs::TcpServer>("127.0.0.1:0", loop);
    auto with = [](rs::TlsOptions options, auto change) {
        change(options);
        return options;
    };
    CHECK_THROWS_WITH_AS(
        rs::SecureServer(tcp, loop, with(server_options(), [](auto& o) { o.ciphers = "NOT-A-CIPHER"; })),
        "TLS option \"ciphers\" selects no cipher: \"NOT-A-CIPHER\" (error:0A0000B9:SSL routines::no cipher match)",
        std::invalid_argument);
    CHECK_THROWS_WITH_AS(
        rs::SecureConnector(std::make_shared<rs::TcpConnector>(loop), loop, rs::TlsOptions{.ciphers = "NOT-A-CIPHER"}),
        "TLS option \"ciphers\" selects no cipher: \"NOT-A-CIPHER\" (error:0A0000B9:SSL routines::no cipher match)",
        std::invalid_argument);
    // A TLS 1.3 name in "ciphers": the message says where it belongs.
    CHECK_THROWS_WITH_AS(
        rs::SecureConnector(std::make_shared<rs::TcpConnector>(loop), loop,
                            rs::TlsOptions{.ciphers = "TLS_AES_128_GCM_SHA256"}),
        doctest::Contains("TLS 1.3 suites (TLS_...) belong in \"ciphersuites\""), std::invalid_argument);
    CHECK_THROWS_WITH_AS(
        rs::SecureServer(tcp, loop, with(server_options(), [](auto& o) { o.ciphersuites = "TLS_BOGUS"; })),
        "TLS option \"ciphersuites\" selects no cipher: \"TLS_BOGUS\" (error:0A0000B9:SSL routines::no cipher match)",
        std::invalid_argument);
    // From JSON, and through SocketServer and Connector, which build the secure layers at once.
    CHECK_THROWS_AS(rs::SecureConnector(std::make_shared<rs::TcpConnector>(loop), loop,
                                        nlohmann::json{{"ciphers", "NOT-A-CIPHER"}}),
                    std::invalid_argument);
    {
        NoFdLeft no_fd_left;  // the listening socket SocketServer opened first is closed again
        const nlohmann::json context = {{"tls",
                                         {{"local_cert", testtls::certs().server_cert},
                                          {"local_pk", testtls::certs().server_key},
                                          {"ciphersuites", "TLS_BOGUS"}}}};
        CHECK_THROWS_WITH_AS(rs::SocketServer("tls://127.0.0.1:0", context, loop),
                             doctest::Contains("TLS option \"ciphersuites\" selects no cipher"),
                             std::invalid_argument);
        CHECK_THROWS_WITH_AS(rs::Connector(nlohmann::json{{"tls", {{"ciphers", "NOT-A-CIPHER"}}}}, loop),
                             doctest::Contains("TLS option \"ciphers\" selects no cipher"), std::invalid_argument);
    }
    // A list with at least one known name is fine (OpenSSL skips the others).
    CHECK_NOTHROW(rs::SecureConnector(std::make_shared<rs::TcpConnector>(loop), loop,
                                      rs::TlsOptions{.ciphers = "NOT-A-CIPHER:ECDHE-ECDSA-AES128-GCM-SHA256",
                                                     .ciphersuites = "TLS_BOGUS:TLS_AES_128_GCM_SHA256"}));
    // An empty ciphersuites turns TLS 1.3 off; it is not an error.
    CHECK_NOTHROW(rs::SecureConnector(std::make_shared<rs::TcpConnector>(loop), loop,
                                      rs::TlsOptions{.ciphersuites = ""}));
}

TEST_CASE("start_tls rejects an invalid cipher string with std::invalid_argument, the connection stays open") {
    auto loop = std::make_shared<rs::Loop>();
    auto server = std::make_shared<rs::TcpServer>("127.0.0.1:0", loop);
    std::shared_ptr<rs::Connection> accepted;
    server->on(rs::ev::connection, [&](const std::shared_ptr<rs::Connection>& c) { accepted = c; });
    rs::TcpConnector connector(loop);
    auto conn = rs::await(connector.connect(server->address()->substr(6)), loop);
    testnet::run_until(loop, [&] { return accepted != nullptr; });
    const std::string message =
        testnet::rejection_of(rs::start_tls_client(conn, {.ciphersuites = "TLS_BOGUS"}, "localhost"), loop);
    CHECK(message ==
          "TLS option \"ciphersuites\" selects no cipher: \"TLS_BOGUS\" (error:0A0000B9:SSL routines::no cipher match)");
    CHECK(conn->is_writable());
    CHECK_FALSE(conn->is_secure());
    conn->close();
    accepted->close();
    server->close();
}

// ---- protocol versions --------------------------------------------------------

TEST_CASE("protocol versions that do not overlap: an error on both sides, the server goes on") {
    NoFdLeft no_fd_left;
    SUBCASE("server min TLSv1.3, SecureConnector max TLSv1.2") {
        auto options = server_options();
        options.min_version = "TLSv1.3";
        Server s(options);
        auto client = trusting_client();
        client.max_version = "TLSv1.2";
        int code = 0;
        const std::string rejection = testnet::rejection_of(s.connect_async(client), s.loop, &code);
        CHECK(rejection == "Connection to " + s.uri() +
                               " failed during TLS handshake: error:0A00042E:SSL routines::tlsv1 alert protocol version");
        CHECK(code == EPROTO);
        testnet::run_until(s.loop, [&] { return !s.errors.empty(); });
        CHECK(server_failure(s.errors[0], "error:0A000102:SSL routines::unsupported protocol"));
        CHECK(s.error_codes[0] == EPROTO);
        s.serves_next_client();
        CHECK(s.errors.size() == 1);
    }
    SUBCASE("server max TLSv1.2, SecureConnector min TLSv1.3") {
        auto options = server_options();
        options.max_version = "TLSv1.2";
        Server s(options);
        auto client = trusting_client();
        client.min_version = "TLSv1.3";
        const std::string rejection = testnet::rejection_of(s.connect_async(client), s.loop);
        CHECK(starts_with(rejection, "Connection to " + s.uri() + " failed during TLS handshake: error:"));
        CHECK(contains(rejection, "protocol version"));
        testnet::run_until(s.loop, [&] { return !s.errors.empty(); });
        CHECK(server_failure(s.errors[0], "error:0A000102:SSL routines::unsupported protocol"));
        s.serves_next_client();
    }
    SUBCASE("s_client -tls1_2 against a TLSv1.3-only SecureServer") {
        auto options = server_options();
        options.min_version = "TLSv1.3";
        Server s(options);
        auto client = s_client_report(s.port(), {"-CAfile", testtls::certs().ca, "-tls1_2"});
        testnet::run_until(s.loop, [&] { return !s.errors.empty(); });
        CHECK(server_failure(s.errors[0], "error:0A000102:SSL routines::unsupported protocol"));
        CHECK(client->wait() != 0);
        CHECK(contains(client->read_stderr(30), "alert protocol version"));
        // The next s_client, with TLS 1.3, is served.
        auto good = s_client_report(s.port(), {"-CAfile", testtls::certs().ca});
        s.until_first_closed();
        CHECK(s.infos.at(0).protocol == "TLSv1.3");
        CHECK(contains(good->read_stdout(30), "New, TLSv1.3, Cipher is "));
        CHECK(good->wait() == 0);
        CHECK(s.errors.size() == 1);
    }
    SUBCASE("SecureConnector max TLSv1.2 against s_server -tls1_3") {
        testtls::SServer peer({"-tls1_3"});
        Client client({.max_version = "TLSv1.2", .cafile = testtls::certs().ca});
        int code = 0;
        CHECK(client.failure(peer.uri(), &code) ==
              "Connection to " + peer.uri() +
                  " failed during TLS handshake: error:0A00042E:SSL routines::tlsv1 alert protocol version");
        CHECK(code == EPROTO);
        Client good;
        auto conn = good.connect(peer.uri());  // s_server goes on too
        CHECK(rs::tls_info(*conn)->protocol == "TLSv1.3");
        conn->close();
    }
}

TEST_CASE("invalid versions are std::invalid_argument at construction") {
    auto loop = std::make_shared<rs::Loop>();
    auto tcp = std::make_shared<rs::TcpServer>("127.0.0.1:0", loop);
    auto server_with = [&](auto change) {
        auto options = server_options();
        change(options);
        return rs::SecureServer(tcp, loop, options);
    };
    auto connector_with = [&](rs::TlsOptions options) {
        return rs::SecureConnector(std::make_shared<rs::TcpConnector>(loop), loop, std::move(options));
    };
    const char* expected =
        "TLS option \"min_version\" must be one of \"TLSv1\", \"TLSv1.1\", \"TLSv1.2\", \"TLSv1.3\", got \"TLSv9\"";
    CHECK_THROWS_WITH_AS(server_with([](auto& o) { o.min_version = "TLSv9"; }), expected, std::invalid_argument);
    CHECK_THROWS_WITH_AS(connector_with({.min_version = "TLSv9"}), expected, std::invalid_argument);
    CHECK_THROWS_WITH_AS(connector_with({.max_version = "SSLv3"}),
                         doctest::Contains("TLS option \"max_version\" must be one of"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(connector_with({.max_version = ""}), doctest::Contains("got \"\""), std::invalid_argument);
    // A range with nothing in it can never work either.
    CHECK_THROWS_WITH_AS(server_with([](auto& o) {
                             o.min_version = "TLSv1.3";
                             o.max_version = "TLSv1.2";
                         }),
                         "TLS option \"min_version\" (\"TLSv1.3\") is newer than \"max_version\" (\"TLSv1.2\")",
                         std::invalid_argument);
    CHECK_THROWS_AS(connector_with({.min_version = "1.3", .max_version = "1.2"}), std::invalid_argument);
    CHECK_NOTHROW(connector_with({.min_version = "TLSv1.3", .max_version = "TLSv1.3"}));
    CHECK_THROWS_AS(rs::SecureConnector(std::make_shared<rs::TcpConnector>(loop), loop,
                                        nlohmann::json{{"min_version", "TLSv9"}}),
                    std::invalid_argument);
}

// ---- server side with openssl s_client -----------------------------------------

TEST_CASE("SNI with s_client: -servername picks the certificate") {
    const auto& certs = testtls::certs();
    auto options = server_options();
    options.sni_server_certs["other.example"] = {certs.other_cert, certs.other_key};
    NoFdLeft no_fd_left;
    Server s(options);
    struct Case {
        std::vector<std::string> args;
        std::string subject;      // as s_client prints it
        std::optional<std::string> server_name;  // as the server saw it
    };
    const std::vector<Case> cases{
        {{"-servername", "other.example"}, "subject=CN = other.example", "other.example"},
        {{"-servername", "localhost"}, "subject=CN = localhost", "localhost"},
        {{"-servername", "unknown.example"}, "subject=CN = localhost", "unknown.example"},  // the default
        {{"-noservername"}, "subject=CN = localhost", std::nullopt},
    };
    for (const auto& c : cases) {
        CAPTURE(c.args[0]);
        CAPTURE(c.subject);
        s.connections.clear();
        s.infos.clear();
        s.closed = 0;
        auto args = c.args;
        args.insert(args.end(), {"-CAfile", certs.ca});
        auto client = s_client_report(s.port(), args);
        s.until_first_closed();
        const std::string report = client->read_stdout(30);
        CHECK(contains(report, "\n" + c.subject + "\n"));
        CHECK(contains(report, "Verify return code: 0 (ok)"));
        CHECK(client->wait() == 0);
        const auto& info = s.infos.at(0);
        CHECK(info.server_name == c.server_name);
    }
    s.connections.clear();
    CHECK(s.errors.empty());
}

TEST_CASE("ALPN with s_client: the server's preference among the client's offers") {
    auto options = server_options();
    options.alpn_protocols = {"h2", "http/1.1"};
    NoFdLeft no_fd_left;
    Server s(options);
    SUBCASE("overlap") {
        auto client = s_client_report(s.port(), {"-CAfile", testtls::certs().ca, "-alpn", "http/1.1,h2"});
        s.until_first_closed();
        CHECK(contains(client->read_stdout(30), "\nALPN protocol: h2\n"));
        CHECK(client->wait() == 0);
        CHECK(s.infos.at(0).alpn_protocol == "h2");
        CHECK(s.details.at(0)["tls"]["alpn_protocol"] == "h2");
    }
    SUBCASE("the client's second choice when the first is unknown to the server") {
        auto client = s_client_report(s.port(), {"-CAfile", testtls::certs().ca, "-alpn", "spdy/3,http/1.1"});
        s.until_first_closed();
        CHECK(contains(client->read_stdout(30), "\nALPN protocol: http/1.1\n"));
        CHECK(client->wait() == 0);
        CHECK(s.infos.at(0).alpn_protocol == "http/1.1");
    }
    SUBCASE("no overlap: no ALPN, not a failure") {
        auto client = s_client_report(s.port(), {"-CAfile", testtls::certs().ca, "-alpn", "spdy/3"});
        s.until_first_closed();
        CHECK(contains(client->read_stdout(30), "\nNo ALPN negotiated\n"));
        CHECK(client->wait() == 0);
        CHECK_FALSE(s.infos.at(0).alpn_protocol.has_value());
        CHECK(s.details.at(0)["tls"]["alpn_protocol"].is_null());
    }
    s.connections.clear();
    CHECK(s.errors.empty());
}

TEST_CASE("client certificates from s_client: given and accepted, missing and turned away") {
    const auto& certs = testtls::certs();
    auto options = server_options();
    options.verify_peer = true;
    options.cafile = certs.ca;
    NoFdLeft no_fd_left;
    Server s(options);

    SUBCASE("with -cert/-key") {
        auto client = testtls::s_client(s.port(), {"-CAfile", certs.ca, "-cert", certs.client_cert, "-key",
                                                   certs.client_key});
        client->write_stdin("hello with cert\n");
        testnet::run_until(s.loop, [&] { return s.received == "hello with cert\n"; });
        const auto& info = s.infos.at(0);
        REQUIRE(info.peer_certificate.has_value());
        CHECK(info.peer_certificate->subject == "CN=reactsock client");
        CHECK(info.peer_certificate->issuer == "CN=reactsock test CA");
        CHECK(info.verify_result == 0);
        CHECK(s.details.at(0)["tls"]["peer_certificate"]["subject"] == "CN=reactsock client");
        s.connections[0]->end("bye\n");
        CHECK(client->read_stdout(30) == "bye\n");
        CHECK(client->wait() == 0);
    }
    SUBCASE("without a certificate, TLS 1.3") {
        auto client = testtls::s_client(s.port(), {"-CAfile", certs.ca});
        testnet::run_until(s.loop, [&] { return !s.errors.empty(); });
        CHECK(server_failure(s.errors[0], "error:0A0000C7:SSL routines::peer did not return a certificate"));
        CHECK(s.error_codes[0] == EPROTO);
        CHECK(contains(client->read_stderr(30), "alert certificate required"));  // the server's alert
        CHECK(client->wait() != 0);
    }
    SUBCASE("without a certificate, TLS 1.2") {
        auto client = s_client_report(s.port(), {"-CAfile", certs.ca, "-tls1_2"});
        testnet::run_until(s.loop, [&] { return !s.errors.empty(); });
        CHECK(server_failure(s.errors[0], "error:0A0000C7:SSL routines::peer did not return a certificate"));
        CHECK(client->wait() != 0);
    }
    // Whatever happened before, a client with a certificate is served.
    auto with_cert = trusting_client();
    with_cert.local_cert = certs.client_cert;
    with_cert.local_pk = certs.client_key;
    s.serves_next_client(with_cert);
}
