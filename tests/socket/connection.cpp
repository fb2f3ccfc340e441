#include <reactsock/socket/connection.hpp>

#include <reactsock/socket/tcp_connector.hpp>
#include <reactsock/socket/tcp_server.hpp>
#include <reactsock/promise/await.hpp>

#include "support/echo_server.hpp"
#include "support/net.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cerrno>
#include <string>
#include <thread>
#include <vector>

namespace rs = reactsock;

namespace {

using testnet::EchoServer;

// Accepts one connection and hands it to the test.
struct OneShotServer {
    explicit OneShotServer(const std::shared_ptr<rs::Loop>& loop)
        : server(std::make_shared<rs::TcpServer>("127.0.0.1:0", loop)) {
        server->on(rs::ev::connection, [this](const std::shared_ptr<rs::Connection>& c) { accepted = c; });
    }
    std::shared_ptr<rs::Connection> accept_raw(const std::shared_ptr<rs::Loop>& loop, int& client) {
        client = testnet::raw_connect(testnet::port_of(*server->address()));
        testnet::run_until(loop, [&] { return accepted != nullptr; });
        return accepted;
    }
    std::shared_ptr<rs::TcpServer> server;
    std::shared_ptr<rs::Connection> accepted;
};

}  // namespace

TEST_CASE("echo round trip through TcpConnector and TcpServer") {
    auto loop = std::make_shared<rs::Loop>();
    EchoServer echo(loop);
    rs::TcpConnector connector(loop);
    auto conn = rs::await(connector.connect("127.0.0.1:" + std::to_string(echo.port())), loop);
    CHECK(conn->remote_address() == "tcp://127.0.0.1:" + std::to_string(echo.port()));
    CHECK(conn->local_address()->rfind("tcp://127.0.0.1:", 0) == 0);
    std::string received;
    conn->on(rs::ev::data, [&](std::string_view chunk) { received.append(chunk); });
    CHECK(conn->write("hello "));
    CHECK(conn->write("world"));
    testnet::run_until(loop, [&] { return received.size() == 11; });
    CHECK(received == "hello world");
    bool closed = false;
    conn->on(rs::ev::close, [&] { closed = true; });
    conn->end();
    testnet::run_until(loop, [&] { return closed; });
    CHECK_FALSE(conn->is_readable());
    CHECK_FALSE(conn->is_writable());
}

TEST_CASE("peer ends first: the echo of everything it sent still arrives (ReactPHP loses it)") {
    auto loop = std::make_shared<rs::Loop>();
    EchoServer echo(loop);
    for (std::size_t size : {std::size_t{5}, std::size_t{100000}, std::size_t{1} << 20}) {
        const int client = testnet::raw_connect(echo.port());
        const std::string payload = testnet::pattern(size, static_cast<unsigned>(size));
        // Send and half-close from a thread: the loop must run meanwhile.
        std::string echoed;
        std::thread peer([&] {
            testnet::send_all(client, payload);
            ::shutdown(client, SHUT_WR);
            echoed = testnet::read_to_eof(client);
            loop->post([&] { loop->stop(); });  // the peer saw EOF: done
        });
        loop->run();
        peer.join();
        CHECK(echoed.size() == payload.size());
        CHECK(echoed == payload);
        ::close(client);
    }
}

TEST_CASE("end() half-closes: the peer sees EOF and can still send") {
    auto loop = std::make_shared<rs::Loop>();
    OneShotServer one(loop);
    int client = -1;
    auto conn = one.accept_raw(loop, client);
    std::string received;
    bool ended = false;
    bool closed = false;
    conn->on(rs::ev::data, [&](std::string_view chunk) { received.append(chunk); });
    conn->on(rs::ev::end, [&] { ended = true; });
    conn->on(rs::ev::close, [&] { closed = true; });
    conn->end("bye");
    CHECK_FALSE(conn->is_writable());
    CHECK(conn->is_readable());
    CHECK_FALSE(conn->write("ignored"));
    // The peer reads "bye" then EOF, then sends after our half-close.
    CHECK(testnet::read_to_eof(client) == "bye");
    testnet::send_all(client, "still talking");
    ::shutdown(client, SHUT_WR);
    testnet::run_until(loop, [&] { return closed; });
    CHECK(received == "still talking");
    CHECK(ended);
    ::close(client);
}

