#include <reactsock/promise/promise.hpp>

#include <doctest/doctest.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace rs = reactsock;

namespace {

// Collects unhandled rejections for the duration of a test.
class RejectionSpy {
public:
    RejectionSpy() {
        previous_ = rs::set_rejection_handler([this](std::exception_ptr e) {
            messages.push_back(rs::describe_exception(e));
        });
    }
    ~RejectionSpy() { rs::set_rejection_handler(previous_); }
    RejectionSpy(const RejectionSpy&) = delete;
    RejectionSpy& operator=(const RejectionSpy&) = delete;
    std::vector<std::string> messages;

private:
    rs::RejectionHandler previous_;
};

// The errno and what() of the std::system_error that `promise` rejected with.
struct Rejection {
    int code = 0;
    std::string message;
};
Rejection rejection_of(rs::Promise<int> promise) {
    Rejection out;
    promise.otherwise([&](const std::system_error& e) {
        out.code = e.code().value();
        out.message = e.what();
        return 0;
    });
    return out;
}

int errno_of(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::system_error& error) {
        return error.code().value();
    } catch (...) {
        return -1;
    }
}

}  // namespace

TEST_CASE("then() transforms values and flattens returned promises") {
    RejectionSpy spy;
    rs::Deferred<int> deferred;
    std::string result;
    deferred.promise()
        .then([](int v) { return v * 2; })
        .then([](int v) { return rs::resolve(std::to_string(v)); })
        .then([&](const std::string& s) { result = s; });
    CHECK(result.empty());
    deferred.resolve(21);
    CHECK(result == "42");  // synchronous settlement
    CHECK(spy.messages.empty());
}

TEST_CASE("then() on a settled promise runs the handler before it returns") {
    bool ran = false;
    auto p = rs::resolve(5).then([&](int v) {
        ran = true;
        return v + 1;
    });
    CHECK(ran);
    CHECK(p.is_fulfilled());
}

TEST_CASE("every consumer of a promise sees the same value, in registration order") {
    rs::Deferred<std::string> deferred;
    std::vector<std::string> seen;
    auto p = deferred.promise();
    p.then([&](const std::string& s) { seen.push_back("a:" + s); });
    p.then([&](std::string s) { seen.push_back("b:" + s); });
    deferred.resolve("v");
    deferred.resolve("ignored");  // settling twice does nothing
    deferred.reject(std::runtime_error("ignored too"));
    CHECK(seen == std::vector<std::string>{"a:v", "b:v"});
}

TEST_CASE("nested handlers run in depth-first order, like plain calls") {
    rs::Deferred<int> deferred;
    std::vector<std::string> order;
    auto p = deferred.promise();
    p.then([&](int) { order.push_back("a"); }).then([&] { order.push_back("a.1"); });
    p.then([&](int) { order.push_back("b"); });
    deferred.resolve(1);
    CHECK(order == std::vector<std::string>{"a", "a.1", "b"});
}

TEST_CASE("a throwing handler rejects the derived promise") {
    std::string message;
    rs::resolve(1)
        .then([](int) -> int { throw std::runtime_error("handler failed"); })
        .otherwise([&](const std::runtime_error& e) {
            message = e.what();
            return 0;
        });
    CHECK(message == "handler failed");
}

TEST_CASE("otherwise() catches by the handler's parameter type") {
    RejectionSpy spy;
    std::vector<std::string> caught;
    auto sys = rs::reject<int>(rs::Error(ECONNREFUSED, "refused (ECONNREFUSED)"));
    auto other = rs::reject<int>(std::runtime_error("not a system error"));

    // A system_error handler sees only system errors...
    auto passed = other.otherwise([&](const std::system_error&) {
        caught.push_back("wrong");
        return 1;
    });
    CHECK(passed.is_rejected());
    // ... which then pass on to the next matching handler.
    passed.otherwise([&](const std::exception& e) {
        caught.push_back(std::string("exception:") + e.what());
        return 2;
    });
    sys.otherwise([&](const std::system_error& e) {
        CHECK(e.code() == std::errc::connection_refused);
        caught.push_back(std::string("system:") + e.what());
        return 3;
    });
    rs::reject<int>(42).otherwise([&](std::exception_ptr) {  // a non-std exception
        caught.push_back("any");
        return 4;
    });
    CHECK(caught == std::vector<std::string>{"exception:not a system error",
                                             "system:refused (ECONNREFUSED)", "any"});
    CHECK(spy.messages.empty());
}

