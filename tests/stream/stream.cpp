// Tests of include/reactsock/stream/stream.hpp: the interfaces' shared rules
// and pipe() (ReactPHP's UtilTest).
#include <reactsock/stream/stream.hpp>

#include <reactsock/error.hpp>
#include <reactsock/stream/through_stream.hpp>

#include "stream/stream_test_util.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <memory>
#include <stdexcept>
#include <string>

namespace rs = reactsock;
using rs::test::EventLog;
using rs::test::ScriptedReadable;
using rs::test::SlowSink;

TEST_CASE("pipe() returns the destination, as a free function and as a member") {
    auto source = std::make_shared<ScriptedReadable>();
    auto middle = std::make_shared<rs::ThroughStream>();
    auto dest = std::make_shared<SlowSink>(1024);

    std::shared_ptr<SlowSink> returned = source->pipe(middle)->pipe(dest);
    CHECK(returned == dest);
    CHECK(rs::pipe(std::make_shared<ScriptedReadable>(), dest) == dest);

    source->push("hello");
    CHECK(dest->buffered == "hello");
    source->close();
    middle->close();
    dest->close();
}

TEST_CASE("pipe() throws std::invalid_argument for a null stream") {
    auto source = std::make_shared<ScriptedReadable>();
    CHECK_THROWS_AS(rs::pipe(source, std::shared_ptr<SlowSink>()), std::invalid_argument);
    CHECK_THROWS_AS(rs::pipe(nullptr, std::make_shared<SlowSink>()), std::invalid_argument);
}

TEST_CASE("pipe() from a source that is not readable does nothing") {
    auto source = std::make_shared<ScriptedReadable>();
    source->close();
    auto dest = std::make_shared<SlowSink>();
    EventLog log;
    log.record(*dest);

    CHECK(source->pipe(dest) == dest);
    CHECK(log.events.empty());                        // no `pipe` event
    CHECK(dest->listener_count(rs::ev::drain) == 1);  // only the log's
    CHECK(dest->listener_count(rs::ev::close) == 1);
    CHECK_FALSE(source->paused);
    dest->close();
}

TEST_CASE("pipe() into a destination that is not writable pauses the source") {
    auto source = std::make_shared<ScriptedReadable>();
    auto dest = std::make_shared<SlowSink>();
    dest->close();

    source->pipe(dest);
    CHECK(source->paused);
    CHECK(source->listener_count(rs::ev::data) == 0);
    source->close();
}

TEST_CASE("the destination emits `pipe` with the source before any data") {
    auto source = std::make_shared<ScriptedReadable>();
    auto dest = std::make_shared<SlowSink>(1024);
    std::shared_ptr<rs::ReadableStream> seen;
    std::string buffered_at_pipe = "unset";
    dest->on(rs::ev::pipe, [&](const std::shared_ptr<rs::ReadableStream>& s) {
        seen = s;
        buffered_at_pipe = dest->buffered;
    });

    source->pipe(dest);
    source->push("x");
    CHECK(seen == source);
    CHECK(buffered_at_pipe.empty());
    CHECK(dest->buffered == "x");
    seen.reset();
    source->close();
    dest->close();
}

TEST_CASE("a `pipe` listener that closes the destination leaves nothing attached") {
    auto source = std::make_shared<ScriptedReadable>();
    auto dest = std::make_shared<SlowSink>();
    dest->on(rs::ev::pipe, [&](const std::shared_ptr<rs::ReadableStream>&) { dest->close(); });

    source->pipe(dest);
    CHECK(source->paused);
    CHECK(source->listener_count(rs::ev::data) == 0);
    CHECK(source->listener_count(rs::ev::close) == 0);
    source->close();
}

TEST_CASE("pipe() honours backpressure: write() == false pauses, drain resumes") {
    auto source = std::make_shared<ScriptedReadable>();
    auto dest = std::make_shared<SlowSink>(4);
    source->pipe(dest);

    source->push("ab");
    CHECK_FALSE(source->paused);
    source->push("cd");  // 4 bytes buffered: write() returns false
    CHECK(source->paused);
    CHECK(source->pause_calls == 1);

    dest->consume(1);  // 3 < 4: drain
    CHECK_FALSE(source->paused);
    CHECK(source->resume_calls == 1);
    CHECK(dest->received == "a");
    source->close();
    dest->close();
}

TEST_CASE("a slow consumer through pipe() keeps the buffered memory bounded") {
    // A producer that writes as long as write() says so, into a ThroughStream
    // piped into a consumer that takes 100 bytes per turn.
    constexpr std::size_t kSoftLimit = 4096;
    constexpr std::size_t kChunk = 1000;
    constexpr std::size_t kTotal = 4 * 1024 * 1024;
    auto through = std::make_shared<rs::ThroughStream>();
    auto sink = std::make_shared<SlowSink>(kSoftLimit);
    through->pipe(sink);

    const std::string chunk(kChunk, 'z');
    std::size_t produced = 0;
    auto produce = [&] {
        while (produced < kTotal) {
            produced += kChunk;
            if (!through->write(chunk))
                break;
        }
        if (produced >= kTotal)
            through->end();
    };
    through->on(rs::ev::drain, produce);
    produce();
    while (!sink->ended || !sink->buffered.empty())
        sink->consume(100);

    CHECK(sink->received.size() == produced);
    CHECK(produced >= kTotal);
    // Never more than the soft limit plus the one chunk that crossed it.
    CHECK(sink->max_buffered < kSoftLimit + kChunk);
    CHECK_FALSE(through->is_writable());
}

