#include <reactsock/promise/timer.hpp>

#include <reactsock/promise/await.hpp>

#include <doctest/doctest.h>

#include <cerrno>
#include <chrono>
#include <string>

namespace rs = reactsock;

TEST_CASE("sleep() fulfils after the delay") {
    auto loop = std::make_shared<rs::Loop>();
    const auto start = std::chrono::steady_clock::now();
    bool done = false;
    rs::sleep(0.02, loop).then([&] { done = true; });
    CHECK_FALSE(done);
    loop->run();
    CHECK(done);
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(20));
}

TEST_CASE("cancelling sleep() stops its timer and rejects") {
    auto loop = std::make_shared<rs::Loop>();
    auto p = rs::sleep(60, loop);
    CHECK(loop->timer_count() == 1);
    p.cancel();
    CHECK(loop->timer_count() == 0);
    std::string message;
    int code = 0;
    p.otherwise([&](const std::system_error& e) {
        message = e.what();
        code = e.code().value();
    });
    CHECK(message == "Timer cancelled");
    CHECK(code == ECANCELED);
    loop->run();  // returns at once: nothing left
}

TEST_CASE("timeout() passes a timely result through and stops its timer") {
    auto loop = std::make_shared<rs::Loop>();
    rs::Deferred<int> input;
    auto p = rs::timeout(input.promise(), 60, loop);
    input.resolve(7);
    CHECK(loop->timer_count() == 0);
    CHECK(rs::await(p, loop) == 7);
}

TEST_CASE("timeout() rejects with ETIMEDOUT and cancels the input") {
    auto loop = std::make_shared<rs::Loop>();
    int cancelled = 0;
    rs::Deferred<int> input([&] { ++cancelled; });
    auto p = rs::timeout(input.promise(), 0.01, loop);
    try {
        rs::await(p, loop);
        FAIL("timeout() should have rejected");
    } catch (const std::system_error& e) {
        CHECK(std::string(e.what()) == "Timed out after 0.01 seconds");
        CHECK(e.code() == std::errc::timed_out);
    }
    CHECK(cancelled == 1);
}

TEST_CASE("timeout() passes a rejection through") {
    auto loop = std::make_shared<rs::Loop>();
    auto p = rs::timeout(rs::reject<int>(std::runtime_error("input failed")), 60, loop);
    CHECK_THROWS_WITH(rs::await(p, loop), "input failed");
    CHECK(loop->timer_count() == 0);
}

TEST_CASE("cancelling timeout() cancels the input and the timer") {
    auto loop = std::make_shared<rs::Loop>();
    int cancelled = 0;
    rs::Deferred<int> input([&] { ++cancelled; });
    auto p = rs::timeout(input.promise(), 60, loop);
    p.cancel();
    CHECK(cancelled == 1);
    CHECK(loop->timer_count() == 0);
    CHECK(p.is_rejected());
}

TEST_CASE("await() runs the loop until the promise settles") {
    auto loop = std::make_shared<rs::Loop>();
    auto p = rs::sleep(0.001, loop).then([] { return std::string("slept"); });
    CHECK(rs::await(p, loop) == "slept");
    CHECK(rs::await(rs::resolve(3), loop) == 3);  // already settled: no loop run needed
}

TEST_CASE("await() on a promise nothing will settle throws instead of hanging") {
    auto loop = std::make_shared<rs::Loop>();
    rs::Deferred<int> never;
    CHECK_THROWS_AS(rs::await(never.promise(), loop), std::logic_error);
}

namespace {
rs::Promise<std::string> slow_greeting(std::shared_ptr<rs::Loop> loop) {
    co_await rs::sleep(0.001, loop);
    co_await rs::sleep(0.001, loop);
    co_return "hello";
}
}  // namespace

TEST_CASE("coroutines suspend on loop timers") {
    auto loop = std::make_shared<rs::Loop>();
    CHECK(rs::await(slow_greeting(loop), loop) == "hello");
}

TEST_CASE("cancelling a coroutine suspended in sleep() stops the timer") {
    auto loop = std::make_shared<rs::Loop>();
    auto p = slow_greeting(loop);
    CHECK(loop->timer_count() == 1);
    p.cancel();
    CHECK(loop->timer_count() == 0);
    CHECK_THROWS_WITH(rs::await(p, loop), "Timer cancelled");
}
