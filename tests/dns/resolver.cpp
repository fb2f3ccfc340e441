#include <reactsock/dns/resolver.hpp>

#include <reactsock/promise/await.hpp>
#include <reactsock/promise/timer.hpp>

#include "support/dnsmasq.hpp"

#include <doctest/doctest.h>
#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <nlohmann/json.hpp>

#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <functional>
#include <limits>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace rs = reactsock;
using Strings = std::vector<std::string>;

namespace {

// Every test that sends a query points its resolver at a server of its own:
// no resolv.conf, no hosts file, no search list.
rs::Resolver::Config test_config(const std::string& nameserver, double timeout = 5.0,
                                 int attempts = 1) {
    rs::Resolver::Config config;
    config.timeout = timeout;
    config.attempts = attempts;
    config.nameservers = {nameserver};
    config.search = Strings{};
    config.resolv_conf = "";
    config.hosts_file = "";
    return config;
}

// The records most tests ask for.
std::vector<std::string> test_records() {
    return {
        "--local=/test/",
        "--local=/invalid/",
        "--domain-needed",  // single-label names: NXDOMAIN (not REFUSED)
        "--local-ttl=300",
        "--host-record=www.test,192.0.2.10,2001:db8::10",
        "--host-record=v4only.test,192.0.2.11",
        "--host-record=short.test,192.0.2.20,1",
        "--host-record=a.test,192.0.2.31",
        "--host-record=b.test,192.0.2.32",
        "--host-record=c.test,192.0.2.33",
        "--cname=alias.test,www.test",
        "--mx-host=mail.test,mx1.test,10",
        "--mx-host=mail.test,mx2.test,20",
        "--srv-host=_sip._udp.test,sip.test,5060,1,2",
        "--txt-record=txt.test,v=spf1 -all,second string",
    };
}

int open_fds() {
    int count = 0;
    if (DIR* dir = ::opendir("/proc/self/fd")) {
        while (const dirent* entry = ::readdir(dir)) {
            if (entry->d_name[0] != '.')
                ++count;
        }
        ::closedir(dir);
    }
    return count - 1;  // the directory stream itself
}

// Runs the loop until `promise` settles; a generous guard turns a hang into
// a failure (it is not a timing assumption: every query here settles sooner).
template <class T>
void settle(const rs::Promise<T>& promise, const std::shared_ptr<rs::Loop>& loop) {
    if (!promise.is_pending())
        return;
    bool expired = false;
    auto guard = loop->add_timer(60, [&] { expired = true; });
    loop->run_until([&] { return !promise.is_pending() || expired; });
    loop->cancel_timer(guard);
    REQUIRE_MESSAGE(!expired, "the lookup did not settle");
}

template <class T>
T value_of(const rs::Promise<T>& promise, const std::shared_ptr<rs::Loop>& loop) {
    settle(promise, loop);
    return rs::await(promise, loop);
}

struct Failure {
    std::string message;
    std::error_code code;
    bool invalid_argument = false;
};

template <class T>
Failure failure_of(const rs::Promise<T>& promise, const std::shared_ptr<rs::Loop>& loop) {
    settle(promise, loop);
    Failure failure;
    try {
        rs::await(promise, loop);
        FAIL("the lookup should have been rejected");
    } catch (const std::system_error& e) {
        failure.message = e.what();
        failure.code = e.code();
    } catch (const std::invalid_argument& e) {
        failure.message = e.what();
        failure.invalid_argument = true;
    }
    return failure;
}

template <class T>
T settled_value(const rs::Promise<T>& promise) {
    REQUIRE(promise.is_fulfilled());
    return rs::await(promise, nullptr);
}

// Seconds that loop->run() takes.
double run_time(const std::shared_ptr<rs::Loop>& loop) {
    const auto start = std::chrono::steady_clock::now();
    loop->run();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A nameserver on the test's own loop that answers every query with what
// `respond(query)` returns: for replies dnsmasq will not give (error rcodes,
// malformed records). Close it (or destroy it) before expecting run() to return.
class ScriptedNameserver {
public:
    using Responder = std::function<std::vector<unsigned char>(const std::vector<unsigned char>&)>;

    ScriptedNameserver(asio::io_context& io, Responder respond)
        : socket_(io, asio::ip::udp::endpoint(asio::ip::address_v4::loopback(), 0)),
          respond_(std::move(respond)) {
        receive();
    }

    [[nodiscard]] std::string nameserver() const {
        return "127.0.0.1:" + std::to_string(socket_.local_endpoint().port());
    }
    [[nodiscard]] int queries() const noexcept { return queries_; }
    void close() {
        asio::error_code ignored;
        socket_.close(ignored);
    }

private:
    void receive() {
        socket_.async_receive_from(
            asio::buffer(buffer_), peer_, [this](const asio::error_code& ec, std::size_t size) {
                if (ec)
                    return;
                ++queries_;
                reply_ = respond_({buffer_.begin(), buffer_.begin() + static_cast<long>(size)});
                asio::error_code ignored;
                socket_.send_to(asio::buffer(reply_), peer_, 0, ignored);
                receive();
            });
    }

    asio::ip::udp::socket socket_;
    asio::ip::udp::endpoint peer_;
    std::array<unsigned char, 512> buffer_{};
    std::vector<unsigned char> reply_;
    Responder respond_;
    int queries_ = 0;
};

// The reply to `query` with `rcode`, its question, and `answers` (raw records,
// `count` of them; owner names may point at the question with 0xc0 0x0c).
std::vector<unsigned char> make_reply(const std::vector<unsigned char>& query, int rcode,
                                      const std::vector<unsigned char>& answers = {},
                                      int count = 0) {
    std::size_t end = 12;
    while (end < query.size() && query[end] != 0)
        end += query[end] + 1u;
    end += 1 + 4;  // root label, type, class
    std::vector<unsigned char> reply(query.begin(), query.begin() + static_cast<long>(end));
    reply[2] = static_cast<unsigned char>(0x80 | (query[2] & 0x79));  // QR, opcode, RD
    reply[3] = static_cast<unsigned char>(0x80 | rcode);              // RA, rcode
    reply[6] = 0;
    reply[7] = static_cast<unsigned char>(count);
    reply[8] = reply[9] = reply[10] = reply[11] = 0;
    reply.insert(reply.end(), answers.begin(), answers.end());
    return reply;
}

}  // namespace

TEST_CASE("A and AAAA answers from a real nameserver") {
    testdns::Dnsmasq dns(test_records());
    auto loop = std::make_shared<rs::Loop>();
    auto resolver = rs::Resolver::create(loop, test_config(dns.nameserver()));

    CHECK(value_of(resolver->resolve("www.test"), loop) == "192.0.2.10");
    CHECK(value_of(resolver->resolve_all("www.test", rs::RecordType::A), loop) ==
          Strings{"192.0.2.10"});
    CHECK(value_of(resolver->resolve_all("www.test", rs::RecordType::AAAA), loop) ==
          Strings{"2001:db8::10"});
    CHECK(value_of(resolver->resolve_all("WWW.Test", rs::RecordType::A), loop) ==
          Strings{"192.0.2.10"});
    CHECK(dns.queries() == 4);
    CHECK(loop->timer_count() == 0);
}

TEST_CASE("resolve() picks one of several addresses, resolve_all() gives them all") {
    testdns::Dnsmasq dns(test_records());
    const std::string hosts = dns.write_file(
        "hosts", "192.0.2.1 multi.test\n192.0.2.2 multi.test\n192.0.2.3 multi.test\n");
    testdns::Dnsmasq multi({"--local=/test/", "--local-ttl=300", "--addn-hosts=" + hosts});
    auto loop = std::make_shared<rs::Loop>();
    auto resolver = rs::Resolver::create_cached(loop, test_config(multi.nameserver()));

    auto all = value_of(resolver->resolve_all("multi.test", rs::RecordType::A), loop);
    CHECK(std::set<std::string>(all.begin(), all.end()) ==
          std::set<std::string>{"192.0.2.1", "192.0.2.2", "192.0.2.3"});
    // From the cache now: each pick is random among the three (the chance of
    // 200 identical picks is 3^-199).
    std::set<std::string> picked;
    for (int i = 0; i < 200; ++i)
        picked.insert(settled_value(resolver->resolve("multi.test")));
    CHECK(picked.size() > 1);
    for (const auto& ip : picked)
        CHECK(std::set<std::string>(all.begin(), all.end()).count(ip) == 1);
}

TEST_CASE("CNAME chains in the answer are followed; CNAME itself can be asked for") {
    testdns::Dnsmasq dns(test_records());
    auto loop = std::make_shared<rs::Loop>();
    auto resolver = rs::Resolver::create(loop, test_config(dns.nameserver()));

    CHECK(value_of(resolver->resolve("alias.test"), loop) == "192.0.2.10");
    CHECK(value_of(resolver->resolve_all("alias.test", rs::RecordType::AAAA), loop) ==
          Strings{"2001:db8::10"});
    CHECK(value_of(resolver->resolve_all("alias.test", rs::RecordType::CNAME), loop) ==
          Strings{"www.test"});
}

TEST_CASE("MX, SRV and TXT records are typed") {
    testdns::Dnsmasq dns(test_records());
    auto loop = std::make_shared<rs::Loop>();
    auto resolver = rs::Resolver::create(loop, test_config(dns.nameserver()));

    auto mx = value_of(resolver->resolve_mx("mail.test"), loop);
    CHECK(std::set<std::pair<int, std::string>>{{mx.at(0).priority, mx.at(0).target},
                                                {mx.at(1).priority, mx.at(1).target}} ==
          std::set<std::pair<int, std::string>>{{10, "mx1.test"}, {20, "mx2.test"}});
    CHECK(mx.size() == 2);

    CHECK(value_of(resolver->resolve_srv("_sip._udp.test"), loop) ==
          std::vector<rs::SrvRecord>{{1, 2, 5060, "sip.test"}});
    CHECK(value_of(resolver->resolve_txt("txt.test"), loop) ==
          std::vector<rs::TxtRecord>{{{"v=spf1 -all", "second string"}}});

    auto nodata = failure_of(resolver->resolve_mx("www.test"), loop);
    CHECK(nodata.message ==
          "DNS query for www.test (MX) did not return a valid answer (NOERROR / NODATA)");

    CHECK_THROWS_AS(resolver->resolve_all("mail.test", rs::RecordType::MX), std::invalid_argument);
    CHECK_THROWS_AS(resolver->resolve_all("txt.test", rs::RecordType::TXT), std::invalid_argument);
    CHECK_THROWS_AS(resolver->resolve_all("_sip._udp.test", rs::RecordType::SRV),
                    std::invalid_argument);
}

TEST_CASE("NXDOMAIN and NODATA reject with ReactPHP's messages") {
    testdns::Dnsmasq dns(test_records());
    auto loop = std::make_shared<rs::Loop>();
    auto resolver = rs::Resolver::create(loop, test_config(dns.nameserver()));

    auto nx = failure_of(resolver->resolve("nonexistent.test"), loop);
    CHECK(nx.message ==
          "DNS query for nonexistent.test (A) returned an error response (Non-Existent Domain / "
          "NXDOMAIN)");
    CHECK(nx.code == std::errc::no_such_file_or_directory);

    auto nodata = failure_of(resolver->resolve_all("v4only.test", rs::RecordType::AAAA), loop);
    CHECK(nodata.message ==
          "DNS query for v4only.test (AAAA) did not return a valid answer (NOERROR / NODATA)");
    CHECK(nodata.code == std::errc::no_message_available);  // ENODATA

    auto cname_nodata = failure_of(resolver->resolve_all("www.test", rs::RecordType::CNAME), loop);
    CHECK(cname_nodata.message ==
          "DNS query for www.test (CNAME) did not return a valid answer (NOERROR / NODATA)");
}

TEST_CASE("a nameserver that refuses, and one whose port is closed") {
    testdns::Dnsmasq dns(test_records());  // no upstream: names outside .test are REFUSED
    auto loop = std::make_shared<rs::Loop>();
    auto resolver = rs::Resolver::create(loop, test_config(dns.nameserver()));
    auto refused = failure_of(resolver->resolve("other.example"), loop);
    CHECK(refused.message ==
          "DNS query for other.example (A) returned an error response (Refused)");
    CHECK(refused.code == std::errc::connection_refused);

    // Nothing listens on the port: ICMP port unreachable, seen at once.
    const std::uint16_t closed = testdns::free_udp_port();
    auto dead =
        rs::Resolver::create(loop, test_config("127.0.0.1:" + std::to_string(closed), 30, 1));
    const auto start = std::chrono::steady_clock::now();
    auto unreachable = failure_of(dead->resolve("www.test"), loop);
    CHECK(unreachable.message ==
          "DNS query for www.test (A) failed: Connection refused (ECONNREFUSED)");
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
}

TEST_CASE("a nameserver that never answers times out") {
    testdns::SilentNameserver silent;
    auto loop = std::make_shared<rs::Loop>();
    const int fds_before = open_fds();
    {
        auto resolver = rs::Resolver::create(loop, test_config(silent.nameserver(), 0.1, 1));
        auto timed_out = failure_of(resolver->resolve("www.test"), loop);
        CHECK(timed_out.message == "DNS query for www.test (A) timed out");
        CHECK(timed_out.code == std::errc::timed_out);
        CHECK(silent.received_query());
        CHECK(loop->timer_count() == 0);
        CHECK(run_time(loop) < 1.0);  // nothing left behind
    }
    CHECK(open_fds() == fds_before);
}

TEST_CASE("two attempts with c-ares' doubling: 0.1 s then 0.2 s") {
    testdns::SilentNameserver silent;
    auto loop = std::make_shared<rs::Loop>();
    auto resolver = rs::Resolver::create(loop, test_config(silent.nameserver(), 0.1, 2));
    const auto start = std::chrono::steady_clock::now();
    auto timed_out = failure_of(resolver->resolve("www.test"), loop);
    CHECK(timed_out.code == std::errc::timed_out);
    // Timers never fire early: at least both rounds have passed.
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(300));
}