TEST_CASE("otherwise() passes fulfilment through and may recover with a promise") {
    int value = 0;
    rs::resolve(7).otherwise([](std::exception_ptr) { return 0; }).then([&](int v) { value = v; });
    CHECK(value == 7);
    rs::reject<int>(std::runtime_error("x"))
        .otherwise([](const std::exception&) { return rs::resolve(9); })
        .then([&](int v) { value = v; });
    CHECK(value == 9);
}

TEST_CASE("then(on_fulfilled, on_rejected) uses the matching handler") {
    std::string got;
    auto f = [&](int v) { got += "ok" + std::to_string(v); };
    auto r = [&](const std::exception& e) { got += std::string("err:") + e.what(); };
    rs::resolve(1).then(f, r);
    rs::reject<int>(std::runtime_error("x")).then(f, r);
    CHECK(got == "ok1err:x");
}

TEST_CASE("a rejection handler that rethrows keeps the promise rejected") {
    RejectionSpy spy;
    auto p = rs::reject<int>(std::runtime_error("original")).otherwise([](const std::exception&) -> int {
        throw;  // rethrow the handled exception
    });
    CHECK(p.is_rejected());
    std::string message;
    p.otherwise([&](const std::exception& e) {
        message = e.what();
        return 0;
    });
    CHECK(message == "original");
}

TEST_CASE("finally() runs on both paths and keeps the outcome") {
    RejectionSpy spy;
    int runs = 0;
    int value = 0;
    std::string error;
    rs::resolve(3).finally([&] { ++runs; }).then([&](int v) { value = v; });
    rs::reject<int>(std::runtime_error("kept"))
        .finally([&] { ++runs; })
        .otherwise([&](const std::exception& e) {
            error = e.what();
            return 0;
        });
    CHECK(runs == 2);
    CHECK(value == 3);
    CHECK(error == "kept");
    CHECK(spy.messages.empty());
}

TEST_CASE("finally(): a throw or a rejected returned promise wins; a pending one delays") {
    std::string error;
    rs::resolve(3)
        .finally([]() { throw std::runtime_error("finally threw"); })
        .otherwise([&](const std::exception& e) {
            error = e.what();
            return 0;
        });
    CHECK(error == "finally threw");

    rs::resolve(3)
        .finally([] { return rs::reject<void>(std::runtime_error("finally rejected")); })
        .otherwise([&](const std::exception& e) {
            error = e.what();
            return 0;
        });
    CHECK(error == "finally rejected");

    rs::Deferred<void> gate;
    int value = 0;
    rs::resolve(8).finally([&] { return gate.promise(); }).then([&](int v) { value = v; });
    CHECK(value == 0);
    gate.resolve();
    CHECK(value == 8);
}

TEST_CASE("Promise<void> chains") {
    rs::Deferred<void> deferred;
    std::vector<std::string> order;
    deferred.promise()
        .then([&] { order.push_back("void"); })
        .then([&] {
            order.push_back("to-int");
            return 5;
        })
        .then([&](int v) { order.push_back(std::to_string(v)); });
    deferred.resolve();
    CHECK(order == std::vector<std::string>{"void", "to-int", "5"});
}

TEST_CASE("resolving a promise with itself rejects with a logic_error") {
    rs::Deferred<int> deferred;
    rs::Promise<int> self;
    self = deferred.promise().then([&](int) { return self; });
    deferred.resolve(1);
    std::string message;
    self.otherwise([&](const std::logic_error& e) {
        message = e.what();
        return 0;
    });
    CHECK(message == "Cannot resolve a promise with itself.");
}

TEST_CASE("an empty promise refuses to be used") {
    rs::Promise<int> empty;
    CHECK_FALSE(empty.valid());
    CHECK_THROWS_AS(empty.then([](int) {}), std::logic_error);
}

// ---- cancellation -----------------------------------------------------------

TEST_CASE("cancel() runs the canceller and rejects with ECANCELED when it did not settle") {
    int cancelled = 0;
    rs::Deferred<int> deferred([&] { ++cancelled; });
    auto p = deferred.promise();
    p.cancel();
    p.cancel();  // once only
    CHECK(cancelled == 1);
    REQUIRE(p.is_rejected());
    const auto rejection = rejection_of(p);
    CHECK(rejection.code == ECANCELED);
    CHECK(rejection.message == "Promise cancelled (ECANCELED)");
}

