// http-client: fetches a URL with a plain HTTP/1.0 GET and prints the response.
//
//   http-client <url> [--options '<json>']
//
// http://host[:port]/path, or https:// (TLS, verified against the system's
// CAs unless --options say otherwise, e.g. {"tls": {"cafile": "ca.pem"}}).
// Schemes are case-insensitive (HTTP:// works). Bytes that may not appear raw in
// a request line (control characters such as CR/LF, spaces, bytes >= 0x80) are
// percent-encoded in the path; a host with any of them is refused. The
// Connector facade resolves the host (DNS, Happy Eyeballs) and applies its
// timeout; --options are the Connector's options. Prints the whole response
// (status line, headers, body) to stdout.
//
// Exit status (the same for every example): 0 on success; 1 when the request
// failed (connection refused, DNS, TLS, timeout, ...); 2 for bad arguments (a
// malformed URL, --options that are not JSON or name a bad option value).
#include <reactsock/reactsock.hpp>

#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

namespace rs = reactsock;

namespace {

struct Target {
    std::string scheme;  // "tcp" or "tls"
    std::string host;    // as written (IPv6 in brackets)
    std::string port;
    std::string path;    // the request target, safe to put in a request line
};

std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

// A request target with every byte that may not stand raw in an HTTP request
// line percent-encoded: controls (CR, LF, NUL, ...), space, DEL and non-ASCII.
std::string encode_target(std::string_view path) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : path) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte >= 0x7f) {
            out += '%';
            out += hex[byte >> 4];
            out += hex[byte & 0xf];
        } else {
            out += c;
        }
    }
    return out;
}

// A deliberately small URL parser: http(s)://host[:port][/path][#fragment].
bool parse_url(std::string_view url, Target& out) {
    const auto sep = url.find("://");
    if (sep == std::string_view::npos) return false;
    const std::string scheme = lower(std::string(url.substr(0, sep)));
    if (scheme == "http") {
        out.scheme = "tcp";
    } else if (scheme == "https") {
        out.scheme = "tls";
    } else {
        return false;
    }
    std::string_view rest = url.substr(sep + 3);
    rest = rest.substr(0, rest.find('#'));  // a fragment is never sent
    const auto slash = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, slash);
    out.path = slash == std::string_view::npos ? "/" : encode_target(rest.substr(slash));
    if (out.path.front() == '?') out.path.insert(0, 1, '/');
    for (const char c : authority) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte >= 0x7f || c == '@') return false;  // no userinfo either
    }
    const auto bracket = authority.rfind(']');
    const auto colon = authority.rfind(':');
    if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
        out.host = authority.substr(0, colon);
        out.port = authority.substr(colon + 1);
    } else {
        out.host = authority;
        out.port = out.scheme == "tls" ? "443" : "80";
    }
    return !out.host.empty() && !out.port.empty() &&
           out.port.find_first_not_of("0123456789") == std::string::npos;
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
        std::fprintf(stderr, "Invalid URL given: \"%s\" (expected http[s]://host[:port]/path)\n",
                     rs::escape_for_message(argv[1]).c_str());
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
    std::shared_ptr<rs::Connector> connector;
    try {
        connector = std::make_shared<rs::Connector>(options);
    } catch (const std::exception& e) {  // an unknown option or a bad value
        std::fprintf(stderr, "%s\n", e.what());
        return 2;
    }
    try {
        const std::string response = rs::await(fetch(connector, target));
        std::fwrite(response.data(), 1, response.size(), stdout);
        return 0;
    } catch (const std::invalid_argument& e) {  // e.g. a host the connector refuses
        std::fprintf(stderr, "%s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
