// The Connector facade's tls:// chain against openssl s_server.
#include <reactsock/socket/connector.hpp>

#include <reactsock/promise/await.hpp>

#include "peers.hpp"
#include "support/net.hpp"
#include "support/tls_certs.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <string>

namespace rs = reactsock;

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
