// The private ReactorDescriptor (src/socket/reactor_descriptor.hpp): waits
// queued on Asio's reactor with and without re-arming, cancel, close, and
// pending waits when the io_context goes away. Over a socketpair, so the
// peer is a plain descriptor the test drives directly.
#include "socket/reactor_descriptor.hpp"

#include <reactsock/loop/loop.hpp>

#include "support/net.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>

namespace rs = reactsock;
using rs::detail::ReactorDescriptor;

namespace {

struct Pair {
    Pair() {
        int fds[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
        ours = fds[0];
        peer = fds[1];
    }
    ~Pair() {
        if (peer >= 0) ::close(peer);
    }
    Pair(const Pair&) = delete;
    Pair& operator=(const Pair&) = delete;
    int ours = -1;  // given to a ReactorDescriptor, which closes it
    int peer = -1;
};

bool fd_is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

}  // namespace

TEST_CASE("an edge wait after EAGAIN completes when new data arrives") {
    auto loop = std::make_shared<rs::Loop>();
    Pair pair;
    ReactorDescriptor descriptor(loop->context());
    descriptor.assign(pair.ours);
    asio::error_code ec;
    descriptor.non_blocking(true, ec);
    CHECK_FALSE(ec);
    CHECK(testnet::read_to_eof(pair.ours).empty());  // non-blocking: reads until EAGAIN, drained

    std::optional<asio::error_code> result;
    descriptor.async_wait_edge(ReactorDescriptor::wait_read, [&](const asio::error_code& e) { result = e; });
    loop->future_tick([&] { CHECK(::send(pair.peer, "hello", 5, 0) == 5); });
    CHECK(testnet::run_until(loop, [&] { return result.has_value(); }));
    CHECK_FALSE(*result);
    CHECK(testnet::read_to_eof(pair.ours) == "hello");

    // Again, and this time the peer's close (EOF) is the new readiness.
    result.reset();
    descriptor.async_wait_edge(ReactorDescriptor::wait_read, [&](const asio::error_code& e) { result = e; });
    loop->future_tick([&] {
        ::close(pair.peer);
        pair.peer = -1;
    });
    CHECK(testnet::run_until(loop, [&] { return result.has_value(); }));
    CHECK_FALSE(*result);
    char byte = 0;
    CHECK(::recv(pair.ours, &byte, 1, 0) == 0);
}

TEST_CASE("a re-arming wait reports readiness that is already there") {
    auto loop = std::make_shared<rs::Loop>();
    Pair pair;
    ReactorDescriptor descriptor(loop->context());
    descriptor.assign(pair.ours);
    CHECK(::send(pair.peer, "x", 1, 0) == 1);
    std::optional<asio::error_code> result;
    descriptor.async_wait(ReactorDescriptor::wait_read, [&](const asio::error_code& e) { result = e; });
    CHECK(testnet::run_until(loop, [&] { return result.has_value(); }));
    CHECK_FALSE(*result);
    // Writable at once, too.
    result.reset();
    descriptor.async_wait(ReactorDescriptor::wait_write, [&](const asio::error_code& e) { result = e; });
    CHECK(testnet::run_until(loop, [&] { return result.has_value(); }));
    CHECK_FALSE(*result);
}

TEST_CASE("an edge wait for writability after the socket was full completes once the peer reads") {
    auto loop = std::make_shared<rs::Loop>();
    Pair pair;
    ReactorDescriptor descriptor(loop->context());
    descriptor.assign(pair.ours);
    const std::string chunk(65536, 'w');
    std::size_t queued = 0;
    for (;;) {
        const ssize_t n = ::send(pair.ours, chunk.data(), chunk.size(), MSG_NOSIGNAL);
        if (n < 0) {
            REQUIRE((errno == EAGAIN || errno == EWOULDBLOCK));
            break;
        }
        queued += static_cast<std::size_t>(n);
    }
    REQUIRE(queued > 0);
    std::optional<asio::error_code> result;
    descriptor.async_wait_edge(ReactorDescriptor::wait_write, [&](const asio::error_code& e) { result = e; });
    std::size_t read_by_peer = 0;
    loop->future_tick([&] { read_by_peer = testnet::read_to_eof(pair.peer).size(); });
    CHECK(testnet::run_until(loop, [&] { return result.has_value(); }));
    CHECK_FALSE(*result);
    CHECK(read_by_peer == queued);
}

TEST_CASE("cancel and close end pending waits with operation_aborted; close closes the descriptor") {
    auto loop = std::make_shared<rs::Loop>();
    Pair pair;
    ReactorDescriptor descriptor(loop->context());
    descriptor.assign(pair.ours);
    int aborted = 0;
    const auto count_aborted = [&](const asio::error_code& e) {
        if (e == asio::error::operation_aborted) ++aborted;
    };
    descriptor.async_wait_edge(ReactorDescriptor::wait_read, count_aborted);
    asio::error_code ec;
    descriptor.cancel(ec);
    CHECK_FALSE(ec);
    CHECK(testnet::run_until(loop, [&] { return aborted == 1; }));

    descriptor.async_wait_edge(ReactorDescriptor::wait_read, count_aborted);
    descriptor.async_wait(ReactorDescriptor::wait_read, count_aborted);
    descriptor.close(ec);
    CHECK_FALSE(ec);
    CHECK_FALSE(fd_is_open(pair.ours));
    CHECK(testnet::run_until(loop, [&] { return aborted == 3; }));

    // Closed: a new wait fails with bad_descriptor; cancel says so too.
    std::optional<asio::error_code> result;
    descriptor.async_wait_edge(ReactorDescriptor::wait_read, [&](const asio::error_code& e) { result = e; });
    CHECK(testnet::run_until(loop, [&] { return result.has_value(); }));
    CHECK(*result == asio::error::bad_descriptor);
    descriptor.cancel(ec);
    CHECK(ec == asio::error::bad_descriptor);
    descriptor.close(ec);  // twice: a no-op
    CHECK_FALSE(ec);
}

TEST_CASE("assigning twice is an error; the destructor closes the descriptor") {
    auto loop = std::make_shared<rs::Loop>();
    Pair pair;
    {
        ReactorDescriptor descriptor(loop->context());
        descriptor.assign(pair.ours);
        CHECK_THROWS_AS(descriptor.assign(pair.peer), asio::system_error);
        CHECK(fd_is_open(pair.ours));
    }
    CHECK_FALSE(fd_is_open(pair.ours));
    CHECK(fd_is_open(pair.peer));
}

TEST_CASE("a wait still pending when the io_context goes away is freed, its handler not called") {
    Pair pair;
    bool called = false;
    auto token = std::make_shared<int>(1);
    std::weak_ptr<int> watch = token;
    {
        auto loop = std::make_shared<rs::Loop>();
        ReactorDescriptor descriptor(loop->context());
        descriptor.assign(pair.ours);
        descriptor.async_wait_edge(ReactorDescriptor::wait_read,
                                   [&called, token](const asio::error_code&) { called = true; });
        token.reset();
        CHECK_FALSE(watch.expired());  // the handler holds it
        // The descriptor is destroyed first (closing: the wait is aborted
        // and posted), then the loop, whose io_context drops the posted
        // completion without running it.
    }
    CHECK_FALSE(called);
    CHECK(watch.expired());  // the handler (and its capture) were destroyed
}
