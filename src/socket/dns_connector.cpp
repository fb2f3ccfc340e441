#include <reactsock/socket/dns_connector.hpp>

#include "address.hpp"
#include "socket/connector_util.hpp"
#include "socket/uri.hpp"

#include <reactsock/error.hpp>

#include <cerrno>
#include <stdexcept>

namespace reactsock {

DnsConnector::DnsConnector(std::shared_ptr<ConnectorInterface> connector, std::shared_ptr<Resolver> resolver)
    : connector_(std::move(connector)), resolver_(std::move(resolver)) {
    if (!connector_ || !resolver_) throw std::invalid_argument("DnsConnector needs a connector and a resolver");
}

Promise<std::shared_ptr<Connection>> DnsConnector::connect(std::string_view uri_text) {
    using Result = std::shared_ptr<Connection>;
    const std::string uri(uri_text);
    auto target = detail::parse_named_target(uri);
    if (!target) return reject<Result>(detail::invalid_uri(uri));
    if (detail::parse_ip(target->parts.host)) return connector_->connect(uri);  // no lookup needed
    const std::string& described = target->described;

    // Which stage a cancel finds: the lookup, or the connect after it. Weak
    // handles only, and owned by the canceller: nothing here keeps a promise
    // alive or forms a cycle.
    struct Stages {
        std::weak_ptr<detail::StateBase> lookup;
        std::weak_ptr<detail::StateBase> connecting;
    };
    auto stages = std::make_shared<Stages>();
    Deferred<Result> out([stages, described](Deferred<Result>& self) {
        if (auto connecting = stages->connecting.lock()) {
            detail::cancel(connecting);  // rejects as a failed connect (below)
            return;
        }
        self.reject(Error(ECONNABORTED, "Connection to " + described + " cancelled during DNS lookup (ECONNABORTED)"));
        if (auto lookup = stages->lookup.lock()) detail::cancel(lookup);
    });
    auto lookup = resolver_->resolve(target->parts.host);
    stages->lookup = detail::Access::state(lookup);
    lookup.then(
        [stages, out, connector = connector_, parts = target->parts, had_scheme = target->had_scheme, described](const std::string& ip) mutable {
            if (!out.is_pending()) return;
            auto connecting = connector->connect(detail::uri_with_ip(parts, had_scheme, ip, parts.host));
            stages->connecting = detail::Access::state(connecting);
            connecting.then([out](const Result& connection) mutable { out.resolve(connection); },
                            [out, described](std::exception_ptr e) mutable {
                                out.reject(detail::wrap_connect_failure(e, described));
                            });
        },
        [out, described](std::exception_ptr e) mutable {
            out.reject(Error(detail::error_code_of(e),
                             "Connection to " + described + " failed during DNS lookup: " + describe_exception(e)));
        });
    return out.promise();
}

}  // namespace reactsock
