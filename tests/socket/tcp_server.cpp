#include <reactsock/socket/tcp_server.hpp>

#include <reactsock/error.hpp>
#include <reactsock/socket/tcp_connector.hpp>

#include "support/net.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <sys/resource.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace rs = reactsock;

namespace {

std::string invalid_argument_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "no exception";
}

}  // namespace

TEST_CASE("TcpServer URIs: port only, random port, scheme and IPv4") {
    auto loop = std::make_shared<rs::Loop>();
    auto random = std::make_shared<rs::TcpServer>("0", loop);
    const auto address = random->address();
    REQUIRE(address);
    CHECK(address->rfind("tcp://127.0.0.1:", 0) == 0);
    CHECK(testnet::port_of(*address) != 0);

    auto with_scheme = std::make_shared<rs::TcpServer>("tcp://127.0.0.1:0", loop);
    CHECK(with_scheme->address()->rfind("tcp://127.0.0.1:", 0) == 0);

    auto any = std::make_shared<rs::TcpServer>("0.0.0.0:0", loop);
    CHECK(any->address()->rfind("tcp://0.0.0.0:", 0) == 0);

    auto by_int = std::make_shared<rs::TcpServer>(0, loop);
    CHECK(by_int->address()->rfind("tcp://127.0.0.1:", 0) == 0);

    // A fixed port given as "PORT" binds 127.0.0.1 on that port.
    const auto port = testnet::closed_port();
    auto fixed = std::make_shared<rs::TcpServer>(std::to_string(port), loop);
    CHECK(*fixed->address() == "tcp://127.0.0.1:" + std::to_string(port));
}

TEST_CASE("TcpServer on ::1") {
    if (!testnet::has_ipv6_loopback()) {
        MESSAGE("skipped: no IPv6 loopback on this machine");
        return;
    }
    auto loop = std::make_shared<rs::Loop>();
    auto server = std::make_shared<rs::TcpServer>("[::1]:0", loop);
    CHECK(server->address()->rfind("tcp://[::1]:", 0) == 0);
    std::string remote;
    server->on(rs::ev::connection, [&](const std::shared_ptr<rs::Connection>& conn) {
        remote = conn->remote_address().value_or("");
        conn->close();
    });
    const int client = testnet::raw_connect(testnet::port_of(*server->address()), true);
    testnet::run_until(loop, [&] { return !remote.empty(); });
    CHECK(remote.rfind("tcp://[::1]:", 0) == 0);
    ::close(client);
}

TEST_CASE("TcpServer rejects invalid URIs with ReactPHP's messages") {
    auto loop = std::make_shared<rs::Loop>();
    auto make = [&](const char* uri) { return [&loop, uri] { rs::TcpServer server(uri, loop); }; };
    CHECK(invalid_argument_of(make("127.0.0.1")) == "Invalid URI \"tcp://127.0.0.1\" given (EINVAL)");
    CHECK(invalid_argument_of(make("udp://127.0.0.1:0")) == "Invalid URI \"udp://127.0.0.1:0\" given (EINVAL)");
    CHECK(invalid_argument_of(make("127.0.0.1:99999")) == "Invalid URI \"tcp://127.0.0.1:99999\" given (EINVAL)");
    CHECK(invalid_argument_of(make("tcp://[::1:0")) == "Invalid URI \"tcp://[::1:0\" given (EINVAL)");
    CHECK(invalid_argument_of(make("localhost:8080")) ==
          "Given URI \"tcp://localhost:8080\" does not contain a valid host IP (EINVAL)");
    CHECK(invalid_argument_of(make("")) == "Invalid URI \"tcp://\" given (EINVAL)");
}

TEST_CASE("TcpServer reports a port in use with the address and EADDRINUSE") {
    auto loop = std::make_shared<rs::Loop>();
    auto first = std::make_shared<rs::TcpServer>("127.0.0.1:0", loop);
    const std::string uri = *first->address();
    try {
        rs::TcpServer second(uri, loop);
        FAIL("listening twice on one port must fail");
    } catch (const std::system_error& e) {
        CHECK(e.code() == std::errc::address_in_use);
        CHECK(std::string(e.what()) == "Failed to listen on \"" + uri + "\": Address already in use (EADDRINUSE)");
    }
}