TEST_CASE("the canceller may settle with a reason of its own") {
    rs::Deferred<int> deferred([](rs::Deferred<int>& self) {
        self.reject(rs::Error(ECONNABORTED, "Connection cancelled (ECONNABORTED)"));
    });
    auto child = deferred.promise().then([](int v) { return v; });
    child.cancel();
    std::string message;
    child.otherwise([&](const std::system_error& e) {
        message = e.what();
        return 0;
    });
    CHECK(message == "Connection cancelled (ECONNABORTED)");
}

TEST_CASE("cancel on a settled promise does nothing") {
    int cancelled = 0;
    rs::Deferred<int> deferred([&] { ++cancelled; });
    deferred.resolve(1);
    deferred.promise().cancel();
    CHECK(cancelled == 0);
    CHECK(deferred.promise().is_fulfilled());
}

TEST_CASE("cancellation reaches the parent only when every consumer cancelled") {
    int cancelled = 0;
    rs::Deferred<int> deferred([&] { ++cancelled; });
    auto a = deferred.promise().then([](int v) { return v; });
    auto b = deferred.promise().then([](int v) { return v; });
    a.cancel();
    CHECK(cancelled == 0);
    CHECK(a.is_rejected());  // the cancelled consumer settles at once
    CHECK(deferred.is_pending());
    b.cancel();
    CHECK(cancelled == 1);
    CHECK(b.is_rejected());
}

TEST_CASE("the handlers of a cancelled promise never run") {
    rs::Deferred<int> deferred;
    bool ran = false;
    auto a = deferred.promise().then([&](int) { ran = true; });
    auto keep = deferred.promise().then([](int) {});  // a second consumer keeps the root alive
    a.cancel();
    deferred.resolve(1);
    CHECK_FALSE(ran);
    CHECK(keep.is_fulfilled());
}

TEST_CASE("a root without canceller is not rejected by its consumers' cancellation") {
    rs::Deferred<int> deferred;
    bool ran = false;
    auto child = deferred.promise().then([&](int v) {
        ran = true;
        return v;
    });
    child.cancel();
    CHECK(child.is_rejected());
    CHECK(deferred.is_pending());
    deferred.resolve(3);
    CHECK(deferred.promise().is_fulfilled());
    CHECK_FALSE(ran);  // the cancelled consumer never sees the value ...
    int later = 0;
    deferred.promise().then([&](int v) { later = v; });
    CHECK(later == 3);  // ... a consumer added afterwards does
}

TEST_CASE("cancelling a Deferred's own promise without canceller rejects it at once with ECANCELED") {
    RejectionSpy spy;
    rs::Deferred<int> deferred;
    auto promise = deferred.promise();
    std::exception_ptr passed_on;
    auto follower = promise.then([](int v) { return v; });  // a consumer that did not cancel
    follower.otherwise([&](std::exception_ptr e) {
        passed_on = e;
        return 0;
    });
    promise.cancel();
    REQUIRE(promise.is_rejected());
    CHECK_FALSE(deferred.is_pending());
    const auto rejection = rejection_of(promise);
    CHECK(rejection.code == ECANCELED);
    CHECK(rejection.message == "Promise cancelled (ECANCELED)");
    CHECK(errno_of(passed_on) == ECANCELED);  // followers reject with the same error
    CHECK(spy.messages.empty());
}

TEST_CASE("cancelled from inside a handler, a root without canceller rejects once that handler returns") {
    rs::Deferred<int> deferred;
    auto promise = deferred.promise();
    bool pending_inside = false;
    rs::resolve().then([&] {
        promise.cancel();
        pending_inside = promise.is_pending();
    });
    CHECK(pending_inside);
    CHECK(promise.is_rejected());
    promise.otherwise([](std::exception_ptr e) {
        CHECK(errno_of(e) == ECANCELED);
        return 0;
    });
}

