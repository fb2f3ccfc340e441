// The example programs, driven as a user would: real processes, real sockets.
#include <reactsock/socket/tcp_server.hpp>

#include "support/dnsmasq.hpp"
#include "support/net.hpp"
#include "support/process.hpp"
#include "support/serve.hpp"

#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <csignal>
#include <cstring>
#include <string>
#include <thread>
#include <utility>

namespace {

std::string listening_address(testproc::Process& process) {
    const std::string line = process.read_line();
    const std::string prefix = "Listening on ";
    REQUIRE_MESSAGE(line.rfind(prefix, 0) == 0, "unexpected first line: ", line);
    return line.substr(prefix.size());
}

// A blocking client with a receive timeout, so a broken example fails the
// test instead of hanging it.
int client_for(const std::string& address) {
    const int fd = testnet::raw_connect(testnet::port_of(address));
    timeval timeout{30, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    return fd;
}

std::string receive(int fd, std::size_t size) {
    std::string out;
    char buffer[4096];
    while (out.size() < size) {
        const ssize_t n = ::recv(fd, buffer, std::min(sizeof buffer, size - out.size()), 0);
        if (n <= 0) break;
        out.append(buffer, static_cast<std::size_t>(n));
    }
    return out;
}

// One line, without its '\n' (byte by byte: simple, and enough here).
std::string receive_line(int fd) {
    std::string line;
    char c = 0;
    while (::recv(fd, &c, 1, 0) == 1 && c != '\n') line += c;
    return line;
}

}  // namespace

TEST_CASE("echo-server echoes over TCP and exits 0 on SIGTERM") {
    testproc::Process server({ECHO_SERVER_PATH, "127.0.0.1:0"});
    const std::string address = listening_address(server);
    CHECK(address.rfind("tcp://127.0.0.1:", 0) == 0);
    const int client = client_for(address);
    testnet::send_all(client, "ping over tcp");
    CHECK(receive(client, 13) == "ping over tcp");
    server.signal(SIGTERM);
    CHECK(server.wait() == 0);
    ::close(client);
}

TEST_CASE("echo-server on a Unix socket, with --options, exits 0 on SIGINT") {
    const std::string path = testnet::temp_socket_path("echo-example");
    testproc::Process server({ECHO_SERVER_PATH, "unix://" + path, "--options", R"({"unix": {"backlog": 16}})"});
    CHECK(listening_address(server) == "unix://" + path);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strcpy(address.sun_path, path.c_str());
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    testnet::send_all(fd, "ping over unix");
    CHECK(receive(fd, 14) == "ping over unix");
    server.signal(SIGINT);
    CHECK(server.wait() == 0);
    ::close(fd);
}

TEST_CASE("echo-server reports a bad URI or bad options and exits 2, a busy address and exits 1") {
    testproc::Process bad_uri({ECHO_SERVER_PATH, "localhost:80"});
    CHECK(bad_uri.read_stderr() == "Given URI \"tcp://localhost:80\" does not contain a valid host IP (EINVAL)\n");
    CHECK(bad_uri.wait() == 2);
    testproc::Process bad_option({ECHO_SERVER_PATH, "127.0.0.1:0", "--options", R"({"tcp": {"nope": 1}})"});
    CHECK(bad_option.read_stderr() == "Unknown TcpServer option \"nope\"\n");
    CHECK(bad_option.wait() == 2);
    // An option key is echoed escaped: no raw newline or escape sequence reaches the terminal.
    testproc::Process hostile_key({ECHO_SERVER_PATH, "127.0.0.1:0", "--options", R"({"tcp": {"x\r\ny\u001b[2J": 1}})"});
    CHECK(hostile_key.read_stderr() == "Unknown TcpServer option \"x\\r\\ny\\x1b[2J\"\n");
    CHECK(hostile_key.wait() == 2);
    testproc::Process first({ECHO_SERVER_PATH, "127.0.0.1:0"});
    const std::string address = listening_address(first);
    testproc::Process busy({ECHO_SERVER_PATH, address});
    CHECK(busy.read_stderr().find("Address already in use (EADDRINUSE)") != std::string::npos);
    CHECK(busy.wait() == 1);
    first.signal(SIGTERM);
    CHECK(first.wait() == 0);
}

TEST_CASE("schemes are case-insensitive in every example: TCP:// for echo-server and netcat, HTTP:// for http-client") {
    testproc::Process server({ECHO_SERVER_PATH, "TCP://127.0.0.1:0"});
    const std::string address = listening_address(server);
    testproc::Process netcat({NETCAT_PATH, "TCP://127.0.0.1:" + std::to_string(testnet::port_of(address))});
    netcat.write_stdin("upper case\n");
    netcat.close_stdin();
    CHECK(netcat.read_stdout() == "upper case\n");
    CHECK(netcat.wait() == 0);
    server.signal(SIGTERM);
    CHECK(server.wait() == 0);

    const auto port = std::to_string(testnet::closed_port());
    testproc::Process client({HTTP_CLIENT_PATH, "HTTP://127.0.0.1:" + port + "/"});
    // Got as far as connecting (refused), so the URL was accepted.
    CHECK(client.read_stderr() == "Connection to tcp://127.0.0.1:" + port + " failed: Connection refused (ECONNREFUSED)\n");
    CHECK(client.wait() == 1);
}

TEST_CASE("netcat refuses a URI with control characters: exit 2, the URI escaped in the message") {
    testproc::Process netcat({NETCAT_PATH, "127.0.0.1:1\r\nX-Injected: 1"});
    CHECK(netcat.read_stderr() == "Given URI \"127.0.0.1:1\\r\\nX-Injected: 1\" is invalid (EINVAL)\n");
    CHECK(netcat.wait() == 2);
    testproc::Process escape({NETCAT_PATH, "tls://\x1b]0;owned\x07:443"});
    CHECK(escape.read_stderr() == "Given URI \"tls://\\x1b]0;owned\\x07:443\" is invalid (EINVAL)\n");
    CHECK(escape.wait() == 2);
}

TEST_CASE("chat-server passes each line to every other client") {
    testproc::Process server({CHAT_SERVER_PATH, "127.0.0.1:0"});
    const std::string address = listening_address(server);
    const int alice = client_for(address);
    const int bob = client_for(address);
    // Bob speaks first: once Alice hears him, the server knows both.
    testnet::send_all(bob, "bob is here\n");
    const std::string heard = receive_line(alice);
    CHECK(heard.rfind("tcp://127.0.0.1:", 0) == 0);  // lines carry the sender's address
    CHECK(heard.find(": bob is here") != std::string::npos);
    // Two lines in one write arrive as two lines; the sender does not get them back.
    testnet::send_all(alice, "hello bob\nand a second line\n");
    CHECK(receive_line(bob).find(": hello bob") != std::string::npos);
    CHECK(receive_line(bob).find(": and a second line") != std::string::npos);
    server.signal(SIGINT);
    CHECK(receive_line(alice) == "server shutting down");
    ::close(alice);  // a client that hangs up on EOF
    CHECK(receive_line(bob) == "server shutting down");  // bob does not: cut off after a grace period
    CHECK(server.wait() == 0);
    ::close(bob);
}

TEST_CASE("netcat pipes stdin to the server and the reply to stdout, then exits 0") {
    testproc::Process server({ECHO_SERVER_PATH, "127.0.0.1:0"});
    const std::string address = listening_address(server);
    testproc::Process netcat({NETCAT_PATH, address});
    const std::string payload = testnet::pattern(200000, 3);
    netcat.write_stdin(payload);
    netcat.close_stdin();  // EOF: half-close; the echo still comes back
    CHECK(netcat.read_stdout() == payload);
    CHECK(netcat.wait() == 0);
    server.signal(SIGTERM);
    CHECK(server.wait() == 0);
}

TEST_CASE("netcat prints why a connect failed and exits 1") {
    const auto port = testnet::closed_port();
    testproc::Process netcat({NETCAT_PATH, "127.0.0.1:" + std::to_string(port)});
    CHECK(netcat.read_stderr() ==
          "Connection to tcp://127.0.0.1:" + std::to_string(port) + " failed: Connection refused (ECONNREFUSED)\n");
    CHECK(netcat.wait() == 1);
}

TEST_CASE("netcat resolves names through the Connector facade and its --options") {
    testdns::Dnsmasq dns({"--local=/test/", "--host-record=echo.test,127.0.0.1"});
    testproc::Process server({ECHO_SERVER_PATH, "127.0.0.1:0"});
    const auto port = std::to_string(testnet::port_of(listening_address(server)));
    testproc::Process netcat({NETCAT_PATH, "echo.test:" + port, "--options", R"({"dns": ")" + dns.nameserver() + R"("})"});
    netcat.write_stdin("by name\n");
    netcat.close_stdin();
    CHECK(netcat.read_stdout() == "by name\n");
    CHECK(netcat.wait() == 0);
    testproc::Process bad({NETCAT_PATH, "127.0.0.1:1", "--options", R"({"timeout": "soon"})"});
    CHECK(bad.read_stderr() == "Connector option \"timeout\" must be a number\n");
    CHECK(bad.wait() == 2);
    server.signal(SIGTERM);
    CHECK(server.wait() == 0);
}

// A one-shot HTTP server in this process that records the request and answers
// `response` once the client has sent it (http-client half-closes after its GET).
struct OneShotHttpServer {
    explicit OneShotHttpServer(std::string response)
        : loop(std::make_shared<reactsock::Loop>()),
          server(std::make_shared<reactsock::TcpServer>("127.0.0.1:0", loop)) {
        server->on(reactsock::ev::connection, [this, response](const std::shared_ptr<reactsock::Connection>& conn) {
            conn->set_allow_half_open(true);
            conn->on(reactsock::ev::data, [this](std::string_view chunk) { request.append(chunk); });
            conn->on(reactsock::ev::end, [conn, response] { conn->end(response); });
        });
    }
    [[nodiscard]] std::string port() const { return std::to_string(testnet::port_of(*server->address())); }
    // Runs the loop until `client` has exited; its stdout and exit status.
    std::pair<std::string, int> serve(testproc::Process& client) { return testproc::serve_until_exit(loop, client); }
    std::shared_ptr<reactsock::Loop> loop;
    std::shared_ptr<reactsock::TcpServer> server;
    std::string request;
};

TEST_CASE("http-client fetches a page from a local HTTP server by name") {
    testdns::Dnsmasq dns({"--local=/test/", "--host-record=www.test,127.0.0.1"});
    OneShotHttpServer http("HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    const auto port = http.port();
    testproc::Process client({HTTP_CLIENT_PATH, "http://www.test:" + port + "/index.html", "--options",
                              R"({"dns": ")" + dns.nameserver() + R"("})"});
    const auto [output, status] = http.serve(client);
    CHECK(status == 0);
    CHECK(output == "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    CHECK(http.request.rfind("GET /index.html HTTP/1.0\r\nHost: www.test:" + port + "\r\n", 0) == 0);

    testproc::Process refused({HTTP_CLIENT_PATH, "http://127.0.0.1:" + std::to_string(testnet::closed_port()) + "/"});
    CHECK(refused.read_stderr().find("failed: Connection refused (ECONNREFUSED)") != std::string::npos);
    CHECK(refused.wait() == 1);
}

TEST_CASE("http-client cannot be made to inject headers: CR/LF and spaces in the path are percent-encoded") {
    OneShotHttpServer http("HTTP/1.0 204 No Content\r\n\r\n");
    const auto port = http.port();
    testproc::Process client(
        {HTTP_CLIENT_PATH, "http://127.0.0.1:" + port + "/a b\r\nX-Injected: yes\r\n\r\nGET /x?q=\x01#frag"});
    const auto [output, status] = http.serve(client);
    CHECK(status == 0);
    CHECK(http.request ==
          "GET /a%20b%0D%0AX-Injected:%20yes%0D%0A%0D%0AGET%20/x?q=%01 HTTP/1.0\r\nHost: 127.0.0.1:" + port +
              "\r\nConnection: close\r\n\r\n");
}

TEST_CASE("http-client: a malformed URL or bad options exit 2, the URL escaped in the message") {
    testproc::Process host({HTTP_CLIENT_PATH, "http://127.0.0.1\r\nX: y/"});
    CHECK(host.read_stderr() ==
          "Invalid URL given: \"http://127.0.0.1\\r\\nX: y/\" (expected http[s]://host[:port]/path)\n");
    CHECK(host.wait() == 2);
    testproc::Process scheme({HTTP_CLIENT_PATH, "ftp://127.0.0.1/"});
    CHECK(scheme.wait() == 2);
    testproc::Process options({HTTP_CLIENT_PATH, "http://127.0.0.1:1/", "--options", R"({"timeout": "soon"})"});
    CHECK(options.read_stderr() == "Connector option \"timeout\" must be a number\n");
    CHECK(options.wait() == 2);
}
