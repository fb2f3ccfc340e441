// Tests of include/reactsock/stream/composite_stream.hpp (ReactPHP's CompositeStreamTest).
#include <reactsock/stream/composite_stream.hpp>

#include <reactsock/error.hpp>
#include <reactsock/stream/through_stream.hpp>

#include "stream/stream_test_util.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <memory>
#include <stdexcept>
#include <string>

namespace rs = reactsock;
using rs::test::EventLog;
using rs::test::ScriptedReadable;
using rs::test::SlowSink;

namespace {
using Events = std::vector<std::string>;
}

TEST_CASE("a closed side at construction closes the composite and the other side") {
    SUBCASE("closed readable") {
        auto readable = std::make_shared<ScriptedReadable>();
        readable->close();
        auto writable = std::make_shared<SlowSink>();
        auto composite = std::make_shared<rs::CompositeStream>(readable, writable);
        CHECK_FALSE(composite->is_readable());
        CHECK_FALSE(composite->is_writable());
        CHECK_FALSE(writable->is_writable());
    }
    SUBCASE("closed writable") {
        auto readable = std::make_shared<ScriptedReadable>();
        auto writable = std::make_shared<SlowSink>();
        writable->close();
        auto composite = std::make_shared<rs::CompositeStream>(readable, writable);
        CHECK_FALSE(composite->is_readable());
        CHECK_FALSE(readable->is_readable());
    }
}

TEST_CASE("null sides are rejected") {
    CHECK_THROWS_AS(rs::CompositeStream(nullptr, std::make_shared<SlowSink>()),
                    std::invalid_argument);
}

TEST_CASE("reading calls go to the readable side, writing calls to the writable side") {
    auto readable = std::make_shared<ScriptedReadable>();
    auto writable = std::make_shared<SlowSink>(4);
    auto composite = std::make_shared<rs::CompositeStream>(readable, writable);

    CHECK(composite->is_readable());
    CHECK(composite->is_writable());
    composite->pause();
    CHECK(readable->paused);
    composite->resume();
    CHECK_FALSE(readable->paused);

    CHECK(composite->write("ab"));
    CHECK_FALSE(composite->write("cd"));  // the writable's soft limit
    CHECK(writable->buffered == "abcd");

    composite->end("ef");  // pauses the readable, ends the writable
    CHECK(readable->paused);
    CHECK(writable->ended);
    CHECK(writable->buffered == "abcdef");
    CHECK_FALSE(composite->is_writable());
    composite->close();
}

TEST_CASE("resume() is ignored once the writable side is closed") {
    auto readable = std::make_shared<ScriptedReadable>();
    auto writable = std::make_shared<SlowSink>();
    auto composite = std::make_shared<rs::CompositeStream>(readable, writable);
    composite->pause();
    // Closing the writable closes the composite (and so the readable).
    writable->close();
    composite->resume();
    CHECK(readable->paused);
    CHECK(readable->resume_calls == 0);
}

TEST_CASE("close() closes both sides and emits `close` once, then drops its listeners") {
    auto readable = std::make_shared<ScriptedReadable>();
    auto writable = std::make_shared<SlowSink>();
    auto composite = std::make_shared<rs::CompositeStream>(readable, writable);
    EventLog log;
    log.record(*composite);

    composite->close();
    composite->close();
    CHECK(log.events == Events{"close"});
    CHECK_FALSE(readable->is_readable());
    CHECK_FALSE(writable->is_writable());
    CHECK(composite->listener_count(rs::ev::close) == 0);
    CHECK(readable->listener_count(rs::ev::data) == 0);
}

TEST_CASE("either side's close closes the composite once") {
    SUBCASE("readable") {
        auto readable = std::make_shared<ScriptedReadable>();
        auto writable = std::make_shared<SlowSink>();
        auto composite = std::make_shared<rs::CompositeStream>(readable, writable);
        EventLog log;
        log.record(*composite);
        readable->close();
        CHECK(log.events == Events{"close"});
        CHECK_FALSE(writable->is_writable());
    }
    SUBCASE("writable") {
        auto readable = std::make_shared<ScriptedReadable>();
        auto writable = std::make_shared<SlowSink>();
        auto composite = std::make_shared<rs::CompositeStream>(readable, writable);
        EventLog log;
        log.record(*composite);
        writable->close();
        CHECK(log.events == Events{"close"});
        CHECK_FALSE(readable->is_readable());
    }
}

TEST_CASE("events of both sides are forwarded in order") {
    auto readable = std::make_shared<ScriptedReadable>();
    auto writable = std::make_shared<SlowSink>(2);
    auto composite = std::make_shared<rs::CompositeStream>(readable, writable);
    EventLog log;
    log.record(*composite);

    readable->push("hello");
    composite->write("xy");
    writable->consume(2);  // drain
    auto other = std::make_shared<ScriptedReadable>();
    other->pipe(writable);  // `pipe` on the writable side
    readable->fail(rs::Error(EIO, "Unable to read from stream: Input/output error (EIO)"));

    CHECK(log.events == Events{"data:hello", "drain", "pipe",
                               "error:Unable to read from stream: Input/output error (EIO)",
                               "close"});
    other->close();
}

TEST_CASE("`end` of the readable side is forwarded, then `close`") {
    auto readable = std::make_shared<ScriptedReadable>();
    auto writable = std::make_shared<SlowSink>();
    auto composite = std::make_shared<rs::CompositeStream>(readable, writable);
    EventLog log;
    log.record(*composite);
    readable->finish();
    CHECK(log.events == Events{"end", "close"});
}

TEST_CASE("a composite works as both ends of pipe()") {
    auto in_readable = std::make_shared<rs::ThroughStream>();
    auto in_writable = std::make_shared<SlowSink>(1024);
    auto composite = std::make_shared<rs::CompositeStream>(in_readable, in_writable);
    auto source = std::make_shared<ScriptedReadable>();
    auto sink = std::make_shared<SlowSink>(1024);

    source->pipe(composite);  // into the writable side
    composite->pipe(sink);    // out of the readable side
    source->push("to the writable");
    in_readable->write("from the readable");
    CHECK(in_writable->buffered == "to the writable");
    CHECK(sink->buffered == "from the readable");

    composite->close();
    source->close();
    sink->close();
}

TEST_CASE("dropping an open composite detaches it from both sides") {
    auto readable = std::make_shared<ScriptedReadable>();
    auto writable = std::make_shared<SlowSink>();
    {
        auto composite = std::make_shared<rs::CompositeStream>(readable, writable);
        CHECK(readable->listener_count(rs::ev::data) == 1);
    }
    CHECK(readable->listener_count(rs::ev::data) == 0);
    CHECK(readable->listener_count(rs::ev::close) == 0);
    CHECK(writable->listener_count(rs::ev::close) == 0);
    readable->push("nobody listens");  // must not touch the destroyed composite
    readable->close();
    writable->close();
}

TEST_CASE("a composite listener may drop the last reference during an emit") {
    auto readable = std::make_shared<ScriptedReadable>();
    auto writable = std::make_shared<SlowSink>();
    auto composite = std::make_shared<rs::CompositeStream>(readable, writable);
    std::weak_ptr<rs::CompositeStream> weak = composite;
    composite->on(rs::ev::data, [&](std::string_view) { composite.reset(); });
    readable->push("x");
    CHECK(weak.expired());
    readable->close();
    writable->close();
}