TEST_CASE("cancel() stops the query: no socket, no timer, run() returns at once") {
    testdns::SilentNameserver silent;
    auto loop = std::make_shared<rs::Loop>();
    const int fds_before = open_fds();
    auto resolver = rs::Resolver::create(loop, test_config(silent.nameserver(), 30, 5));

    auto lookup = resolver->resolve("www.test");
    CHECK(lookup.is_pending());
    CHECK(loop->timer_count() == 1);      // c-ares' timeout
    CHECK(open_fds() == fds_before + 1);  // c-ares' UDP socket
    lookup.cancel();

    REQUIRE(lookup.is_rejected());
    auto failure = failure_of(lookup, loop);
    CHECK(failure.message == "DNS query for www.test (A) has been cancelled");
    CHECK(failure.code == std::errc::operation_canceled);
    CHECK(loop->timer_count() == 0);
    CHECK(open_fds() == fds_before);
    CHECK(run_time(loop) < 1.0);
    CHECK(silent.received_query());

    // The resolver is still usable afterwards.
    auto again = resolver->resolve("localhost");
    CHECK(settled_value(again) == "127.0.0.1");
}

TEST_CASE("cancelling one of two lookups leaves the other running") {
    testdns::SilentNameserver silent;
    auto loop = std::make_shared<rs::Loop>();
    const int fds_before = open_fds();
    auto resolver = rs::Resolver::create(loop, test_config(silent.nameserver(), 0.2, 1));

    auto first = resolver->resolve("first.test");
    auto second = resolver->resolve_all("second.test", rs::RecordType::AAAA);
    first.cancel();
    CHECK(first.is_rejected());
    CHECK(second.is_pending());
    CHECK(loop->timer_count() == 1);
    auto failure = failure_of(second, loop);  // it still times out normally
    CHECK(failure.message == "DNS query for second.test (AAAA) timed out");
    CHECK(loop->timer_count() == 0);
    CHECK(run_time(loop) < 1.0);
    CHECK(open_fds() == fds_before);

    // And against a live server: the survivor gets its answer.
    testdns::Dnsmasq dns(test_records());
    auto live = rs::Resolver::create(loop, test_config(dns.nameserver()));
    auto dropped = live->resolve("www.test");
    auto kept = live->resolve_all("www.test", rs::RecordType::AAAA);
    dropped.cancel();
    CHECK(value_of(kept, loop) == Strings{"2001:db8::10"});
    CHECK(dropped.is_rejected());
}

