// Tests of include/reactsock/stream/through_stream.hpp (ReactPHP's ThroughStreamTest).
#include <reactsock/stream/through_stream.hpp>

#include <reactsock/error.hpp>

#include "stream/stream_test_util.hpp"

#include <doctest/doctest.h>

#include <cctype>
#include <cerrno>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

namespace rs = reactsock;
using rs::test::EventLog;
using rs::test::SlowSink;

namespace {
using Events = std::vector<std::string>;

std::string upper(std::string_view in) {
    std::string out(in);
    for (char& c : out)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}
}  // namespace

TEST_CASE("a ThroughStream starts readable, writable and not paused") {
    auto through = std::make_shared<rs::ThroughStream>();
    CHECK(through->is_readable());
    CHECK(through->is_writable());
    CHECK(through->write("x"));  // not paused
    through->close();
}

TEST_CASE("write() emits `data` synchronously and returns true") {
    auto through = std::make_shared<rs::ThroughStream>();
    EventLog log;
    log.record(*through);
    CHECK(through->write("foo"));
    CHECK(log.events == Events{"data:foo"});
    through->close();
}

TEST_CASE("the transform maps each chunk, in both callable forms") {
    SUBCASE("std::string(std::string_view)") {
        auto through = std::make_shared<rs::ThroughStream>(upper);
        EventLog log;
        log.record(*through);
        CHECK(through->write("foo"));
        CHECK(log.events == Events{"data:FOO"});
        through->close();
    }
    SUBCASE("void(std::string_view, std::string&)") {
        auto through = std::make_shared<rs::ThroughStream>(
            [](std::string_view in, std::string& out) { out.append(in).append(in); });
        EventLog log;
        log.record(*through);
        through->write("ab");
        through->write("c");
        CHECK(log.events == Events{"data:abab", "data:cc"});
        through->close();
    }
}

TEST_CASE("an empty transform is rejected") {
    CHECK_THROWS_WITH_AS(rs::ThroughStream(std::function<std::string(std::string_view)>()),
                         "Invalid transformation callback given", std::invalid_argument);
    std::string (*null_function)(std::string_view) = nullptr;
    CHECK_THROWS_AS(rs::ThroughStream{null_function}, std::invalid_argument);
}

TEST_CASE("a throwing transform emits `error` then `close`, and no `data` or `end`") {
    SUBCASE("std::runtime_error -> EINVAL") {
        auto through = std::make_shared<rs::ThroughStream>(
            [](std::string_view) -> std::string { throw std::runtime_error("bad chunk"); });
        EventLog log;
        log.record(*through);
        int code = 0;
        through->on(rs::ev::error, [&](const std::system_error& e) { code = e.code().value(); });

        CHECK_FALSE(through->write("foo"));
        CHECK(log.events == Events{"error:bad chunk", "close"});
        CHECK(code == EINVAL);
        CHECK_FALSE(through->is_readable());
        CHECK_FALSE(through->is_writable());
    }
    SUBCASE("a std::system_error keeps its code") {
        auto through = std::make_shared<rs::ThroughStream>([](std::string_view) -> std::string {
            throw rs::Error(EPROTO, "Protocol error in chunk");
        });
        std::error_code code;
        std::string what;
        through->on(rs::ev::error, [&](const std::system_error& e) {
            code = e.code();
            what = e.what();
        });
        through->write("foo");
        CHECK(code == std::errc::protocol_error);
        CHECK(what == "Protocol error in chunk");
    }
    SUBCASE("through end(data)") {
        auto through = std::make_shared<rs::ThroughStream>(
            [](std::string_view) -> std::string { throw std::runtime_error("bad chunk"); });
        EventLog log;
        log.record(*through);
        through->end("foo");
        CHECK(log.events == Events{"error:bad chunk", "close"});
    }
}

TEST_CASE("write() returns false while paused, and `drain` follows on resume()") {
    auto through = std::make_shared<rs::ThroughStream>();
    EventLog log;
    log.record(*through);

    through->pause();
    CHECK_FALSE(through->write("foo"));  // still emitted: pausing is advisory
    CHECK(log.events == Events{"data:foo"});
    through->resume();
    CHECK(log.events == Events{"data:foo", "drain"});
    through->resume();  // idempotent: no second drain
    CHECK(log.count("drain") == 1);
    through->close();
}

TEST_CASE("resume() without a throttled write emits no `drain`") {
    auto through = std::make_shared<rs::ThroughStream>();
    EventLog log;
    log.record(*through);
    through->pause();
    through->pause();
    through->resume();
    CHECK(log.events.empty());
    through->close();
}

TEST_CASE("no `drain` after close, even after a throttled write") {
    auto through = std::make_shared<rs::ThroughStream>();
    int drains = 0;
    through->pause();
    through->write("foo");
    through->on(rs::ev::drain, [&] { ++drains; });
    through->close();
    through->resume();
    CHECK(drains == 0);
}

