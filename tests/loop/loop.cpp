#include <reactsock/loop/loop.hpp>

#include <doctest/doctest.h>

#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <algorithm>
#include <atomic>
#include <limits>
#include <chrono>
#include <csignal>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace rs = reactsock;

TEST_CASE("run() returns at once when there is nothing to do") {
    auto loop = std::make_shared<rs::Loop>();
    const auto start = std::chrono::steady_clock::now();
    loop->run();
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
}

TEST_CASE("timers fire in deadline order, equal deadlines in insertion order") {
    auto loop = std::make_shared<rs::Loop>();
    std::vector<std::string> order;
    loop->add_timer(0.03, [&] { order.push_back("30ms"); });
    loop->add_timer(0.01, [&] { order.push_back("10ms-a"); });
    loop->add_timer(0.01, [&] { order.push_back("10ms-b"); });
    loop->add_timer(0, [&] { order.push_back("0"); });
    loop->add_timer(-5, [&] { order.push_back("negative"); });
    loop->run();
    CHECK(order == std::vector<std::string>{"0", "negative", "10ms-a", "10ms-b", "30ms"});
    CHECK(loop->timer_count() == 0);
}

TEST_CASE("a timer does not fire before its interval") {
    auto loop = std::make_shared<rs::Loop>();
    const auto start = std::chrono::steady_clock::now();
    std::chrono::steady_clock::duration elapsed{};
    loop->add_timer(0.05, [&] { elapsed = std::chrono::steady_clock::now() - start; });
    loop->run();
    CHECK(elapsed >= std::chrono::milliseconds(50));
}

TEST_CASE("timer handles report their state") {
    auto loop = std::make_shared<rs::Loop>();
    auto once = loop->add_timer(0.001, [] {});
    auto every = loop->add_periodic_timer(0.5, [] {});
    CHECK(once->is_active());
    CHECK_FALSE(once->is_periodic());
    CHECK(every->is_periodic());
    CHECK(every->interval() == doctest::Approx(0.5));
    CHECK(loop->add_timer(0, [] {})->interval() == doctest::Approx(1e-6));  // clamped
    loop->cancel_timer(every);
    CHECK_FALSE(every->is_active());
    loop->run();
    CHECK_FALSE(once->is_active());
}

TEST_CASE("invalid timer arguments are rejected clearly") {
    auto loop = std::make_shared<rs::Loop>();
    CHECK_THROWS_AS(loop->add_timer(std::numeric_limits<double>::quiet_NaN(), [] {}),
                    std::invalid_argument);
    CHECK_THROWS_AS(loop->add_timer(std::numeric_limits<double>::infinity(), [] {}),
                    std::invalid_argument);
    CHECK_THROWS_AS(loop->future_tick(nullptr), std::invalid_argument);
    CHECK(loop->timer_count() == 0);
}

TEST_CASE("periodic timer cancels itself from its own callback") {
    auto loop = std::make_shared<rs::Loop>();
    int runs = 0;
    auto token = std::make_shared<int>(0);
    auto timer = loop->add_periodic_timer(0.001, [&runs, &loop, token](const rs::TimerHandle& self) {
        if (++runs == 3) loop->cancel_timer(self);
    });
    CHECK(token.use_count() == 2);
    loop->run();
    CHECK(runs == 3);
    CHECK_FALSE(timer->is_active());
    CHECK(token.use_count() == 1);  // callback released once cancelled
}

TEST_CASE("cancelling another timer from a callback, including one due in the same turn") {
    auto loop = std::make_shared<rs::Loop>();
    bool second_ran = false;
    rs::TimerHandle second;
    loop->add_timer(0.01, [&] { loop->cancel_timer(second); });
    second = loop->add_timer(0.01, [&] { second_ran = true; });
    loop->run();
    CHECK_FALSE(second_ran);
}

TEST_CASE("cancel_timer is a no-op for null, fired and cancelled timers") {
    auto loop = std::make_shared<rs::Loop>();
    int fired = 0;
    auto timer = loop->add_timer(0.001, [&] { ++fired; });
    loop->run();
    loop->cancel_timer(timer);
    loop->cancel_timer(timer);
    loop->cancel_timer(nullptr);
    CHECK(fired == 1);
}

TEST_CASE("a cancelled timer lets run() return without waiting for it") {
    auto loop = std::make_shared<rs::Loop>();
    auto timer = loop->add_timer(30, [] { FAIL("must not fire"); });
    loop->add_timer(0.001, [&] { loop->cancel_timer(timer); });
    const auto start = std::chrono::steady_clock::now();
    loop->run();
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
}

