// echo-server: the reactsock quickstart. Echoes every chunk back.
//
//   echo-server [uri] [--options '<json>']
//
// Listens on `uri` (default 127.0.0.1:8000; also unix:///path, fd://N),
// with `--options` as the SocketServer context ({"tcp": {...}, "unix": {...},
// "tls": {"local_cert": "cert.pem", "local_pk": "key.pem"}} for tls://).
// Prints "Listening on <address>" once listening; exits 0 on SIGINT/SIGTERM.
// Benchmarks and tests drive it by that contract. Schemes are case-insensitive.
//
// Exit status (the same for every example): 0 after SIGINT/SIGTERM; 1 when it
// cannot listen (address in use, permission, a certificate that cannot be
// loaded); 2 for bad arguments (a malformed URI, --options that are not JSON or
// name a bad option value).
#include <reactsock/reactsock.hpp>

#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>

namespace rs = reactsock;

int main(int argc, char** argv) {
    std::string uri = "127.0.0.1:8000";
    nlohmann::json context = nlohmann::json::object();
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--options" && i + 1 < argc) {
            try {
                context = nlohmann::json::parse(argv[++i]);
            } catch (const std::exception& e) {
                std::fprintf(stderr, "Invalid --options JSON: %s\n", e.what());
                return 2;
            }
        } else if (arg == "--help" || arg == "-h") {
            std::puts("usage: echo-server [uri] [--options '<json>']");
            return 0;
        } else {
            uri = arg;
        }
    }

    auto loop = rs::Loop::get();
    std::shared_ptr<rs::SocketServer> server;
    try {
        server = std::make_shared<rs::SocketServer>(uri, context, loop);
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }

    server->on(rs::ev::connection, [](const std::shared_ptr<rs::Connection>& conn) {
        conn->pipe(conn);  // echo, with backpressure
    });
    server->on(rs::ev::error, [](const std::system_error& e) { std::fprintf(stderr, "%s\n", e.what()); });

    // SIGINT/SIGTERM: stop listening, close every connection, leave run().
    rs::SignalHandle on_int;
    rs::SignalHandle on_term;
    auto shutdown = [&](int) {
        server->close();
        loop->remove_signal(on_int);
        loop->remove_signal(on_term);
        loop->stop();
    };
    on_int = loop->add_signal(SIGINT, shutdown);
    on_term = loop->add_signal(SIGTERM, shutdown);

    std::printf("Listening on %s\n", server->address().value_or("?").c_str());
    std::fflush(stdout);
    loop->run();
    return 0;
}
