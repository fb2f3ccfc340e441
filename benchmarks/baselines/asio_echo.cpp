// asio_echo: the raw Asio baseline of benchmarks/echo.cpp.
//
//   bench_asio_echo [host:port]        (default 127.0.0.1:0; "tcp://" prefix allowed)
//
// Idiomatic single-threaded standalone Asio, written the way its own echo
// examples are: one io_context, async_accept, and per connection a session
// that owns its socket and a 64 KiB buffer and loops
// async_read_some -> async_write (the whole chunk) -> async_read_some.
// TCP_NODELAY on every accepted socket, as the other servers of the benchmark.
//
// Contract shared with examples/echo-server and the other baselines: prints
// "Listening on tcp://HOST:PORT" once listening, echoes every byte, exits 0 on
// SIGINT/SIGTERM. It links reactsock only for the separately compiled Asio.
#include <asio.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>

using asio::ip::tcp;

namespace {

class Session : public std::enable_shared_from_this<Session> {
public:
    explicit Session(tcp::socket socket) : socket_(std::move(socket)) {}

    void start() { read(); }

private:
    void read() {
        socket_.async_read_some(
            asio::buffer(buffer_),
            [self = shared_from_this()](const asio::error_code& ec, std::size_t n) {
                if (!ec)
                    self->write(n);
            });
    }

    void write(std::size_t n) {
        asio::async_write(socket_, asio::buffer(buffer_, n),
                          [self = shared_from_this()](const asio::error_code& ec, std::size_t) {
                              if (!ec)
                                  self->read();
                          });
    }

    tcp::socket socket_;
    std::array<char, 64 * 1024> buffer_;
};

class Server {
public:
    Server(asio::io_context& io, const tcp::endpoint& endpoint) : acceptor_(io, endpoint) {
        accept();
    }

    [[nodiscard]] tcp::endpoint endpoint() const { return acceptor_.local_endpoint(); }
    void close() {
        asio::error_code ignored;
        acceptor_.close(ignored);
    }

private:
    void accept() {
        acceptor_.async_accept([this](const asio::error_code& ec, tcp::socket socket) {
            if (ec == asio::error::operation_aborted)
                return;
            if (!ec) {
                asio::error_code ignored;
                socket.set_option(tcp::no_delay(true), ignored);
                std::make_shared<Session>(std::move(socket))->start();
            }
            accept();
        });
    }

    tcp::acceptor acceptor_;
};

}  // namespace

int main(int argc, char** argv) {
    std::string uri = argc > 1 ? argv[1] : "127.0.0.1:0";
    if (uri.rfind("tcp://", 0) == 0)
        uri.erase(0, 6);
    const auto colon = uri.rfind(':');
    if (colon == std::string::npos) {
        std::fprintf(stderr, "usage: bench_asio_echo [host:port]\n");
        return 2;
    }
    try {
        asio::io_context io(1);
        const auto address = asio::ip::make_address(uri.substr(0, colon));
        const auto port = static_cast<unsigned short>(std::atoi(uri.c_str() + colon + 1));
        Server server(io, tcp::endpoint(address, port));

        asio::signal_set signals(io, SIGINT, SIGTERM);
        signals.async_wait([&](const asio::error_code&, int) {
            server.close();
            io.stop();
        });

        const auto endpoint = server.endpoint();
        std::printf("Listening on tcp://%s:%u\n", endpoint.address().to_string().c_str(),
                    static_cast<unsigned>(endpoint.port()));
        std::fflush(stdout);
        io.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_asio_echo: %s\n", e.what());
        return 1;
    }
    return 0;
}
