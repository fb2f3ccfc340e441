#include <reactsock/event/event_emitter.hpp>
#include <reactsock/event/events.hpp>

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace rs = reactsock;

namespace {

struct progress_t : rs::Event<int, const std::string&> {};
inline constexpr progress_t progress{};

struct ping_t : rs::Event<> {};
inline constexpr ping_t ping{};

// Compile-time signature checks: the tag decides what a listener may be.
template <class Tag, class F>
concept can_listen = requires(rs::EventEmitter& e, Tag tag, F f) { e.on(tag, f); };

}  // namespace

TEST_CASE("listeners run in registration order with the tag's arguments") {
    rs::EventEmitter emitter;
    std::vector<std::string> calls;
    emitter.on(progress, [&](int n, const std::string& s) { calls.push_back("a" + std::to_string(n) + s); });
    emitter.on(progress, [&](int n, std::string s) { calls.push_back("b" + std::to_string(n) + s); });
    emitter.emit(progress, 7, std::string("x"));
    CHECK(calls == std::vector<std::string>{"a7x", "b7x"});
    CHECK(emitter.listener_count(progress) == 2);
    CHECK(emitter.listener_count(ping) == 0);
}

TEST_CASE("emitting an event without listeners does nothing, error included") {
    rs::EventEmitter emitter;
    emitter.emit(ping);
    emitter.emit(rs::ev::error, std::system_error(std::make_error_code(std::errc::io_error)));
    CHECK(emitter.listener_count(rs::ev::error) == 0);
}

TEST_CASE("remove_listener by handle, and only once") {
    rs::EventEmitter emitter;
    int a = 0;
    int b = 0;
    auto ha = emitter.on(ping, [&] { ++a; });
    emitter.on(ping, [&] { ++b; });
    CHECK(ha);
    CHECK(emitter.remove_listener(ha));
    CHECK_FALSE(emitter.remove_listener(ha));
    CHECK_FALSE(emitter.remove_listener(rs::ListenerHandle{}));
    emitter.emit(ping);
    CHECK(a == 0);
    CHECK(b == 1);
}

TEST_CASE("once listeners run once, also when re-emitted from inside") {
    rs::EventEmitter emitter;
    int count = 0;
    emitter.once(ping, [&] {
        ++count;
        emitter.emit(ping);  // must not call this listener again
    });
    emitter.emit(ping);
    emitter.emit(ping);
    CHECK(count == 1);
    CHECK(emitter.listener_count(ping) == 0);
}

TEST_CASE("a listener added during emit runs from the next emit on") {
    rs::EventEmitter emitter;
    int late = 0;
    int early = 0;
    emitter.on(ping, [&] {
        ++early;
        if (early == 1) emitter.on(ping, [&] { ++late; });
    });
    emitter.emit(ping);
    CHECK(late == 0);
    emitter.emit(ping);
    CHECK(late == 1);
    CHECK(early == 2);
}

TEST_CASE("a listener removed during emit is not called afterwards") {
    rs::EventEmitter emitter;
    int second = 0;
    rs::ListenerHandle second_handle;
    emitter.on(ping, [&] { emitter.remove_listener(second_handle); });
    second_handle = emitter.on(ping, [&] { ++second; });
    emitter.emit(ping);
    CHECK(second == 0);
    CHECK(emitter.listener_count(ping) == 1);
}

TEST_CASE("a listener may remove itself and everything else while running") {
    rs::EventEmitter emitter;
    int self_calls = 0;
    int other = 0;
    rs::ListenerHandle self;
    self = emitter.on(ping, [&] {
        ++self_calls;
        CHECK(emitter.remove_listener(self));
        emitter.remove_all_listeners();
    });
    emitter.on(ping, [&] { ++other; });
    emitter.on(progress, [&](int, const std::string&) { ++other; });
    emitter.emit(ping);
    emitter.emit(ping);
    emitter.emit(progress, 1, std::string());
    CHECK(self_calls == 1);
    CHECK(other == 0);
    CHECK(emitter.listener_count(ping) == 0);
    CHECK(emitter.listener_count(progress) == 0);
}

TEST_CASE("remove_all_listeners of one event keeps the others") {
    rs::EventEmitter emitter;
    int pings = 0;
    int progresses = 0;
    emitter.on(ping, [&] { ++pings; });
    emitter.on(progress, [&](int, const std::string&) { ++progresses; });
    emitter.remove_all_listeners(ping);
    emitter.emit(ping);
    emitter.emit(progress, 1, std::string("y"));
    CHECK(pings == 0);
    CHECK(progresses == 1);
}

TEST_CASE("nested emits of different events and listeners added for new events") {
    rs::EventEmitter emitter;
    std::vector<std::string> order;
    emitter.on(ping, [&] {
        order.push_back("ping");
        // A new event slot while `ping` is being emitted.
        emitter.on(progress, [&](int n, const std::string&) { order.push_back("progress" + std::to_string(n)); });
        emitter.emit(progress, 1, std::string());
    });
    emitter.emit(ping);
    CHECK(order == std::vector<std::string>{"ping", "progress1"});
}

TEST_CASE("an exception from a listener propagates and leaves the emitter usable") {
    rs::EventEmitter emitter;
    int after = 0;
    emitter.once(ping, [] { throw std::runtime_error("listener failed"); });
    emitter.on(ping, [&] { ++after; });
    CHECK_THROWS_WITH_AS(emitter.emit(ping), "listener failed", std::runtime_error);
    emitter.emit(ping);
    CHECK(after == 1);
    CHECK(emitter.listener_count(ping) == 1);
}

TEST_CASE("data listeners get a view; captured state is released with the listener") {
    rs::EventEmitter emitter;
    auto token = std::make_shared<int>(1);
    std::string seen;
    auto handle = emitter.on(rs::ev::data, [&seen, token](std::string_view chunk) { seen.append(chunk); });
    emitter.emit(rs::ev::data, std::string_view("hello"));
    CHECK(seen == "hello");
    CHECK(token.use_count() == 2);
    emitter.remove_listener(handle);
    CHECK(token.use_count() == 1);
}

TEST_CASE("listener signatures are checked at compile time") {
    static_assert(can_listen<progress_t, void (*)(int, const std::string&)>);
    static_assert(can_listen<rs::ev::data_t, void (*)(std::string_view)>);
    static_assert(can_listen<rs::ev::error_t, void (*)(const std::system_error&)>);
    // A listener of the wrong signature is a compile error (static_assert in
    // on()), which a test cannot observe at run time.
}
