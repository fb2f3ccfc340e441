// Tests of include/reactsock/stream/resource_stream.hpp (ReactPHP's
// WritableResourceStreamTest, ReadableResourceStreamTest, DuplexResourceStreamTest
// and DuplexResourceStreamIntegrationTest), over real pipes and socketpairs.
// Nothing waits on time: every test runs the loop until an event happened, or
// until the loop has nothing left to do.
#include <reactsock/stream/resource_stream.hpp>

#include <reactsock/error.hpp>
#include <reactsock/loop/loop.hpp>
#include <reactsock/stream/through_stream.hpp>

// Private: the read and write halves, tested directly for what pipes cannot
// produce and for the WriteSome policy a socket stream would use.
#include "stream/stream_reader.hpp"
#include "stream/write_buffer.hpp"

#include "stream/stream_test_util.hpp"

#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

extern char** environ;

namespace rs = reactsock;
using rs::test::EventLog;

namespace {

using Events = std::vector<std::string>;

struct Fds {
    int read = -1;
    int write = -1;
};

Fds make_pipe() {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    return {fds[0], fds[1]};
}

std::pair<int, int> make_socketpair() {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    return {fds[0], fds[1]};
}

// Writes 'f' bytes into `fd` until it would block; returns how many.
std::size_t fill(int fd) {
    const int flags = ::fcntl(fd, F_GETFL);
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    const std::string block(65536, 'f');
    std::size_t total = 0;
    for (;;) {
        const ssize_t n = ::write(fd, block.data(), block.size());
        if (n <= 0)
            break;
        total += static_cast<std::size_t>(n);
    }
    REQUIRE(errno == EAGAIN);
    ::fcntl(fd, F_SETFL, flags);
    return total;
}

// Reads what is available on `fd` right now (it must be non-blocking or ready).
std::string read_available(int fd) {
    std::string out;
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0)
            break;
        out.append(buffer, static_cast<std::size_t>(n));
    }
    return out;
}

// Reads `fd` (blocking) until EOF.
std::string read_all(int fd) {
    std::string out;
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        out.append(buffer, static_cast<std::size_t>(n));
    }
    return out;
}

bool fd_is_open(int fd) {
    return ::fcntl(fd, F_GETFD) != -1;
}

// Runs `loop` until `done()`; fails the test if the loop runs out of work first.
void run_until(const std::shared_ptr<rs::Loop>& loop, const std::function<bool()>& done) {
    REQUIRE(loop->run_until(done));
}

// Deterministic pseudo-random bytes (xorshift64*), position-independent per block.
class Generator {
public:
    void fill(std::string& out, std::size_t n) {
        out.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
            if (available_ == 0) {
                state_ ^= state_ >> 12;
                state_ ^= state_ << 25;
                state_ ^= state_ >> 27;
                word_ = state_ * 0x2545F4914F6CDD1DULL;
                available_ = 8;
            }
            out[i] = static_cast<char>(word_ & 0xFF);
            word_ >>= 8;
            --available_;
        }
    }

private:
    std::uint64_t state_ = 0x9E3779B97F4A7C15ULL;
    std::uint64_t word_ = 0;
    int available_ = 0;
};

// FNV-1a, 64 bit.
struct Checksum {
    std::uint64_t value = 0xcbf29ce484222325ULL;
    std::size_t size = 0;
    void add(std::string_view bytes) {
        for (const char c : bytes) {
            value ^= static_cast<unsigned char>(c);
            value *= 0x100000001b3ULL;
        }
        size += bytes.size();
    }
};

}  // namespace

// ---------------------------------------------------------------------------
// WritableResourceStream
// ---------------------------------------------------------------------------

TEST_CASE("written data reaches the fd at once when the fd can take it") {
    auto loop = std::make_shared<rs::Loop>();
    const Fds fds = make_pipe();
    auto out = std::make_shared<rs::WritableResourceStream>(fds.write, loop);

    CHECK(out->is_writable());
    CHECK(out->write("hello"));
    CHECK(out->write(""));  // an empty write is accepted and does nothing
    CHECK(out->buffered_amount() == 0);
    ::fcntl(fds.read, F_SETFL, O_NONBLOCK);
    CHECK(read_available(fds.read) == "hello");
    loop->run();  // nothing pending: returns at once
    out->close();
    ::close(fds.read);
}

TEST_CASE("write() returns false once the buffer reaches the soft limit (>=)") {
    auto loop = std::make_shared<rs::Loop>();
    SUBCASE("soft limit 4") {
        const Fds fds = make_pipe();
        fill(fds.write);
        auto out = std::make_shared<rs::WritableResourceStream>(
            fds.write, loop, rs::WritableResourceStream::Options{.soft_limit = 4});
        CHECK(out->write("foo"));
        CHECK_FALSE(out->write("bar\n"));
        CHECK(out->buffered_amount() == 7);
        out->close();
        ::close(fds.read);
    }
    SUBCASE("soft limit 3") {
        const Fds fds = make_pipe();
        fill(fds.write);
        auto out = std::make_shared<rs::WritableResourceStream>(
            fds.write, loop, rs::WritableResourceStream::Options{.soft_limit = 3});
        CHECK_FALSE(out->write("foo"));
        out->close();
        ::close(fds.read);
    }
}