TEST_CASE("write() returns false when a `data` listener ends or closes the stream") {
    SUBCASE("end") {
        auto through = std::make_shared<rs::ThroughStream>();
        EventLog log;
        log.record(*through);
        through->on(rs::ev::data, [&](std::string_view) { through->end(); });
        CHECK_FALSE(through->write("foo"));
        CHECK(log.events == Events{"data:foo", "end", "close"});
    }
    SUBCASE("close") {
        auto through = std::make_shared<rs::ThroughStream>();
        EventLog log;
        log.record(*through);
        through->on(rs::ev::data, [&](std::string_view) { through->close(); });
        CHECK_FALSE(through->write("foo"));
        CHECK(log.events == Events{"data:foo", "close"});
    }
}

TEST_CASE("end() emits `end` then `close`; end(data) emits the data first") {
    SUBCASE("end()") {
        auto through = std::make_shared<rs::ThroughStream>();
        EventLog log;
        log.record(*through);
        through->end();
        CHECK(log.events == Events{"end", "close"});
    }
    SUBCASE("end(data)") {
        auto through = std::make_shared<rs::ThroughStream>(upper);
        EventLog log;
        log.record(*through);
        through->end("bye");
        CHECK(log.events == Events{"data:BYE", "end", "close"});
    }
}

TEST_CASE("end() twice emits once; write() and end() after end() are no-ops") {
    auto through = std::make_shared<rs::ThroughStream>();
    EventLog log;
    log.record(*through);
    through->end();
    // The stream dropped its listeners on close: listen again.
    EventLog after;
    after.record(*through);
    through->end("more");
    CHECK_FALSE(through->write("more"));
    through->close();
    CHECK(log.events == Events{"end", "close"});
    CHECK(after.events.empty());
    CHECK_FALSE(through->is_readable());
    CHECK_FALSE(through->is_writable());
}

TEST_CASE("close() emits `close` once, never `end`, and removes all listeners") {
    auto through = std::make_shared<rs::ThroughStream>();
    EventLog log;
    log.record(*through);
    through->close();
    through->close();
    CHECK(log.events == Events{"close"});
    CHECK(through->listener_count(rs::ev::close) == 0);
    CHECK(through->listener_count(rs::ev::data) == 0);
    through->end();  // `end` is never emitted after `close`
    CHECK(log.events == Events{"close"});
}

TEST_CASE("pause() after end does not make write() report backpressure forever") {
    auto through = std::make_shared<rs::ThroughStream>();
    through->end();
    through->pause();
    through->resume();
    CHECK_FALSE(through->is_readable());
}

TEST_CASE("closing and ending from inside listeners") {
    SUBCASE("close from a `data` listener of a transforming stream") {
        auto through = std::make_shared<rs::ThroughStream>(upper);
        EventLog log;
        log.record(*through);
        through->on(rs::ev::data, [&](std::string_view) { through->close(); });
        through->write("a");
        through->write("b");
        CHECK(log.events == Events{"data:A", "close"});
    }
    SUBCASE("end from a `drain` listener") {
        auto through = std::make_shared<rs::ThroughStream>();
        EventLog log;
        log.record(*through);
        through->on(rs::ev::drain, [&] { through->end("last"); });
        through->pause();
        through->write("first");
        through->resume();
        CHECK(log.events == Events{"data:first", "drain", "data:last", "end", "close"});
    }
    SUBCASE("close from inside the transform") {
        std::shared_ptr<rs::ThroughStream> through;
        through =
            std::make_shared<rs::ThroughStream>([&through](std::string_view in, std::string& out) {
                out.assign(in);
                through->close();
            });
        EventLog log;
        log.record(*through);
        CHECK_FALSE(through->write("x"));
        CHECK(log.events == Events{"close"});
        through.reset();
    }
}

TEST_CASE("a listener may drop the last reference to the stream it listens to") {
    auto through = std::make_shared<rs::ThroughStream>(upper);
    std::weak_ptr<rs::ThroughStream> weak = through;
    bool closed = false;
    through->on(rs::ev::data, [&](std::string_view chunk) {
        CHECK(chunk == "HI");
        through.reset();  // the stream keeps itself alive until the emit is over
    });
    through->on(rs::ev::close, [&] { closed = true; });
    through->end("hi");  // `through` is reset during this call
    CHECK(closed);
    CHECK(weak.expired());
}

TEST_CASE("writes from a `data` listener (nested) keep the transform's outputs apart") {
    auto through = std::make_shared<rs::ThroughStream>(upper);
    std::vector<std::string> seen;
    through->on(rs::ev::data, [&](std::string_view chunk) {
        if (chunk == "OUTER")
            through->write("inner");
        seen.emplace_back(chunk);  // the outer view must still read "OUTER"
    });
    through->write("outer");
    CHECK(seen == std::vector<std::string>{"INNER", "OUTER"});
    through->close();
}

TEST_CASE("a ThroughStream piped into a slow sink throttles its writer") {
    auto through = std::make_shared<rs::ThroughStream>();
    auto sink = std::make_shared<SlowSink>(4);
    through->pipe(sink);
    int drains = 0;
    through->on(rs::ev::drain, [&] { ++drains; });

    CHECK(through->write("ab"));
    CHECK_FALSE(through->write("cd"));  // the sink is full: the pipe paused us
    sink->consume(4);
    CHECK(drains == 1);
    CHECK(through->write("ef"));
    through->end();
    sink->consume(100);
    CHECK(sink->received == "abcdef");
}