TEST_CASE("settling a Deferred after its promise was cancelled drops the value") {
    RejectionSpy spy;
    rs::Deferred<std::shared_ptr<int>> deferred;
    deferred.promise().cancel();
    REQUIRE(deferred.promise().is_rejected());

    // resolve() neither stores nor moves from its argument: it stays the caller's.
    auto value = std::make_shared<int>(7);
    deferred.resolve(std::move(value));
    CHECK(value != nullptr);  // NOLINT(bugprone-use-after-move): what this test is about
    std::weak_ptr<int> watch = value;
    value.reset();
    CHECK(watch.expired());  // the Deferred kept no copy
    deferred.reject(std::runtime_error("too late"));

    bool fulfilled = false;
    int code = 0;
    deferred.promise()
        .then([&](const std::shared_ptr<int>&) { fulfilled = true; })
        .otherwise([&](const std::system_error& e) { code = e.code().value(); });
    CHECK_FALSE(fulfilled);
    CHECK(code == ECANCELED);  // still the cancellation, not "too late"
    CHECK(spy.messages.empty());  // the ignored reason is not reported either
}

TEST_CASE("cancelling the end of a long chain cancels the root once, without recursion") {
    int cancelled = 0;
    rs::Deferred<int> deferred([&] { ++cancelled; });
    rs::Promise<int> p = deferred.promise();
    for (int i = 0; i < 100000; ++i) p = p.then([](int v) { return v + 1; });
    p.cancel();
    CHECK(cancelled == 1);
    CHECK(p.is_rejected());
    p.otherwise([](std::exception_ptr e) {
        CHECK(errno_of(e) == ECANCELED);
        return 0;
    });
}

TEST_CASE("cancel forwards to a promise a handler returned") {
    int inner_cancelled = 0;
    rs::Deferred<int> inner([&] { ++inner_cancelled; });
    auto outer = rs::resolve(1).then([&](int) { return inner.promise(); });
    CHECK(outer.is_pending());
    outer.cancel();
    CHECK(inner_cancelled == 1);
    CHECK(outer.is_rejected());
}

TEST_CASE("a throwing canceller rejects with its exception") {
    rs::Deferred<int> deferred([]() { throw std::runtime_error("canceller failed"); });
    auto p = deferred.promise();
    p.cancel();
    std::string message;
    p.otherwise([&](const std::exception& e) {
        message = e.what();
        return 0;
    });
    CHECK(message == "canceller failed");
}

// ---- unhandled rejections ------------------------------------------------------

TEST_CASE("an unhandled rejection is reported once, when the last reference goes") {
    RejectionSpy spy;
    {
        auto p = rs::reject<int>(std::runtime_error("nobody listens"));
        CHECK(spy.messages.empty());
    }
    CHECK(spy.messages == std::vector<std::string>{"nobody listens"});
}

TEST_CASE("a rejection forwarded down a dropped chain is reported once, by its end") {
    RejectionSpy spy;
    rs::Deferred<int> deferred;
    deferred.promise().then([](int v) { return v; }).then([](int v) { return v; });
    deferred.reject(std::runtime_error("lost"));
    CHECK(spy.messages == std::vector<std::string>{"lost"});
}

TEST_CASE("handled, cancelled and awaited rejections are not reported") {
    RejectionSpy spy;
    rs::reject<int>(std::runtime_error("a")).otherwise([](std::exception_ptr) { return 0; });
    rs::reject<int>(std::runtime_error("b")).then([](int) {}, [](std::exception_ptr) {});
    rs::reject<int>(std::runtime_error("c")).finally([] {}).otherwise([](std::exception_ptr) { return 0; });
    rs::reject<int>(std::runtime_error("d")).cancel();
    rs::Deferred<int> cancelled([] {});
    cancelled.promise().cancel();
    CHECK(spy.messages.empty());
}

TEST_CASE("a handler throwing in a dropped chain is reported") {
    RejectionSpy spy;
    rs::resolve(1).then([](int) { throw std::runtime_error("thrown in handler"); });
    CHECK(spy.messages == std::vector<std::string>{"thrown in handler"});
}

TEST_CASE("the default report goes to stderr with the exception type") {
    const auto previous = rs::set_rejection_handler(nullptr);
    char path[] = "/tmp/reactsock-stderr-XXXXXX";
    const int file = mkstemp(path);
    REQUIRE(file >= 0);
    std::fflush(stderr);
    const int saved = dup(STDERR_FILENO);
    dup2(file, STDERR_FILENO);
    { auto p = rs::reject<int>(rs::Error(ETIMEDOUT, "Timed out after 1 seconds")); }
    std::fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(file);
    rs::set_rejection_handler(previous);
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    unlink(path);
    CHECK(text.str() == "Unhandled promise rejection with reactsock::Error: Timed out after 1 seconds\n");
}

// ---- stack safety ---------------------------------------------------------------