TEST_CASE("cancelling through a then() chain reaches the lookup") {
    testdns::SilentNameserver silent;
    auto loop = std::make_shared<rs::Loop>();
    auto resolver = rs::Resolver::create(loop, test_config(silent.nameserver(), 30, 1));
    bool ran = false;
    auto chained = resolver->resolve("www.test").then([&](const std::string&) { ran = true; });
    chained.cancel();
    CHECK(chained.is_rejected());
    CHECK(loop->timer_count() == 0);
    CHECK(run_time(loop) < 1.0);
    CHECK_FALSE(ran);
}

TEST_CASE("destroying the resolver rejects pending lookups and releases everything") {
    testdns::SilentNameserver silent;
    auto loop = std::make_shared<rs::Loop>();
    const int fds_before = open_fds();
    auto resolver = rs::Resolver::create(loop, test_config(silent.nameserver(), 30, 3));
    auto a = resolver->resolve("www.test");
    auto aaaa = resolver->resolve_all("www.test", rs::RecordType::AAAA);
    std::vector<std::string> order;
    a.otherwise([&](const std::system_error&) {
        order.push_back("A");
        return std::string();
    });
    aaaa.otherwise([&](const std::system_error&) {
        order.push_back("AAAA");
        return Strings{};
    });
    resolver.reset();

    CHECK(order == Strings{"A", "AAAA"});
    auto failure = failure_of(aaaa, loop);
    CHECK(failure.message ==
          "DNS query for www.test (AAAA) has been cancelled: the resolver was destroyed");
    CHECK(failure.code == std::errc::operation_canceled);
    CHECK(loop->timer_count() == 0);
    CHECK(open_fds() == fds_before);
    CHECK(run_time(loop) < 1.0);
}

