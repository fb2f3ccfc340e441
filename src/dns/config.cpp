#include "dns/config.hpp"

#include <reactsock/error.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace reactsock {

namespace {

[[noreturn]] void bad_value(const std::string& key, const char* expected) {
    throw std::invalid_argument("DNS config option \"" + escape_for_message(key) + "\" must be " + expected);
}

std::vector<std::string> string_list(const nlohmann::json& value, const std::string& key) {
    if (value.is_string())
        return {value.get<std::string>()};
    if (!value.is_array())
        bad_value(key, "a string or an array of strings");
    std::vector<std::string> out;
    for (const auto& item : value) {
        if (!item.is_string())
            bad_value(key, "a string or an array of strings");
        out.push_back(item.get<std::string>());
    }
    return out;
}

int integer(const nlohmann::json& value, const std::string& key) {
    if (!value.is_number_integer())
        bad_value(key, "an integer");
    const auto number = value.get<long long>();
    if (number < std::numeric_limits<int>::min() || number > std::numeric_limits<int>::max()) {
        bad_value(key, "an integer");
    }
    return static_cast<int>(number);
}

}  // namespace

Resolver::Config Resolver::Config::from_json(const nlohmann::json& json) {
    Config config;
    if (json.is_null())
        return config;
    if (json.is_string()) {
        config.nameservers.push_back(json.get<std::string>());
        return config;
    }
    if (!json.is_object()) {
        throw std::invalid_argument(
            "DNS config must be a JSON object, a nameserver string or null");
    }
    for (const auto& [key, value] : json.items()) {
        if (key == "nameservers") {
            config.nameservers = string_list(value, key);
        } else if (key == "search") {
            if (value.is_null()) {
                config.search.reset();
            } else {
                config.search = string_list(value, key);
            }
        } else if (key == "ndots") {
            if (value.is_null()) {
                config.ndots.reset();
            } else {
                config.ndots = integer(value, key);
            }
        } else if (key == "timeout") {
            if (!value.is_number())
                bad_value(key, "a number of seconds");
            config.timeout = value.get<double>();
        } else if (key == "attempts") {
            config.attempts = integer(value, key);
        } else if (key == "resolv_conf") {
            if (!value.is_string())
                bad_value(key, "a path (string)");
            config.resolv_conf = value.get<std::string>();
        } else if (key == "hosts_file") {
            if (!value.is_string())
                bad_value(key, "a path (string)");
            config.hosts_file = value.get<std::string>();
        } else {
            throw std::invalid_argument("Unknown DNS config option \"" + escape_for_message(key) + "\"");
        }
    }
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
                throw std::invalid_argument("Invalid DNS search domain given: \"" + escape_for_message(domain) + "\"");
            }
        }
        options.search = config.search;
    }
    options.resolv_conf = config.resolv_conf;
    return options;
}

}  // namespace detail

}  // namespace reactsock
