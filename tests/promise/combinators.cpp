#include <reactsock/promise/combinators.hpp>

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace rs = reactsock;

TEST_CASE("all() fulfils with every value in input order") {
    rs::Deferred<int> a;
    rs::Deferred<int> b;
    std::vector<int> values;
    rs::all(std::vector<rs::Promise<int>>{a.promise(), b.promise(), rs::resolve(3)})
        .then([&](const std::vector<int>& v) { values = v; });
    b.resolve(2);
    CHECK(values.empty());
    a.resolve(1);
    CHECK(values == std::vector<int>{1, 2, 3});
}

TEST_CASE("all() of nothing fulfils at once; all() of void promises") {
    bool empty_done = false;
    rs::all(std::vector<rs::Promise<int>>{}).then([&](const std::vector<int>& v) { empty_done = v.empty(); });
    CHECK(empty_done);
    rs::Deferred<void> a;
    bool done = false;
    rs::all(std::vector<rs::Promise<void>>{a.promise(), rs::resolve()}).then([&] { done = true; });
    CHECK_FALSE(done);
    a.resolve();
    CHECK(done);
}

TEST_CASE("all() rejects with the first rejection") {
    rs::Deferred<int> a;
    rs::Deferred<int> b;
    std::string message;
    rs::all(std::vector<rs::Promise<int>>{a.promise(), b.promise()})
        .otherwise([&](const std::exception& e) {
            message = e.what();
            return std::vector<int>{};
        });
    b.reject(std::runtime_error("second input failed"));
    a.reject(std::runtime_error("later failure"));
    CHECK(message == "second input failed");
}

TEST_CASE("race() settles like the first input to settle") {
    rs::Deferred<int> a;
    rs::Deferred<int> b;
    int value = 0;
    rs::race(std::vector<rs::Promise<int>>{a.promise(), b.promise()}).then([&](int v) { value = v; });
    b.resolve(2);
    a.resolve(1);
    CHECK(value == 2);

    rs::Deferred<int> c;
    std::string message;
    rs::race(std::vector<rs::Promise<int>>{c.promise(), rs::Deferred<int>().promise()})
        .otherwise([&](const std::exception& e) {
            message = e.what();
            return 0;
        });
    c.reject(std::runtime_error("first to settle rejected"));
    CHECK(message == "first to settle rejected");
}

TEST_CASE("race() of nothing stays pending") {
    auto p = rs::race(std::vector<rs::Promise<int>>{});
    CHECK(p.is_pending());
}

TEST_CASE("any() fulfils with the first fulfilment, ignoring rejections") {
    rs::Deferred<int> a;
    rs::Deferred<int> b;
    int value = 0;
    rs::any(std::vector<rs::Promise<int>>{a.promise(), b.promise()}).then([&](int v) { value = v; });
    a.reject(std::runtime_error("a failed"));
    CHECK(value == 0);
    b.resolve(5);
    CHECK(value == 5);
}

TEST_CASE("any() rejects with every reason when all reject") {
    rs::Deferred<int> a;
    rs::Deferred<int> b;
    std::vector<std::string> reasons;
    std::string message;
    rs::any(std::vector<rs::Promise<int>>{a.promise(), b.promise()})
        .otherwise([&](const rs::AggregateError& e) {
            message = e.what();
            for (const auto& r : e.errors()) reasons.push_back(rs::describe_exception(r));
            return 0;
        });
    b.reject(std::runtime_error("b failed"));
    a.reject(std::runtime_error("a failed"));
    CHECK(message == "All promises rejected.");
    CHECK(reasons == std::vector<std::string>{"a failed", "b failed"});
}

TEST_CASE("any() of nothing rejects with a length_error") {
    std::string message;
    rs::any(std::vector<rs::Promise<int>>{}).otherwise([&](const std::length_error& e) {
        message = e.what();
        return 0;
    });
    CHECK(message == "Must contain at least 1 item but contains only 0 items.");
}

TEST_CASE("cancelling all/race/any cancels every pending input") {
    int cancelled = 0;
    auto make = [&] { return rs::Deferred<int>([&] { ++cancelled; }); };
    auto a = make();
    auto b = make();
    auto settled = rs::resolve(1);
    auto all = rs::all(std::vector<rs::Promise<int>>{a.promise(), b.promise(), settled});
    all.cancel();
    CHECK(cancelled == 2);
    CHECK(all.is_rejected());

    auto c = make();
    auto race = rs::race(std::vector<rs::Promise<int>>{c.promise()});
    race.cancel();
    CHECK(cancelled == 3);

    auto d = make();
    auto any = rs::any(std::vector<rs::Promise<int>>{d.promise()});
    any.cancel();
    CHECK(cancelled == 4);
    CHECK(any.is_rejected());
}
