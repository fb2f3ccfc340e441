// reactsock/socket/connector.hpp — the Connector facade: one connect() for
// every kind of URI, with DNS, Happy Eyeballs and a timeout by default.
//
//     rs::Connector connector;                                  // defaults
//     rs::Connector tuned({{"timeout", 3.0}, {"dns", "127.0.0.1:5353"}});   // as ReactPHP's $context
//     connector.connect("example.com:80").then(...);
//     connector.connect("unix:///run/app.sock").then(...);
//
// Assembly (as ReactPHP's Connector):
//   tcp://  TimeoutConnector(HappyEyeballsConnector(TcpConnector, resolver), timeout)
//           (DnsConnector instead with happy_eyeballs = false; no DNS layer
//           with dns = false: IP literals only; no timeout with timeout = false)
//   tls://  TimeoutConnector(SecureConnector(the tcp:// chain without its
//           timeout, tls options), timeout) — one timer for DNS, TCP and TLS
//   unix:// UnixConnector
// A URI without a scheme is tcp://. A scheme that is unknown or switched off
// rejects with reactsock::Error(EINVAL)
// `No connector available for URI scheme "<scheme>" (EINVAL)`.
//
// The resolver (dns = true) is Resolver::create_cached() with the system's
// configuration: /etc/resolv.conf and /etc/hosts — not ReactPHP's 8.8.8.8
// fallback. Cancelling a connect() cancels whatever stage it is in (lookup,
// attempts, timer) and releases every socket and query.
#pragma once

#include <reactsock/dns/resolver.hpp>
#include <reactsock/loop/loop.hpp>
#include <reactsock/socket/connector_interface.hpp>
#include <reactsock/socket/tcp_connector.hpp>
#include <reactsock/tls/options.hpp>

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <optional>
#include <string>
#include <variant>

namespace reactsock {

/// Options of Connector (also Connector::Options); JSON keys are the same names.
struct ConnectorOptions {
    /// tcp:// connections: true (a TcpConnector with default options), false
    /// (tcp:// switched off), TcpConnector options, or a connector of your own
    /// to use instead (the DNS and timeout layers still wrap it).
    std::variant<bool, TcpConnectorOptions, std::shared_ptr<ConnectorInterface>> tcp = true;
    /// tls:// connections: true (safe defaults: verify the peer against the
    /// system's CAs), false (tls:// switched off), TlsOptions, or a connector
    /// of your own (the timeout still wraps it).
    std::variant<bool, TlsOptions, std::shared_ptr<ConnectorInterface>> tls = true;
    /// Unix sockets: true, false, or a connector of your own. JSON key "unix".
    std::variant<bool, std::shared_ptr<ConnectorInterface>> unix_socket = true;
    /// Name resolution: true (the system's resolver, cached), false (IP
    /// literals only), a nameserver ("127.0.0.1:5353"), or a Resolver.
    std::variant<bool, std::string, std::shared_ptr<Resolver>> dns = true;
    /// Race IPv6 and IPv4 (HappyEyeballsConnector) rather than resolve A only
    /// (DnsConnector).
    bool happy_eyeballs = true;
    /// Seconds until a tcp:// connect gives up; std::nullopt for no limit
    /// (JSON: a number, true for the default 60, false for none).
    std::optional<double> timeout = 60.0;

    /// From JSON; an unknown key or a wrong type throws std::invalid_argument
    /// naming it.
    static ConnectorOptions from_json(const nlohmann::json& json);
};

/// nlohmann::json ADL hook: `json.get<ConnectorOptions>()`.
void from_json(const nlohmann::json& json, ConnectorOptions& out);

class Connector final : public ConnectorInterface {
public:
    using Options = ConnectorOptions;

    explicit Connector(const Options& options = {}, std::shared_ptr<Loop> loop = nullptr);
    explicit Connector(const nlohmann::json& options, std::shared_ptr<Loop> loop = nullptr);

    /// Picks the chain for the scheme of `uri` (see the top) and connects.
    ///  * Resolves with: that chain's Connection (secure for tls://).
    ///  * Rejects with: Error(EINVAL) `No connector available for URI scheme
    ///    "<scheme>" (EINVAL)`, or the chain's reasons (TcpConnector,
    ///    DnsConnector/HappyEyeballsConnector, SecureConnector,
    ///    TimeoutConnector, UnixConnector headers).
    ///  * Settles: at once for an unknown scheme or an invalid URI; otherwise
    ///    as the chain does.
    ///  * cancel(): cancels whatever stage is in progress (lookup, attempts,
    ///    handshake, timer); every socket and query is released at once.
    ///  * Threads: the loop's thread only.
    [[nodiscard]] Promise<std::shared_ptr<Connection>> connect(std::string_view uri) override;

private:
    std::shared_ptr<ConnectorInterface> tcp_;
    std::shared_ptr<ConnectorInterface> tls_;
    std::shared_ptr<ConnectorInterface> unix_;
};

}  // namespace reactsock
