// The private IP / port / "host:port" parser (src/address.hpp) shared by dns/
// and socket/: the forms each accepts and rejects.
#include "address.hpp"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

namespace detail = reactsock::detail;
using namespace std::literals;

TEST_CASE("parse_ip: IPv4 dotted quads and IPv6 text, scope ids only when accepted") {
    CHECK(detail::parse_ip("127.0.0.1")->to_string() == "127.0.0.1");
    CHECK(detail::parse_ip("::1")->is_v6());
    CHECK(detail::parse_ip("::ffff:1.2.3.4")->is_v6());
    CHECK(detail::parse_ip("2001:db8::1", detail::ScopeId::rejected)->to_string() == "2001:db8::1");
    CHECK(detail::parse_ip("fe80::1%1")->to_v6().scope_id() == 1);
    CHECK_FALSE(detail::parse_ip("fe80::1%1", detail::ScopeId::rejected));
    for (const std::string_view invalid : {""sv, "1.2.3"sv, "127.1"sv, "1.2.3.4 "sv, " ::1"sv,
                                           "[::1]"sv, "localhost"sv, "1.2.3.256"sv, "::1::2"sv}) {
        CAPTURE(invalid);
        CHECK_FALSE(detail::parse_ip(invalid));
    }
    CHECK_FALSE(detail::parse_ip("1.2.3.4\0junk"s));  // not cut short at the NUL
}

TEST_CASE("parse_port: 0 to 65535, digits only") {
    CHECK(detail::parse_port("0") == 0);
    CHECK(detail::parse_port("00053") == 53);
    CHECK(detail::parse_port("65535") == 65535);
    for (const std::string_view invalid :
         {""sv, "65536"sv, "000053"sv, "+53"sv, "-1"sv, "53x"sv, " 53"sv}) {
        CAPTURE(invalid);
        CHECK_FALSE(detail::parse_port(invalid));
    }
}

TEST_CASE("split_host_port: host, host:port, [v6], [v6]:port and bare IPv6") {
    auto split = detail::split_host_port("example.com:80");
    REQUIRE(split);
    CHECK(split->host == "example.com");
    CHECK(split->port == 80);
    CHECK_FALSE(split->bracketed);

    split = detail::split_host_port("[::1]:53");
    REQUIRE(split);
    CHECK(split->host == "::1");
    CHECK(split->port == 53);
    CHECK(split->bracketed);

    split = detail::split_host_port("[::1]");
    REQUIRE(split);
    CHECK(split->host == "::1");
    CHECK_FALSE(split->port);

    split = detail::split_host_port("2001:db8::1");  // several colons: never a port
    REQUIRE(split);
    CHECK(split->host == "2001:db8::1");
    CHECK_FALSE(split->port);

    split = detail::split_host_port("");
    REQUIRE(split);
    CHECK(split->host.empty());

    for (const std::string_view invalid : {":80"sv, "host:"sv, "host:65536"sv, "[::1"sv, "[::1]:"sv,
                                           "[::1]53"sv, "a]b"sv, "user@host"sv}) {
        CAPTURE(invalid);
        CHECK_FALSE(detail::split_host_port(invalid));
    }
}