TEST_CASE("a handler may destroy the resolver or start new lookups") {
    testdns::Dnsmasq dns(test_records());
    auto loop = std::make_shared<rs::Loop>();
    const int fds_before = open_fds();
    auto resolver = rs::Resolver::create(loop, test_config(dns.nameserver()));

    // A new lookup from inside a handler of the same resolver.
    std::string nested;
    auto outer = resolver->resolve("www.test").then([&](const std::string&) {
        return resolver->resolve("alias.test");
    });
    outer.then([&](const std::string& ip) { nested = ip; });
    settle(outer, loop);
    CHECK(nested == "192.0.2.10");

    // Destroying the resolver while c-ares delivers answers: the lookup still
    // waiting is rejected, nothing is touched after it is gone (ASan).
    auto doomed = rs::Resolver::create(loop, test_config(dns.nameserver(), 30, 1));
    auto answered = doomed->resolve("www.test");
    auto other = doomed->resolve_all("www.test", rs::RecordType::AAAA);
    int settled = 0;
    answered.then([&](const std::string&) {
        ++settled;
        doomed.reset();  // from inside the delivery of `answered`
    });
    other.then([&](const Strings&) { ++settled; }, [&](std::exception_ptr) { ++settled; });
    settle(answered, loop);
    settle(other, loop);
    CHECK(settled == 2);
    CHECK_FALSE(doomed);
    CHECK(run_time(loop) < 1.0);
    resolver.reset();
    CHECK(open_fds() == fds_before);
}

TEST_CASE("IP literals and localhost resolve without any query") {
    testdns::SilentNameserver silent;
    auto loop = std::make_shared<rs::Loop>();
    auto resolver = rs::Resolver::create(loop, test_config(silent.nameserver(), 30, 1));

    // Settled when returned: no loop turn, no query.
    CHECK(settled_value(resolver->resolve("127.0.0.1")) == "127.0.0.1");
    CHECK(settled_value(resolver->resolve("192.0.2.7")) == "192.0.2.7");
    CHECK(settled_value(resolver->resolve("::1")) == "::1");
    CHECK(settled_value(resolver->resolve("2001:db8::1")) == "2001:db8::1");
    CHECK(settled_value(resolver->resolve_all("10.1.2.3", rs::RecordType::A)) ==
          Strings{"10.1.2.3"});
    CHECK(settled_value(resolver->resolve_all("::1", rs::RecordType::AAAA)) == Strings{"::1"});
    auto mismatch = resolver->resolve_all("::1", rs::RecordType::A);
    REQUIRE(mismatch.is_rejected());
    CHECK(failure_of(mismatch, loop).message ==
          "DNS query for ::1 (A) did not return a valid answer (NOERROR / NODATA)");

    CHECK(settled_value(resolver->resolve("localhost")) == "127.0.0.1");
    CHECK(settled_value(resolver->resolve("LocalHost.")) == "127.0.0.1");
    CHECK(settled_value(resolver->resolve("app.localhost")) == "127.0.0.1");
    CHECK(settled_value(resolver->resolve_all("localhost", rs::RecordType::A)) ==
          Strings{"127.0.0.1"});
    CHECK(settled_value(resolver->resolve_all("localhost", rs::RecordType::AAAA)) ==
          Strings{"::1"});
    CHECK(settled_value(resolver->resolve_all("x.y.localhost", rs::RecordType::AAAA)) ==
          Strings{"::1"});
    auto mx = resolver->resolve_mx("localhost");
    REQUIRE(mx.is_rejected());
    CHECK(failure_of(mx, loop).message ==
          "DNS query for localhost (MX) did not return a valid answer (NOERROR / NODATA)");

    CHECK(loop->timer_count() == 0);
    CHECK(run_time(loop) < 1.0);
    CHECK_FALSE(silent.received_query());
}

