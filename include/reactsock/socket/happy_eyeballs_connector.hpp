// reactsock/socket/happy_eyeballs_connector.hpp — IPv6 and IPv4 raced (RFC 8305).
//
//     auto connector = std::make_shared<rs::HappyEyeballsConnector>(
//         std::make_shared<rs::TcpConnector>(), rs::Resolver::create());
//     connector->connect("example.com:443");
//
// As ReactPHP's HappyEyeBallsConnector: AAAA and A are looked up at once; an
// A answer that comes while AAAA is pending waits up to `resolution_delay`
// (50 ms) for it. Each answer's addresses are shuffled and interleaved with
// those queued (new first), so the families alternate. One attempt starts,
// and every `connection_attempt_delay` (100 ms) another while earlier ones
// are pending; a failed attempt starts the next at once. The first
// connection wins: every other attempt, lookup and timer is cancelled.
// An IP literal is connected directly.
//
// Rejections (`<uri>` is the given URI with tcp:// added):
//  * all attempts failed: `Connection to <uri> failed: <last error>` when both
//    families' last errors read the same, else `Connection to <uri> failed:
//    Last error for IPv4: <...>. Previous error for IPv6: <...>` (errno of
//    the last attempt);
//  * no address at all: `Connection to <uri> failed during DNS lookup: <...>`
//    or `... failed during DNS lookup. Last error for IPv6: <...>. Previous
//    error for IPv4: <...>`;
//  * cancelled: `Connection to <uri> cancelled during DNS lookup (ECONNABORTED)`,
//    or `Connection to <uri> cancelled (ECONNABORTED)` once attempts run.
//  * std::invalid_argument `Given URI "x" is invalid (EINVAL)` without a host.
#pragma once

#include <reactsock/dns/resolver.hpp>
#include <reactsock/loop/loop.hpp>
#include <reactsock/socket/connector_interface.hpp>

#include <nlohmann/json_fwd.hpp>

#include <memory>

namespace reactsock {

/// Options of HappyEyeballsConnector (also HappyEyeballsConnector::Options):
/// its delays, in seconds.
struct HappyEyeballsConnectorOptions {
    double resolution_delay = 0.05;
    double connection_attempt_delay = 0.1;

    /// From {"resolution_delay": 0.05, "connection_attempt_delay": 0.1}; an
    /// unknown key or a wrong type throws std::invalid_argument naming it.
    /// (Negative delays are left to the constructor to reject.)
    static HappyEyeballsConnectorOptions from_json(const nlohmann::json& json);
};

/// nlohmann::json ADL hook: `json.get<HappyEyeballsConnectorOptions>()`; same
/// rules as HappyEyeballsConnectorOptions::from_json.
void from_json(const nlohmann::json& json, HappyEyeballsConnectorOptions& out);

/// Deprecated: the former name of HappyEyeballsConnectorOptions.
using HappyEyeballsOptions [[deprecated("use HappyEyeballsConnectorOptions")]] =
    HappyEyeballsConnectorOptions;

class HappyEyeballsConnector final : public ConnectorInterface {
public:
    using Options = HappyEyeballsConnectorOptions;

    /// Throws std::invalid_argument if `connector` or `resolver` is null or a
    /// delay is negative or not finite.
    HappyEyeballsConnector(std::shared_ptr<ConnectorInterface> connector, std::shared_ptr<Resolver> resolver,
                           std::shared_ptr<Loop> loop = nullptr, const Options& options = {});
    /// Races the IPv6 and IPv4 addresses of the host of `uri` (see the top).
    ///  * Resolves with: the first Connection made; every other attempt,
    ///    lookup and timer is cancelled then.
    ///  * Rejects with: the errors listed at the top of this header.
    ///  * Settles: at once for a URI without a host; otherwise later, inside
    ///    Loop::run() (also for an IP literal: the wrapped connector decides).
    ///  * cancel(): cancels both lookups, every attempt and timer, and
    ///    rejects with `... cancelled during DNS lookup (ECONNABORTED)` or
    ///    `... cancelled (ECONNABORTED)`. Nothing stays open.
    ///  * Threads: the loop's thread only.
    [[nodiscard]] Promise<std::shared_ptr<Connection>> connect(std::string_view uri) override;

private:
    std::shared_ptr<ConnectorInterface> connector_;
    std::shared_ptr<Resolver> resolver_;
    std::shared_ptr<Loop> loop_;
    Options options_;
};

}  // namespace reactsock
