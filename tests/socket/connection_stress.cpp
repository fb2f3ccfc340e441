// Connection under load: a thousand concurrent TCP clients through one
// TcpServer, each echoing 1 MB. In the default suite, labelled `stress`
// (ctest -LE stress leaves it out, ctest -L stress runs it alone).
#include <reactsock/socket/connection.hpp>

#include <reactsock/socket/tcp_connector.hpp>
#include <reactsock/socket/tcp_server.hpp>

#include "support/echo_server.hpp"
#include "support/net.hpp"

#include <doctest/doctest.h>

#include <sys/resource.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>

namespace rs = reactsock;

namespace {

constexpr int kClients = 1000;
constexpr std::size_t kBytes = 1 << 20;

using testnet::EchoServer;

}  // namespace

TEST_CASE("a thousand concurrent clients each echo 1 MB intact") {
    // Each connection needs two descriptors here (client and server side).
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    if (limit.rlim_cur < 2200) {
        limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 4096);
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }
    auto loop = std::make_shared<rs::Loop>();
    // Every client connects at once. With ReactPHP's default backlog (511) the
    // kernel holds the rest of the handshakes while this loop echoes; under a
    // loaded machine (ASan, a parallel ctest) that took over a minute, the
    // kernel dropped them after its SYN-ACK retries and those clients were reset.
    // This test is about data integrity, so every connection gets a place.
    EchoServer echo(loop, rs::TcpServer::Options{.backlog = kClients + 24});
    rs::TcpConnector connector(loop);
    const std::string payload = testnet::pattern(kBytes, 7);
    int intact = 0;
    int failed = 0;
    for (int i = 0; i < kClients; ++i) {
        connector.connect("127.0.0.1:" + std::to_string(echo.port()))
            .then([&, i](const std::shared_ptr<rs::Connection>& conn) {
                // Each client writes a rotation of the payload, so mixed-up
                // streams would not compare equal.
                const std::size_t offset = static_cast<std::size_t>(i) * 997 % kBytes;
                auto expected = std::make_shared<std::string>(payload.substr(offset) + payload.substr(0, offset));
                auto position = std::make_shared<std::size_t>(0);
                auto done = std::make_shared<bool>(false);
                conn->on(rs::ev::data, [&, conn, expected, position, done](std::string_view chunk) {
                    if (expected->compare(*position, chunk.size(), chunk) != 0) {
                        ++failed;
                        *done = true;
                        conn->close();
                        return;
                    }
                    *position += chunk.size();
                    if (*position == kBytes) {
                        ++intact;
                        *done = true;
                        conn->close();
                    }
                });
                // A client that errors or closes before its echo is complete is a
                // failure, reported with why, not a wait until the guard expires.
                conn->on(rs::ev::error, [&, position](const std::system_error& e) {
                    FAIL_CHECK("client error after " << *position << " bytes: " << e.what());
                });
                conn->on(rs::ev::close, [&, position, done] {
                    if (*done) return;
                    ++failed;
                    FAIL_CHECK("client closed after " << *position << " of " << kBytes << " bytes");
                });
                // Write in 64 KiB pieces, honouring backpressure.
                auto sent = std::make_shared<std::size_t>(0);
                auto pump = std::make_shared<std::function<void()>>();
                *pump = [conn, expected, sent] {
                    while (*sent < kBytes) {
                        const std::size_t n = std::min<std::size_t>(65536, kBytes - *sent);
                        const bool more = conn->write(std::string_view(*expected).substr(*sent, n));
                        *sent += n;
                        if (!more) return;  // wait for drain
                    }
                };
                conn->on(rs::ev::drain, [pump] { (*pump)(); });
                (*pump)();
            })
            .otherwise([&](const std::system_error& e) {
                ++failed;
                FAIL_CHECK(e.what());
            });
    }
    testnet::run_until(loop, [&] { return intact + failed == kClients; }, 600);
    CHECK(failed == 0);
    CHECK(intact == kClients);
    CHECK(echo.accepted == kClients);
}