TEST_CASE("the hosts file answers first, for the families it lists") {
    testdns::Dnsmasq dns(test_records());
    const std::string hosts =
        dns.write_file("hosts",
                       "# comment line\n"
                       "192.0.2.50   myhost.test   MyAlias  # trailing comment\n"
                       "192.0.2.51\tmyhost.test\n"
                       "fe80::1%lo   linklocal.test\n"
                       "10.9.9.9     localhost\n"
                       "not-an-ip    broken.test\n");
    auto loop = std::make_shared<rs::Loop>();
    auto config = test_config(dns.nameserver());
    config.hosts_file = hosts;
    auto resolver = rs::Resolver::create(loop, config);

    CHECK(settled_value(resolver->resolve_all("myhost.test", rs::RecordType::A)) ==
          Strings{"192.0.2.50", "192.0.2.51"});
    CHECK(settled_value(resolver->resolve_all("myalias", rs::RecordType::A)) ==
          Strings{"192.0.2.50"});
    CHECK(settled_value(resolver->resolve_all("MYHOST.TEST.", rs::RecordType::A)).size() == 2);
    CHECK(settled_value(resolver->resolve_all("linklocal.test", rs::RecordType::AAAA)) ==
          Strings{"fe80::1"});
    // RFC 6761 wins over the hosts file.
    CHECK(settled_value(resolver->resolve("localhost")) == "127.0.0.1");
    CHECK(dns.queries() == 0);

    // A family the file does not list goes to DNS (ReactPHP's behaviour).
    auto aaaa = failure_of(resolver->resolve_all("myhost.test", rs::RecordType::AAAA), loop);
    CHECK(aaaa.code == std::errc::no_such_file_or_directory);
    auto broken = failure_of(resolver->resolve("broken.test"), loop);
    CHECK(broken.code == std::errc::no_such_file_or_directory);
    CHECK(dns.queries() == 2);
}

TEST_CASE("the default system config resolves localhost without a query") {
    auto loop = std::make_shared<rs::Loop>();
    auto resolver = rs::Resolver::create(loop);
    CHECK(settled_value(resolver->resolve("localhost")) == "127.0.0.1");
    CHECK(settled_value(resolver->resolve_all("localhost", rs::RecordType::AAAA)) ==
          Strings{"::1"});
    CHECK(settled_value(resolver->resolve("127.0.0.1")) == "127.0.0.1");
    CHECK(loop->timer_count() == 0);
    CHECK(run_time(loop) < 1.0);

    auto cached = rs::Resolver::create_cached();  // the default loop
    CHECK(cached->loop() == rs::Loop::get());
    CHECK(settled_value(cached->resolve("localhost")) == "127.0.0.1");
}

TEST_CASE("a search list and ndots apply to names with few dots") {
    testdns::Dnsmasq dns(test_records());
    auto loop = std::make_shared<rs::Loop>();
    auto config = test_config(dns.nameserver());
    config.search = Strings{"test"};
    config.ndots = 1;
    auto resolver = rs::Resolver::create(loop, config);
    CHECK(value_of(resolver->resolve("www"), loop) == "192.0.2.10");
    CHECK(value_of(resolver->resolve_all("alias", rs::RecordType::AAAA), loop) ==
          Strings{"2001:db8::10"});
    auto nx = failure_of(resolver->resolve("missing"), loop);
    CHECK(nx.message ==
          "DNS query for missing (A) returned an error response (Non-Existent Domain / NXDOMAIN)");
}

TEST_CASE("search and ndots from a resolv.conf of our own") {
    testdns::Dnsmasq dns(test_records());
    // (c-ares takes no port from resolv.conf, so the nameserver is given here.)
    const std::string resolv_conf = dns.write_file(
        "resolv.conf", "nameserver 127.0.0.1\nsearch nothing.invalid test\noptions ndots:2\n");
    auto loop = std::make_shared<rs::Loop>();
    rs::Resolver::Config config;
    config.nameservers = {dns.nameserver()};
    config.resolv_conf = resolv_conf;
    config.hosts_file = "";
    config.attempts = 1;
    auto resolver = rs::Resolver::create(loop, config);
    CHECK(value_of(resolver->resolve("www"), loop) == "192.0.2.10");
    // One dot < ndots 2: the search list is tried first.
    CHECK(value_of(resolver->resolve_all("www.test", rs::RecordType::AAAA), loop) ==
          Strings{"2001:db8::10"});
    CHECK(dns.log().find("www.test.nothing.invalid") != std::string::npos);
}

