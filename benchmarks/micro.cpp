// micro: the library's hot paths, one tight loop per case.
//
//   bench_micro [--ops N] [case...]          (default: every case, N = 100000)
//
// Each case runs N/10 warm-up operations, then N measured ones, and prints
// nanoseconds per operation. Under `valgrind --tool=callgrind
// --collect-atstart=no` (benchmarks/micro.sh) only the measured loops are
// collected, and each case ends with a callgrind dump named after it, so the
// script can print instructions per operation: a regression shows up as a
// changed count, without wall-clock noise.
//
// Cases (one "op" each):
//   promise_then_resolve    Deferred<int> + then() + resolve(): one handler runs
//   promise_chain_10        Deferred<int> + 10 chained then() + resolve()
//   promise_resolved_then   then() on an already fulfilled promise
//   emit_1_listener         EventEmitter::emit with 1 listener
//   emit_10_listeners       EventEmitter::emit with 10 listeners
//   timer_add_cancel        Loop::add_timer(1 s) + Loop::cancel_timer
//   through_write_64B       ThroughStream::write(64 B) with one `data` listener
//   connection_echo_64B     64 B through a loopback TCP Connection pair: client
//                           write, the server's conn->pipe(conn) echoes it, the
//                           client's `data` sees it (both ends' user-space cost,
//                           loop turns included; system calls are not counted)
//   connection_write_drain  256 KiB write() to a Connection whose peer reads
//                           everything, until `drain` (buffering, partial sends,
//                           the drain event)
#include <reactsock/reactsock.hpp>

#include <sys/socket.h>
#include <valgrind/callgrind.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace rs = reactsock;

namespace {

struct value_t : rs::Event<int> {};
constexpr value_t value_event{};

class Emitter : public rs::EventEmitter {};

volatile long sink = 0;  // keeps the optimiser from deleting the work

struct Case {
    const char* name;
    // Returns the operation to repeat; setup happens in the factory, outside the count.
    std::function<std::function<void(long)>()> make;
};

struct ConnectionPair {
    std::shared_ptr<rs::Loop> loop = rs::Loop::get();
    std::shared_ptr<rs::TcpServer> server;
    std::shared_ptr<rs::Connection> client;
    std::shared_ptr<rs::Connection> served;
    std::size_t received = 0;

