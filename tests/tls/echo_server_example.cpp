// examples/echo-server.cpp serving tls:// (SocketServer → SecureServer), driven by openssl s_client.
#include "support/tls_peers.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <string>

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