TEST_CASE("writing to a pipe whose reader is gone: one `error` (EPIPE), then `close`") {
    auto loop = std::make_shared<rs::Loop>();
    SUBCASE("while writing through") {
        const Fds fds = make_pipe();
        ::close(fds.read);
        auto out = std::make_shared<rs::WritableResourceStream>(fds.write, loop);
        EventLog log;
        log.record(*out);
        std::error_code code;
        out->on(rs::ev::error, [&](const std::system_error& e) { code = e.code(); });

        CHECK_FALSE(out->write("foo"));
        CHECK(log.events.empty());  // never from inside write()
        CHECK_FALSE(out->is_writable());
        loop->run();
        CHECK(log.events ==
              Events{"error:Unable to write to stream: Broken pipe (EPIPE)", "close"});
        CHECK(code == std::errc::broken_pipe);
        CHECK(out->fd() == -1);
    }
    SUBCASE("while flushing the buffer") {
        const Fds fds = make_pipe();
        fill(fds.write);
        auto out = std::make_shared<rs::WritableResourceStream>(fds.write, loop);
        EventLog log;
        log.record(*out);
        CHECK(out->write("buffered"));
        ::close(fds.read);
        loop->run();
        CHECK(log.events ==
              Events{"error:Unable to write to stream: Broken pipe (EPIPE)", "close"});
    }
}

TEST_CASE("a write to an fd closed behind the stream's back fails with EBADF") {
    auto loop = std::make_shared<rs::Loop>();
    const Fds fds = make_pipe();
    auto out = std::make_shared<rs::WritableResourceStream>(fds.write, loop);
    EventLog log;
    log.record(*out);
    ::close(fds.write);
    CHECK_FALSE(out->write("foo"));
    loop->run();
    CHECK(log.events ==
          Events{"error:Unable to write to stream: Bad file descriptor (EBADF)", "close"});
    ::close(fds.read);
}

TEST_CASE("`drain` fires once after the buffer flushes; writes inside it keep their order") {
    auto loop = std::make_shared<rs::Loop>();
    const Fds fds = make_pipe();
    const std::size_t filled = fill(fds.write);
    auto out = std::make_shared<rs::WritableResourceStream>(fds.write, loop);
    auto in = std::make_shared<rs::ReadableResourceStream>(fds.read, loop);

    const std::string big(100000, 'b');
    CHECK_FALSE(out->write(big));
    int drains = 0;
    out->on(rs::ev::drain, [&] {
        ++drains;
        out->write("after-drain");
        out->end();
    });
    std::string received;
    bool in_closed = false;
    in->on(rs::ev::data, [&](std::string_view chunk) { received.append(chunk); });
    in->on(rs::ev::close, [&] { in_closed = true; });
    loop->run();

    CHECK(drains == 1);
    CHECK(in_closed);
    REQUIRE(received.size() == filled + big.size() + 11);
    CHECK(received.substr(filled, big.size()) == big);
    CHECK(received.substr(filled + big.size()) == "after-drain");
}

TEST_CASE("a flushed buffer leaves the stream open") {
    auto loop = std::make_shared<rs::Loop>();
    const Fds fds = make_pipe();
    fill(fds.write);
    auto out = std::make_shared<rs::WritableResourceStream>(fds.write, loop);
    EventLog log;
    log.record(*out);
    out->write("pending");
    REQUIRE(out->buffered_amount() == 7);
    auto in = std::make_shared<rs::ReadableResourceStream>(fds.read, loop);
    run_until(loop, [&] { return out->buffered_amount() == 0; });
    CHECK(out->is_writable());
    CHECK(log.events.empty());
    out->close();
    in->close();
}

TEST_CASE("end(): closes at once when nothing is buffered, after the flush otherwise") {
    auto loop = std::make_shared<rs::Loop>();
    SUBCASE("empty buffer: `close` before end() returns") {
        const Fds fds = make_pipe();
        auto out = std::make_shared<rs::WritableResourceStream>(fds.write, loop);
        EventLog log;
        log.record(*out);
        out->end();
        CHECK(log.events == Events{"close"});
        CHECK_FALSE(out->is_writable());
        CHECK(read_all(fds.read).empty());  // EOF: the fd is closed
        ::close(fds.read);
    }
    SUBCASE("end(data) writes the data, then closes") {
        const Fds fds = make_pipe();
        auto out = std::make_shared<rs::WritableResourceStream>(fds.write, loop);
        out->end("bye");
        CHECK(read_all(fds.read) == "bye");
        ::close(fds.read);
    }
    SUBCASE("pending data: no `close` until flushed") {
        const Fds fds = make_pipe();
        const std::size_t filled = fill(fds.write);
        auto out = std::make_shared<rs::WritableResourceStream>(fds.write, loop);
        EventLog log;
        log.record(*out);
        out->end("tail");
        CHECK(log.events.empty());
        CHECK_FALSE(out->is_writable());
        CHECK_FALSE(out->write("more"));  // a no-op after end()
        auto in = std::make_shared<rs::ReadableResourceStream>(fds.read, loop);
        std::string received;
        in->on(rs::ev::data, [&](std::string_view chunk) { received.append(chunk); });
        loop->run();
        CHECK(log.events == Events{"close"});
        CHECK(received.size() == filled + 4);
        CHECK(received.substr(filled) == "tail");
    }
}