TEST_CASE("allow_half_open keeps the connection writable after the peer's end") {
    auto loop = std::make_shared<rs::Loop>();
    OneShotServer one(loop);
    int client = -1;
    auto conn = one.accept_raw(loop, client);
    conn->set_allow_half_open(true);
    bool ended = false;
    conn->on(rs::ev::end, [&] { ended = true; });
    ::shutdown(client, SHUT_WR);
    testnet::run_until(loop, [&] { return ended; });
    CHECK(conn->is_writable());
    CHECK_FALSE(conn->is_readable());
    // Reply some turns later, then end: that closes (both sides are done).
    bool closed = false;
    conn->on(rs::ev::close, [&] { closed = true; });
    loop->add_timer(0.001, [&] { conn->end("late reply"); });
    testnet::run_until(loop, [&] { return closed; });
    CHECK(testnet::read_to_eof(client) == "late reply");
    ::close(client);
}

TEST_CASE("a reader that stops reading: write() returns false, drain comes once it reads") {
    auto loop = std::make_shared<rs::Loop>();
    OneShotServer one(loop);
    int client = -1;
    auto conn = one.accept_raw(loop, client);
    conn->set_soft_limit(64 * 1024);
    const std::string chunk(64 * 1024, 'x');
    std::size_t written = 0;
    while (conn->write(chunk)) written += chunk.size();
    written += chunk.size();
    CHECK(conn->buffered_amount() >= 64 * 1024);
    bool drained = false;
    conn->on(rs::ev::drain, [&] { drained = true; });
    // The peer reads everything (in a thread), which drains the buffer.
    std::size_t read_total = 0;
    std::thread reader([&] {
        char buffer[65536];
        while (read_total < written) {
            const ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
            if (n <= 0) break;
            read_total += static_cast<std::size_t>(n);
        }
    });
    testnet::run_until(loop, [&] { return drained && conn->buffered_amount() == 0; });
    reader.join();
    CHECK(drained);
    CHECK(read_total == written);
    conn->close();
    ::close(client);
}

TEST_CASE("peer reset mid-write: error with ECONNRESET or EPIPE, then close") {
    auto loop = std::make_shared<rs::Loop>();
    OneShotServer one(loop);
    int client = -1;
    auto conn = one.accept_raw(loop, client);
    int error_code = 0;
    std::string message;
    std::vector<std::string> events;
    conn->on(rs::ev::error, [&](const std::system_error& e) {
        events.push_back("error");
        error_code = e.code().value();
        message = e.what();
    });
    conn->on(rs::ev::close, [&] { events.push_back("close"); });
    const std::string chunk(256 * 1024, 'y');
    conn->write(chunk);  // more than the socket buffers take
    testnet::reset_on_close(client);
    testnet::send_all(client, "unread");  // unread data also forces RST
    ::close(client);
    testnet::run_until(loop, [&] { return !events.empty() && events.back() == "close"; });
    CHECK(events == std::vector<std::string>{"error", "close"});
    CHECK((error_code == ECONNRESET || error_code == EPIPE));
    CHECK((message == "Unable to write to stream: Connection reset by peer (ECONNRESET)" ||
           message == "Unable to read from stream: Connection reset by peer (ECONNRESET)" ||
           message == "Unable to write to stream: Broken pipe (EPIPE)"));
}