TEST_CASE("100,000 chained thens settle without overflowing the stack") {
    rs::Deferred<int> deferred;
    rs::Promise<int> p = deferred.promise();
    for (int i = 0; i < 100000; ++i) p = p.then([](int v) { return v + 1; });
    int result = 0;
    p.then([&](int v) { result = v; });
    deferred.resolve(0);
    CHECK(result == 100000);
}

TEST_CASE("dropping a long pending chain frees it without overflowing the stack") {
    auto token = std::make_shared<int>(0);
    {
        rs::Deferred<int> deferred;
        rs::Promise<int> p = deferred.promise();
        for (int i = 0; i < 100000; ++i) p = p.then([token](int v) { return v + 1; });
        CHECK(token.use_count() == 100001);
    }
    CHECK(token.use_count() == 1);
}

namespace {
rs::Promise<int> count_down(int n) {
    if (n == 0) return rs::resolve(0);
    return rs::resolve(n).then([](int v) { return count_down(v - 1).then([](int r) { return r + 1; }); });
}
}  // namespace

TEST_CASE("deep recursion through settled promises stays off the stack") {
    int result = -1;
    count_down(100000).then([&](int v) { result = v; });
    CHECK(result == 100000);
}

// ---- coroutines ---------------------------------------------------------------------

namespace {

rs::Promise<int> add_one(rs::Promise<int> input) {
    const int v = co_await std::move(input);
    co_return v + 1;
}

rs::Promise<void> fail_after(rs::Promise<int> input) {
    co_await std::move(input);
    throw std::runtime_error("escaped the coroutine");
}

rs::Promise<std::string> catch_inside(rs::Promise<int> input) {
    try {
        co_await std::move(input);
    } catch (const std::system_error& e) {
        co_return std::string("caught: ") + e.what();
    }
    co_return std::string("no error");
}

struct Tracker {
    std::shared_ptr<int> token;
    ~Tracker() { ++*token; }
};

rs::Promise<int> waits_forever(rs::Promise<int> input, std::shared_ptr<int> destroyed) {
    Tracker tracker{std::move(destroyed)};
    co_return co_await std::move(input);
}

}  // namespace

TEST_CASE("co_await a fulfilled, a pending and a rejected promise") {
    auto now = add_one(rs::resolve(1));
    CHECK(now.is_fulfilled());  // ran to completion without suspending

    rs::Deferred<int> later;
    auto p = add_one(later.promise());
    CHECK(p.is_pending());
    int value = 0;
    p.then([&](int v) { value = v; });
    later.resolve(41);
    CHECK(value == 42);

    std::string message;
    catch_inside(rs::reject<int>(rs::Error(EPIPE, "broken"))).then([&](const std::string& s) { message = s; });
    CHECK(message == "caught: broken");
}

TEST_CASE("an exception escaping a coroutine rejects its promise") {
    rs::Deferred<int> input;
    auto p = fail_after(input.promise());
    input.resolve(1);
    std::string message;
    p.otherwise([&](const std::exception& e) { message = e.what(); });
    CHECK(message == "escaped the coroutine");
}

TEST_CASE("cancelling a suspended coroutine cancels what it awaits") {
    int cancelled = 0;
    rs::Deferred<int> input([&](rs::Deferred<int>& self) {
        ++cancelled;
        self.reject(rs::Error(ECONNABORTED, "aborted by cancel"));
    });
    auto p = catch_inside(input.promise());
    CHECK(p.is_pending());
    std::string message;
    p.then([&](const std::string& s) { message = s; });
    p.cancel();
    CHECK(cancelled == 1);
    // The coroutine saw the cancellation as an exception and finished with it.
    CHECK(message == "caught: aborted by cancel");
}

TEST_CASE("a coroutine waiting on a promise that can no longer settle is destroyed") {
    auto destroyed = std::make_shared<int>(0);
    rs::Promise<int> result;
    {
        rs::Deferred<int> input;
        result = waits_forever(input.promise(), destroyed);
        CHECK(*destroyed == 0);
    }  // the only producer is gone: the frame and its locals are freed
    CHECK(*destroyed == 1);
    CHECK(result.is_pending());
}

TEST_CASE("coroutines chain through each other") {
    rs::Deferred<int> input;
    auto p = add_one(add_one(add_one(input.promise())));
    input.resolve(0);
    CHECK(p.is_fulfilled());
    int value = 0;
    p.then([&](int v) { value = v; });
    CHECK(value == 3);
}
