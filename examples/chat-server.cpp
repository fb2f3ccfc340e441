// chat-server: every line a client sends goes to every other client.
//
//   chat-server [uri]        (default 127.0.0.1:8001)
//
// Uses LimitingServer::connections() to reach everyone. On SIGINT/SIGTERM
// it says goodbye, gives clients a second to hang up, then exits. Prints
// "Listening on <address>" once listening; exits 0 on SIGINT/SIGTERM.
// Try it with two terminals running `netcat 127.0.0.1:8001`.
//
// Exit status (the same for every example): 0 after SIGINT/SIGTERM; 1 when it
// cannot listen; 2 for a malformed URI.
#include <reactsock/reactsock.hpp>

#include <csignal>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>

namespace rs = reactsock;

int main(int argc, char** argv) {
    const std::string uri = argc > 1 ? argv[1] : "127.0.0.1:8001";
    auto loop = rs::Loop::get();
    std::shared_ptr<rs::LimitingServer> server;
    try {
        // At most 100 people; newcomers over the limit are turned away.
        server = std::make_shared<rs::LimitingServer>(std::make_shared<rs::SocketServer>(uri), 100);
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }

    server->on(rs::ev::connection, [&server](const std::shared_ptr<rs::Connection>& conn) {
        const std::string name = conn->remote_address().value_or("someone");
        // Lines may arrive in pieces or several per chunk: keep the rest.
        auto pending = std::make_shared<std::string>();
        std::weak_ptr<rs::Connection> weak = conn;
        conn->on(rs::ev::data, [&server, weak, name, pending](std::string_view chunk) {
            pending->append(chunk);
            for (auto end = pending->find('\n'); end != std::string::npos; end = pending->find('\n')) {
                const std::string line = name + ": " + pending->substr(0, end + 1);
                pending->erase(0, end + 1);
                const auto self = weak.lock();
                for (const auto& other : server->connections()) {
                    if (other != self) other->write(line);
                }
            }
        });
    });
    server->on(rs::ev::error, [](const std::system_error& e) { std::fprintf(stderr, "%s\n", e.what()); });

    rs::SignalHandle on_int;
    rs::SignalHandle on_term;
    auto shutdown = [&](int) {
        // Say goodbye: end() flushes and half-closes; clients then close
        // their side. Whoever is still connected a second later is cut off.
        for (const auto& conn : server->connections()) conn->end("server shutting down\n");
        server->close();
        loop->remove_signal(on_int);
        loop->remove_signal(on_term);
        loop->add_timer(1.0, [&server] {
            for (const auto& conn : server->connections()) conn->close();
        });
    };
    on_int = loop->add_signal(SIGINT, shutdown);
    on_term = loop->add_signal(SIGTERM, shutdown);

    std::printf("Listening on %s\n", server->address().value_or("?").c_str());
    std::fflush(stdout);
    loop->run();
    return 0;
}
