// asio_tls_echo: the raw Asio + asio::ssl baseline of benchmarks/echo.cpp's
// TLS scenarios.
//
//   bench_asio_tls_echo [host:port] CERT.pem KEY.pem   (host:port default 127.0.0.1:0;
//                                                      "tls://" or "tcp://" prefix allowed)
//
// Single-threaded standalone Asio written the way a competent Asio user
// would, after Asio's own ssl/server.cpp example: one io_context,
// async_accept, and per connection a session that owns an
// asio::ssl::stream<tcp::socket> and a 64 KiB buffer (as asio_echo) and runs
// async_handshake, then loops async_read_some -> async_write (the whole chunk)
// -> async_read_some. The ssl::context is tls_server with the certificate
// chain and key from the files and OpenSSL's defaults otherwise: TLS 1.2 and
// 1.3, OpenSSL's default ciphersuites and groups, its server-side session
// cache and session tickets (TLS 1.3: two tickets after each full
// handshake). TCP_NODELAY on every accepted socket, as the other servers of
// the benchmark.
//
// Contract shared with examples/echo-server and the other baselines: prints
// "Listening on tls://HOST:PORT" once listening, echoes every byte, exits 0 on
// SIGINT/SIGTERM. It links reactsock only for the separately compiled Asio
// (its ssl part included).
#include <asio.hpp>
#include <asio/ssl.hpp>

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
    Session(tcp::socket socket, asio::ssl::context& context)
        : stream_(std::move(socket), context) {}

    void start() {
        stream_.async_handshake(asio::ssl::stream_base::server,
                                [self = shared_from_this()](const asio::error_code& ec) {
                                    if (!ec)
                                        self->read();
                                });
    }

private:
    void read() {
        stream_.async_read_some(
            asio::buffer(buffer_),
            [self = shared_from_this()](const asio::error_code& ec, std::size_t n) {
                if (!ec)
                    self->write(n);
            });
    }

    void write(std::size_t n) {
        asio::async_write(stream_, asio::buffer(buffer_, n),
                          [self = shared_from_this()](const asio::error_code& ec, std::size_t) {
                              if (!ec)
                                  self->read();
                          });
    }

    asio::ssl::stream<tcp::socket> stream_;
    std::array<char, 64 * 1024> buffer_;
};

class Server {
public:
    Server(asio::io_context& io, const tcp::endpoint& endpoint, asio::ssl::context& context)
        : acceptor_(io, endpoint), context_(context) {
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
                std::make_shared<Session>(std::move(socket), context_)->start();
            }
            accept();
        });
    }

    tcp::acceptor acceptor_;
    asio::ssl::context& context_;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: bench_asio_tls_echo host:port CERT.pem KEY.pem\n");
        return 2;
    }
    std::string uri = argv[1];
    for (const char* scheme : {"tls://", "tcp://"}) {
        if (uri.rfind(scheme, 0) == 0)
            uri.erase(0, 6);
    }
    const auto colon = uri.rfind(':');
    if (colon == std::string::npos) {
        std::fprintf(stderr, "usage: bench_asio_tls_echo host:port CERT.pem KEY.pem\n");
        return 2;
    }
    try {
        asio::ssl::context context(asio::ssl::context::tls_server);
        context.use_certificate_chain_file(argv[2]);
        context.use_private_key_file(argv[3], asio::ssl::context::pem);

        asio::io_context io(1);
        const auto address = asio::ip::make_address(uri.substr(0, colon));
        const auto port = static_cast<unsigned short>(std::atoi(uri.c_str() + colon + 1));
        Server server(io, tcp::endpoint(address, port), context);

        asio::signal_set signals(io, SIGINT, SIGTERM);
        signals.async_wait([&](const asio::error_code&, int) {
            server.close();
            io.stop();
        });

        const auto endpoint = server.endpoint();
        std::printf("Listening on tls://%s:%u\n", endpoint.address().to_string().c_str(),
                    static_cast<unsigned>(endpoint.port()));
        std::fflush(stdout);
        io.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_asio_tls_echo: %s\n", e.what());
        return 1;
    }
    return 0;
}