TEST_CASE("TcpServer options from JSON; an unknown key is named") {
    auto loop = std::make_shared<rs::Loop>();
    rs::TcpServer server("127.0.0.1:0", loop, nlohmann::json{{"backlog", 8}, {"so_reuseport", true}});
    CHECK(server.address());
    CHECK(invalid_argument_of([&] { rs::TcpServer s("127.0.0.1:0", loop, nlohmann::json{{"backlgo", 8}}); }) ==
          "Unknown TcpServer option \"backlgo\"");
    CHECK(invalid_argument_of([&] { rs::TcpServer s("127.0.0.1:0", loop, nlohmann::json{{"backlog", "x"}}); }) ==
          "TcpServer option \"backlog\" must be an integer");
    const auto options = rs::TcpServer::Options{.backlog = 4, .so_reuseport = true, .tcp_nodelay = true};
    rs::TcpServer typed("127.0.0.1:0", loop, options);
    CHECK(typed.address());
}

TEST_CASE("two servers share a port with so_reuseport") {
    auto loop = std::make_shared<rs::Loop>();
    auto a = std::make_shared<rs::TcpServer>("127.0.0.1:0", loop, rs::TcpServer::Options{.so_reuseport = true});
    auto b = std::make_shared<rs::TcpServer>(*a->address(), loop, rs::TcpServer::Options{.so_reuseport = true});
    CHECK(a->address() == b->address());
}

TEST_CASE("connection event, addresses, and close()") {
    auto loop = std::make_shared<rs::Loop>();
    auto server = std::make_shared<rs::TcpServer>("127.0.0.1:0", loop);
    std::shared_ptr<rs::Connection> accepted;
    server->on(rs::ev::connection, [&](const std::shared_ptr<rs::Connection>& c) { accepted = c; });
    const int client = testnet::raw_connect(testnet::port_of(*server->address()));
    testnet::run_until(loop, [&] { return accepted != nullptr; });
    CHECK(accepted->local_address() == server->address());
    CHECK(accepted->remote_address()->rfind("tcp://127.0.0.1:", 0) == 0);
    accepted->close();
    ::close(client);

    server->close();
    server->close();  // idempotent
    CHECK_FALSE(server->address());
    server->pause();  // no-ops after close
    server->resume();
    loop->run();  // nothing left: returns
}

TEST_CASE("a paused server accepts nothing until resumed; pause/resume are idempotent") {
    auto loop = std::make_shared<rs::Loop>();
    auto server = std::make_shared<rs::TcpServer>("127.0.0.1:0", loop);
    int connections = 0;
    server->on(rs::ev::connection, [&](const std::shared_ptr<rs::Connection>& c) {
        ++connections;
        c->close();
    });
    server->pause();
    server->pause();
    const int client = testnet::raw_connect(testnet::port_of(*server->address()));  // queued in the backlog
    // While paused, the loop has nothing to do for the server: run() returns.
    loop->run();
    CHECK(connections == 0);
    server->resume();
    server->resume();
    testnet::run_until(loop, [&] { return connections == 1; });
    CHECK(connections == 1);
    ::close(client);
}

TEST_CASE("dropping the server stops listening; the port is free again") {
    auto loop = std::make_shared<rs::Loop>();
    std::string address;
    {
        rs::TcpServer server("127.0.0.1:0", loop);
        address = *server.address();
    }
    rs::TcpServer again(address, loop);  // rebinding works (SO_REUSEADDR, socket closed)
    CHECK(again.address() == address);
}

TEST_CASE("a listener may close the server from inside the connection event") {
    auto loop = std::make_shared<rs::Loop>();
    auto server = std::make_shared<rs::TcpServer>("127.0.0.1:0", loop);
    int connections = 0;
    server->on(rs::ev::connection, [&](const std::shared_ptr<rs::Connection>& c) {
        ++connections;
        c->close();
        server->close();
        server.reset();  // drop the last reference while it emits
    });
    const auto port = testnet::port_of(*server->address());
    const int a = testnet::raw_connect(port);
    testnet::run_until(loop, [&] { return connections == 1; });
    loop->run();
    CHECK(connections == 1);
    ::close(a);
}

