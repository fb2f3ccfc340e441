#include <reactsock/socket/unix_connector.hpp>

#include <reactsock/promise/await.hpp>

#include "support/net.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <system_error>

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