TEST_CASE("tcp:// and IPv6 nameservers") {
    testdns::Dnsmasq dns(test_records());
    auto loop = std::make_shared<rs::Loop>();
    auto tcp = rs::Resolver::create(loop, test_config("tcp://" + dns.nameserver()));
    CHECK(value_of(tcp->resolve("www.test"), loop) == "192.0.2.10");
    CHECK(value_of(tcp->resolve_txt("txt.test"), loop).size() == 1);
    CHECK(run_time(loop) < 1.0);

    // ::1 exists when the loopback interface has IPv6.
    const int probe = ::socket(AF_INET6, SOCK_DGRAM, 0);
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    address.sin6_addr = in6addr_loopback;
    const bool have_v6 =
        probe >= 0 && ::bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    if (probe >= 0)
        ::close(probe);
    if (!have_v6) {
        MESSAGE("no ::1 here: IPv6 nameserver not tested");
        return;
    }
    auto records = test_records();
    records.push_back("--listen-address=::1");
    testdns::Dnsmasq dual(records);
    auto v6 = rs::Resolver::create(loop, test_config("[::1]:" + std::to_string(dual.port())));
    CHECK(value_of(v6->resolve("www.test"), loop) == "192.0.2.10");
}

TEST_CASE("the cache serves answers for their TTL, even with the server gone") {
    auto loop = std::make_shared<rs::Loop>();
    auto dns = std::make_unique<testdns::Dnsmasq>(test_records());
    const std::string nameserver = dns->nameserver();
    auto resolver = rs::Resolver::create_cached(loop, test_config(nameserver, 5, 1));

    CHECK(value_of(resolver->resolve("www.test"), loop) == "192.0.2.10");  // TTL 300
    CHECK(value_of(resolver->resolve_all("alias.test", rs::RecordType::A), loop) ==
          Strings{"192.0.2.10"});
    CHECK(dns->queries() == 2);
    dns.reset();  // stopped: a query now fails (port closed)

    CHECK(settled_value(resolver->resolve("www.test")) == "192.0.2.10");
    CHECK(settled_value(resolver->resolve_all("WWW.TEST", rs::RecordType::A)) ==
          Strings{"192.0.2.10"});
    CHECK(settled_value(resolver->resolve_all("alias.test", rs::RecordType::A)) ==
          Strings{"192.0.2.10"});
    // Another type is another entry.
    auto aaaa = resolver->resolve_all("www.test", rs::RecordType::AAAA);
    CHECK(aaaa.is_pending());
    CHECK(failure_of(aaaa, loop).code == std::errc::connection_refused);

    // An uncached resolver asks every time.
    testdns::Dnsmasq counting(test_records());
    auto plain = rs::Resolver::create(loop, test_config(counting.nameserver()));
    value_of(plain->resolve("www.test"), loop);
    value_of(plain->resolve("www.test"), loop);
    CHECK(counting.queries() == 2);
}

TEST_CASE("cached answers expire with their TTL") {
    auto loop = std::make_shared<rs::Loop>();
    auto dns = std::make_unique<testdns::Dnsmasq>(test_records());  // short.test: TTL 1
    const std::uint16_t port = dns->port();
    auto resolver = rs::Resolver::create_cached(loop, test_config(dns->nameserver()));
    CHECK(value_of(resolver->resolve("short.test"), loop) == "192.0.2.20");

    // Same port, new address.
    dns.reset();
    dns = std::make_unique<testdns::Dnsmasq>(
        std::vector<std::string>{"--local=/test/", "--host-record=short.test,192.0.2.21,1"}, port);
    CHECK(settled_value(resolver->resolve("short.test")) == "192.0.2.20");  // still cached

    // The answer arrived before this point, so 1.2 s from now is past its TTL.
    value_of(rs::sleep(1.2, loop), loop);
    auto fresh = resolver->resolve("short.test");
    CHECK(fresh.is_pending());
    CHECK(value_of(fresh, loop) == "192.0.2.21");
}

TEST_CASE("the cache is bounded and evicts the least recently used answer") {
    auto loop = std::make_shared<rs::Loop>();
    auto dns = std::make_unique<testdns::Dnsmasq>(test_records());
    auto resolver = rs::Resolver::create_cached(loop, test_config(dns->nameserver(), 5, 1), 2);
    value_of(resolver->resolve("a.test"), loop);
    value_of(resolver->resolve("b.test"), loop);
    CHECK(settled_value(resolver->resolve("a.test")) == "192.0.2.31");  // a is now the most recent
    value_of(resolver->resolve("c.test"), loop);                        // evicts b
    dns.reset();

    CHECK(settled_value(resolver->resolve("a.test")) == "192.0.2.31");
    CHECK(settled_value(resolver->resolve("c.test")) == "192.0.2.33");
    auto evicted = resolver->resolve("b.test");
    CHECK(evicted.is_pending());
    CHECK(failure_of(evicted, loop).code == std::errc::connection_refused);

    CHECK_THROWS_AS(rs::Resolver::create_cached(loop, test_config("127.0.0.1"), 0),
                    std::invalid_argument);
}

