#include <reactsock/socket/secure_connector.hpp>

#include "socket/connector_util.hpp"
#include "socket/tls_upgrade.hpp"
#include "socket/uri.hpp"
#include "tls/context.hpp"

#include <reactsock/error.hpp>

#include <optional>
#include <stdexcept>

namespace reactsock {

namespace {

using Result = std::shared_ptr<Connection>;

// The wrapped connector's error with "Connection to <its uri>" replaced by ours.
std::exception_ptr rewrite_connect_error(const std::exception_ptr& error, const std::string& uri) {
    return detail::reword_failure(error, [&](std::string_view what) {
        const std::string_view lead = "Connection to ";
        if (what.substr(0, lead.size()) != lead) return std::string(lead) + uri + " failed: " + std::string(what);
        const auto space = what.find(' ', lead.size());
        return std::string(lead) + uri + (space == std::string_view::npos ? "" : std::string(what.substr(space)));
    });
}

struct Attempt {
    Deferred<Result> deferred;
    std::optional<Promise<Result>> tcp;
    std::optional<Promise<Result>> handshake;
};

}  // namespace

SecureConnector::SecureConnector(std::shared_ptr<ConnectorInterface> connector, std::shared_ptr<Loop> loop,
                                 const nlohmann::json& options)
    : SecureConnector(std::move(connector), std::move(loop), TlsOptions::from_json(options)) {}

SecureConnector::SecureConnector(std::shared_ptr<ConnectorInterface> connector, std::shared_ptr<Loop> loop,
                                 TlsOptions options)
    : connector_(std::move(connector)), loop_(loop ? std::move(loop) : Loop::get()), options_(std::move(options)) {
    if (!connector_) throw std::invalid_argument("SecureConnector needs a connector to wrap");
    detail::validate_tls_options(options_);
}

Promise<std::shared_ptr<Connection>> SecureConnector::connect(std::string_view uri_view) {
    std::string uri(uri_view);
    if (uri.find("://") == std::string::npos) uri = "tls://" + uri;
    const auto parsed = detail::parse_uri(uri);
    if (!parsed || parsed->scheme != "tls") {
        return reject<Result>(detail::invalid_uri(uri));
    }
    if (!context_) {
        try {
            context_ = detail::TlsContext::create(options_, detail::TlsRole::client);
        } catch (const std::system_error& e) {
            return reject<Result>(Error(e.code(), "Connection to " + uri + " failed: " + e.what()));
        }
    }
    std::string peer_name = options_.peer_name.value_or(
        detail::query_param(parsed->query, "hostname").value_or(parsed->host));
    try {
        detail::check_peer_name(peer_name);  // ?hostname= is percent-decoded: %0d%0a would pass parse_uri
    } catch (const std::invalid_argument&) {
        return reject<Result>(std::current_exception());
    }
    const std::string session_key = peer_name + ":" + std::to_string(parsed->port.value_or(0));

    auto attempt = std::make_shared<Attempt>();
    std::weak_ptr<Attempt> weak = attempt;
    attempt->deferred = Deferred<Result>([weak](Deferred<Result>&) {
        auto a = weak.lock();
        if (!a) return;
        // Their rejections settle us through the handlers below (handlers
        // run once all cancellers have: before ECANCELED would).
        if (a->handshake) {
            a->handshake->cancel();  // closes the socket at once
        } else if (a->tcp) {
            a->tcp->cancel();
        }
    });
    auto promise = attempt->deferred.promise();
    auto tcp = connector_->connect("tcp://" + uri.substr(uri.find("://") + 3));
    attempt->tcp = tcp;
    auto context = context_;
    // The handlers hold the attempt until the promises settle (a settled
    // promise drops its handlers); the canceller holds it weakly.
    tcp.then(
        [a = attempt, uri, context, peer_name, session_key](const Result& connection) {
            if (!a->deferred.is_pending()) {
                connection->close();
                return;
            }
            auto handshake = detail::upgrade_to_tls(
                connection,
                {.role = detail::TlsRole::client,
                 .context = [context] { return context; },
                 .peer_name = peer_name,
                 .session_key = session_key,
                 .unread = {},
                 .timeout = 0,
                 .label = "Connection to " + uri,
                 .foreign_message = "Base connector does not use internal Connection class exposing stream resource"});
            a->handshake = handshake;
            handshake.then(
                [a](const Result& secure) {
                    if (a->deferred.is_pending()) {
                        a->deferred.resolve(secure);
                    } else {
                        secure->close();
                    }
                },
                [a](std::exception_ptr error) {
                    if (a->deferred.is_pending()) a->deferred.reject(error);
                });
        },
        [a = attempt, uri](std::exception_ptr error) {
            if (a->deferred.is_pending()) a->deferred.reject(rewrite_connect_error(error, uri));
        });
    return promise;
}

}  // namespace reactsock
