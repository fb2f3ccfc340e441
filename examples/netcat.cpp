// netcat: connect, then copy stdin to the connection and the connection to stdout.
//
//   netcat <uri> [--options '<json>']
//
// Connects with the Connector facade, so hostnames (DNS, Happy Eyeballs),
// tcp:// and unix:// all work; --options are the Connector's options
// ({"timeout": 3, "dns": "127.0.0.1:5353", "tcp": {"bindto": "127.0.0.1"}}).
// stdin's EOF half-closes the connection. Schemes are case-insensitive.
// Over tls:// the half-close is a close_notify, which many servers take as the
// end of the whole connection: `openssl s_server` closes at once, without
// sending what it had not sent yet (keep stdin open until the answer is in).
//
// Exit status (the same for every example): 0 once both directions have ended;
// 1 when the connection failed (refused, DNS, TLS, timeout, an error on the
// open connection); 2 for bad arguments (a malformed URI, --options that are
// not JSON or name a bad option value). The reason goes to stderr.
#include <reactsock/reactsock.hpp>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdio>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>

namespace rs = reactsock;

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fputs("usage: netcat <uri> [--options '<json>']\n", stderr);
        return 2;
    }
    const std::string uri = argv[1];
    nlohmann::json options = nlohmann::json::object();
    if (argc >= 4 && std::string(argv[2]) == "--options") {
        try {
            options = nlohmann::json::parse(argv[3]);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "Invalid --options JSON: %s\n", e.what());
            return 2;
        }
    }

    auto loop = rs::Loop::get();
    std::shared_ptr<rs::Connector> connector;
    try {
        connector = std::make_shared<rs::Connector>(options, loop);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 2;
    }

    int status = 0;
    connector->connect(uri)
        .then([&](const std::shared_ptr<rs::Connection>& conn) {
            auto in = std::make_shared<rs::ReadableResourceStream>(::dup(STDIN_FILENO), loop);
            auto out = std::make_shared<rs::WritableResourceStream>(::dup(STDOUT_FILENO), loop);
            // stdin -> connection: stdin's end becomes conn->end(), a half-close.
            in->pipe(conn);
            // connection -> stdout: the peer's end ends stdout, which closes it.
            conn->pipe(out);
            conn->on(rs::ev::error, [&status](const std::system_error& e) {
                std::fprintf(stderr, "%s\n", e.what());
                status = 1;
            });
            // Once the connection has closed, stop reading stdin too.
            conn->on(rs::ev::close, [in] { in->close(); });
        })
        .otherwise([&](const std::exception& e) {
            std::fprintf(stderr, "%s\n", e.what());
            status = dynamic_cast<const std::invalid_argument*>(&e) != nullptr ? 2 : 1;
        });
    loop->run();
    return status;
}
