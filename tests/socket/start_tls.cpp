#include <reactsock/socket/start_tls.hpp>

#include <reactsock/promise/await.hpp>
#include <reactsock/socket/tcp_connector.hpp>
#include <reactsock/socket/tcp_server.hpp>
#include <reactsock/tls/certificate.hpp>

#include "support/foreign.hpp"
#include "support/net.hpp"

#include <doctest/doctest.h>

#include <string>

namespace rs = reactsock;

TEST_CASE("STARTTLS: a plaintext conversation upgraded in place on both sides") {
    auto loop = std::make_shared<rs::Loop>();
    const auto cert = rs::tls::self_signed_certificate("localhost");
    const rs::TlsOptions server_tls{.local_cert = cert.certificate_pem, .local_pk = cert.private_key_pem};
    auto server = std::make_shared<rs::TcpServer>("127.0.0.1:0", loop);
    std::shared_ptr<rs::Connection> secured_server_side;
    std::string server_heard;
    server->on(rs::ev::connection, [&](const std::shared_ptr<rs::Connection>& conn) {
        conn->on(rs::ev::data, [&, conn](std::string_view chunk) {
            if (conn->is_secure()) {
                server_heard.append(chunk);
                conn->write("secret reply");
                return;
            }
            CHECK(chunk == "STARTTLS\r\n");
            conn->write("220 go ahead\r\n");  // in clear, before the handshake
            rs::start_tls_server(conn, server_tls).then([&](const std::shared_ptr<rs::Connection>& secure) {
                secured_server_side = secure;
            });
        });
    });
    rs::TcpConnector connector(loop);
    auto conn = rs::await(connector.connect(server->address()->substr(6)), loop);
    std::string client_heard;
    bool upgraded = false;
    conn->on(rs::ev::data, [&](std::string_view chunk) {
        client_heard.append(chunk);
        if (!upgraded && client_heard == "220 go ahead\r\n") {
            upgraded = true;
            client_heard.clear();
            rs::start_tls_client(conn, {.cafile = cert.certificate_pem}, "localhost")
                .then([](const std::shared_ptr<rs::Connection>& secure) { secure->write("secret request"); });
        }
    });
    conn->write("STARTTLS\r\n");
    testnet::run_until(loop, [&] { return client_heard == "secret reply"; });
    CHECK(server_heard == "secret request");
    CHECK(conn->is_secure());
    CHECK(conn->remote_address()->rfind("tls://", 0) == 0);
    REQUIRE(secured_server_side);
    CHECK(secured_server_side->is_secure());
    CHECK(rs::tls_info(*conn)->protocol == rs::tls_info(*secured_server_side)->protocol);
}

TEST_CASE("STARTTLS: handshake bytes that came with the command are handed back, not lost") {
    auto loop = std::make_shared<rs::Loop>();
    const auto cert = rs::tls::self_signed_certificate("localhost");
    auto server = std::make_shared<rs::TcpServer>("127.0.0.1:0", loop);
    std::string server_heard;
    server->on(rs::ev::connection, [&](const std::shared_ptr<rs::Connection>& conn) {
        auto buffer = std::make_shared<std::string>();
        conn->on(rs::ev::data, [&, conn, buffer](std::string_view chunk) {
            if (conn->is_secure()) {
                server_heard.append(chunk);
                return;
            }
            buffer->append(chunk);
            const auto end = buffer->find("\r\n");
            if (end == std::string::npos) return;
            // Everything after the command is already TLS.
            rs::start_tls_server(conn, {.local_cert = cert.certificate_pem, .local_pk = cert.private_key_pem},
                                 std::string_view(*buffer).substr(end + 2));
        });
    });
    rs::TcpConnector connector(loop);
    auto conn = rs::await(connector.connect(server->address()->substr(6)), loop);
    conn->write("STARTTLS\r\n");
    // The client does not wait for an answer: its ClientHello follows at once,
    // and also what it writes while handshaking.
    auto secure = rs::start_tls_client(conn, {.cafile = cert.certificate_pem}, "localhost");
    conn->write("written during the handshake");
    CHECK(conn->buffered_amount() > 0);
    rs::await(secure, loop);
    testnet::run_until(loop, [&] { return server_heard == "written during the handshake"; });
}

TEST_CASE("start_tls on a closed or already secure connection rejects") {
    auto loop = std::make_shared<rs::Loop>();
    auto server = std::make_shared<rs::TcpServer>("127.0.0.1:0", loop);
    rs::TcpConnector connector(loop);
    auto conn = rs::await(connector.connect(server->address()->substr(6)), loop);
    conn->close();
    CHECK_THROWS_WITH(rs::await(rs::start_tls_client(conn, {}, "localhost"), loop), "Connection is closed (EBADF)");
}

TEST_CASE("start_tls on a Connection reactsock did not make is Error(EINVAL) and closes it") {
    auto loop = std::make_shared<rs::Loop>();
    auto foreign = std::make_shared<testnet::ForeignConnection>();
    bool closed = false;
    foreign->on(rs::ev::close, [&] { closed = true; });
    CHECK_THROWS_WITH_AS(rs::await(rs::start_tls_client(foreign, {}, "localhost"), loop),
                         "Base connection does not use internal Connection class exposing stream resource",
                         rs::Error);
    CHECK(closed);
    auto other = std::make_shared<testnet::ForeignConnection>();
    try {
        rs::await(rs::start_tls_server(other, {}), loop);
        FAIL("start_tls_server accepted a foreign connection");
    } catch (const rs::Error& e) {
        CHECK(e.code() == std::errc::invalid_argument);
    }
    CHECK_FALSE(other->is_readable());
}

TEST_CASE("Connection::tls_info() is the free rs::tls_info(); nullopt before the upgrade") {
    auto loop = std::make_shared<rs::Loop>();
    const auto cert = rs::tls::self_signed_certificate("localhost");
    auto server = std::make_shared<rs::TcpServer>("127.0.0.1:0", loop);
    std::shared_ptr<rs::Connection> server_side;
    server->on(rs::ev::connection, [&](const std::shared_ptr<rs::Connection>& conn) {
        CHECK_FALSE(conn->tls_info());
        rs::start_tls_server(conn, {.local_cert = cert.certificate_pem, .local_pk = cert.private_key_pem})
            .then([&](const std::shared_ptr<rs::Connection>& secure) { server_side = secure; });
    });
    rs::TcpConnector connector(loop);
    auto conn = rs::await(connector.connect(server->address()->substr(6)), loop);
    CHECK_FALSE(conn->tls_info());
    CHECK_FALSE(rs::tls_info(*conn));
    rs::await(rs::start_tls_client(conn, {.cafile = cert.certificate_pem}, "localhost"), loop);
    testnet::run_until(loop, [&] { return server_side != nullptr; });
    const auto info = conn->tls_info();
    REQUIRE(info);
    CHECK(info->protocol == rs::tls_info(*conn)->protocol);
    CHECK(info->cipher == rs::tls_info(*conn)->cipher);
    CHECK(info->protocol == server_side->tls_info()->protocol);
    conn->close();
    server_side->close();
    server->close();
}
