// Application data that arrives in the same recv() as the last handshake
// records must reach the `data` listeners without waiting for the socket to
// become readable again (it may never: the peer waits for an answer).
//
// The peers are raw OpenSSL endpoints on blocking sockets in a thread, with
// memory BIOs: what OpenSSL produces goes out only on flush(), in one send(),
// so the test decides which records travel together:
//   client role: the server's last handshake flight and its first data in one
//   segment (TLS 1.3: 0.5-RTT data right after its Finished; TLS 1.2: right
//   after its ChangeCipherSpec + Finished);
//   server role: the client's Finished and its first data in one segment
//   (TLS 1.3; TLS 1.2 with a resumed session, where the client finishes last).
// Neither peer sends anything more until it has the whole answer, so nothing
// later can wake a connection up that missed its data.
//
// Half of the client connections are "preempted" after sending their
// ClientHello until the server's answer is in (see send() below), as a loaded
// machine may do: the handshake then finishes in its first step, with the
// data read along.
//
// The STARTTLS case caught a stall: an upgrade begun while the plaintext read
// loop waited for the socket kept that wait, and a client handshake that
// found the server's whole flight (and the data after it) at its first
// recv() finished without it; the read after the handshake was then skipped
// because a wait was pending, and that wait never fired: the socket was
// drained, the data sat in OpenSSL's buffer.
#include <reactsock/socket/secure_connector.hpp>
#include <reactsock/socket/secure_server.hpp>
#include <reactsock/socket/start_tls.hpp>
#include <reactsock/socket/tcp_connector.hpp>
#include <reactsock/socket/tcp_server.hpp>

#include "support/net.hpp"
#include "support/tls_certs.hpp"
#include "support/tls_peers.hpp"

#include <doctest/doctest.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace rs = reactsock;

namespace {

std::atomic<bool> hold_next_client_hello{false};

}  // namespace

