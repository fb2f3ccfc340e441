// src/dns/answer.hpp — private: the values of one lookup, and reading them
// out of a raw DNS reply.
#pragma once

#include <reactsock/dns/resolver.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace reactsock::detail {

/// The values found for one (name, type); exactly one of the vectors is used,
/// chosen by the type. `ttl` is the smallest TTL of the records involved
/// (CNAMEs followed included), 0 for local answers.
struct DnsAnswer {
    std::vector<std::string> values;  // A, AAAA: addresses; CNAME: target names
    std::vector<MxRecord> mx;
    std::vector<TxtRecord> txt;
    std::vector<SrvRecord> srv;
    std::uint32_t ttl = 0;

    [[nodiscard]] bool empty() const noexcept {
        return values.empty() && mx.empty() && txt.empty() && srv.empty();
    }
};

/// Reads the records of `type` for the question's name out of the DNS reply
/// `message`, following CNAME chains in the answer section (up to 16 links),
/// as ReactPHP's resolveAll() does. An empty DnsAnswer means NODATA; nullopt
/// means the message is malformed.
std::optional<DnsAnswer> parse_dns_answer(const std::vector<unsigned char>& message,
                                          RecordType type);

/// ASCII lower case (DNS names compare case-insensitively).
std::string ascii_lower(std::string_view text);

}  // namespace reactsock::detail
