// The example programs over TLS: http-client https:// against openssl s_server
// -www, netcat tls:// against a SecureServer in this process, echo-server
// tls:// driven by openssl s_client.
#include <reactsock/socket/secure_server.hpp>
#include <reactsock/socket/tcp_server.hpp>
#include <reactsock/tls/certificate.hpp>

#include "support/net.hpp"
#include "support/process.hpp"
#include "support/serve.hpp"
#include "support/tls_certs.hpp"
#include "support/tls_peers.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <string>
#include <thread>

namespace rs = reactsock;

TEST_CASE("http-client fetches https://localhost from openssl s_server -www, verifying it") {
    testtls::SServer peer({"-www"});
    const std::string url = "https://localhost:" + std::to_string(peer.port()) + "/";
    const std::string options = nlohmann::json{{"tls", {{"cafile", testtls::certs().ca}}}}.dump();
    testproc::Process client({HTTP_CLIENT_PATH, url, "--options", options});
    const std::string output = client.read_stdout();
    CHECK(client.wait() == 0);
    CHECK(output.rfind("HTTP/1.0 200 ok\r\n", 0) == 0);
    // The page lists s_server's command line: it came from that server.
    CHECK(output.find("s_server -accept 127.0.0.1:" + std::to_string(peer.port())) != std::string::npos);

    // Without the test CA the system store does not know the server: refused.
    testproc::Process strict({HTTP_CLIENT_PATH, url});
    const std::string error = strict.read_stderr();
    CHECK(strict.wait() == 1);
    CHECK(error.rfind("Connection to tls://localhost:" + std::to_string(peer.port()) + " failed during TLS handshake: ", 0) == 0);
}

TEST_CASE("netcat tls:// through the Connector facade to a SecureServer echo") {
    auto loop = std::make_shared<rs::Loop>();
    const auto cert = rs::tls::self_signed_certificate("localhost");
    rs::TlsOptions server_options;
    server_options.local_cert = cert.certificate_pem;
    server_options.local_pk = cert.private_key_pem;
    auto server = std::make_shared<rs::SecureServer>(std::make_shared<rs::TcpServer>("127.0.0.1:0", loop), loop,
                                                     server_options);
    server->on(rs::ev::connection, [](const std::shared_ptr<rs::Connection>& conn) { conn->pipe(conn); });
    const auto port = std::to_string(testnet::port_of(*server->address()));
    const std::string options = nlohmann::json{{"tls", {{"cafile", cert.certificate_pem}}}}.dump();
    testproc::Process netcat({NETCAT_PATH, "tls://localhost:" + port, "--options", options});
    netcat.write_stdin("hello over tls\n");
    netcat.close_stdin();  // EOF: close_notify and half-close; the echo still comes back
    const auto [output, status] = testproc::serve_until_exit(loop, netcat);
    CHECK(output == "hello over tls\n");
    CHECK(status == 0);
    server->close();
}

TEST_CASE("echo-server tls:// with --options echoes to openssl s_client and exits 0 on SIGTERM") {
    const auto& certs = testtls::certs();
    const std::string options =
        R"({"tls": {"local_cert": ")" + certs.server_cert + R"(", "local_pk": ")" + certs.server_key + R"("}})";
    testproc::Process server({ECHO_SERVER_PATH, "tls://127.0.0.1:0", "--options", options});
    const std::string banner = server.read_line(30);
    REQUIRE(banner.rfind("Listening on tls://127.0.0.1:", 0) == 0);
    const auto port = testnet::port_of(banner);
    auto client = testtls::s_client(port, {"-CAfile", certs.ca, "-verify_return_error"});
    client->write_stdin("hello tls\n");
    CHECK(client->read_line(30) == "hello tls");
    client.reset();
    server.signal(SIGTERM);
    CHECK(server.wait(30) == 0);
}
