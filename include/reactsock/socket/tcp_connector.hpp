// reactsock/socket/tcp_connector.hpp — connects to IP:port over TCP.
//
//     rs::TcpConnector connector;
//     auto conn = rs::await(connector.connect("127.0.0.1:8080"));
//
// URIs: "127.0.0.1:80", "[::1]:80", with or without "tcp://"; a
// "?hostname=name" query is kept (the TLS layer uses it as peer name).
// Hostnames are not resolved here (see DnsConnector / Connector).
//
// Rejections:
//  * std::invalid_argument `Given URI "tcp://x" is invalid (EINVAL)` (missing or
//    bad port, other scheme) or `Given URI "tcp://example.com:80" does not
//    contain a valid host IP (EINVAL)`;
//  * reactsock::Error `Connection to tcp://127.0.0.1:1 failed: Connection refused
//    (ECONNREFUSED)` (any errno the connect or bind reports);
//  * reactsock::Error(ECONNABORTED) `Connection to tcp://...:80 cancelled during
//    TCP/IP handshake (ECONNABORTED)` when cancelled; the socket is closed at once.
#pragma once

#include <reactsock/loop/loop.hpp>
#include <reactsock/socket/connector_interface.hpp>

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <optional>
#include <string>

namespace reactsock {

/// Options of TcpConnector (also TcpConnector::Options).
struct TcpConnectorOptions {
    /// Local address to bind before connecting: "192.168.1.2",
    /// "192.168.1.2:0", "[::1]:4000".
    std::optional<std::string> bindto{};

    /// TCP_NODELAY on the connection.
    bool tcp_nodelay = false;

    static TcpConnectorOptions from_json(const nlohmann::json& json);
};

/// nlohmann::json ADL hook: `json.get<TcpConnectorOptions>()`; same rules as TcpConnectorOptions::from_json.
void from_json(const nlohmann::json& json, TcpConnectorOptions& out);

class TcpConnector final : public ConnectorInterface {
public:
    using Options = TcpConnectorOptions;

    explicit TcpConnector(std::shared_ptr<Loop> loop = nullptr, Options options = {});
    TcpConnector(std::shared_ptr<Loop> loop, const nlohmann::json& options);

    /// Connects a TCP socket to the IP literal and port of `uri`.
    ///  * Resolves with: the Connection (TCP_NODELAY if asked), already reading.
    ///  * Rejects with: the errors listed at the top of this header.
    ///  * Settles: at once for a bad URI, a failed bind, or when the kernel
    ///    completes or refuses the connect immediately; otherwise later,
    ///    inside Loop::run(), when the socket becomes writable.
    ///  * cancel(): closes the socket at once and rejects with
    ///    `Connection to tcp://... cancelled during TCP/IP handshake (ECONNABORTED)`.
    ///  * Threads: the loop's thread only.
    [[nodiscard]] Promise<std::shared_ptr<Connection>> connect(std::string_view uri) override;

private:
    std::shared_ptr<Loop> loop_keep_;
    Loop* loop_;
    Options options_;
};

}  // namespace reactsock