TEST_CASE("close(): `close` once, listeners removed, not writable, writes dropped") {
    auto loop = std::make_shared<rs::Loop>();
    const Fds fds = make_pipe();
    fill(fds.write);
    auto out = std::make_shared<rs::WritableResourceStream>(fds.write, loop);
    EventLog log;
    log.record(*out);
    out->write("discarded");
    out->close();
    out->close();
    CHECK(log.events == Events{"close"});
    CHECK(out->listener_count(rs::ev::close) == 0);
    CHECK_FALSE(out->is_writable());
    CHECK_FALSE(out->write("dropped"));
    CHECK(out->buffered_amount() == 0);
    CHECK(out->fd() == -1);
    CHECK_FALSE(fd_is_open(fds.write));
    loop->run();
    ::close(fds.read);
}

TEST_CASE("constructor errors leave the fd as it was") {
    auto loop = std::make_shared<rs::Loop>();
    const Fds fds = make_pipe();
    CHECK_THROWS_WITH_AS(rs::WritableResourceStream(fds.read, loop),
                         "Given stream resource is not opened in write mode",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(rs::ReadableResourceStream(fds.write, loop),
                         "Given stream resource is not opened in read mode", std::invalid_argument);
    CHECK_THROWS_WITH_AS(rs::DuplexResourceStream(fds.read, loop),
                         "Given stream resource is not opened in read and write mode",
                         std::invalid_argument);
    CHECK_THROWS_AS(rs::ReadableResourceStream(
                        fds.read, loop, rs::ReadableResourceStream::Options{.read_chunk_size = 0}),
                    std::invalid_argument);
    CHECK(fd_is_open(fds.read));
    CHECK(fd_is_open(fds.write));
    CHECK((::fcntl(fds.read, F_GETFL) & O_NONBLOCK) == 0);
    ::close(fds.read);
    ::close(fds.write);

    // A closed fd.
    CHECK_THROWS_WITH_AS(rs::WritableResourceStream(fds.write, loop),
                         "First parameter must be a valid stream resource", std::invalid_argument);
    CHECK_THROWS_WITH_AS(rs::ReadableResourceStream(-1, loop),
                         "First parameter must be a valid stream resource", std::invalid_argument);
}

TEST_CASE("options convert from JSON, strictly") {
    const auto readable =
        nlohmann::json{{"read_chunk_size", 4096}}.get<rs::ReadableResourceStreamOptions>();
    CHECK(readable.read_chunk_size == 4096);
    const auto duplex = nlohmann::json{
        {"read_chunk_size", 10},
        {"soft_limit", 20}}.get<rs::DuplexResourceStreamOptions>();
    CHECK(duplex.read_chunk_size == 10);
    CHECK(duplex.soft_limit == 20);
    const nlohmann::json unknown_key = {{"softLimit", 1}};
    CHECK_THROWS_WITH_AS(unknown_key.get<rs::WritableResourceStreamOptions>(),
                         "Unknown WritableResourceStream option \"softLimit\"",
                         std::invalid_argument);
    const nlohmann::json negative = {{"soft_limit", -1}};
    CHECK_THROWS_AS(negative.get<rs::WritableResourceStreamOptions>(), std::invalid_argument);
}

// ---------------------------------------------------------------------------
// ReadableResourceStream
// ---------------------------------------------------------------------------

TEST_CASE("`data` carries what was written; EOF emits `end` then `close`") {
    auto loop = std::make_shared<rs::Loop>();
    const Fds fds = make_pipe();
    auto in = std::make_shared<rs::ReadableResourceStream>(fds.read, loop);
    EventLog log;
    log.record(*in);
    REQUIRE(::write(fds.write, "foobar", 6) == 6);
    ::close(fds.write);
    CHECK(in->is_readable());
    loop->run();
    CHECK(log.events == Events{"data:foobar", "end", "close"});
    CHECK_FALSE(in->is_readable());
    CHECK(in->fd() == -1);
}

TEST_CASE("one read emits at most read_chunk_size bytes") {
    auto loop = std::make_shared<rs::Loop>();
    const Fds fds = make_pipe();
    const std::string payload(10000, 'x');
    REQUIRE(::write(fds.write, payload.data(), payload.size()) == 10000);
    ::close(fds.write);
    auto in = std::make_shared<rs::ReadableResourceStream>(
        fds.read, loop, rs::ReadableResourceStream::Options{.read_chunk_size = 4321});
    std::vector<std::size_t> sizes;
    in->on(rs::ev::data, [&](std::string_view chunk) { sizes.push_back(chunk.size()); });
    loop->run();
    CHECK(sizes == std::vector<std::size_t>{4321, 4321, 1358});
}

TEST_CASE("an empty input emits no `data`: just `end` and `close`") {
    auto loop = std::make_shared<rs::Loop>();
    const Fds fds = make_pipe();
    ::close(fds.write);
    auto in = std::make_shared<rs::ReadableResourceStream>(fds.read, loop);
    EventLog log;
    log.record(*in);
    loop->run();
    CHECK(log.events == Events{"end", "close"});
}

TEST_CASE("close(): `close` once and never `end`") {
    auto loop = std::make_shared<rs::Loop>();
    const Fds fds = make_pipe();
    ::close(fds.write);  // EOF is waiting: it must not be reported after close()
    auto in = std::make_shared<rs::ReadableResourceStream>(fds.read, loop);
    EventLog log;
    log.record(*in);
    in->close();
    in->close();
    loop->run();
    CHECK(log.events == Events{"close"});
    CHECK_FALSE(in->is_readable());
    CHECK_FALSE(fd_is_open(fds.read));
    in->resume();  // after close: nothing
    loop->run();
    CHECK(log.events == Events{"close"});
}

TEST_CASE("closing from inside a `data` listener: no error, no `end`, no more `data`") {
    auto loop = std::make_shared<rs::Loop>();
    const Fds fds = make_pipe();
    REQUIRE(::write(fds.write, "abcdef", 6) == 6);
    ::close(fds.write);
    auto in = std::make_shared<rs::ReadableResourceStream>(
        fds.read, loop, rs::ReadableResourceStream::Options{.read_chunk_size = 3});
    EventLog log;
    log.record(*in);
    in->on(rs::ev::data, [&](std::string_view) { in->close(); });
    loop->run();
    CHECK(log.events == Events{"data:abc", "close"});
}

TEST_CASE("a read error emits `error` then `close`, and no `data`") {
    auto loop = std::make_shared<rs::Loop>();
    const int dir = ::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(dir >= 0);
    auto in = std::make_shared<rs::ReadableResourceStream>(dir, loop);
    EventLog log;
    log.record(*in);
    std::error_code code;
    in->on(rs::ev::error, [&](const std::system_error& e) { code = e.code(); });
    loop->run();
    CHECK(log.events ==
          Events{"error:Unable to read from stream: Is a directory (EISDIR)", "close"});
    CHECK(code == std::errc::is_a_directory);
}

TEST_CASE("pause() before the loop runs: nothing is read until resume()") {
    auto loop = std::make_shared<rs::Loop>();
    const Fds fds = make_pipe();
    REQUIRE(::write(fds.write, "data", 4) == 4);
    ::close(fds.write);
    auto in = std::make_shared<rs::ReadableResourceStream>(fds.read, loop);
    EventLog log;
    log.record(*in);
    in->pause();
    in->pause();
    loop->run();  // a paused stream has no pending read: run() returns
    CHECK(log.events.empty());
    in->resume();
    in->resume();
    loop->run();
    CHECK(log.events == Events{"data:data", "end", "close"});
}

TEST_CASE("a chunk read while pausing is held until resume(), in order") {
    auto loop = std::make_shared<rs::Loop>();
    const Fds fds = make_pipe();
    REQUIRE(::write(fds.write, "abcdefghi", 9) == 9);
    ::close(fds.write);
    auto in = std::make_shared<rs::ReadableResourceStream>(
        fds.read, loop, rs::ReadableResourceStream::Options{.read_chunk_size = 3});
    EventLog log;
    log.record(*in);
    std::size_t seen_while_paused = 0;
    in->once(rs::ev::data, [&](std::string_view) {
        // This tick runs before the completion of the read that starts when
        // this listener returns: the pause hits a read in flight.
        loop->future_tick([&] {
            in->pause();
            loop->future_tick([&] {
                loop->future_tick([&] {
                    seen_while_paused = log.events.size();
                    in->resume();
                });
            });
        });
    });
    loop->run();
    CHECK(seen_while_paused == 1);
    CHECK(log.events == Events{"data:abc", "data:def", "data:ghi", "end", "close"});
}

TEST_CASE("EOF read while pausing is held: reported after resume(), never after close()") {
    auto loop = std::make_shared<rs::Loop>();
    const Fds fds = make_pipe();
    ::close(fds.write);
    auto in = std::make_shared<rs::ReadableResourceStream>(fds.read, loop);
    EventLog log;
    log.record(*in);
    // The first read (EOF) is already in flight when this tick pauses the stream.
    loop->future_tick([&] { in->pause(); });
    loop->run();
    CHECK(log.events.empty());
    SUBCASE("resume()") {
        in->resume();
        loop->run();
        CHECK(log.events == Events{"end", "close"});
    }
    SUBCASE("close()") {
        in->close();
        loop->run();
        CHECK(log.events == Events{"close"});
    }
}

namespace {

// A stand-in for an Asio stream whose reads return scripted results; the
// only way to produce an empty read without EOF (a spurious wakeup).
struct ScriptedAsyncStream {
    explicit ScriptedAsyncStream(asio::io_context& io) : context(io) {}

    asio::io_context& context;
    std::deque<std::pair<asio::error_code, std::string>> script;
    int reads = 0;

    [[nodiscard]] asio::io_context::executor_type get_executor() const {
        return context.get_executor();
    }

    template <class Buffer, class Handler>
    void async_read_some(const Buffer& buffer, Handler&& handler) {
        ++reads;
        REQUIRE_FALSE(script.empty());
        auto [ec, bytes] = script.front();
        script.pop_front();
        std::memcpy(buffer.data(), bytes.data(), bytes.size());
        asio::post(context, [h = std::forward<Handler>(handler), ec = ec,
                             n = bytes.size()]() mutable { h(ec, n); });
    }
};

struct RecordingReaderEvents final : rs::detail::ReaderEvents {
    Events events;
    std::shared_ptr<void> owner = std::make_shared<int>(0);
    void on_reader_data(std::string_view chunk) override {
        events.push_back("data:" + std::string(chunk));
    }
    void on_reader_eof() override { events.emplace_back("end"); }
    void on_reader_error(const rs::Error& e) override {
        events.push_back(std::string("error:") + e.what());
    }
    std::shared_ptr<void> reader_keep_alive() override { return owner; }
};

}  // namespace

TEST_CASE("a spurious empty read without EOF does not end the stream") {
    auto loop = std::make_shared<rs::Loop>();
    ScriptedAsyncStream stream(loop->context());
    stream.script.emplace_back(asio::error_code(), "ab");
    stream.script.emplace_back(asio::error_code(), "");  // woke up, nothing there
    stream.script.emplace_back(asio::error_code(), "cd");
    stream.script.emplace_back(asio::error::eof, "");
    RecordingReaderEvents events;
    rs::detail::StreamReader<ScriptedAsyncStream> reader(stream, events, 16);
    reader.start();
    loop->run();
    CHECK(events.events == Events{"data:ab", "data:cd", "end"});
    CHECK(stream.reads == 4);
}

TEST_CASE("a read error other than EOF is reported with the read prefix") {
    auto loop = std::make_shared<rs::Loop>();
    ScriptedAsyncStream stream(loop->context());
    stream.script.emplace_back(asio::error_code(ECONNRESET, asio::error::get_system_category()),
                               "");
    RecordingReaderEvents events;
    rs::detail::StreamReader<ScriptedAsyncStream> reader(stream, events, 16);
    reader.start();
    loop->run();
    CHECK(events.events ==
          Events{"error:Unable to read from stream: Connection reset by peer (ECONNRESET)"});
}

namespace {

// A writable "fd" that takes `capacity` more bytes, then would block; waits
// for writability complete on the next turn.
struct ScriptedWritable {
    static constexpr int wait_write = 1;
    explicit ScriptedWritable(asio::io_context& io) : context(io) {}
    asio::io_context& context;
    std::size_t capacity = 0;
    std::string sent;
    int waits = 0;

    [[nodiscard]] asio::io_context::executor_type get_executor() const {
        return context.get_executor();
    }
    void non_blocking(bool, asio::error_code& ec) { ec = {}; }
    template <class Handler>
    void async_wait(int, Handler&& handler) {
        ++waits;
        asio::post(context,
                   [h = std::forward<Handler>(handler)]() mutable { h(asio::error_code()); });
    }
};

// The policy: what a socket would do with send(); here, take what fits.
struct TakeWhatFits {
    std::size_t operator()(ScriptedWritable& s, std::string_view data, asio::error_code& ec) const {
        const std::size_t n = std::min(data.size(), s.capacity);
        if (n == 0) {
            ec = asio::error::would_block;
            return 0;
        }
        s.capacity -= n;
        s.sent.append(data.substr(0, n));
        return n;
    }
};

struct RecordingWriterEvents final : rs::detail::WriterEvents {
    Events events;
    std::function<void()> on_drain;
    std::shared_ptr<void> owner = std::make_shared<int>(0);
    void on_writer_drain() override {
        events.emplace_back("drain");
        if (on_drain)
            on_drain();
    }
    void on_writer_error(const rs::Error& e) override {
        events.push_back(std::string("error:") + e.what());
    }
    void on_writer_finished() override { events.emplace_back("finished"); }
    std::shared_ptr<void> writer_keep_alive() override { return owner; }
};

}  // namespace

TEST_CASE("BufferedWriter: write-through, buffering of the rest, drain, end after flush") {
    auto loop = std::make_shared<rs::Loop>();
    ScriptedWritable stream(loop->context());
    RecordingWriterEvents events;
    rs::detail::BufferedWriter<ScriptedWritable, TakeWhatFits> writer(stream, events, 4);

    stream.capacity = 2;
    CHECK(writer.write("ab"));  // all taken at once: nothing buffered, no wait
    CHECK(stream.sent == "ab");
    CHECK(stream.waits == 0);
    CHECK_FALSE(writer.write("cdefg"));  // nothing taken: 5 >= 4 buffered
    CHECK(writer.buffered_amount() == 5);
    CHECK_FALSE(writer.write(""));  // an empty write reports the state: still full
    CHECK(writer.buffered_amount() == 5);

    events.on_drain = [&] {
        events.on_drain = nullptr;
        CHECK(writer.write("h"));  // behind what is buffered, in order: "fgh" < 4
        writer.end("!");           // "fgh!" reaches the limit again: another drain is due
    };
    stream.capacity = 3;  // "cde" goes, 2 left: below the limit -> drain
    run_until(loop, [&] { return !events.events.empty(); });
    CHECK(events.events == Events{"drain"});
    CHECK(writer.is_ending());
    CHECK_FALSE(writer.is_writable());
    CHECK_FALSE(writer.write("late"));

    stream.capacity = 100;
    run_until(loop, [&] { return events.events.size() == 3; });
    CHECK(events.events == Events{"drain", "drain", "finished"});
    CHECK(stream.sent == "abcdefgh!");
}

// ---------------------------------------------------------------------------
// DuplexResourceStream
// ---------------------------------------------------------------------------

TEST_CASE("duplex end(): no longer readable or writable, closes after the flush") {
    auto loop = std::make_shared<rs::Loop>();
    auto [mine, peer] = make_socketpair();
    auto duplex = std::make_shared<rs::DuplexResourceStream>(mine, loop);
    EventLog log;
    log.record(*duplex);
    CHECK(duplex->is_readable());
    CHECK(duplex->is_writable());
    duplex->end("bye");
    CHECK_FALSE(duplex->is_readable());
    CHECK_FALSE(duplex->is_writable());
    CHECK_FALSE(duplex->write("more"));
    loop->run();
    CHECK(log.events == Events{"close"});
    CHECK(read_all(peer) == "bye");
    ::close(peer);
}

TEST_CASE("the duplex write side's `drain` and `error` are the duplex's events") {
    auto loop = std::make_shared<rs::Loop>();
    SUBCASE("drain") {
        auto [mine, peer] = make_socketpair();
        fill(mine);
        auto duplex = std::make_shared<rs::DuplexResourceStream>(
            mine, loop, rs::DuplexResourceStream::Options{.soft_limit = 4});
        int drains = 0;
        duplex->on(rs::ev::drain, [&] {
            ++drains;
            duplex->close();
        });
        CHECK_FALSE(duplex->write("12345"));
        ::fcntl(peer, F_SETFL, O_NONBLOCK);
        read_available(peer);
        loop->run();
        CHECK(drains == 1);
        ::close(peer);
    }
    SUBCASE("error") {
        auto [mine, peer] = make_socketpair();
        ::close(peer);
        auto duplex = std::make_shared<rs::DuplexResourceStream>(mine, loop);
        EventLog log;
        log.record(*duplex);
        duplex->pause();  // only the write side is under test
        duplex->write("foo");
        loop->run();
        CHECK(log.events ==
              Events{"error:Unable to write to stream: Broken pipe (EPIPE)", "close"});
    }
}

TEST_CASE("duplex: large chunks are reassembled, a large write arrives complete") {
    auto loop = std::make_shared<rs::Loop>();
    auto [mine, theirs] = make_socketpair();
    auto a = std::make_shared<rs::DuplexResourceStream>(mine, loop);
    auto b = std::make_shared<rs::DuplexResourceStream>(theirs, loop);
    std::string to_b(3 * 1024 * 1024 + 7, 'a');
    std::string to_a(2 * 1024 * 1024 + 3, 'b');
    std::string at_a, at_b;
    int errors = 0;
    a->on(rs::ev::data, [&](std::string_view c) { at_a.append(c); });
    b->on(rs::ev::data, [&](std::string_view c) { at_b.append(c); });
    a->on(rs::ev::error, [&](const std::system_error&) { ++errors; });
    b->on(rs::ev::error, [&](const std::system_error&) { ++errors; });
    a->write(to_b);
    b->write(to_a);
    run_until(loop, [&] { return at_a.size() == to_a.size() && at_b.size() == to_b.size(); });
    CHECK(at_a == to_a);
    CHECK(at_b == to_b);
    a->end();
    loop->run();  // b sees EOF, ends, closes
    CHECK_FALSE(b->is_readable());
    CHECK(errors == 0);
}

TEST_CASE("duplex echo via pipe(self): 5 bytes and an immediate shutdown(SHUT_WR) all come back") {
    // ReactPHP loses these 5 bytes (reactphp-issues row 1): the echo is still
    // buffered when EOF closes the stream.
    auto loop = std::make_shared<rs::Loop>();
    auto [mine, peer] = make_socketpair();
    const int peer_fd = peer;  // a structured binding cannot be captured before clang 16
    const std::size_t filled = fill(mine);  // the echo cannot be written through
    REQUIRE(::write(peer, "hello", 5) == 5);
    REQUIRE(::shutdown(peer, SHUT_WR) == 0);

    std::shared_ptr<rs::ReadableResourceStream> peer_in;
    std::string received;
    bool peer_ended = false;
    {
        auto echo = std::make_shared<rs::DuplexResourceStream>(mine, loop);
        echo->pipe(echo);
        echo->on(rs::ev::end, [&, echo_raw = echo.get()] {
            CHECK(echo_raw->buffered_amount() == 5);
            // Only now does the peer start reading.
            peer_in = std::make_shared<rs::ReadableResourceStream>(peer_fd, loop);
            peer_in->on(rs::ev::data, [&](std::string_view c) { received.append(c); });
            peer_in->on(rs::ev::end, [&] { peer_ended = true; });
        });
    }
    loop->run();
    CHECK(peer_ended);
    CHECK(received.size() == filled + 5);
    CHECK(received.substr(filled) == "hello");
}

TEST_CASE("duplex: EOF with a reply still buffered flushes it before `close`") {
    auto loop = std::make_shared<rs::Loop>();
    auto [mine, peer] = make_socketpair();
    REQUIRE(::write(peer, "question", 8) == 8);
    REQUIRE(::shutdown(peer, SHUT_WR) == 0);
    auto peer_in = std::make_shared<rs::ReadableResourceStream>(peer, loop);
    peer_in->pause();  // the peer reads only once the reply is buffered

    auto duplex = std::make_shared<rs::DuplexResourceStream>(mine, loop);
    EventLog log;
    log.record(*duplex);
    const std::string reply(4 * 1024 * 1024, 'r');
    duplex->on(rs::ev::data, [&](std::string_view) {
        duplex->write(reply);  // far more than a socket buffer
        peer_in->resume();
    });
    std::string received;
    bool peer_ended = false;
    peer_in->on(rs::ev::data, [&](std::string_view c) { received.append(c); });
    peer_in->on(rs::ev::end, [&] { peer_ended = true; });
    loop->run();
    // `drain` while flushing after the end, as ReactPHP (the buffer went
    // from >= soft limit to below it); `close` only once everything is sent.
    CHECK(log.events == Events{"data:question", "end", "drain", "close"});
    CHECK(received.size() == reply.size());
    CHECK(peer_ended);
}

TEST_CASE("duplex: a reply written from the `end` listener to a vanished peer is reported") {
    auto loop = std::make_shared<rs::Loop>();
    auto [mine, peer] = make_socketpair();
    REQUIRE(::write(peer, "question", 8) == 8);
    ::close(peer);  // sends, then goes away entirely
    auto duplex = std::make_shared<rs::DuplexResourceStream>(mine, loop);
    EventLog log;
    log.record(*duplex);
    duplex->on(rs::ev::end, [&] { CHECK_FALSE(duplex->write("reply")); });
    loop->run();
    CHECK(log.events == Events{"data:question", "end",
                               "error:Unable to write to stream: Broken pipe (EPIPE)", "close"});
}

TEST_CASE("duplex end() from inside a `data` listener: the reply is sent, no `end` follows") {
    auto loop = std::make_shared<rs::Loop>();
    auto [mine, peer] = make_socketpair();
    REQUIRE(::write(peer, "hi", 2) == 2);
    auto duplex = std::make_shared<rs::DuplexResourceStream>(mine, loop);
    EventLog log;
    log.record(*duplex);
    duplex->on(rs::ev::data, [&](std::string_view) { duplex->end("bye"); });
    loop->run();
    CHECK(log.events == Events{"data:hi", "close"});
    CHECK(duplex->listener_count(rs::ev::data) == 0);
    CHECK(read_all(peer) == "bye");
    ::close(peer);
}

TEST_CASE("destroying the loop destroys the streams it keeps alive") {
    const Fds fds = make_pipe();
    std::weak_ptr<rs::ReadableResourceStream> weak;
    {
        auto loop = std::make_shared<rs::Loop>();
        auto in = std::make_shared<rs::ReadableResourceStream>(fds.read, loop);
        weak = in;
        // Queued after the stream's start: once it ran, a read is pending.
        bool started = false;
        loop->future_tick([&] { started = true; });
        run_until(loop, [&] { return started; });
        in.reset();
        CHECK_FALSE(weak.expired());  // the pending read holds it
    }
    CHECK(weak.expired());
    CHECK_FALSE(fd_is_open(fds.read));
    ::close(fds.write);
}

// ---------------------------------------------------------------------------
// Pipelines
// ---------------------------------------------------------------------------

TEST_CASE("100 MB through a chain of three streams arrives intact") {
    constexpr std::size_t kTotal = 100 * 1000 * 1000;
    auto loop = std::make_shared<rs::Loop>();
    const Fds upstream = make_pipe();
    const Fds downstream = make_pipe();

    auto producer = std::make_shared<rs::WritableResourceStream>(upstream.write, loop);
    auto source = std::make_shared<rs::ReadableResourceStream>(upstream.read, loop);
    auto first = std::make_shared<rs::ThroughStream>();
    auto second = std::make_shared<rs::ThroughStream>(
        [](std::string_view in, std::string& out) { out.assign(in); });  // a copying transform
    auto sink = std::make_shared<rs::WritableResourceStream>(downstream.write, loop);
    auto consumer = std::make_shared<rs::ReadableResourceStream>(downstream.read, loop);

    source->pipe(first)->pipe(second)->pipe(sink);

    Generator generator;
    Checksum sent;
    std::string block;
    std::size_t produced = 0;
    std::function<void()> produce = [&] {
        while (produced < kTotal) {
            generator.fill(block, std::min<std::size_t>(65536 + 17, kTotal - produced));
            produced += block.size();
            sent.add(block);
            if (!producer->write(block))
                return;  // wait for `drain`
        }
        producer->end();
    };
    producer->on(rs::ev::drain, [&] { produce(); });

    Checksum received;
    bool ended = false;
    consumer->on(rs::ev::data, [&](std::string_view chunk) { received.add(chunk); });
    consumer->on(rs::ev::end, [&] { ended = true; });
    int errors = 0;
    for (rs::Stream* s : std::initializer_list<rs::Stream*>{producer.get(), source.get(),
                                                            sink.get(), consumer.get()}) {
        s->on(rs::ev::error, [&](const std::system_error& e) {
            ++errors;
            MESSAGE(e.what());
        });
    }

    produce();
    loop->run();

    CHECK(errors == 0);
    CHECK(ended);
    CHECK(received.size == kTotal);
    CHECK(received.value == sent.value);
    CHECK_FALSE(first->is_writable());
    CHECK_FALSE(sink->is_writable());
}

TEST_CASE("a slow consumer keeps the writer's buffer bounded") {
    constexpr std::size_t kTotal = 16 * 1024 * 1024;
    constexpr std::size_t kChunk = 65536;
    auto loop = std::make_shared<rs::Loop>();
    const Fds fds = make_pipe();
    auto producer = std::make_shared<rs::ThroughStream>();
    auto out = std::make_shared<rs::WritableResourceStream>(fds.write, loop);
    // Reads in small chunks: many turns of the loop per chunk produced.
    auto in = std::make_shared<rs::ReadableResourceStream>(
        fds.read, loop, rs::ReadableResourceStream::Options{.read_chunk_size = 1024});
    producer->pipe(out);

    const std::string chunk(kChunk, 'p');
    std::size_t produced = 0;
    std::size_t max_buffered = 0;
    auto produce = [&] {
        while (produced < kTotal) {
            produced += kChunk;
            const bool more = producer->write(chunk);
            max_buffered = std::max(max_buffered, out->buffered_amount());
            if (!more)
                return;
        }
        producer->end();
    };
    producer->on(rs::ev::drain, produce);
    std::size_t received = 0;
    in->on(rs::ev::data, [&](std::string_view c) { received += c.size(); });

    produce();
    loop->run();
    CHECK(received == kTotal);
    CHECK(max_buffered > 0);               // the consumer really was slow
    CHECK(max_buffered < 65536 + kChunk);  // soft limit + one chunk, never more
}

TEST_CASE("a pipeline nobody holds runs to the end and then frees everything") {
    auto loop = std::make_shared<rs::Loop>();
    const Fds in_fds = make_pipe();
    const Fds out_fds = make_pipe();
    REQUIRE(::write(in_fds.write, "payload", 7) == 7);
    ::close(in_fds.write);
    std::weak_ptr<rs::ReadableResourceStream> weak_in;
    std::weak_ptr<rs::WritableResourceStream> weak_out;
    {
        auto in = std::make_shared<rs::ReadableResourceStream>(in_fds.read, loop);
        auto out = std::make_shared<rs::WritableResourceStream>(out_fds.write, loop);
        in->pipe(out);
        weak_in = in;
        weak_out = out;
    }
    loop->run();
    CHECK(weak_in.expired());
    CHECK(weak_out.expired());
    CHECK(read_all(out_fds.read) == "payload");
    ::close(out_fds.read);
}

#ifdef REACTSOCK_UPPERCASE_EXAMPLE
TEST_CASE("examples/uppercase.cpp uppercases a pipe") {
    // The example runs as a child with pipes as stdin and stdout; this process
    // feeds and reads them with resource streams.
    auto loop = std::make_shared<rs::Loop>();
    const Fds to_child = make_pipe();
    const Fds from_child = make_pipe();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child.read, STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, from_child.write, STDOUT_FILENO);
    char path[] = REACTSOCK_UPPERCASE_EXAMPLE;
    char* argv[] = {path, nullptr};
    pid_t pid = 0;
    REQUIRE(::posix_spawn(&pid, path, &actions, nullptr, argv, environ) == 0);
    posix_spawn_file_actions_destroy(&actions);
    ::close(to_child.read);
    ::close(from_child.write);

    std::string input;
    for (int i = 0; i < 20000; ++i)
        input += "hello, world " + std::to_string(i) + "\n";
    std::string expected = input;
    for (char& c : expected)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));

    auto feed = std::make_shared<rs::WritableResourceStream>(to_child.write, loop);
    auto output = std::make_shared<rs::ReadableResourceStream>(from_child.read, loop);
    std::string received;
    output->on(rs::ev::data, [&](std::string_view c) { received.append(c); });
    feed->end(input);
    loop->run();

    int status = -1;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(received.size() == expected.size());
    CHECK(received == expected);
}
#endif

TEST_CASE("resource stream options: the static from_json beside the ADL hooks, strict") {
    using nlohmann::json;
    CHECK(rs::ReadableResourceStreamOptions::from_json(json{{"read_chunk_size", 512}})
              .read_chunk_size == 512);
    CHECK(rs::WritableResourceStream::Options::from_json(json{{"soft_limit", 7}}).soft_limit == 7);
    const auto duplex = rs::DuplexResourceStreamOptions::from_json(json{{"soft_limit", 9}});
    CHECK(duplex.soft_limit == 9);
    CHECK(duplex.read_chunk_size == 65536);  // absent: the default

    CHECK_THROWS_WITH_AS(rs::ReadableResourceStreamOptions::from_json(json{{"chunk_size", 1}}),
                         "Unknown ReadableResourceStream option \"chunk_size\"",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(
        rs::DuplexResourceStreamOptions::from_json(json{{"read_chunk_size", "4k"}}),
        "DuplexResourceStream option \"read_chunk_size\" must be an integer",
        std::invalid_argument);
    CHECK_THROWS_WITH_AS(rs::WritableResourceStreamOptions::from_json(json{{"soft_limit", true}}),
                         "WritableResourceStream option \"soft_limit\" must be an integer",
                         std::invalid_argument);
}