TEST_CASE("close() discards the buffer, emits close once, addresses go away after it") {
    auto loop = std::make_shared<rs::Loop>();
    OneShotServer one(loop);
    int client = -1;
    auto conn = one.accept_raw(loop, client);
    std::optional<std::string> remote_in_close;
    int closes = 0;
    conn->on(rs::ev::close, [&] {
        ++closes;
        remote_in_close = conn->remote_address();
    });
    conn->write(std::string(1 << 20, 'z'));
    conn->close();
    conn->close();
    CHECK(closes == 1);
    CHECK(remote_in_close.has_value());
    CHECK_FALSE(conn->remote_address());
    CHECK_FALSE(conn->local_address());
    CHECK(conn->buffered_amount() == 0);
    CHECK(conn->native_handle() == -1);
    CHECK_FALSE(conn->write("x"));
    CHECK(conn->listener_count(rs::ev::close) == 0);  // listeners dropped
    ::close(client);
}

TEST_CASE("the idle timeout fires while nothing happens, and is re-armed by activity") {
    auto loop = std::make_shared<rs::Loop>();
    OneShotServer one(loop);
    int client = -1;
    auto conn = one.accept_raw(loop, client);
    one.server->close();  // so that run() below can run out of work
    CHECK_THROWS_AS(conn->set_timeout(-1), std::invalid_argument);
    int timeouts = 0;
    conn->on(rs::ev::timeout, [&] {
        if (++timeouts == 2) conn->close();
    });
    conn->set_timeout(0.02);
    testnet::run_until(loop, [&] { return timeouts == 2; });
    CHECK(timeouts == 2);
    ::close(client);
    loop->run();  // the closed connection left no timer behind
    CHECK(loop->timer_count() == 0);
}

TEST_CASE("socket options and info()") {
    auto loop = std::make_shared<rs::Loop>();
    OneShotServer one(loop);
    int client = -1;
    auto conn = one.accept_raw(loop, client);
    conn->set_no_delay(true);
    CHECK(conn->get_option(IPPROTO_TCP, TCP_NODELAY) == 1);
    conn->set_keep_alive({.idle_seconds = 30, .interval_seconds = 5, .probe_count = 3});
    CHECK(conn->get_option(SOL_SOCKET, SO_KEEPALIVE) == 1);
    CHECK(conn->get_option(IPPROTO_TCP, TCP_KEEPIDLE) == 30);
    CHECK(conn->get_option(IPPROTO_TCP, TCP_KEEPINTVL) == 5);
    CHECK(conn->get_option(IPPROTO_TCP, TCP_KEEPCNT) == 3);
    conn->set_keep_alive({.enable = false});
    CHECK(conn->get_option(SOL_SOCKET, SO_KEEPALIVE) == 0);
    CHECK_THROWS_AS(conn->set_keep_alive({.idle_seconds = -1}), std::invalid_argument);
    CHECK_THROWS_AS(conn->set_option(SOL_SOCKET, 99999, 1), std::system_error);
    const nlohmann::json info = conn->info();
    CHECK(info["family"] == "ipv4");
    CHECK(info["local"] == *one.server->address());
    CHECK(info["remote_address"] == "127.0.0.1");
    CHECK(info["local_port"] == testnet::port_of(*one.server->address()));
    CHECK(info["secure"] == false);
    CHECK(info["readable"] == true);
    conn->close();
    CHECK_THROWS_AS(conn->set_no_delay(true), std::system_error);
    ::close(client);
}

TEST_CASE("KeepAliveOptions from JSON, and the deprecated positional set_keep_alive still works") {
    using json = nlohmann::json;
    const auto options = rs::KeepAliveOptions::from_json(json{{"idle_seconds", 40}, {"probe_count", 2}});
    CHECK(options.enable);
    CHECK(options.idle_seconds == 40);
    CHECK(options.interval_seconds == 0);
    CHECK(options.probe_count == 2);
    CHECK(json{{"enable", false}}.get<rs::KeepAliveOptions>().enable == false);
    CHECK_THROWS_AS(rs::KeepAliveOptions::from_json(json{{"idle", 40}}), std::invalid_argument);
    CHECK_THROWS_AS(rs::KeepAliveOptions::from_json(json{{"enable", "yes"}}), std::invalid_argument);
    CHECK_THROWS_AS(rs::KeepAliveOptions::from_json(json::array()), std::invalid_argument);

    auto loop = std::make_shared<rs::Loop>();
    OneShotServer one(loop);
    int client = -1;
    auto conn = one.accept_raw(loop, client);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    conn->set_keep_alive(true, 50, 6, 4);
#pragma GCC diagnostic pop
    CHECK(conn->get_option(SOL_SOCKET, SO_KEEPALIVE) == 1);
    CHECK(conn->get_option(IPPROTO_TCP, TCP_KEEPIDLE) == 50);
    CHECK(conn->get_option(IPPROTO_TCP, TCP_KEEPINTVL) == 6);
    CHECK(conn->get_option(IPPROTO_TCP, TCP_KEEPCNT) == 4);
    conn->close();
    ::close(client);
}