TEST_CASE("future ticks run FIFO, before timers, and ticks queued by ticks run next turn") {
    auto loop = std::make_shared<rs::Loop>();
    std::vector<std::string> order;
    loop->add_timer(0, [&] { order.push_back("timer"); });
    loop->future_tick([&] {
        order.push_back("tick1");
        loop->future_tick([&] { order.push_back("tick3"); });
    });
    loop->future_tick([&] { order.push_back("tick2"); });
    loop->run();
    // Queued ticks run before the (already due) timer; tick3 was queued by a
    // tick, so it waits for the next turn, which may come after the timer.
    REQUIRE(order.size() == 4);
    CHECK(order[0] == "tick1");
    CHECK(order[1] == "tick2");
    CHECK(std::find(order.begin(), order.end(), "tick3") > order.begin() + 1);
    CHECK(std::find(order.begin(), order.end(), "timer") > order.begin() + 1);
}

TEST_CASE("stop() makes run() return; run() can be called again") {
    auto loop = std::make_shared<rs::Loop>();
    int fired = 0;
    loop->add_periodic_timer(0.001, [&](const rs::TimerHandle& self) {
        ++fired;
        if (fired == 2) loop->stop();
        if (fired == 4) loop->cancel_timer(self);
    });
    loop->run();
    CHECK(fired == 2);
    loop->run();
    CHECK(fired == 4);
}

TEST_CASE("stop() before run() is forgotten, as in ReactPHP") {
    auto loop = std::make_shared<rs::Loop>();
    bool ran = false;
    loop->stop();
    loop->add_timer(0, [&] { ran = true; });
    loop->run();
    CHECK(ran);
}

TEST_CASE("run() must not be re-entered") {
    auto loop = std::make_shared<rs::Loop>();
    bool threw = false;
    loop->future_tick([&] {
        try {
            loop->run();
        } catch (const std::logic_error&) {
            threw = true;
        }
    });
    loop->run();
    CHECK(threw);
}

TEST_CASE("an exception from a handler leaves run(); the loop keeps its work") {
    auto loop = std::make_shared<rs::Loop>();
    bool later = false;
    loop->future_tick([] { throw std::runtime_error("tick failed"); });
    loop->future_tick([&] { later = true; });
    CHECK_THROWS_WITH_AS(loop->run(), "tick failed", std::runtime_error);
    loop->run();
    CHECK(later);
}

TEST_CASE("post() from other threads runs on the loop thread") {
    auto loop = std::make_shared<rs::Loop>();
    auto guard = loop->keep_alive();
    const auto loop_thread = std::this_thread::get_id();
    std::atomic<int> received{0};
    bool all_on_loop_thread = true;
    constexpr int kThreads = 4;
    constexpr int kPerThread = 250;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < kPerThread; ++i) {
                loop->post([&] {
                    all_on_loop_thread = all_on_loop_thread && std::this_thread::get_id() == loop_thread;
                    if (++received == kThreads * kPerThread) guard.reset();
                });
            }
        });
    }
    loop->run();  // returns once the guard is released and all work is done
    for (auto& t : threads) t.join();
    CHECK(received == kThreads * kPerThread);
    CHECK(all_on_loop_thread);
}

TEST_CASE("keep_alive keeps run() going until released from another thread") {
    auto loop = std::make_shared<rs::Loop>();
    auto guard = loop->keep_alive();
    bool posted = false;
    std::thread other([&loop, &guard, &posted] {
        loop->post([&posted] { posted = true; });
        guard.reset();
    });
    loop->run();
    other.join();
    CHECK(posted);
}

TEST_CASE("signals are delivered to every listener on the loop thread") {
    auto loop = std::make_shared<rs::Loop>();
    std::vector<int> got;
    rs::SignalHandle first;
    rs::SignalHandle second;
    first = loop->add_signal(SIGUSR1, [&](int signo) {
        got.push_back(signo);
        loop->remove_signal(first);
    });
    second = loop->add_signal(SIGUSR1, [&](int signo) {
        got.push_back(-signo);
        loop->remove_signal(second);  // last listener: the loop has nothing left
    });
    CHECK(first);
    loop->future_tick([] { std::raise(SIGUSR1); });
    loop->run();
    CHECK(got == std::vector<int>{SIGUSR1, -SIGUSR1});
}

TEST_CASE("a signal listener keeps the loop alive; removing unknown handles is a no-op") {
    auto loop = std::make_shared<rs::Loop>();
    int count = 0;
    rs::SignalHandle handle = loop->add_signal(SIGUSR2, [&](int) {
        if (++count == 2) {
            loop->remove_signal(handle);
        } else {
            std::raise(SIGUSR2);
        }
    });
    loop->remove_signal(rs::SignalHandle{SIGUSR2, 999999});
    loop->remove_signal(rs::SignalHandle{});
    loop->add_timer(0.001, [] { std::raise(SIGUSR2); });
    loop->run();
    CHECK(count == 2);
}

