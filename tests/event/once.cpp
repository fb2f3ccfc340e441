// rs::once(emitter, tag): the next emit of a typed event as a promise.
#include <reactsock/event/once.hpp>

#include <reactsock/error.hpp>
#include <reactsock/event/event_emitter.hpp>
#include <reactsock/event/events.hpp>

#include <doctest/doctest.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <string>
#include <tuple>

namespace rs = reactsock;

namespace {

struct Emitter : rs::EventEmitter {};

struct progress_t : rs::Event<std::size_t, std::string_view> {};
inline constexpr progress_t progress{};

// The settled value/reason of a promise that has settled synchronously.
template <class T>
struct Outcome {
    std::optional<T> value;
    std::string error;
    int code = 0;
};

template <class T>
std::shared_ptr<Outcome<T>> watch(const rs::Promise<T>& promise) {
    auto out = std::make_shared<Outcome<T>>();
    promise.then([out](const T& v) { out->value = v; },
                 [out](std::exception_ptr e) {
                     try {
                         std::rethrow_exception(e);
                     } catch (const std::system_error& error) {
                         out->error = error.what();
                         out->code = error.code().value();
                     }
                 });
    return out;
}

std::shared_ptr<Outcome<bool>> watch(const rs::Promise<void>& promise) {
    return watch(promise.then([] { return true; }));
}

}  // namespace

TEST_CASE("once: resolves with the next emit's arguments, kept as values") {
    auto emitter = std::make_shared<Emitter>();
    auto closed = watch(rs::once(emitter, rs::ev::close));
    std::string buffer = "first chunk";
    auto data = watch(rs::once(emitter, rs::ev::data));
    auto both = watch(rs::once(emitter, progress));
    CHECK_FALSE(closed->value);
    CHECK(emitter->listener_count(rs::ev::close) == 1);
    CHECK(emitter->listener_count(rs::ev::error) == 3);

    emitter->emit(rs::ev::data, std::string_view(buffer));
    buffer = "overwritten";  // the promise kept a copy, not the view
    REQUIRE(data->value);
    CHECK(*data->value == "first chunk");
    emitter->emit(rs::ev::data, std::string_view("second"));  // only the next emit counts
    CHECK(*data->value == "first chunk");

    emitter->emit(progress, std::size_t{3}, std::string_view("of ten"));
    REQUIRE(both->value);
    CHECK(std::get<0>(*both->value) == 3);
    CHECK(std::get<1>(*both->value) == "of ten");

    emitter->emit(rs::ev::close);
    CHECK(closed->value);
    // Every listener, the error ones included, is gone.
    CHECK(emitter->listener_count(rs::ev::close) == 0);
    CHECK(emitter->listener_count(rs::ev::data) == 0);
    CHECK(emitter->listener_count(rs::ev::error) == 0);
}

TEST_CASE("once: an error emitted first rejects with it; waiting for ev::error resolves with it") {
    auto emitter = std::make_shared<Emitter>();
    auto data = watch(rs::once(emitter, rs::ev::data));
    auto error = watch(rs::once(emitter, rs::ev::error));
    emitter->emit(rs::ev::error, rs::Error(ECONNRESET, "Connection reset by peer (ECONNRESET)"));
    CHECK(data->error == "Connection reset by peer (ECONNRESET)");
    CHECK(data->code == ECONNRESET);
    REQUIRE(error->value);
    CHECK(std::string(error->value->what()) == "Connection reset by peer (ECONNRESET)");
    CHECK(error->value->code().value() == ECONNRESET);
    CHECK(emitter->listener_count(rs::ev::data) == 0);
    CHECK(emitter->listener_count(rs::ev::error) == 0);
}

TEST_CASE("once: cancel removes the listeners and rejects with ECANCELED") {
    auto emitter = std::make_shared<Emitter>();
    auto promise = rs::once(emitter, rs::ev::end);
    auto outcome = watch(promise);
    promise.cancel();
    CHECK(outcome->code == ECANCELED);
    CHECK(outcome->error == "Waiting for the event was cancelled (ECANCELED)");
    CHECK(emitter->listener_count(rs::ev::end) == 0);
    CHECK(emitter->listener_count(rs::ev::error) == 0);
    emitter->emit(rs::ev::end);  // nothing left to call
}

TEST_CASE("once: an emitter that drops its listeners (a stream on close) or goes away rejects, never hangs") {
    auto emitter = std::make_shared<Emitter>();
    auto dropped = watch(rs::once(emitter, rs::ev::data));
    emitter->remove_all_listeners();
    CHECK(dropped->code == ECANCELED);
    CHECK(dropped->error == "Emitter dropped its listeners before the event (ECANCELED)");

    auto gone = watch(rs::once(emitter, rs::ev::drain));
    emitter.reset();
    CHECK(gone->code == ECANCELED);
}

TEST_CASE("once: in a coroutine, co_await gives the value") {
    auto emitter = std::make_shared<Emitter>();
    auto task = [](std::shared_ptr<Emitter> e) -> rs::Promise<std::string> {
        const std::string first = co_await rs::once(e, rs::ev::data);
        co_await rs::once(e, rs::ev::end);
        co_return first + " then end";
    };
    auto result = watch(task(emitter));
    emitter->emit(rs::ev::data, std::string_view("hello"));
    CHECK_FALSE(result->value);
    emitter->emit(rs::ev::end);
    REQUIRE(result->value);
    CHECK(*result->value == "hello then end");
}

TEST_CASE("once: a null emitter is std::invalid_argument") {
    std::shared_ptr<Emitter> none;
    CHECK_THROWS_AS((void)rs::once(none, rs::ev::close), std::invalid_argument);
}