TEST_CASE("pipe() forwards `end` by default and not with {.end = false}") {
    SUBCASE("default") {
        auto source = std::make_shared<ScriptedReadable>();
        auto dest = std::make_shared<SlowSink>();
        source->pipe(dest);
        source->finish();
        CHECK(dest->ended);
        CHECK_FALSE(dest->is_writable());
    }
    SUBCASE("end = false") {
        auto source = std::make_shared<ScriptedReadable>();
        auto dest = std::make_shared<SlowSink>();
        source->pipe(dest, rs::PipeOptions{.end = false});
        source->finish();
        CHECK_FALSE(dest->ended);
        CHECK(dest->is_writable());
        dest->close();
    }
}

TEST_CASE("when the destination closes, the source is paused and every pipe listener detached") {
    auto source = std::make_shared<ScriptedReadable>();
    auto dest = std::make_shared<SlowSink>();
    source->pipe(dest);
    CHECK(source->listener_count(rs::ev::data) == 1);
    CHECK(source->listener_count(rs::ev::end) == 1);
    CHECK(source->listener_count(rs::ev::close) == 1);

    dest->close();
    CHECK(source->paused);
    CHECK(source->listener_count(rs::ev::data) == 0);
    CHECK(source->listener_count(rs::ev::end) == 0);
    CHECK(source->listener_count(rs::ev::close) == 0);
    source->push("ignored");
    CHECK(dest->buffered.empty());
    source->close();
}

TEST_CASE("when the source closes, the destination's pipe listeners are detached") {
    auto source = std::make_shared<ScriptedReadable>();
    auto dest = std::make_shared<SlowSink>();
    source->pipe(dest);
    CHECK(dest->listener_count(rs::ev::drain) == 1);
    CHECK(dest->listener_count(rs::ev::close) == 1);

    source->close();
    CHECK(dest->listener_count(rs::ev::drain) == 0);
    CHECK(dest->listener_count(rs::ev::close) == 0);
    CHECK(dest->is_writable());  // close is not propagated
    dest->close();
}

TEST_CASE("errors are not propagated through pipe()") {
    auto source = std::make_shared<ScriptedReadable>();
    auto dest = std::make_shared<SlowSink>();
    EventLog log;
    log.record(*dest);
    source->pipe(dest);

    source->fail(rs::Error(EIO, "Unable to read from stream: Input/output error (EIO)"));
    CHECK(log.events == std::vector<std::string>{"pipe"});
    CHECK(dest->is_writable());
    dest->close();
}

TEST_CASE("a pipeline keeps itself alive until one side closes, then nothing is left") {
    std::weak_ptr<ScriptedReadable> weak_source;
    std::weak_ptr<rs::ThroughStream> weak_middle;
    std::weak_ptr<SlowSink> weak_dest;
    {
        auto source = std::make_shared<ScriptedReadable>();
        auto middle = std::make_shared<rs::ThroughStream>();
        auto dest = std::make_shared<SlowSink>(1024);
        source->pipe(middle)->pipe(dest);
        weak_source = source;
        weak_middle = middle;
        weak_dest = dest;
    }
    // Only the pipes hold the streams now.
    REQUIRE_FALSE(weak_source.expired());
    REQUIRE_FALSE(weak_dest.expired());
    weak_source.lock()->push("abc");
    CHECK(weak_dest.lock()->buffered == "abc");

    // The source ends: `end` runs through the chain, each stream closes.
    weak_source.lock()->finish();
    CHECK(weak_source.expired());
    CHECK(weak_middle.expired());
    CHECK(weak_dest.expired());
}

TEST_CASE("a duplex stream piped into itself ends itself on `end`") {
    // An echo: whatever it receives it writes back, and `end` ends it.
    class Echo final : public rs::DuplexStream {
    public:
        [[nodiscard]] bool is_readable() const override { return !closed_; }
        [[nodiscard]] bool is_writable() const override { return !closed_ && !ended_; }
        void pause() override {}
        void resume() override {}
        bool write(std::string_view data) override {
            if (!is_writable())
                return false;
            written.append(data);
            return true;
        }
        void end(std::string_view data = {}) override {
            if (!is_writable())
                return;
            write(data);
            ended_ = true;
            close();
        }
        void close() override {
            if (closed_)
                return;
            closed_ = true;
            auto guard = keep_alive();
            emit(rs::ev::close);
            remove_all_listeners();
        }
        void receive(std::string_view chunk) {
            auto guard = keep_alive();
            emit(rs::ev::data, chunk);
        }
        void eof() {
            auto guard = keep_alive();
            emit(rs::ev::end);
            close();
        }
        std::string written;

    private:
        bool closed_ = false;
        bool ended_ = false;
    };

    auto echo = std::make_shared<Echo>();
    echo->pipe(echo);
    echo->receive("ping");
    CHECK(echo->written == "ping");
    echo->eof();
    CHECK_FALSE(echo->is_writable());
    CHECK(echo->listener_count(rs::ev::data) == 0);
    CHECK(echo.use_count() == 1);  // the self-cycle is gone
}

TEST_CASE("PipeOptions from JSON: both forms, strict") {
    using nlohmann::json;
    CHECK_FALSE(rs::PipeOptions::from_json(json{{"end", false}}).end);
    CHECK(rs::PipeOptions::from_json(json::object()).end);
    CHECK_FALSE(json{{"end", false}}.get<rs::PipeOptions>().end);

    CHECK_THROWS_WITH_AS(rs::PipeOptions::from_json(json{{"close", false}}),
                         "Unknown pipe option \"close\"", std::invalid_argument);
    CHECK_THROWS_WITH_AS((json{{"end", 0}}).get<rs::PipeOptions>(),
                         "pipe option \"end\" must be true or false", std::invalid_argument);
    CHECK_THROWS_AS(rs::PipeOptions::from_json(json("end")), std::invalid_argument);
}
