// http-client: fetches a URL with a plain HTTP/1.0 GET and prints the response.
//
//   http-client <url> [--options '<json>']
//
// http://host[:port]/path, or https:// (TLS, verified against the system's
// CAs unless --options say otherwise, e.g. {"tls": {"cafile": "ca.pem"}}).
// The Connector facade resolves the host (DNS, Happy Eyeballs) and applies its
// timeout; --options are the Connector's options. Prints the whole response
// (status line, headers, body) to stdout and exits 0; on failure prints the
// reason to stderr and exits 1.
#include <reactsock/reactsock.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <exception>
#include <string>

namespace rs = reactsock;

namespace {

struct Target {
    std::string scheme;  // "tcp" or "tls"
    std::string host;    // as written (IPv6 in brackets)
    std::string port;
    std::string path;
};

// A deliberately small URL parser: http(s)://host[:port][/path].
bool parse_url(const std::string& url, Target& out) {
    std::string rest;
    if (url.rfind("http://", 0) == 0) {
        out.scheme = "tcp";
        rest = url.substr(7);
    } else if (url.rfind("https://", 0) == 0) {
        out.scheme = "tls";
        rest = url.substr(8);
    } else {
        return false;
    }
    const auto slash = rest.find('/');
    out.path = slash == std::string::npos ? "/" : rest.substr(slash);
    std::string authority = rest.substr(0, slash);
    const auto bracket = authority.rfind(']');
    const auto colon = authority.rfind(':');
    if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
        out.host = authority.substr(0, colon);
        out.port = authority.substr(colon + 1);
    } else {
        out.host = authority;
        out.port = out.scheme == "tls" ? "443" : "80";
    }
    return !out.host.empty() && !out.port.empty();
}

rs::Promise<std::string> fetch(std::shared_ptr<rs::ConnectorInterface> connector, Target target) {
    auto conn = co_await connector->connect(target.scheme + "://" + target.host + ":" + target.port);
    rs::Deferred<std::string> response;
    auto body = std::make_shared<std::string>();
    conn->on(rs::ev::data, [body](std::string_view chunk) { body->append(chunk); });
    conn->on(rs::ev::close, [body, response]() mutable { response.resolve(*body); });
    conn->on(rs::ev::error, [response](const std::system_error& e) mutable { response.reject(e); });
    std::string host_header = target.host;
    if (target.port != (target.scheme == "tls" ? "443" : "80")) host_header += ":" + target.port;
    conn->end("GET " + target.path + " HTTP/1.0\r\nHost: " + host_header + "\r\nConnection: close\r\n\r\n");
    co_return co_await response.promise();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fputs("usage: http-client <url> [--options '<json>']\n", stderr);
        return 2;
    }
    Target target;
    if (!parse_url(argv[1], target)) {
        std::fprintf(stderr, "Invalid URL given: %s (expected http[s]://host[:port]/path)\n", argv[1]);
        return 2;
    }
    nlohmann::json options = nlohmann::json::object();
    if (argc >= 4 && std::string(argv[2]) == "--options") {
        try {
            options = nlohmann::json::parse(argv[3]);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "Invalid --options JSON: %s\n", e.what());
            return 2;
        }
    }
    try {
        auto connector = std::make_shared<rs::Connector>(options);
        const std::string response = rs::await(fetch(connector, target));
        std::fwrite(response.data(), 1, response.size(), stdout);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