// A client thread preempted between sending its ClientHello and reading the
// answer, on demand: once hold_next_client_hello is set, the next ClientHello
// sent in this process (our client's, from its TLS BIO) waits after the
// send() until its socket is readable, that is until the server's whole
// answer is there for the handshake's first recv(). A send() defined in the
// executable takes precedence over libc's (and over ASan's interceptor, a
// weak alias); the real one is the system call.
extern "C" ssize_t send(int fd, const void* data, std::size_t size, int flags) {
    const auto n = static_cast<ssize_t>(::syscall(SYS_sendto, fd, data, size, flags, nullptr, 0));
    const auto* bytes = static_cast<const unsigned char*>(data);
    const bool client_hello = n > 5 && bytes[0] == 0x16 && bytes[5] == 0x01;  // handshake record, ClientHello
    if (client_hello && hold_next_client_hello.exchange(false)) {
        pollfd readable{fd, POLLIN, 0};
        ::poll(&readable, 1, 10'000);  // bounded: a peer that never answers fails the test elsewhere
    }
    return n;
}

namespace {

constexpr int kConnections = 250;
constexpr std::size_t kPayload = 4096;
// Bounds a failure (a connection that never gets its data), not a timing
// assumption: every step waits for the event it needs.
constexpr double kGuardSeconds = 10;

// A blocking peer gives up after this long without bytes, so that a stalled
// connection fails the test instead of hanging it.
void set_receive_timeout(int fd) {
    timeval timeout{static_cast<time_t>(kGuardSeconds), 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
}

SSL_CTX* new_context(bool server, int version) {
    SSL_CTX* ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    REQUIRE(ctx != nullptr);
    SSL_CTX_set_min_proto_version(ctx, version);
    SSL_CTX_set_max_proto_version(ctx, version);
    if (server) {
        REQUIRE(SSL_CTX_use_certificate_chain_file(ctx, testtls::certs().server_cert.c_str()) == 1);
        REQUIRE(SSL_CTX_use_PrivateKey_file(ctx, testtls::certs().server_key.c_str(), SSL_FILETYPE_PEM) == 1);
        // No session tickets: in TLS 1.3 they would come after the client's
        // Finished and wake up a client that missed its data; in TLS 1.2
        // without resumption every handshake is a full one, where the server
        // finishes last.
        SSL_CTX_set_num_tickets(ctx, 0);
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
    }
    return ctx;
}

// One TLS endpoint on a blocking socket (owned) whose records leave only on
// flush(), all in one send().
class RawTls {
public:
    RawTls(SSL_CTX* ctx, int fd) : fd_(fd), ssl_(SSL_new(ctx)), in_(BIO_new(BIO_s_mem())), out_(BIO_new(BIO_s_mem())) {
        BIO_set_mem_eof_return(in_, -1);  // empty: "retry", not EOF
        SSL_set_bio(ssl_, in_, out_);
        set_receive_timeout(fd_);
    }
    ~RawTls() {
        SSL_free(ssl_);
        ::close(fd_);
    }
    RawTls(const RawTls&) = delete;
    RawTls& operator=(const RawTls&) = delete;

    [[nodiscard]] SSL* ssl() const { return ssl_; }
    [[nodiscard]] int fd() const { return fd_; }

    // Bytes read from the socket before TLS started that belong to it.
    void feed(std::string_view bytes) { BIO_write(in_, bytes.data(), static_cast<int>(bytes.size())); }

    // Everything OpenSSL has produced so far, in one send() call.
    bool flush() {
        char* data = nullptr;
        const long size = BIO_get_mem_data(out_, &data);
        std::size_t sent = 0;
        while (sent < static_cast<std::size_t>(size)) {
            const ssize_t n = ::send(fd_, data + sent, static_cast<std::size_t>(size) - sent, MSG_NOSIGNAL);
            if (n <= 0) return false;
            sent += static_cast<std::size_t>(n);
        }
        (void)BIO_reset(out_);
        return true;
    }

    // Calls `step` (an SSL call, > 0 when done) until it is done. Only when
    // OpenSSL wants more input does it flush and receive: output produced by
    // the last call stays for the caller to send along with more.
    template <class Step>
    int drive(Step step) {
        for (;;) {
            ERR_clear_error();
            const int ret = step();
            if (ret > 0) return ret;
            if (SSL_get_error(ssl_, ret) != SSL_ERROR_WANT_READ || !flush()) return ret;
            char buffer[16384];
            const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
            if (n <= 0) return -1;
            BIO_write(in_, buffer, static_cast<int>(n));
        }
    }

    // Reads exactly `size` bytes of application data (false on EOF or error).
    bool read_exactly(std::size_t size, std::string& out) {
        char buffer[16384];
        while (out.size() < size) {
            const int n = drive([&] { return SSL_read(ssl_, buffer, sizeof buffer); });
            if (n <= 0) return false;
            out.append(buffer, static_cast<std::size_t>(n));
        }
        return true;
    }

    // Reads application data until close_notify, EOF or an error.
    std::string read_to_end() {
        std::string out;
        char buffer[16384];
        for (;;) {
            const int n = drive([&] { return SSL_read(ssl_, buffer, sizeof buffer); });
            if (n <= 0) return out;
            out.append(buffer, static_cast<std::size_t>(n));
        }
    }

private:
    int fd_;
    SSL* ssl_;
    BIO* in_;
    BIO* out_;
};

// Records the first failure of a peer thread, for the main thread to report.
struct Failure {
    std::mutex mutex;
    std::string text;
    std::atomic<bool> any{false};
    std::shared_ptr<rs::Loop> loop;  // woken up, to look
    void set(const std::string& what) {
        {
            const std::lock_guard<std::mutex> lock(mutex);
            if (text.empty()) text = what;
        }
        any = true;
        loop->post([] {});
    }
    std::string get() {
        const std::lock_guard<std::mutex> lock(mutex);
        return text;
    }
};

// The raw TLS server for the client-role tests. Per connection: the last
// handshake flight and `payload` in one send(); then it reads what the client
// writes until the client closes, and checks that it was `payload` too.
// With `starttls`, TLS starts after "STARTTLS\r\n" / "220 go ahead\r\n" in clear.
class FirstFlightServer {
public:
    FirstFlightServer(std::shared_ptr<rs::Loop> loop, int version, bool starttls = false)
        : loop_(std::move(loop)), version_(version), starttls_(starttls), ctx_(new_context(true, version)) {
        failure.loop = loop_;
        listener_ = testnet::raw_listen(port_, 64);
        thread_ = std::thread([this] { run(); });
    }
    ~FirstFlightServer() {
        ::shutdown(listener_, SHUT_RDWR);  // wakes accept()
        thread_.join();
        ::close(listener_);
        SSL_CTX_free(ctx_);
    }
    FirstFlightServer(const FirstFlightServer&) = delete;
    FirstFlightServer& operator=(const FirstFlightServer&) = delete;

    [[nodiscard]] std::string uri() const { return "tls://127.0.0.1:" + std::to_string(port_) + "?hostname=localhost"; }
    [[nodiscard]] std::uint16_t port() const { return port_; }
    std::string payload = testnet::pattern(kPayload, 7);
    Failure failure;
    std::atomic<int> served{0};

private:
    void run() {
        for (int i = 0;; ++i) {
            const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) return;
            serve(fd, i);
        }
    }

    void serve(int fd, int index) {
        RawTls tls(ctx_, fd);
        SSL_set_accept_state(tls.ssl());
        const std::string where = "connection " + std::to_string(index) + ": ";
        if (starttls_) {
            std::string command;
            char buffer[256];
            while (command.find("\r\n") == std::string::npos) {
                const ssize_t n = ::recv(tls.fd(), buffer, sizeof buffer, 0);
                if (n <= 0) {
                    failure.set(where + "no STARTTLS command");
                    return;
                }
                command.append(buffer, static_cast<std::size_t>(n));
            }
            if (command.rfind("STARTTLS\r\n", 0) != 0) {
                failure.set(where + "unexpected command: " + command);
                return;
            }
            tls.feed(std::string_view(command).substr(10));  // nothing, unless the client did not wait
            testnet::send_all(tls.fd(), "220 go ahead\r\n");
        }
        if (version_ == TLS1_3_VERSION) {
            // SSL_read_early_data() stops once the server's Finished is
            // written, before the client's Finished: 0.5-RTT data may follow.
            char ignored[64];
            std::size_t read = 0;
            const int ret = tls.drive([&] {
                const int status = SSL_read_early_data(tls.ssl(), ignored, sizeof ignored, &read);
                return status == SSL_READ_EARLY_DATA_ERROR ? -1 : status;
            });
            std::size_t written = 0;
            if (ret != SSL_READ_EARLY_DATA_FINISH ||
                SSL_write_early_data(tls.ssl(), payload.data(), payload.size(), &written) != 1) {
                failure.set(where + "0.5-RTT write failed");
                return;
            }
        } else {
            const int size = static_cast<int>(payload.size());
            if (tls.drive([&] { return SSL_accept(tls.ssl()); }) != 1 ||
                SSL_write(tls.ssl(), payload.data(), size) != size) {
                failure.set(where + "handshake or write failed");
                return;
            }
        }
        if (!tls.flush()) {  // the handshake's end and the data: one segment
            failure.set(where + "send failed");
            return;
        }
        if (version_ == TLS1_3_VERSION && tls.drive([&] { return SSL_do_handshake(tls.ssl()); }) != 1) {
            failure.set(where + "the client's Finished did not come");
            return;
        }
        const std::string heard = tls.read_to_end();
        if (heard != payload) {
            failure.set(where + "heard " + std::to_string(heard.size()) + " of the client's " +
                        std::to_string(payload.size()) + " bytes");
            return;
        }
        ++served;
        loop_->post([] {});  // the test waits for `served`
    }

    std::shared_ptr<rs::Loop> loop_;
    int version_;
    bool starttls_;
    SSL_CTX* ctx_;
    std::uint16_t port_ = 0;
    int listener_ = -1;
    std::thread thread_;
};

// Client role: our SecureConnector against FirstFlightServer. Each connection
// writes its own payload at once (as netcat does) and must receive the
// server's whole payload; only then does it close. Even connections attach
// their `data` listener in the promise's handler, odd ones after await()
// returned; in each pair of pairs the second pair holds its ClientHello.
void client_receives_first_flight(int version, const char* protocol) {
    auto loop = std::make_shared<rs::Loop>();
    FirstFlightServer server(loop, version);
    rs::SecureConnector connector(std::make_shared<rs::TcpConnector>(loop), loop,
                                  rs::TlsOptions{.cafile = testtls::certs().ca});
    for (int i = 0; i < kConnections; ++i) {
        auto received = std::make_shared<std::string>();
        auto closed = std::make_shared<bool>(false);
        auto attach = [&](const std::shared_ptr<rs::Connection>& conn) {
            conn->on(rs::ev::data, [received](std::string_view chunk) { received->append(chunk); });
            conn->on(rs::ev::close, [closed] { *closed = true; });
            conn->write(server.payload);
        };
        std::shared_ptr<rs::Connection> conn;
        hold_next_client_hello = (i / 2) % 2 == 1;
        if (i % 2 == 0) {
            conn = rs::await(connector.connect(server.uri()).then([&](const std::shared_ptr<rs::Connection>& c) {
                attach(c);
                return c;
            }), loop);
        } else {
            conn = rs::await(connector.connect(server.uri()), loop);
            attach(conn);
        }
        if (i == 0) CHECK(rs::tls_info(*conn)->protocol == protocol);
        testnet::run_until(loop, [&] { return received->size() >= kPayload || *closed || server.failure.any; },
                           kGuardSeconds);
        CHECK_MESSAGE((*received == server.payload), "connection ", i, " received ", received->size(), " of ", kPayload,
                      " bytes", std::string(*closed ? ", closed" : ""));
        conn->close();
        if (*received != server.payload || server.failure.any) break;
    }
    hold_next_client_hello = false;
    // The server thread checks what it heard once the client closed.
    testnet::run_until(loop, [&] { return server.served == kConnections || server.failure.any; }, kGuardSeconds);
    CHECK_MESSAGE(!server.failure.any, server.failure.get());
    CHECK(server.served == kConnections);
}

// Client role with STARTTLS: a plaintext connection upgraded by
// start_tls_client(), called from the `data` listener that got the answer
// (even connections) or on a later tick (odd ones: by then the plaintext
// read loop waits for the socket again, and the upgrade starts with that wait
// still pending); in each pair of pairs the second pair holds its ClientHello.
void client_receives_first_flight_after_starttls() {
    auto loop = std::make_shared<rs::Loop>();
    FirstFlightServer server(loop, TLS1_3_VERSION, true);
    rs::TcpConnector connector(loop);
    const rs::TlsOptions options{.cafile = testtls::certs().ca};
    for (int i = 0; i < kConnections; ++i) {
        auto conn = rs::await(connector.connect("127.0.0.1:" + std::to_string(server.port())), loop);
        auto received = std::make_shared<std::string>();
        auto answer = std::make_shared<std::string>();
        bool closed = false;
        bool secure = false;
        std::string failed;
        const auto upgrade = [&, i, conn] {
            hold_next_client_hello = (i / 2) % 2 == 1;
            rs::start_tls_client(conn, options, "localhost")
                .then(
                    [&](const std::shared_ptr<rs::Connection>& c) {
                        secure = true;
                        c->write(server.payload);
                    },
                    [&](const std::exception& e) { failed = e.what(); });
        };
        conn->on(rs::ev::data, [&, i, received, answer](std::string_view chunk) {
            if (secure) {
                received->append(chunk);
                return;
            }
            answer->append(chunk);
            if (*answer != "220 go ahead\r\n") return;
            if (i % 2 == 0) {
                upgrade();
            } else {
                loop->future_tick(upgrade);
            }
        });
        conn->on(rs::ev::close, [&] { closed = true; });
        conn->write("STARTTLS\r\n");
        testnet::run_until(
            loop, [&] { return received->size() >= kPayload || closed || !failed.empty() || server.failure.any; },
            kGuardSeconds);
        CHECK_MESSAGE(failed.empty(), failed);
        CHECK_MESSAGE((*received == server.payload), "connection ", i, " received ", received->size(), " of ",
                      kPayload, " bytes", std::string(closed ? ", closed" : ""),
                      std::string(secure ? ", secure" : ", not secure"));
        conn->close();
        if (*received != server.payload || server.failure.any || !failed.empty()) break;
    }
    hold_next_client_hello = false;
    testnet::run_until(loop, [&] { return server.served == kConnections || server.failure.any; }, kGuardSeconds);
    CHECK_MESSAGE(!server.failure.any, server.failure.get());
    CHECK(server.served == kConnections);
}

// Server role: our SecureServer echoes. A raw client in a thread sends its
// Finished and `payload` in one segment, then waits for the whole echo.
void server_receives_with_finished(int version, const char* protocol) {
    auto loop = std::make_shared<rs::Loop>();
    auto server = std::make_shared<rs::SecureServer>(
        std::make_shared<rs::TcpServer>("127.0.0.1:0", loop), loop,
        rs::TlsOptions{.local_cert = testtls::certs().server_cert, .local_pk = testtls::certs().server_key});
    std::string negotiated;
    server->on(rs::ev::connection, [&](const std::shared_ptr<rs::Connection>& conn) {
        if (negotiated.empty()) negotiated = rs::tls_info(*conn)->protocol;
        // Without it Nagle holds the echo until the client acknowledges the
        // session tickets, a delayed ACK (40 ms) per connection.
        conn->set_no_delay(true);
        conn->on(rs::ev::data, [conn](std::string_view chunk) { conn->write(chunk); });
    });
    std::vector<std::string> server_errors;
    server->on(rs::ev::error, [&](const std::system_error& e) { server_errors.emplace_back(e.what()); });
    const std::uint16_t port = testnet::port_of(*server->address());

    const std::string payload = testnet::pattern(kPayload, 11);
    Failure failure;
    failure.loop = loop;
    int resumed = 0;
    int done = 0;
    bool finished = false;
    std::thread client([&] {
        SSL_CTX* ctx = new_context(false, version);
        SSL_SESSION* session = nullptr;
        for (int i = 0; i < kConnections; ++i) {
            const std::string where = "connection " + std::to_string(i) + ": ";
            RawTls tls(ctx, testnet::raw_connect(port));
            SSL_set_connect_state(tls.ssl());
            // TLS 1.2: a resumed session, so that the client's Finished is the last handshake record.
            if (session != nullptr) SSL_set_session(tls.ssl(), session);
            if (tls.drive([&] { return SSL_connect(tls.ssl()); }) != 1) {
                failure.set(where + "handshake failed");
                break;
            }
            if (SSL_session_reused(tls.ssl()) == 1) ++resumed;
            if (session == nullptr && version == TLS1_2_VERSION) session = SSL_get1_session(tls.ssl());
            // The Finished is still in the memory BIO: the data joins it.
            if (SSL_write(tls.ssl(), payload.data(), static_cast<int>(payload.size())) !=
                    static_cast<int>(payload.size()) ||
                !tls.flush()) {
                failure.set(where + "write failed");
                break;
            }
            std::string echoed;
            if (!tls.read_exactly(payload.size(), echoed) || echoed != payload) {
                failure.set(where + "echo has " + std::to_string(echoed.size()) + " of " +
                            std::to_string(payload.size()) + " bytes");
                break;
            }
            // A clean close keeps the session resumable (SSL_free() without it would not).
            SSL_shutdown(tls.ssl());
            (void)tls.flush();
            ++done;
        }
        if (session != nullptr) SSL_SESSION_free(session);
        SSL_CTX_free(ctx);
        loop->post([&] { finished = true; });
    });
    testnet::run_until(loop, [&] { return finished; }, 120);
    client.join();
    CHECK_MESSAGE(!failure.any, failure.get());
    CHECK(done == kConnections);
    CHECK(negotiated == protocol);
    CHECK(server_errors.empty());
    if (version == TLS1_2_VERSION) CHECK(resumed == kConnections - 1);
    server->close();
}

}  // namespace

TEST_CASE("client: data that came with the server's last handshake records is delivered (TLS 1.3, 0.5-RTT)") {
    client_receives_first_flight(TLS1_3_VERSION, "TLSv1.3");
}

TEST_CASE("client: data that came with the server's Finished is delivered (TLS 1.2)") {
    client_receives_first_flight(TLS1_2_VERSION, "TLSv1.2");
}

TEST_CASE("client: data that came with the server's last handshake records is delivered after STARTTLS") {
    client_receives_first_flight_after_starttls();
}

TEST_CASE("server: data that came with the client's Finished is delivered (TLS 1.3)") {
    server_receives_with_finished(TLS1_3_VERSION, "TLSv1.3");
}

TEST_CASE("server: data that came with the client's Finished is delivered (TLS 1.2, resumed)") {
    server_receives_with_finished(TLS1_2_VERSION, "TLSv1.2");
}
