// A user's translation unit, compiled at -O3 and at -O2 with -Wall -Wextra
// -Wpedantic -Wshadow -Werror (tests/headers/CMakeLists.txt). It instantiates
// as much of the public API as a program would — promises and coroutines,
// combinators and timers, event emitters with several tags, streams, servers,
// connectors, DNS, the options structs with designated initialisers — so that
// a warning the compiler finds in a header once it inlines the header's
// templates into user code (GCC 12 at -O2/-O3: -Wmaybe-uninitialized,
// -Warray-bounds, -Wdangling-pointer, -Wrestrict, -Wstringop-overflow,
// -Wfree-nonheap-object, ...; -Wextra's -Wmissing-field-initializers for an
// aggregate member without a default) breaks our build, not a user's.
//
// It is only compiled, never linked or run: the functions below have external
// linkage so that the optimiser cannot drop them, and each one exercises one
// area the way the README and docs/*.md do. Add to it when the API grows.
#include <reactsock/reactsock.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace rs = reactsock;

namespace o3_consumer {

// ---- promises ---------------------------------------------------------------

struct Point {
    int x = 0;
    int y = 0;
};

int promise_chains() {
    rs::Deferred<int> deferred;
    std::string seen;
    deferred.promise()
        .then([](int v) { return v * 2; })
        .then([](int v) { return rs::resolve(std::to_string(v)); })
        .then([](const std::string& s) -> std::string {
            if (s == "42") throw std::runtime_error("too good to be true");
            return s;
        })
        .otherwise([](const std::runtime_error& e) { return std::string("recovered: ") + e.what(); })
        .otherwise([](const std::system_error& e) { return std::string(e.what()); })
        .otherwise([](const std::exception& e) { return std::string(e.what()); })
        .otherwise([](std::exception_ptr e) { return rs::describe_exception(e); })
        .finally([] { std::puts("finally"); })
        .finally([] { return rs::resolve(); })
        .then([&](const std::string& s) { seen = s; });
    deferred.resolve(21);

    // Both handlers, a generic error handler, a void chain.
    auto both = rs::resolve(1).then([](int v) { return v + 1; },
                                    [](const std::system_error& e) { return e.code().value(); });
    auto generic = rs::reject<int>(std::runtime_error("x")).otherwise([](auto) { return 7; });
    auto voided = rs::resolve().then([] { return 3; }).then([](int) {});
    auto strings = rs::resolve(std::string("hello")).then([](const std::string& s) { return s.size(); });
    auto points = rs::resolve(Point{1, 2}).then([](const Point& p) { return Point{p.y, p.x}; });
    auto vectors = rs::resolve(std::vector<std::string>{"a", "b"})
                       .then([](const std::vector<std::string>& v) { return v.size(); });
    auto shared = rs::resolve(std::make_shared<int>(5)).then([](const std::shared_ptr<int>& p) {
        return *p;
    });
    auto optional = rs::resolve(std::optional<int>{}).then([](const std::optional<int>& o) {
        return o.value_or(-1);
    });
    auto finally_rejects = rs::resolve(1).finally([] { return rs::reject(std::runtime_error("late")); });
    finally_rejects.otherwise([](std::exception_ptr) { return 0; });
    both.cancel();
    generic.cancel();
    voided.cancel();
    int result = static_cast<int>(seen.size()) + (strings.is_fulfilled() ? 1 : 0) +
                 (points.is_pending() ? 1 : 0) + (vectors.is_rejected() ? 1 : 0) +
                 (shared.valid() ? 1 : 0) + (optional.valid() ? 1 : 0);
    return result;
}

int cancellation() {
    int stopped = 0;
    rs::Deferred<int> operation([&](rs::Deferred<int>& self) {
        ++stopped;
        self.reject(rs::Error(ECONNABORTED, "Operation aborted (ECONNABORTED)"));
    });
    auto result = operation.promise().then([](int v) { return v + 1; });
    int code = 0;
    result.otherwise([&](const std::system_error& e) {
        code = e.code().value();
        return 0;
    });
    result.cancel();

    rs::Deferred<void> plain([&] { ++stopped; });
    auto a = plain.promise().then([] { return 1; });
    auto b = plain.promise().then([] { return 2; });
    a.cancel();
    b.cancel();
    plain.resolve();

    rs::Deferred<std::string> no_canceller;
    auto c = no_canceller.promise().then([](const std::string& s) { return s + "!"; });
    c.cancel();
    no_canceller.resolve("late");
    no_canceller.reject(std::make_exception_ptr(std::runtime_error("later")));
    return stopped + code + (no_canceller.is_pending() ? 1 : 0);
}

int unhandled_rejections() {
    std::string reported;
    auto previous = rs::set_rejection_handler([&](std::exception_ptr e) {
        reported = rs::describe_exception(e);
    });
    rs::reject<int>(std::runtime_error("nobody listened"));
    rs::reject<std::string>(rs::Error(ENOENT, "missing"));
    rs::reject(std::logic_error("void"));
    rs::set_rejection_handler(previous);
    return static_cast<int>(reported.size());
}

// Value types of every shape: trivial and small, with a destructor, empty,
// large, and views, through then(), otherwise(), adoption and await().
template <class T>
T round_trip(T value, T fallback) {
    rs::Deferred<T> deferred;
    auto chained = deferred.promise()
                       .then([](const T& v) { return v; })
                       .then([](const T& v) { return rs::resolve(v); })
                       .otherwise([fallback](const std::system_error&) { return fallback; })
                       .finally([] {});
    rs::Deferred<T> other([](rs::Deferred<T>& self) { self.reject(rs::Error(ECANCELED, "stop")); });
    auto adopted = rs::resolve(0).then([other](int) { return other.promise(); });
    deferred.resolve(value);
    adopted.cancel();
    T result = rs::await(chained);
    try {
        result = rs::await(adopted);
    } catch (const std::system_error&) {
    }
    return result;
}

struct Big {
    char bytes[256] = {};
    std::size_t used = 0;
};

int value_types() {
    int total = 0;
    total += round_trip(true, false) ? 1 : 0;
    total += round_trip('x', 'y');
    total += static_cast<int>(round_trip(1.5, 0.5));
    total += static_cast<int>(round_trip(std::size_t{7}, std::size_t{0}));
    total += static_cast<int>(round_trip(std::string_view("view"), std::string_view()).size());
    total += static_cast<int>(round_trip(std::string("text"), std::string()).size());
    total += round_trip(std::pair<int, std::string>(1, "one"), std::pair<int, std::string>()).first;
    total += round_trip(std::optional<std::string>("x"), std::optional<std::string>()).has_value() ? 1 : 0;
    total += static_cast<int>(round_trip(Big{{'a'}, 1}, Big{}).used);
    total += static_cast<int>(round_trip(std::map<std::string, int>{{"k", 1}}, {}).size());
    total += *round_trip(std::make_shared<int>(3), std::make_shared<int>(0));
    total += round_trip(Point{1, 2}, Point{}).y;
    return total;
}

// Promises kept in members and settled later from a timer; a Deferred in a
// std::function; a long chain built in a loop.
class Job {
public:
    rs::Promise<int> start(double seconds) {
        timer_ = rs::Loop::get()->add_timer(seconds, [deferred = deferred_]() mutable { deferred.resolve(42); });
        return deferred_.promise();
    }
    void stop() { rs::Loop::get()->cancel_timer(timer_); }

private:
    rs::Deferred<int> deferred_{[this] { stop(); }};
    rs::TimerHandle timer_;
};

int stored_promises() {
    Job job;
    rs::Promise<int> p = job.start(0.01);
    for (int i = 0; i < 100; ++i) p = p.then([](int v) { return v + 1; });
    std::function<void(int)> settle;
    rs::Deferred<std::string> deferred;
    settle = [deferred](int v) mutable { deferred.resolve(std::to_string(v)); };
    p.then([settle](int v) { settle(v); });
    std::vector<rs::Promise<std::string>> many(3, deferred.promise());
    auto joined = rs::all(many).then([](const std::vector<std::string>& parts) {
        std::string out;
        for (const auto& part : parts) out += part;
        return out;
    });
    return static_cast<int>(rs::await(joined).size());
}

// ---- coroutines ---------------------------------------------------------------

rs::Promise<std::string> greet_slowly(std::string name) {
    co_await rs::sleep(0.01);
    co_return "hello, " + name;
}

rs::Promise<int> cancellable_wait() {
    try {
        co_await rs::sleep(60);
    } catch (const std::system_error& e) {
        std::printf("wait ended: %s\n", e.what());
        co_return -1;
    }
    co_return 0;
}

rs::Promise<void> void_coroutine(rs::Promise<int> input) {
    const int value = co_await std::move(input);
    if (value < 0) throw std::runtime_error("negative");
    auto settled = rs::resolve(value);
    const int again = co_await settled;  // an lvalue: does not suspend
    std::printf("%d %d\n", value, again);
}

rs::Promise<std::size_t> coroutine_chain() {
    std::string greeting = co_await greet_slowly("world");
    int waited = co_await cancellable_wait();
    co_await void_coroutine(rs::resolve(waited));
    // (The vectors are built outside the co_await expressions: GCC 12 rejects a
    // braced initializer list inside one with "array used as initializer".)
    std::vector<rs::Promise<int>> inputs;
    inputs.push_back(rs::resolve(1));
    inputs.push_back(rs::sleep(0.01).then([] { return 2; }));
    auto values = co_await rs::all(inputs);
    std::vector<std::string> names = co_await rs::resolve(std::vector<std::string>(2, "a"));
    co_return greeting.size() + values.size() + names.size();
}

// A coroutine lambda, without captures (they would live in the lambda object,
// not in the coroutine frame: see docs/pitfalls.md).
auto make_doubler() {
    return [](rs::Promise<int> input) -> rs::Promise<int> { co_return 2 * co_await std::move(input); };
}

rs::Promise<std::shared_ptr<rs::Connection>> connect_and_greet(rs::ConnectorInterface& connector) {
    auto conn = co_await connector.connect("127.0.0.1:8080");
    conn->write("hi\n");
    co_return conn;
}

int coroutines() {
    auto chain = coroutine_chain();
    auto waiting = cancellable_wait();
    waiting.cancel();
    auto doubler = make_doubler();
    auto doubled = doubler(rs::sleep(0.01).then([] { return 21; }));
    return rs::await(doubled) + static_cast<int>(rs::await(chain)) + rs::await(waiting) +
           static_cast<int>(rs::await(greet_slowly("you")).size());
}

// ---- combinators and time ------------------------------------------------------

int combinators_and_time() {
    auto slow = rs::sleep(0.05).then([] { return 1; });
    auto fast = rs::sleep(0.01).then([] { return 2; });
    int first = rs::await(rs::race(std::vector<rs::Promise<int>>{slow, fast}));
    try {
        rs::await(rs::timeout(rs::sleep(5), 0.01));
    } catch (const std::system_error& e) {
        std::printf("%s\n", e.what());
    }
    auto all_ints = rs::all(std::vector<rs::Promise<int>>{rs::resolve(1), rs::sleep(0.01).then([] { return 2; })});
    auto all_voids = rs::all(std::vector<rs::Promise<void>>{rs::sleep(0.01), rs::resolve()});
    auto all_strings = rs::all(std::vector<rs::Promise<std::string>>{rs::resolve(std::string("x"))});
    auto any_int = rs::any(std::vector<rs::Promise<int>>{rs::reject<int>(std::runtime_error("a")), rs::resolve(3)});
    auto any_void = rs::any(std::vector<rs::Promise<void>>{rs::sleep(0.01)});
    auto race_void = rs::race(std::vector<rs::Promise<void>>{rs::sleep(0.02), rs::sleep(0.01)});
    auto race_string = rs::race(std::vector<rs::Promise<std::string>>{rs::resolve(std::string("y"))});
    auto none = rs::any(std::vector<rs::Promise<int>>{});
    none.otherwise([](const rs::AggregateError& e) { return static_cast<int>(e.errors().size()); })
        .otherwise([](const std::length_error&) { return 0; });
    auto timed_int = rs::timeout(rs::sleep(1).then([] { return 4; }), 0.5);
    auto timed_string = rs::timeout(rs::resolve(std::string("z")), 0.5, rs::Loop::get());
    timed_int.cancel();
    race_void.cancel();
    std::size_t total = rs::await(all_ints).size() + rs::await(all_strings).size() +
                        rs::await(race_string).size() + rs::await(timed_string).size();
    rs::await(all_voids);
    rs::await(any_void);
    return first + static_cast<int>(total) + rs::await(any_int);
}

// ---- loop -----------------------------------------------------------------------

int loop_usage() {
    auto loop = rs::Loop::get();
    int count = 0;
    loop->add_timer(0.5, [] { std::puts("half a second later"); });
    auto tick = loop->add_periodic_timer(0.1, [&count, loop](const rs::TimerHandle& self) {
        if (++count == 3) loop->cancel_timer(self);
    });
    loop->future_tick([&count] { ++count; });
    auto token = loop->keep_alive();
    loop->post([&count, token]() mutable {
        ++count;
        token.reset();
    });
    rs::SignalHandle on_int;
    on_int = loop->add_signal(SIGINT, [&](int signo) {
        std::printf("signal %d\n", signo);
        loop->remove_signal(on_int);
    });
    loop->run_until([&count] { return count > 2; });
    loop->run();
    loop->cancel_timer(tick);
    return count + static_cast<int>(loop->timer_count()) + (tick->is_active() ? 1 : 0) +
           static_cast<int>(tick->interval());
}

// ---- events ---------------------------------------------------------------------

struct progress_t : rs::Event<std::size_t, std::size_t> {};
inline constexpr progress_t progress{};
struct message_t : rs::Event<const std::string&, int> {};
inline constexpr message_t message{};
struct moved_t : rs::Event<std::shared_ptr<Point>> {};
inline constexpr moved_t moved{};
struct nothing_t : rs::Event<> {};
inline constexpr nothing_t nothing{};

class Download : public rs::EventEmitter {
public:
    void step() {
        emit(progress, done_ += 10, std::size_t{30});
        emit(message, std::string("step"), static_cast<int>(done_));
        emit(moved, std::make_shared<Point>(Point{1, 2}));
        emit(nothing);
        emit(rs::ev::data, std::string_view("chunk"));
        emit(rs::ev::error, rs::Error(EIO, "failed"));
        emit(rs::ev::end);
        emit(rs::ev::close);
    }

private:
    std::size_t done_ = 0;
};

int events() {
    Download download;
    int calls = 0;
    std::string last;
    rs::ListenerHandle printer = download.on(progress, [](std::size_t done, std::size_t total) {
        std::printf("%zu/%zu\n", done, total);
    });
    download.once(progress, [&](std::size_t, std::size_t) { ++calls; });
    download.on(message, [&](const std::string& text, int n) { last = text + std::to_string(n); });
    download.on(moved, [&](std::shared_ptr<Point> p) { calls += p->x; });
    download.on(nothing, [&] { ++calls; });
    download.on(rs::ev::data, [&](std::string_view chunk) { last.append(chunk); });
    download.on(rs::ev::error, [&](const std::system_error& e) { last = e.what(); });
    download.once(rs::ev::end, [&] { ++calls; });
    rs::ListenerHandle self;
    self = download.on(rs::ev::close, [&] {
        ++calls;
        download.remove_listener(self);
        download.on(rs::ev::close, [&] { calls += 10; });
    });
    download.step();
    download.step();
    download.remove_listener(printer);
    download.remove_all_listeners(message);
    download.step();
    const std::size_t listeners = download.listener_count(progress) + download.listener_count(rs::ev::close);
    download.remove_all_listeners();
    return calls + static_cast<int>(listeners + last.size()) + (printer ? 1 : 0) + (self == printer ? 1 : 0);
}

// ---- streams --------------------------------------------------------------------

int streams() {
    auto upper = std::make_shared<rs::ThroughStream>([](std::string_view in, std::string& out) {
        out.resize(in.size());
        std::transform(in.begin(), in.end(), out.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    });
    auto doubled = std::make_shared<rs::ThroughStream>([](std::string_view in) { return std::string(in) + std::string(in); });
    auto plain = std::make_shared<rs::ThroughStream>();
    std::string collected;
    plain->on(rs::ev::data, [&](std::string_view chunk) { collected.append(chunk); });
    plain->on(rs::ev::pipe, [&](const std::shared_ptr<rs::ReadableStream>& source) {
        collected += source->is_readable() ? "+" : "-";
    });
    upper->pipe(doubled)->pipe(plain);
    upper->write("hello");
    upper->end("bye");

    auto in = std::make_shared<rs::ReadableResourceStream>(STDIN_FILENO);
    auto out = std::make_shared<rs::WritableResourceStream>(STDOUT_FILENO, nullptr,
                                                            rs::WritableResourceStream::Options{.soft_limit = 1024});
    in->pipe(out, rs::PipeOptions{.end = false});
    auto io = std::make_shared<rs::CompositeStream>(in, out);
    io->on(rs::ev::drain, [] {});
    io->on(rs::ev::close, [&collected] { collected += "closed"; });
    io->write("x");
    rs::pipe(io, std::make_shared<rs::ThroughStream>());
    int fds[2] = {-1, -1};
    if (::pipe(fds) == 0) {
        auto duplex = std::make_shared<rs::DuplexResourceStream>(
            fds[0], rs::Loop::get(), rs::DuplexResourceStream::Options{.read_chunk_size = 4096, .soft_limit = 1024});
        duplex->pause();
        duplex->resume();
        collected += std::to_string(duplex->buffered_amount() + static_cast<std::size_t>(duplex->fd()));
        duplex->close();
        ::close(fds[1]);
    }
    nlohmann::json options = {{"read_chunk_size", 4096}};
    auto parsed = options.get<rs::ReadableResourceStreamOptions>();
    io->close();
    rs::Loop::get()->run();
    return static_cast<int>(collected.size() + parsed.read_chunk_size + out->buffered_amount());
}

// ---- servers ------------------------------------------------------------------------

int servers() {
    auto server = std::make_shared<rs::TcpServer>("127.0.0.1:0", nullptr,
                                                  rs::TcpServer::Options{.backlog = 1024, .so_reuseport = true});
    server->on(rs::ev::connection, [](std::shared_ptr<rs::Connection> conn) {
        conn->write("Hello " + conn->remote_address().value_or("?") + "!\n");
        conn->on(rs::ev::data, [conn](std::string_view chunk) {
            if (chunk == "quit\n") conn->close();
            else conn->write(chunk);
        });
        conn->on(rs::ev::timeout, [conn] { conn->end("idle\n"); });
        conn->set_timeout(30);
        conn->set_no_delay(true);
        conn->set_keep_alive({.idle_seconds = 60, .interval_seconds = 10, .probe_count = 3});
        conn->set_allow_half_open(true);
        conn->set_soft_limit(1 << 16);
        conn->set_option(SOL_SOCKET, SO_SNDBUF, 1 << 20);
        const nlohmann::json info = conn->info();
        std::cout << info.dump() << conn->get_option(SOL_SOCKET, SO_SNDBUF) << conn->native_handle()
                  << conn->buffered_amount() << conn->local_address().value_or("") << conn->is_secure() << '\n';
        if (auto tls = rs::tls_info(*conn)) std::cout << tls->protocol << ' ' << tls->cipher << '\n';
        conn->pipe(conn);
    });
    server->on(rs::ev::error, [](const std::system_error& e) { std::cerr << e.what() << '\n'; });
    std::cout << "Listening on " << server->address().value_or("?") << '\n';

    auto port_server = std::make_shared<rs::TcpServer>(0);
    auto json_server = std::make_shared<rs::TcpServer>("127.0.0.1:0", nullptr,
                                                       nlohmann::json{{"backlog", 16}, {"tcp_nodelay", true}});
    auto unix_server = std::make_shared<rs::UnixServer>("unix:///tmp/o3-consumer.sock", nullptr,
                                                        rs::UnixServer::Options{.backlog = 8, .mode = 0660U});
    auto limited = std::make_shared<rs::LimitingServer>(port_server, 100, true);
    for (const auto& conn : limited->connections()) conn->write("broadcast\n");
    auto cert = rs::tls::self_signed_certificate("localhost");
    auto secure = std::make_shared<rs::SecureServer>(
        json_server, nullptr,
        rs::TlsOptions{.local_cert = cert.certificate_pem, .local_pk = cert.private_key_pem,
                       .alpn_protocols = {"h2", "http/1.1"}, .handshake_timeout = 5});
    secure->on(rs::ev::connection, [](const std::shared_ptr<rs::Connection>& conn) {
        conn->end("hello over " + rs::tls_info(*conn).value_or(rs::TlsInfo{}).protocol + "\n");
    });
    rs::SocketServer socket_server("127.0.0.1:0", {{"tcp", {{"backlog", 1024}}}});
    rs::SocketServer tls_server("tls://127.0.0.1:0",
                                rs::SocketServer::Context{.tls = {.local_cert = cert.certificate_pem,
                                                                  .local_pk = cert.private_key_pem}});
    socket_server.on(rs::ev::connection, [](const std::shared_ptr<rs::Connection>& conn) {
        rs::start_tls_server(conn, rs::TlsOptions{}, "unread bytes")
            .then([](const std::shared_ptr<rs::Connection>& upgraded) { upgraded->write("secure\n"); })
            .otherwise([](const std::system_error& e) { std::cerr << e.what() << '\n'; });
    });
    std::size_t total = secure->pending_handshakes() + limited->address().value_or("").size() +
                        unix_server->address().value_or("").size() +
                        socket_server.inner()->address().value_or("").size() +
                        tls_server.address().value_or("").size() + secure->inner()->address()->size();
    limited->pause();
    limited->resume();
    secure->close();
    unix_server->close();
    try {
        rs::FdServer inherited("fd://3");
        total += inherited.address().value_or("").size();
    } catch (const std::exception& e) {
        std::cerr << e.what() << '\n';
    }
    return static_cast<int>(total);
}

// ---- connectors -------------------------------------------------------------------

int connectors() {
    rs::Connector connector;
    auto pending = connector.connect("tls://example.com:443")
                       .then([](std::shared_ptr<rs::Connection> conn) { conn->end("GET / HTTP/1.0\r\n\r\n"); })
                       .otherwise([](const std::exception& e) { std::cerr << e.what() << '\n'; });
    pending.cancel();

    rs::Connector tuned({{"timeout", 3.0}, {"tls", {{"verify_peer", false}}}});
    rs::Connector typed(rs::Connector::Options{.tls = rs::TlsOptions{.verify_peer = false},
                                               .dns = std::string("127.0.0.1:5353"),
                                               .happy_eyeballs = false,
                                               .timeout = std::nullopt});
    auto tcp = std::make_shared<rs::TcpConnector>(nullptr, rs::TcpConnector::Options{.bindto = "127.0.0.1",
                                                                                     .tcp_nodelay = true});
    auto resolver = rs::Resolver::create_cached();
    auto dns = std::make_shared<rs::DnsConnector>(tcp, resolver);
    auto eyeballs = std::make_shared<rs::HappyEyeballsConnector>(tcp, rs::Resolver::create(), nullptr,
                                                                 rs::HappyEyeballsConnectorOptions{.resolution_delay = 0.01});
    auto secure = std::make_shared<rs::SecureConnector>(eyeballs, nullptr,
                                                        rs::TlsOptions{.peer_name = "localhost", .cafile = "/tmp/ca.pem"});
    auto timed = std::make_shared<rs::TimeoutConnector>(secure, 3.0);
    auto unix_connector = std::make_shared<rs::UnixConnector>();
    rs::FixedUriConnector fixed("unix:///run/app.sock", unix_connector);

    std::string reply;
    auto greeted = connect_and_greet(*timed);
    greeted.then([&reply](const std::shared_ptr<rs::Connection>& conn) {
        conn->on(rs::ev::data, [&reply](std::string_view chunk) { reply.append(chunk); });
        conn->on(rs::ev::end, [conn] { conn->close(); });
        conn->on(rs::ev::close, [&reply] { reply += "|closed"; });
        rs::start_tls_client(conn, rs::TlsOptions{.verify_peer_name = false}, "localhost")
            .then([](const std::shared_ptr<rs::Connection>& secure_conn) { secure_conn->write("x"); });
    });
    std::vector<rs::Promise<std::shared_ptr<rs::Connection>>> attempts{
        tuned.connect("127.0.0.1:1"), typed.connect("localhost:80"), dns->connect("localhost:80"),
        fixed.connect("anything:1"), unix_connector->connect("unix:///tmp/nothing.sock")};
    auto first = rs::any(attempts);
    auto everyone = rs::all(attempts);
    auto quickest = rs::timeout(rs::race(attempts), 1.0);
    everyone.otherwise([](const std::system_error&) { return std::vector<std::shared_ptr<rs::Connection>>{}; });
    quickest.cancel();
    try {
        auto conn = rs::await(first);
        reply += conn->remote_address().value_or("?");
    } catch (const rs::AggregateError& e) {
        for (const auto& error : e.errors()) reply += rs::describe_exception(error);
    } catch (const std::system_error& e) {
        reply += e.what();
    }
    return static_cast<int>(reply.size());
}

// ---- DNS --------------------------------------------------------------------------------

int dns_usage() {
    auto loop = rs::Loop::get();
    rs::Resolver::Config config;
    config.nameservers = {"127.0.0.1:5353"};
    config.search = std::vector<std::string>{"example.com"};
    config.ndots = 2;
    auto resolver = rs::Resolver::create(loop, config);
    auto cached = rs::Resolver::create_cached(loop, nlohmann::json{{"timeout", 1.0}, {"attempts", 1}}, 16);
    std::string out;
    resolver->resolve("localhost").then([&out](const std::string& ip) { out += ip; });
    resolver->resolve_all("example.com", rs::RecordType::AAAA)
        .then([&out](const std::vector<std::string>& ips) {
            for (const auto& ip : ips) out += ip;
        })
        .otherwise([&out](const std::system_error& e) { out += e.what(); });
    auto mx = cached->resolve_mx("example.com").then([](const std::vector<rs::MxRecord>& records) {
        return records.empty() ? std::string() : records.front().target;
    });
    auto txt = cached->resolve_txt("example.com").then([](const std::vector<rs::TxtRecord>& records) {
        std::size_t n = 0;
        for (const auto& record : records) n += record.strings.size();
        return n;
    });
    auto srv = cached->resolve_srv("_sip._udp.example.com").then([](const std::vector<rs::SrvRecord>& records) {
        return records.empty() ? 0 : static_cast<int>(records.front().port);
    });
    auto lookup = rs::timeout(resolver->resolve("example.com"), 2.0);
    lookup.cancel();
    mx.cancel();
    try {
        out += rs::await(mx);
    } catch (const std::system_error& e) {
        out += e.what();
    }
    out += rs::to_string(rs::RecordType::SRV);
    return static_cast<int>(out.size() + rs::await(txt)) + rs::await(srv) +
           (resolver->loop() == loop ? 1 : 0);
}

// ---- TLS options, JSON, errors ---------------------------------------------------------------

int options_and_errors() {
    rs::TlsOptions server{.local_cert = "/etc/app/cert.pem", .local_pk = "/etc/app/key.pem"};
    server.sni_server_certs["example.com"] = rs::TlsCertificate{.local_cert = "/etc/app/example.pem"};
    rs::TlsOptions client{.alpn_protocols = {"h2", "http/1.1"}, .cafile = "/etc/app/ca.pem"};
    auto same = rs::TlsOptions::from_json({{"local_cert", "/etc/app/cert.pem"}, {"verify_peer", false}});
    auto tcp_options = rs::TcpServerOptions::from_json({{"backlog", 1024}, {"so_reuseport", true}});
    auto unix_options = nlohmann::json{{"backlog", 4}}.get<rs::UnixServerOptions>();
    auto context = rs::SocketServerContext::from_json({{"tcp", {{"backlog", 1024}}}});
    auto connector_options = rs::ConnectorOptions::from_json({{"timeout", false}, {"dns", false}});
    auto config = rs::Resolver::Config::from_json(nlohmann::json{{"nameservers", {"127.0.0.1"}}});
    auto connector_tcp = rs::TcpConnectorOptions::from_json({{"bindto", "127.0.0.1:0"}});

    rs::TlsInfo info{.protocol = "TLSv1.3", .cipher = "TLS_AES_256_GCM_SHA384", .alpn_protocol = "h2"};
    info.peer_certificate = rs::TlsPeerCertificate{.subject = "CN=localhost", .subject_alt_names = {"DNS:localhost"}};
    nlohmann::json json = info;
    rs::MxRecord mx{.priority = 10};
    rs::SrvRecord srv{.priority = 1, .weight = 2, .port = 5060};
    rs::TxtRecord txt{};
    rs::TlsCertificate sni{.local_cert = "/etc/app/sni.pem"};
    rs::tls::CertificateAndKey pair{.certificate_pem = "-----BEGIN CERTIFICATE-----"};
    rs::SignalHandle no_signal{.signal = SIGTERM};
    rs::HappyEyeballsConnectorOptions delays{.connection_attempt_delay = 0.2};
    rs::DuplexResourceStreamOptions duplex{.soft_limit = 1};

    std::string text;
    try {
        throw rs::make_errno_error(ECONNREFUSED, "Connection to tcp://127.0.0.1:1 failed: ");
    } catch (const rs::Error& e) {
        text = e.what();
        if (e.code() == std::errc::connection_refused) text += rs::describe_errno(ECONNREFUSED);
    }
    text += rs::errno_name(ETIMEDOUT);
    text += rs::format_seconds(0.5);
    text += rs::describe_exception(std::make_exception_ptr(std::invalid_argument("bad")));
    return static_cast<int>(text.size() + json.dump().size() + same.alpn_protocols.size() +
                            client.alpn_protocols.size() + server.sni_server_certs.size() +
                            static_cast<std::size_t>(tcp_options.backlog + unix_options.backlog +
                                                     context.tcp.backlog) +
                            (connector_options.timeout ? 1U : 0U) + config.nameservers.size() +
                            connector_tcp.bindto.value_or("").size() + mx.target.size() +
                            srv.target.size() + txt.strings.size() + sni.local_pk.size() +
                            pair.private_key_pem.size() + (no_signal ? 1U : 0U) + duplex.read_chunk_size) +
           static_cast<int>(delays.resolution_delay);
}

}  // namespace o3_consumer
