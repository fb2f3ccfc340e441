// reactsock demo: timers, a promise chain with cancellation, and a coroutine,
// all on one event loop. Run: bash scripts/demo.sh
//
// Exit status 0 when every step behaved as expected (tests run it too).
#include <reactsock/reactsock.hpp>

#include <cstdio>
#include <string>

namespace rs = reactsock;

namespace {

// A coroutine: waits on the loop twice, then yields a value.
rs::Promise<std::string> countdown(int from) {
    for (int i = from; i > 0; --i) {
        std::printf("  coroutine: %d...\n", i);
        co_await rs::sleep(0.05);
    }
    co_return "lift-off";
}

}  // namespace

int main() {
    auto loop = rs::Loop::get();
    int failures = 0;

    std::puts("1. timers");
    int ticks = 0;
    loop->add_periodic_timer(0.02, [&](const rs::TimerHandle& self) {
        std::printf("  periodic tick %d\n", ++ticks);
        if (ticks == 3) loop->cancel_timer(self);
    });
    loop->add_timer(0.01, [] { std::puts("  one-shot timer fired"); });
    loop->run();

    std::puts("2. a promise chain, and one that is cancelled");
    auto chain = rs::sleep(0.01)
                     .then([] { return 20; })
                     .then([](int v) { return v + 22; })
                     .then([](int v) { std::printf("  chain result: %d\n", v); });
    auto slow = rs::sleep(30).then([] { std::puts("  never printed"); });
    auto cancelled = slow.otherwise([&](const std::system_error& e) {
        std::printf("  cancelled: %s (errno %d)\n", e.what(), e.code().value());
    });
    loop->add_timer(0.02, [&] { slow.cancel(); });  // stops the 30 s timer at once
    rs::await(rs::all(std::vector<rs::Promise<void>>{chain, cancelled}));
    if (loop->timer_count() != 0) ++failures;

    std::puts("3. a coroutine");
    const std::string result = rs::await(countdown(3));
    std::printf("  coroutine result: %s\n", result.c_str());
    if (result != "lift-off") ++failures;

    std::puts("4. a timeout");
    try {
        rs::await(rs::timeout(rs::sleep(10), 0.05));
        ++failures;
    } catch (const std::system_error& e) {
        std::printf("  %s\n", e.what());
    }

    std::puts(failures == 0 ? "demo finished: all good" : "demo finished: something went wrong");
    return failures == 0 ? 0 : 1;
}