TEST_CASE("a signal that cannot be handled throws a system error") {
    auto loop = std::make_shared<rs::Loop>();
    CHECK_THROWS_AS(loop->add_signal(SIGKILL, [](int) {}), std::system_error);
    CHECK_THROWS_AS(loop->add_signal(-1, [](int) {}), std::system_error);
    loop->run();  // nothing left behind
}

TEST_CASE("Loop::get() is one loop per thread") {
    auto a = rs::Loop::get();
    auto b = rs::Loop::get();
    CHECK(a == b);
    std::shared_ptr<rs::Loop> other;
    std::thread([&other] { other = rs::Loop::get(); }).join();
    CHECK(other != a);
}

TEST_CASE("destroying a loop releases the callbacks it still holds") {
    auto token = std::make_shared<int>(0);
    {
        auto loop = std::make_shared<rs::Loop>();
        loop->add_timer(100, [token] {});
        loop->add_periodic_timer(100, [token] {});
        loop->future_tick([token] {});
        loop->post([token] {});
        CHECK(token.use_count() == 5);
    }
    CHECK(token.use_count() == 1);
}

TEST_CASE("plain asio work on context() runs inside run()") {
    auto loop = std::make_shared<rs::Loop>();
    bool ran = false;
    asio::post(loop->context(), [&] { ran = true; });
    loop->run();
    CHECK(ran);
}

TEST_CASE("run_until stops when the predicate holds") {
    auto loop = std::make_shared<rs::Loop>();
    int fired = 0;
    auto timer = loop->add_periodic_timer(0.001, [&] { ++fired; });
    CHECK(loop->run_until([&] { return fired >= 3; }));
    CHECK(fired == 3);
    loop->cancel_timer(timer);
    CHECK_FALSE(loop->run_until([] { return false; }));  // runs out of work
}

TEST_CASE("destroy hooks run when the loop is destroyed; removed ones do not") {
    std::vector<std::string> ran;
    {
        auto loop = std::make_shared<rs::Loop>();
        loop->add_destroy_hook([&] { ran.emplace_back("first"); });
        const auto removed = loop->add_destroy_hook([&] { ran.emplace_back("removed"); });
        loop->add_destroy_hook([&] { ran.emplace_back("second"); });
        loop->remove_destroy_hook(removed);
        loop->remove_destroy_hook(123456);  // unknown: a no-op
        loop->run();
        CHECK(ran.empty());  // not before destruction
    }
    std::sort(ran.begin(), ran.end());
    CHECK(ran == std::vector<std::string>{"first", "second"});
}

TEST_CASE("destroy hooks: a stale id removes nothing; hooks may remove and add hooks while the loop goes") {
    std::vector<std::string> ran;
    {
        auto loop = std::make_shared<rs::Loop>();
        const auto old_id = loop->add_destroy_hook([&] { ran.emplace_back("old"); });
        loop->remove_destroy_hook(old_id);
        // Reuses the freed slot; the old id must not name it.
        loop->add_destroy_hook([&] { ran.emplace_back("reused"); });
        loop->remove_destroy_hook(old_id);
        loop->remove_destroy_hook(0);
        std::uint64_t victim = 0;
        rs::Loop* raw = loop.get();
        loop->add_destroy_hook([&, raw] {
            ran.emplace_back("remover");
            raw->remove_destroy_hook(victim);
            raw->add_destroy_hook([&] { ran.emplace_back("late"); });
        });
        victim = loop->add_destroy_hook([&] { ran.emplace_back("victim"); });
    }
    std::sort(ran.begin(), ran.end());
    CHECK(ran == std::vector<std::string>{"late", "remover", "reused"});
}

TEST_CASE("cancelling the earliest timer: the next fires at its own deadline, once; an empty set lets run() return") {
    auto loop = std::make_shared<rs::Loop>();
    const auto start = std::chrono::steady_clock::now();
    int early_fired = 0;
    int late_fired = 0;
    std::chrono::steady_clock::duration late_at{};
    auto early = loop->add_timer(0.02, [&](const rs::TimerHandle&) { ++early_fired; });
    loop->add_timer(0.1, [&](const rs::TimerHandle&) {
        ++late_fired;
        late_at = std::chrono::steady_clock::now() - start;
    });
    loop->cancel_timer(early);  // the armed wake-up (0.02 s) stays and finds nothing due
    loop->run();                // returns once the 0.1 s timer has fired: nothing else keeps it
    CHECK(early_fired == 0);
    CHECK(late_fired == 1);
    CHECK(late_at >= std::chrono::milliseconds(100));

    // A long timer cancelled with nothing else pending: run() does not wait for it.
    auto long_timer = loop->add_timer(30, [](const rs::TimerHandle&) {});
    loop->cancel_timer(long_timer);
    const auto before = std::chrono::steady_clock::now();
    loop->run();
    CHECK(std::chrono::steady_clock::now() - before < std::chrono::seconds(10));
}
