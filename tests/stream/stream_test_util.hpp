// Helpers shared by the stream tests: an event recorder and scripted streams
// whose state the tests can see (ReactPHP's tests use mocks for the same job).
#pragma once

#include <reactsock/stream/stream.hpp>

#include <doctest/doctest.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace reactsock::test {

/// Records the events of one stream as strings: "data:<chunk>", "end",
/// "error:<what>", "close", "drain", "pipe".
struct EventLog {
    std::vector<std::string> events;

    void record(ReadableStream& stream) {
        stream.on(ev::data, [this](std::string_view chunk) {
            events.push_back("data:" + std::string(chunk));
        });
        stream.on(ev::end, [this] { events.emplace_back("end"); });
        record_common(stream);
    }
    void record(WritableStream& stream) {
        stream.on(ev::drain, [this] { events.emplace_back("drain"); });
        stream.on(ev::pipe,
                  [this](const std::shared_ptr<ReadableStream>&) { events.emplace_back("pipe"); });
        record_common(stream);
    }
    void record(DuplexStream& stream) {
        record(static_cast<ReadableStream&>(stream));
        stream.on(ev::drain, [this] { events.emplace_back("drain"); });
        stream.on(ev::pipe,
                  [this](const std::shared_ptr<ReadableStream>&) { events.emplace_back("pipe"); });
    }

    [[nodiscard]] std::size_t count(std::string_view event) const {
        std::size_t n = 0;
        for (const auto& e : events)
            n += (e == event) ? 1 : 0;
        return n;
    }

private:
    void record_common(Stream& stream) {
        stream.on(ev::error, [this](const std::system_error& e) {
            events.push_back(std::string("error:") + e.what());
        });
        stream.on(ev::close, [this] { events.emplace_back("close"); });
    }
};

/// A readable stream the test drives by hand (ReactPHP's tests mock one).
class ScriptedReadable final : public ReadableStream {
public:
    [[nodiscard]] bool is_readable() const override { return readable_; }
    void pause() override {
        paused = true;
        ++pause_calls;
    }
    void resume() override {
        paused = false;
        ++resume_calls;
    }
    void close() override {
        if (closed_)
            return;
        closed_ = true;
        readable_ = false;
        auto guard = keep_alive();
        emit(ev::close);
        remove_all_listeners();
    }

    void push(std::string_view chunk) {
        auto guard = keep_alive();
        emit(ev::data, chunk);
    }
    void finish() {
        auto guard = keep_alive();
        readable_ = false;
        emit(ev::end);
        close();
    }
    void fail(const std::system_error& error) {
        auto guard = keep_alive();
        emit(ev::error, error);
        close();
    }

    bool paused = false;
    int pause_calls = 0;
    int resume_calls = 0;

private:
    bool readable_ = true;
    bool closed_ = false;
};

/// A writable stream with an in-memory buffer the test consumes by hand:
/// write() returns false once `soft_limit` bytes are buffered, consume()
/// emits `drain` when the buffer falls back below it.
class SlowSink final : public WritableStream {
public:
    explicit SlowSink(std::size_t soft_limit = 16) : soft_limit_(soft_limit) {}

    [[nodiscard]] bool is_writable() const override { return writable_; }
    bool write(std::string_view data) override {
        if (!writable_)
            return false;
        buffered.append(data);
        if (buffered.size() > max_buffered)
            max_buffered = buffered.size();
        if (buffered.size() >= soft_limit_) {
            drain_armed_ = true;
            return false;
        }
        return true;
    }
    void end(std::string_view data = {}) override {
        if (!writable_)
            return;
        write(data);
        writable_ = false;
        ended = true;
        if (buffered.empty())
            close();
    }
    void close() override {
        if (closed_)
            return;
        closed_ = true;
        writable_ = false;
        auto guard = keep_alive();
        emit(ev::close);
        remove_all_listeners();
    }

    /// Takes up to `n` buffered bytes out (the "slow consumer").
    void consume(std::size_t n) {
        auto guard = keep_alive();
        const std::size_t take = n < buffered.size() ? n : buffered.size();
        received.append(buffered, 0, take);
        buffered.erase(0, take);
        if (drain_armed_ && buffered.size() < soft_limit_) {
            drain_armed_ = false;
            emit(ev::drain);
        }
        if (ended && buffered.empty())
            close();
    }

    std::string buffered;
    std::string received;
    std::size_t max_buffered = 0;
    bool ended = false;

private:
    std::size_t soft_limit_;
    bool writable_ = true;
    bool closed_ = false;
    bool drain_armed_ = false;
};

}  // namespace reactsock::test

// Shows event logs in failure messages.
template <>
struct doctest::StringMaker<std::vector<std::string>> {
    static doctest::String convert(const std::vector<std::string>& events) {
        std::string text = "{";
        for (const auto& e : events)
            text += (text.size() > 1 ? ", \"" : "\"") + e.substr(0, 60) + "\"";
        text += "}";
        return doctest::String(text.c_str());
    }
};
