#include <reactsock/socket/connector.hpp>

#include <reactsock/error.hpp>
#include <reactsock/socket/dns_connector.hpp>
#include <reactsock/socket/happy_eyeballs_connector.hpp>
#include <reactsock/socket/secure_connector.hpp>
#include <reactsock/socket/timeout_connector.hpp>
#include <reactsock/socket/unix_connector.hpp>

#include "options.hpp"
#include "socket/uri.hpp"

#include <cerrno>
#include <stdexcept>

namespace reactsock {

ConnectorOptions ConnectorOptions::from_json(const nlohmann::json& json) {
    detail::JsonOptions reader(json, "Connector");
    ConnectorOptions options;
    if (const auto* tcp = reader.raw("tcp")) {
        if (tcp->is_boolean()) {
            options.tcp = tcp->get<bool>();
        } else if (tcp->is_object()) {
            options.tcp = TcpConnectorOptions::from_json(*tcp);
        } else {
            reader.wrong_type("tcp", "true, false or an object of TcpConnector options");
        }
    }
    if (const auto* unix_socket = reader.raw("unix")) {
        if (!unix_socket->is_boolean()) reader.wrong_type("unix", "true or false");
        options.unix_socket = unix_socket->get<bool>();
    }
    if (const auto* dns = reader.raw("dns")) {
        if (dns->is_boolean()) {
            options.dns = dns->get<bool>();
        } else if (dns->is_string()) {
            options.dns = dns->get<std::string>();
        } else {
            reader.wrong_type("dns", "true, false or a nameserver address");
        }
    }
    reader.read("happy_eyeballs", options.happy_eyeballs);
    if (const auto* timeout = reader.raw("timeout")) {
        if (timeout->is_boolean()) {
            options.timeout = timeout->get<bool>() ? std::optional<double>(60.0) : std::nullopt;
        } else {
            double seconds = 0;
            reader.read("timeout", seconds);
            if (seconds < 0) reader.wrong_type("timeout", "a number of seconds >= 0, true or false");
            options.timeout = seconds;
        }
    }
    if (const auto* tls = reader.raw("tls")) {
        if (tls->is_boolean()) {
            options.tls = tls->get<bool>();
        } else if (tls->is_object()) {
            options.tls = TlsOptions::from_json(*tls);
        } else {
            reader.wrong_type("tls", "true, false or an object of TLS options");
        }
    }
    reader.finish();
    return options;
}

void from_json(const nlohmann::json& json, ConnectorOptions& out) { out = ConnectorOptions::from_json(json); }

Connector::Connector(const nlohmann::json& options, std::shared_ptr<Loop> loop)
    : Connector(Options::from_json(options), std::move(loop)) {}

Connector::Connector(const Options& options, std::shared_ptr<Loop> loop) {
    if (!loop) loop = Loop::get();

    // tcp://: the connector, then DNS, then the timeout around both.
    std::shared_ptr<ConnectorInterface> tcp;
    if (const auto* custom = std::get_if<std::shared_ptr<ConnectorInterface>>(&options.tcp)) {
        if (!*custom) throw std::invalid_argument("Connector option \"tcp\": the connector is null");
        tcp = *custom;
    } else if (const auto* tcp_options = std::get_if<TcpConnectorOptions>(&options.tcp)) {
        tcp = std::make_shared<TcpConnector>(loop, *tcp_options);
    } else if (std::get<bool>(options.tcp)) {
        tcp = std::make_shared<TcpConnector>(loop);
    }
    if (tcp) {
        std::shared_ptr<Resolver> resolver;
        if (const auto* given = std::get_if<std::shared_ptr<Resolver>>(&options.dns)) {
            if (!*given) throw std::invalid_argument("Connector option \"dns\": the resolver is null");
            resolver = *given;
        } else if (const auto* nameserver = std::get_if<std::string>(&options.dns)) {
            Resolver::Config config;
            config.nameservers = {*nameserver};
            resolver = Resolver::create_cached(loop, config);
        } else if (std::get<bool>(options.dns)) {
            resolver = Resolver::create_cached(loop);
        }
        if (resolver) {
            if (options.happy_eyeballs) {
                tcp = std::make_shared<HappyEyeballsConnector>(tcp, resolver, loop);
            } else {
                tcp = std::make_shared<DnsConnector>(tcp, resolver);
            }
        }
        // tls:// reuses the untimed chain, so that one timer covers DNS, TCP and TLS.
        std::shared_ptr<ConnectorInterface> tls;
        if (const auto* custom_tls = std::get_if<std::shared_ptr<ConnectorInterface>>(&options.tls)) {
            if (!*custom_tls) throw std::invalid_argument("Connector option \"tls\": the connector is null");
            tls = *custom_tls;
        } else if (const auto* tls_options = std::get_if<TlsOptions>(&options.tls)) {
            tls = std::make_shared<SecureConnector>(tcp, loop, *tls_options);
        } else if (std::get<bool>(options.tls)) {
            tls = std::make_shared<SecureConnector>(tcp, loop);
        }
        if (options.timeout) {
            tcp = std::make_shared<TimeoutConnector>(tcp, *options.timeout, loop);
            if (tls) tls = std::make_shared<TimeoutConnector>(tls, *options.timeout, loop);
        }
        tcp_ = std::move(tcp);
        tls_ = std::move(tls);
    }

    if (const auto* custom = std::get_if<std::shared_ptr<ConnectorInterface>>(&options.unix_socket)) {
        if (!*custom) throw std::invalid_argument("Connector option \"unix\": the connector is null");
        unix_ = *custom;
    } else if (std::get<bool>(options.unix_socket)) {
        unix_ = std::make_shared<UnixConnector>(loop);
    }
}

Promise<std::shared_ptr<Connection>> Connector::connect(std::string_view uri) {
    const std::string scheme = detail::uri_scheme(uri);
    ConnectorInterface* chosen = nullptr;
    if (scheme == "tcp") chosen = tcp_.get();
    if (scheme == "tls") chosen = tls_.get();
    if (scheme == "unix") chosen = unix_.get();
    if (chosen == nullptr) {
        return reject<std::shared_ptr<Connection>>(
            Error(EINVAL, "No connector available for URI scheme \"" + escape_for_message(scheme) + "\" (EINVAL)"));
    }
    return chosen->connect(uri);
}

}  // namespace reactsock