TEST_CASE("invalid names reject with std::invalid_argument") {
    testdns::SilentNameserver silent;
    auto loop = std::make_shared<rs::Loop>();
    auto resolver = rs::Resolver::create(loop, test_config(silent.nameserver(), 30, 1));
    for (const std::string& name :
         Strings{"", "a..b", ".", "with space.test", std::string(64, 'x') + ".test",
                 std::string("nul\0byte", 8)}) {
        auto lookup = resolver->resolve(name);
        REQUIRE(lookup.is_rejected());
        auto failure = failure_of(lookup, loop);
        CHECK(failure.invalid_argument);
        if (name.find('\0') == std::string::npos) {
            CHECK(failure.message == "DNS query for " + name + " (A) failed: Invalid domain name");
        }
    }
    CHECK(settled_value(resolver->resolve_all("localhost.", rs::RecordType::A)) ==
          Strings{"127.0.0.1"});
    CHECK_FALSE(silent.received_query());
}

TEST_CASE("nameserver strings") {
    auto loop = std::make_shared<rs::Loop>();
    auto with = [&](const std::string& nameserver) {
        return rs::Resolver::create(loop, test_config(nameserver));
    };
    for (const char* valid : {"127.0.0.1", "127.0.0.1:5353", "::1", "[::1]", "[::1]:5353",
                              "udp://127.0.0.1:53", "tcp://[::1]:53", "2001:db8::1"}) {
        CAPTURE(valid);
        CHECK_NOTHROW(with(valid));
    }
    for (const char* invalid :
         {"", "localhost", "example.com", "example.com:53", "1.2.3", "1.2.3.4:", "1.2.3.4:0",
          "1.2.3.4:65536", "1.2.3.4:53x", "[::1", "[::1]:", "[::1]53", "[127.0.0.1]:53",
          "http://1.2.3.4", "udp://", " 1.2.3.4", "fe80::1%eth0"}) {
        CAPTURE(invalid);
        CHECK_THROWS_WITH_AS(with(invalid), "Invalid nameserver address given",
                             std::invalid_argument);
    }
    rs::Resolver::Config mixed = test_config("tcp://127.0.0.1");
    mixed.nameservers.push_back("127.0.0.2");
    CHECK_THROWS_AS(rs::Resolver::create(loop, mixed), std::invalid_argument);

    rs::Resolver::Config bad = test_config("127.0.0.1");
    bad.timeout = 0;
    CHECK_THROWS_AS(rs::Resolver::create(loop, bad), std::invalid_argument);
    bad.timeout = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(rs::Resolver::create(loop, bad), std::invalid_argument);
    bad = test_config("127.0.0.1");
    bad.attempts = 0;
    CHECK_THROWS_AS(rs::Resolver::create(loop, bad), std::invalid_argument);
    bad = test_config("127.0.0.1");
    bad.ndots = -1;
    CHECK_THROWS_AS(rs::Resolver::create(loop, bad), std::invalid_argument);
    bad = test_config("127.0.0.1");
    bad.search = Strings{""};
    CHECK_THROWS_AS(rs::Resolver::create(loop, bad), std::invalid_argument);
}

TEST_CASE("Config from JSON") {
    using nlohmann::json;
    auto config =
        rs::Resolver::Config::from_json(json{{"nameservers", {"127.0.0.1:5353", "[::1]:5353"}},
                                             {"search", {"example"}},
                                             {"ndots", 2},
                                             {"timeout", 0.5},
                                             {"attempts", 3},
                                             {"resolv_conf", ""},
                                             {"hosts_file", "/nonexistent/hosts"}});
    CHECK(config.nameservers == Strings{"127.0.0.1:5353", "[::1]:5353"});
    CHECK(config.search == Strings{"example"});
    CHECK(config.ndots == 2);
    CHECK(config.timeout == 0.5);
    CHECK(config.attempts == 3);
    CHECK(config.resolv_conf.empty());
    CHECK(config.hosts_file == "/nonexistent/hosts");

    CHECK(rs::Resolver::Config::from_json("127.0.0.1").nameservers == Strings{"127.0.0.1"});
    CHECK(json{{"nameservers", "::1"}}.get<rs::Resolver::Config>().nameservers == Strings{"::1"});
    CHECK(rs::Resolver::Config::from_json(nullptr).hosts_file == "/etc/hosts");

    CHECK_THROWS_WITH_AS(
        rs::Resolver::Config::from_json(json{{"timeout", 1.0}, {"nameserver", "1.2.3.4"}}),
        "Unknown DNS config option \"nameserver\"", std::invalid_argument);
    CHECK_THROWS_WITH_AS(rs::Resolver::Config::from_json(json{{"timeout", "fast"}}),
                         doctest::Contains("\"timeout\""), std::invalid_argument);
    CHECK_THROWS_WITH_AS(rs::Resolver::Config::from_json(json{{"attempts", 1.5}}),
                         doctest::Contains("\"attempts\""), std::invalid_argument);
    CHECK_THROWS_WITH_AS(rs::Resolver::Config::from_json(json{{"nameservers", {1, 2}}}),
                         doctest::Contains("\"nameservers\""), std::invalid_argument);
    CHECK_THROWS_AS(rs::Resolver::Config::from_json(json(42)), std::invalid_argument);

    // Straight into create(): a JSON literal is never mistaken for a Config.
    testdns::Dnsmasq dns(test_records());
    auto loop = std::make_shared<rs::Loop>();
    auto resolver = rs::Resolver::create(
        loop, {{"nameservers", {dns.nameserver()}}, {"resolv_conf", ""}, {"hosts_file", ""}});
    CHECK(value_of(resolver->resolve("www.test"), loop) == "192.0.2.10");
    auto cached = rs::Resolver::create_cached(loop, {{"nameservers", dns.nameserver()}}, 8);
    CHECK(value_of(cached->resolve("www.test"), loop) == "192.0.2.10");
    CHECK_THROWS_WITH_AS(rs::Resolver::create(loop, {{"nameservers", {"localhost"}}}),
                         "Invalid nameserver address given", std::invalid_argument);
    CHECK_THROWS_WITH_AS(rs::Resolver::create(loop, {{"bogus", true}}),
                         "Unknown DNS config option \"bogus\"", std::invalid_argument);
}

