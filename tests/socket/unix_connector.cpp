#include <reactsock/socket/unix_connector.hpp>

#include <reactsock/promise/await.hpp>
#include <reactsock/socket/unix_server.hpp>

#include "support/net.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace rs = reactsock;

TEST_CASE("UnixConnector errors: no socket file is ENOENT, another scheme is invalid_argument") {
    auto loop = std::make_shared<rs::Loop>();
    rs::UnixConnector connector(loop);
    const std::string missing = testnet::temp_socket_path("missing");
    try {
        rs::await(connector.connect("unix://" + missing), loop);
        FAIL("must fail");
    } catch (const std::system_error& e) {
        CHECK(e.code() == std::errc::no_such_file_or_directory);
        CHECK(std::string(e.what()) == "Unable to connect to unix domain socket \"unix://" + missing +
                                           "\": No such file or directory (ENOENT)");
    }
    bool invalid = false;
    connector.connect("tcp://127.0.0.1:80").otherwise([&](const std::invalid_argument& e) {
        invalid = std::string(e.what()) == "Given URI \"tcp://127.0.0.1:80\" is invalid (EINVAL)";
        return std::shared_ptr<rs::Connection>();
    });
    CHECK(invalid);
}

TEST_CASE("UnixConnector settles before connect() returns: unix://, a plain path, an abstract name") {
    auto loop = std::make_shared<rs::Loop>();
    const std::string path = testnet::temp_socket_path("settled");
    const std::string abstract = "@reactsock-unix-connector-" + std::to_string(::getpid());
    rs::UnixServer server(path, loop);
    rs::UnixServer abstract_server("unix://" + abstract, loop);
    rs::UnixConnector connector(loop);
    // The loop does not run between connect() and the checks: the kernel
    // completes a Unix connect into the listen queue at once.
    const std::vector<std::pair<std::string, std::string>> uris_and_remotes{
        {"unix://" + path, "unix://" + path}, {path, "unix://" + path}, {"unix://" + abstract, "unix://" + abstract}};
    for (const auto& [uri, remote] : uris_and_remotes) {
        CAPTURE(uri);
        auto promise = connector.connect(uri);
        REQUIRE(promise.is_fulfilled());
        auto conn = rs::await(promise, loop);
        CHECK(conn->remote_address() == remote);
        conn->close();
    }
    auto missing = connector.connect("unix://" + testnet::temp_socket_path("absent"));
    CHECK(missing.is_rejected());
    CHECK(testnet::rejection_of(missing, loop).find("No such file or directory (ENOENT)") != std::string::npos);
}