    explicit ConnectionPair(bool echo) {
        server = std::make_shared<rs::TcpServer>("127.0.0.1:0", loop);
        server->on(rs::ev::connection, [this, echo](const std::shared_ptr<rs::Connection>& conn) {
            served = conn;
            if (echo) {
                conn->pipe(conn);
            } else {
                conn->on(rs::ev::data, [](std::string_view chunk) {
                    sink = sink + static_cast<long>(chunk.size());
                });
            }
        });
        rs::TcpConnector connector(loop, rs::TcpConnector::Options{.tcp_nodelay = true});
        client = rs::await(connector.connect(*server->address()), loop);
        client->on(rs::ev::data, [this](std::string_view chunk) { received += chunk.size(); });
        loop->run_until([this] { return served != nullptr; });
    }
    ~ConnectionPair() {
        client->close();
        if (served)
            served->close();
        server->close();
    }
};

std::vector<Case> cases() {
    return {
        {"promise_then_resolve",
         [] {
             return [](long i) {
                 rs::Deferred<int> deferred;
                 deferred.promise().then([](int v) { sink = sink + v; });
                 deferred.resolve(static_cast<int>(i));
             };
         }},
        {"promise_chain_10",
         [] {
             return [](long i) {
                 rs::Deferred<int> deferred;
                 auto p = deferred.promise();
                 for (int k = 0; k < 10; ++k)
                     p = p.then([](int v) { return v + 1; });
                 p.then([](int v) { sink = sink + v; });
                 deferred.resolve(static_cast<int>(i));
             };
         }},
        {"promise_resolved_then",
         [] {
             auto settled = std::make_shared<rs::Promise<int>>(rs::resolve(1));
             return [settled](long) { settled->then([](int v) { sink = sink + v; }); };
         }},
        {"emit_1_listener",
         [] {
             auto emitter = std::make_shared<Emitter>();
             emitter->on(value_event, [](int v) { sink = sink + v; });
             return [emitter](long i) { emitter->emit(value_event, static_cast<int>(i)); };
         }},
        {"emit_10_listeners",
         [] {
             auto emitter = std::make_shared<Emitter>();
             for (int k = 0; k < 10; ++k)
                 emitter->on(value_event, [](int v) { sink = sink + v; });
             return [emitter](long i) { emitter->emit(value_event, static_cast<int>(i)); };
         }},
        {"timer_add_cancel",
         [] {
             auto loop = rs::Loop::get();
             return [loop](long) {
                 loop->cancel_timer(loop->add_timer(1.0, [] { sink = sink + 1; }));
             };
         }},
        {"through_write_64B",
         [] {
             auto through = std::make_shared<rs::ThroughStream>();
             through->on(rs::ev::data, [](std::string_view chunk) {
                 sink = sink + static_cast<long>(chunk.size());
             });
             return [through](long) {
                 through->write(std::string_view(
                     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 64));
             };
         }},
        {"connection_echo_64B",
         [] {
             auto pair = std::make_shared<ConnectionPair>(true);
             return [pair](long) {
                 const std::size_t target = pair->received + 64;
                 pair->client->write(std::string_view(
                     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 64));
                 pair->loop->run_until([&] { return pair->received >= target; });
             };
         }},
        {"connection_write_drain",
         [] {
             auto pair = std::make_shared<ConnectionPair>(false);
             // Fixed socket buffers (no autotuning), so every cycle splits the
             // same way into partial sends.
             for (const auto& conn : {pair->client, pair->served}) {
                 conn->set_option(SOL_SOCKET, SO_SNDBUF, 128 * 1024);
                 conn->set_option(SOL_SOCKET, SO_RCVBUF, 128 * 1024);
             }
             auto chunk = std::make_shared<std::string>(256 * 1024, 'x');
             auto drained = std::make_shared<bool>(false);
             pair->client->on(rs::ev::drain, [drained] { *drained = true; });
             return [pair, chunk, drained](long) {
                 *drained = false;
                 if (pair->client->write(*chunk))
                     return;  // the kernel took it all: nothing to drain
                 pair->loop->run_until([&] { return *drained; });
             };
         }},
    };
}

}  // namespace

int main(int argc, char** argv) {
    long ops = 100000;
    std::vector<std::string> wanted;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--ops" && i + 1 < argc) {
            ops = std::atol(argv[++i]);
        } else if (arg == "--list") {
            for (const auto& c : cases())
                std::puts(c.name);
            return 0;
        } else if (arg.rfind("--", 0) == 0) {
            std::fprintf(stderr, "usage: bench_micro [--ops N] [--list] [case...]\n");
            return 2;
        } else {
            wanted.push_back(arg);
        }
    }
    const bool callgrind = RUNNING_ON_VALGRIND != 0;
    std::printf("%-26s %10s %12s\n", "case", "ops", callgrind ? "(callgrind)" : "ns/op");
    for (const auto& c : cases()) {
        if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), c.name) == wanted.end())
            continue;
        // Heavier cases (real I/O) get fewer iterations.
        const std::string name = c.name;
        const long n = name.rfind("connection_", 0) == 0
                           ? std::max(1L, ops / (name == "connection_write_drain" ? 100 : 10))
                           : ops;
        auto op = c.make();
        for (long i = 0; i < n / 10 + 1; ++i)
            op(i);  // warm-up: caches, allocator, lazy setup
        const auto start = std::chrono::steady_clock::now();
        CALLGRIND_TOGGLE_COLLECT;
        for (long i = 0; i < n; ++i)
            op(i);
        CALLGRIND_TOGGLE_COLLECT;
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const std::string dump_name =
            name + " ops=" + std::to_string(n);  // must outlive the request
        CALLGRIND_DUMP_STATS_AT(dump_name.c_str());
        std::printf("%-26s %10ld %12.1f\n", c.name, n, seconds * 1e9 / static_cast<double>(n));
        op = nullptr;
    }
    return 0;
}