TEST_CASE("to_string(RecordType)") {
    CHECK(rs::to_string(rs::RecordType::A) == "A");
    CHECK(rs::to_string(rs::RecordType::AAAA) == "AAAA");
    CHECK(rs::to_string(rs::RecordType::CNAME) == "CNAME");
    CHECK(rs::to_string(rs::RecordType::MX) == "MX");
    CHECK(rs::to_string(rs::RecordType::TXT) == "TXT");
    CHECK(rs::to_string(rs::RecordType::SRV) == "SRV");
}

TEST_CASE("error rcodes and malformed replies from a scripted nameserver") {
    auto loop = std::make_shared<rs::Loop>();
    int rcode = 0;
    std::vector<unsigned char> answers;
    int count = 0;
    ScriptedNameserver server(loop->context(), [&](const std::vector<unsigned char>& query) {
        return make_reply(query, rcode, answers, count);
    });
    auto resolver = rs::Resolver::create(loop, test_config(server.nameserver(), 5, 1));
    auto failure = [&](int code) {
        rcode = code;
        return failure_of(resolver->resolve("scripted.test"), loop);
    };

    auto servfail = failure(2);
    CHECK(servfail.message ==
          "DNS query for scripted.test (A) returned an error response (Server Failure)");
    CHECK(servfail.code == std::errc::resource_unavailable_try_again);
    auto formerr = failure(1);
    CHECK(formerr.message ==
          "DNS query for scripted.test (A) returned an error response (Format Error)");
    CHECK(formerr.code == std::errc::protocol_error);
    auto notimp = failure(4);
    CHECK(notimp.message ==
          "DNS query for scripted.test (A) returned an error response (Not Implemented)");
    CHECK(notimp.code == std::errc::operation_not_supported);
    auto nx = failure(3);
    CHECK(nx.code == std::errc::no_such_file_or_directory);

    // An A record whose data is 3 bytes long.
    answers = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 3, 192, 0, 2};
    count = 1;
    auto malformed = failure(0);
    CHECK(malformed.message ==
          "DNS query for scripted.test (A) failed: Invalid response message received from DNS "
          "server");
    CHECK(malformed.code == std::errc::bad_message);

    // A well-formed answer with two records and a TTL of 60.
    answers = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1,
               0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 2};
    count = 2;
    rcode = 0;
    CHECK(value_of(resolver->resolve_all("scripted.test", rs::RecordType::A), loop) ==
          Strings{"192.0.2.1", "192.0.2.2"});
    // An answer of another type only: NODATA.
    CHECK(failure_of(resolver->resolve_all("scripted.test", rs::RecordType::AAAA), loop).code ==
          std::errc::no_message_available);
    server.close();
}

TEST_CASE("nameservers are tried in order; only transport failures move on") {
    testdns::Dnsmasq dns(test_records());
    testdns::SilentNameserver silent;
    const std::uint16_t closed = testdns::free_udp_port();
    auto loop = std::make_shared<rs::Loop>();

    // Unreachable first: the next one answers at once.
    auto config = test_config("127.0.0.1:" + std::to_string(closed), 30, 1);
    config.nameservers.push_back(dns.nameserver());
    auto after_dead = rs::Resolver::create(loop, config);
    CHECK(value_of(after_dead->resolve("www.test"), loop) == "192.0.2.10");

    // Silent first: the next one answers after its timeout.
    config = test_config(silent.nameserver(), 0.1, 1);
    config.nameservers.push_back(dns.nameserver());
    auto after_silent = rs::Resolver::create(loop, config);
    CHECK(value_of(after_silent->resolve("www.test"), loop) == "192.0.2.10");
    CHECK(silent.received_query());

    // An error answer is final, as in ReactPHP: the second server is not asked.
    ScriptedNameserver servfail(loop->context(), [](const std::vector<unsigned char>& query) {
        return make_reply(query, 2);
    });
    config = test_config(servfail.nameserver(), 30, 2);
    config.nameservers.push_back(dns.nameserver());
    auto after_error = rs::Resolver::create(loop, config);
    const int asked = dns.queries();
    CHECK(failure_of(after_error->resolve("www.test"), loop).message ==
          "DNS query for www.test (A) returned an error response (Server Failure)");
    CHECK(servfail.queries() == 1);
    CHECK(dns.queries() == asked);
    servfail.close();
}