TEST_CASE("EMFILE: one error per burst, no busy loop, accepting resumes when descriptors free up") {
    // In a child process with a small descriptor limit, so the suite is unaffected.
    std::uint16_t port = 0;
    int ready_pipe[2];
    REQUIRE(::pipe(ready_pipe) == 0);
    int go_pipe[2];
    REQUIRE(::pipe(go_pipe) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::close(ready_pipe[0]);
        ::close(go_pipe[1]);
        auto loop = std::make_shared<rs::Loop>();
        auto server = std::make_shared<rs::TcpServer>("127.0.0.1:0", loop);
        const auto server_port = testnet::port_of(*server->address());
        std::vector<std::shared_ptr<rs::Connection>> held;
        int errors = 0;
        bool wrong_message = false;
        bool warming_up = true;
        server->on(rs::ev::error, [&](const std::system_error& e) {
            if (warming_up) return;
            ++errors;
            // Free descriptors first: the held connections close, accepting
            // resumes. (UBSan's own checks need a spare descriptor too.)
            for (auto& c : held) c->close();
            held.clear();
            wrong_message = wrong_message || e.code().value() != EMFILE ||
                            std::string(e.what()) != "Unable to accept new connection: Too many open files (EMFILE)";
        });
        int accepted = 0;
        server->on(rs::ev::connection, [&](const std::shared_ptr<rs::Connection>& c) {
            ++accepted;
            held.push_back(c);
            if (accepted == 10) loop->stop();
        });
        // UBSan's vptr checks probe memory with pipe(), which fails once
        // descriptors run out: run the error path once while there are some,
        // so that its type cache already knows these types.
        server->emit(rs::ev::error, rs::make_errno_error(EMFILE, "warm-up: "));
        warming_up = false;
        // Room for a few more descriptors, far fewer than the 10 clients need.
        const int base = testnet::open_fds();
        rlimit limit{static_cast<rlim_t>(base + 6), static_cast<rlim_t>(base + 6)};
        ::setrlimit(RLIMIT_NOFILE, &limit);
        const ssize_t w = ::write(ready_pipe[1], &server_port, sizeof server_port);
        char go = 0;
        const ssize_t r = ::read(go_pipe[0], &go, 1);  // the parent has connected 10 clients
        (void)w;
        (void)r;
        auto guard = loop->add_timer(30, [&] { loop->stop(); });
        loop->run();
        const int code = (accepted == 10 && errors >= 1 && errors <= 5 && !wrong_message) ? 0 : 1;
        if (code != 0) {
            std::fprintf(stderr, "EMFILE child: accepted=%d errors=%d wrong_message=%d\n", accepted, errors,
                         wrong_message ? 1 : 0);
        }
        std::_Exit(code);
    }
    ::close(ready_pipe[1]);
    ::close(go_pipe[0]);
    REQUIRE(::read(ready_pipe[0], &port, sizeof port) == static_cast<ssize_t>(sizeof port));
    std::vector<int> clients;
    for (int i = 0; i < 10; ++i) clients.push_back(testnet::raw_connect(port));  // queued in the backlog
    REQUIRE(::write(go_pipe[1], "g", 1) == 1);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    for (int fd : clients) ::close(fd);
    ::close(ready_pipe[0]);
    ::close(go_pipe[1]);
}

TEST_CASE("options convert with json.get<>() too") {
    const auto options = nlohmann::json{{"backlog", 7}, {"tcp_nodelay", true}}.get<rs::TcpServer::Options>();
    CHECK(options.backlog == 7);
    CHECK(options.tcp_nodelay);
    CHECK_FALSE(options.so_reuseport);
    const nlohmann::json unknown = {{"x", 1}};
    CHECK_THROWS_AS(unknown.get<rs::TcpServer::Options>(), std::invalid_argument);
}