TEST_CASE("pause() holds data back until resume(), also data that arrived meanwhile") {
    auto loop = std::make_shared<rs::Loop>();
    OneShotServer one(loop);
    int client = -1;
    auto conn = one.accept_raw(loop, client);
    one.server->close();  // so that run() below can run out of work
    std::string received;
    conn->on(rs::ev::data, [&](std::string_view chunk) { received.append(chunk); });
    conn->pause();
    testnet::send_all(client, "while paused");
    loop->run();  // a paused connection gives the loop nothing to wait for
    CHECK(received.empty());
    conn->resume();
    testnet::run_until(loop, [&] { return received == "while paused"; });
    CHECK(received == "while paused");
    conn->close();
    ::close(client);
}

TEST_CASE("dropping every reference to a paused connection closes its socket") {
    auto loop = std::make_shared<rs::Loop>();
    OneShotServer one(loop);
    int client = -1;
    auto conn = one.accept_raw(loop, client);
    one.server->close();  // so that run() below can run out of work
    conn->pause();
    one.accepted.reset();
    conn.reset();
    loop->run();
    // The peer sees EOF: the server side is gone.
    CHECK(testnet::read_to_eof(client).empty());
    ::close(client);
}

TEST_CASE("closed(): resolves on close (after an error too), at once when closed already; cancel leaves it open") {
    auto loop = std::make_shared<rs::Loop>();
    OneShotServer one(loop);
    int client = -1;
    auto conn = one.accept_raw(loop, client);
    CHECK_FALSE(conn->is_closed());

    auto cancelled = conn->closed();
    int cancel_code = 0;
    cancelled.otherwise([&](const std::system_error& e) { cancel_code = e.code().value(); });
    cancelled.cancel();
    CHECK(cancel_code == ECANCELED);
    CHECK(conn->listener_count(rs::ev::close) == 0);  // its listener is gone
    CHECK(conn->is_writable());

    bool done = false;
    bool saw_error = false;
    conn->on(rs::ev::error, [&](const std::system_error&) { saw_error = true; });
    conn->closed().then([&] { done = true; });
    // The peer resets while we write: ev::error, then ev::close; closed() resolves all the same.
    conn->write(std::string(256 * 1024, 'r'));
    testnet::reset_on_close(client);
    testnet::send_all(client, "unread");
    ::close(client);
    testnet::run_until(loop, [&] { return done; });
    CHECK(done);
    CHECK(saw_error);
    CHECK(conn->is_closed());

    bool again = false;
    conn->closed().then([&] { again = true; });  // already closed: settled at once
    CHECK(again);
}

TEST_CASE("closed() in a coroutine: co_await until the peer hangs up") {
    auto loop = std::make_shared<rs::Loop>();
    OneShotServer one(loop);
    int client = -1;
    auto conn = one.accept_raw(loop, client);
    auto session = [](std::shared_ptr<rs::Connection> c) -> rs::Promise<std::string> {
        std::string seen;
        c->on(rs::ev::data, [&seen](std::string_view chunk) { seen.append(chunk); });
        co_await c->closed();
        co_return seen;
    };
    std::string result;
    session(conn).then([&](const std::string& s) { result = s; });
    testnet::send_all(client, "bye");
    ::close(client);
    testnet::run_until(loop, [&] { return !result.empty(); });
    CHECK(result == "bye");
}
