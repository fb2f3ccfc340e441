// reactsock/socket/dns_connector.hpp — resolves a hostname, then connects.
//
//     auto connector = std::make_shared<rs::DnsConnector>(
//         std::make_shared<rs::TcpConnector>(), rs::Resolver::create());
//     connector->connect("example.com:80");   // -> tcp connect to 93.184.215.14:80?hostname=example.com
//
// Resolves the host with Resolver::resolve() (one IPv4 address, as ReactPHP),
// then connects the wrapped connector to "ip:port?hostname=host" (an explicit
// hostname parameter is kept; the TLS layer takes its peer name from it). An
// IP literal is passed through untouched. Rejections:
//  * std::invalid_argument `Given URI "x" is invalid (EINVAL)` (no host);
//  * `Connection to tcp://host:80 failed during DNS lookup: <resolver's message>`
//    with the resolver's errno condition (ReactPHP uses code 0 here);
//  * `Connection to tcp://host:80 failed: <inner message>` for a failed connect,
//    the inner errno kept;
//  * cancel during the lookup: `Connection to tcp://host:80 cancelled during
//    DNS lookup (ECONNABORTED)`, and the query is cancelled; cancel after it
//    cancels the connect, which rejects as a failed connect.
#pragma once

#include <reactsock/dns/resolver.hpp>
#include <reactsock/socket/connector_interface.hpp>

#include <memory>

namespace reactsock {

class DnsConnector final : public ConnectorInterface {
public:
    /// Throws std::invalid_argument if either is null.
    DnsConnector(std::shared_ptr<ConnectorInterface> connector, std::shared_ptr<Resolver> resolver);
    /// Resolves the host of `uri` (A only), then connects the wrapped
    /// connector to the address with the hostname kept as ?hostname=.
    ///  * Resolves with: the wrapped connector's Connection.
    ///  * Rejects with: the errors listed at the top of this header.
    ///  * Settles: at once for a URI without a host, or when the resolver
    ///    answers at once (IP literal, localhost, cache) and the connect does
    ///    too; otherwise later, inside Loop::run().
    ///  * cancel(): during the lookup, cancels the query and rejects with
    ///    `... cancelled during DNS lookup (ECONNABORTED)`; afterwards, cancels
    ///    the wrapped attempt (its message, rewritten). Nothing stays open.
    ///  * Threads: the loop's thread only.
    [[nodiscard]] Promise<std::shared_ptr<Connection>> connect(std::string_view uri) override;

private:
    std::shared_ptr<ConnectorInterface> connector_;
    std::shared_ptr<Resolver> resolver_;
};

}  // namespace reactsock
