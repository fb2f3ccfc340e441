#include <reactsock/socket/unix_server.hpp>

#include <reactsock/promise/await.hpp>
#include <reactsock/socket/unix_connector.hpp>

#include "support/net.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <fstream>
#include <string>

namespace rs = reactsock;

namespace {
bool exists(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0;
}
}  // namespace

TEST_CASE("UnixServer and UnixConnector round trip; addresses") {
    auto loop = std::make_shared<rs::Loop>();
    const std::string path = testnet::temp_socket_path("rt");
    auto server = std::make_shared<rs::UnixServer>("unix://" + path, loop);
    CHECK(server->address() == "unix://" + path);
    std::optional<std::string> server_side_remote = "unset";
    std::optional<std::string> server_side_local;
    server->on(rs::ev::connection, [&](const std::shared_ptr<rs::Connection>& conn) {
        server_side_remote = conn->remote_address();
        server_side_local = conn->local_address();
        conn->pipe(conn);
    });
    rs::UnixConnector connector(loop);
    auto conn = rs::await(connector.connect("unix://" + path), loop);
    CHECK(conn->remote_address() == "unix://" + path);
    std::string echoed;
    conn->on(rs::ev::data, [&](std::string_view chunk) { echoed.append(chunk); });
    conn->write("over a unix socket");
    testnet::run_until(loop, [&] { return echoed == "over a unix socket"; });
    CHECK_FALSE(server_side_remote.has_value());  // unnamed client socket
    CHECK(server_side_local == "unix://" + path);
    // A plain path works too.
    auto plain = rs::await(connector.connect(path), loop);
    CHECK(plain->remote_address() == "unix://" + path);
    conn->close();
    plain->close();
    server->close();
    CHECK_FALSE(exists(path));  // our socket file is removed on close
}

TEST_CASE("UnixServer never unlinks an existing file: EADDRINUSE") {
    auto loop = std::make_shared<rs::Loop>();
    const std::string path = testnet::temp_socket_path("stale");
    // A stale socket file, as left by a crashed process.
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strcpy(address.sun_path, path.c_str());
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    ::close(fd);
    try {
        rs::UnixServer server("unix://" + path, loop);
        FAIL("must not take over an existing file");
    } catch (const std::system_error& e) {
        CHECK(e.code() == std::errc::address_in_use);
        CHECK(std::string(e.what()) ==
              "Failed to listen on Unix domain socket \"unix://" + path + "\": Address already in use (EADDRINUSE)");
    }
    CHECK(exists(path));
    ::unlink(path.c_str());
}

TEST_CASE("UnixServer with a Linux abstract name") {
    auto loop = std::make_shared<rs::Loop>();
    const std::string name = "@reactsock-test-" + std::to_string(::getpid());
    auto server = std::make_shared<rs::UnixServer>("unix://" + name, loop);
    CHECK(server->address() == "unix://" + name);
    bool accepted = false;
    server->on(rs::ev::connection, [&](const std::shared_ptr<rs::Connection>& c) {
        accepted = true;
        c->close();
    });
    rs::UnixConnector connector(loop);
    auto conn = rs::await(connector.connect("unix://" + name), loop);
    CHECK(conn->remote_address() == "unix://" + name);
    testnet::run_until(loop, [&] { return accepted; });
}

TEST_CASE("UnixServer errors: another scheme, a mode that is not an integer") {
    auto loop = std::make_shared<rs::Loop>();
    CHECK_THROWS_WITH_AS(rs::UnixServer("tcp://127.0.0.1:0", loop), "Given URI \"tcp://127.0.0.1:0\" is invalid (EINVAL)",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(rs::UnixServer("unix:///tmp/x.sock", loop, nlohmann::json{{"mode", "rw"}}),
                         "UnixServer option \"mode\" must be an integer", std::invalid_argument);
}

TEST_CASE("UnixServer mode option sets the socket file's permissions") {
    auto loop = std::make_shared<rs::Loop>();
    const std::string path = testnet::temp_socket_path("mode");
    rs::UnixServer server(path, loop, rs::UnixServer::Options{.mode = 0600});
    struct stat info {};
    REQUIRE(::stat(path.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);
}
