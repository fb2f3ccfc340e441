#include "dns/config.hpp"

#include "options.hpp"

#include <reactsock/error.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <stdexcept>
#include <string>

namespace reactsock {

Resolver::Config Resolver::Config::from_json(const nlohmann::json& json) {
    Config config;
    if (json.is_string()) {
        config.nameservers.push_back(json.get<std::string>());
        return config;
    }
    if (!json.is_object() && !json.is_null()) {
        throw std::invalid_argument(
            "DNS config must be a JSON object, a nameserver string or null");
    }
    detail::JsonOptions reader(json, "DNS config");
    constexpr detail::JsonOptions::Rules path{.expected = "a path (string)"};
    reader.read("nameservers", config.nameservers, {.string_is_list = true});
    reader.read("search", config.search, {.null_unsets = true, .string_is_list = true});
    reader.read("ndots", config.ndots, {.expected = "an integer", .null_unsets = true});
    reader.read("timeout", config.timeout, {.expected = "a number of seconds"});
    reader.read("attempts", config.attempts, {.expected = "an integer"});
    reader.read("resolv_conf", config.resolv_conf, path);
    reader.read("hosts_file", config.hosts_file, path);
    reader.finish();
    return config;
}

void from_json(const nlohmann::json& json, Resolver::Config& config) {
    config = Resolver::Config::from_json(json);
}

namespace detail {

AresChannelOptions make_channel_options(const Resolver::Config& config) {
    AresChannelOptions options;
    bool any_udp = false;
    for (const std::string& text : config.nameservers) {
        auto server = parse_nameserver(text);
        if (!server)
            throw std::invalid_argument("Invalid nameserver address given");
        (server->tcp ? options.tcp_only : any_udp) = true;
        options.nameservers.push_back(*server);
    }
    if (options.tcp_only && any_udp) {
        throw std::invalid_argument(
            "Invalid nameserver address given: tcp:// and udp:// nameservers cannot be mixed");
    }
    if (!std::isfinite(config.timeout) || config.timeout <= 0 || config.timeout > 86400) {
        throw std::invalid_argument(
            "Invalid DNS timeout given: expected a positive number of seconds");
    }
    options.timeout_ms = std::max(1, static_cast<int>(std::lround(config.timeout * 1000)));
    if (config.attempts < 1) {
        throw std::invalid_argument("Invalid DNS attempts given: expected at least 1");
    }
    options.tries = config.attempts;
    if (config.ndots) {
        if (*config.ndots < 0)
            throw std::invalid_argument("Invalid DNS ndots given: expected 0 or more");
        options.ndots = config.ndots;
    }
    if (config.search) {
        for (const std::string& domain : *config.search) {
            if (domain.empty() || domain.find_first_of(" \t\r\n") != std::string::npos) {
                throw std::invalid_argument("Invalid DNS search domain given: \"" +
                                            escape_for_message(domain) + "\"");
            }
        }
        options.search = config.search;
    }
    options.resolv_conf = config.resolv_conf;
    return options;
}

}  // namespace detail

}  // namespace reactsock
