// reactsock/dns/resolver.hpp — asynchronous DNS lookups on the loop (c-ares).
//
//     auto resolver = rs::Resolver::create(loop);               // the system's config
//     resolver->resolve("localhost").then([](const std::string& ip) { ... });   // "127.0.0.1"
//     resolver->resolve_all("example.com", rs::RecordType::AAAA)
//         .then([](const std::vector<std::string>& ips) { ... })
//         .otherwise([](const std::system_error& e) { std::puts(e.what()); return ...; });
//
// ReactPHP's react/dns `ResolverInterface` (resolve, resolveAll) and
// `Factory::create` / `createCached`, on c-ares driven by the reactsock loop
// itself: c-ares' sockets are watched by the loop's io_context and its
// timeouts run on one loop timer. No thread, no blocking getaddrinfo().
//
// Where an answer comes from, in this order (the first that applies wins):
//   1. an IP literal resolves to itself;
//   2. `localhost` and `*.localhost` resolve to 127.0.0.1 (A) and ::1 (AAAA)
//      (RFC 6761), whatever the hosts file says; other types: NODATA;
//   3. the hosts file (Config::hosts_file, read once by create()) answers A
//      and AAAA for the names it lists, if it has an address of that family;
//   4. the cache (create_cached() only);
//   5. a DNS query through c-ares: the search list and ndots apply. The
//      nameservers are asked in order, for `attempts` rounds: the next one
//      when one times out or cannot be reached. An error answer (NXDOMAIN,
//      SERVFAIL, REFUSED, ...) is final, as in ReactPHP.
// Steps 1–4 send no packet, and their promise is settled when returned.
//
// Errors: every rejection is a reactsock::Error (code() is the errno
// condition) unless said otherwise; the text is ReactPHP's. `<q>` is
// "<name> (<TYPE>)", e.g. "example.com (AAAA)".
//   NXDOMAIN          ENOENT        DNS query for <q> returned an error response
//                                   (Non-Existent Domain / NXDOMAIN)
//   NODATA            ENODATA       DNS query for <q> did not return a valid answer
//                                   (NOERROR / NODATA)
//   SERVFAIL          EAGAIN        ... returned an error response (Server Failure)
//   FORMERR           EPROTO        ... returned an error response (Format Error)
//   NOTIMP            EOPNOTSUPP    ... returned an error response (Not Implemented)
//   REFUSED           ECONNREFUSED  ... returned an error response (Refused)
//   no reply          ETIMEDOUT     DNS query for <q> timed out
//   no server reachable (ICMP port unreachable, TCP connection refused)
//                     ECONNREFUSED  DNS query for <q> failed: Connection refused (ECONNREFUSED)
//   malformed reply   EBADMSG       DNS query for <q> failed: Invalid response message
//                                   received from DNS server
//   cancel()          ECANCELED     DNS query for <q> has been cancelled
//   resolver destroyed while the lookup is pending
//                     ECANCELED     DNS query for <q> has been cancelled: the resolver
//                                   was destroyed
//   invalid name (empty, an empty label, a label over 63 or a name over 253
//   characters, whitespace or control characters): std::invalid_argument
//                                   DNS query for <q> failed: Invalid domain name
//
// Threads: a Resolver belongs to the thread that runs its loop; call it only
// there. Its promises settle on that thread, inside Loop::run().
#pragma once

#include <reactsock/loop/loop.hpp>
#include <reactsock/promise/promise.hpp>

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reactsock {

/// DNS record types the resolver can ask for (values are the wire codes).
enum class RecordType : std::uint16_t {
    A = 1,
    CNAME = 5,
    MX = 15,
    TXT = 16,
    AAAA = 28,
    SRV = 33,
};

/// "A", "AAAA", "CNAME", "MX", "TXT", "SRV" (as in the error messages).
[[nodiscard]] std::string_view to_string(RecordType type) noexcept;

/// One MX record (ReactPHP: ['priority' => ..., 'target' => ...]).
struct MxRecord {
    std::uint16_t priority = 0;
    std::string target{};
    bool operator==(const MxRecord&) const = default;
};

/// One SRV record (ReactPHP: priority, weight, port, target).
struct SrvRecord {
    std::uint16_t priority = 0;
    std::uint16_t weight = 0;
    std::uint16_t port = 0;
    std::string target{};
    bool operator==(const SrvRecord&) const = default;
};

/// One TXT record: its character-strings, in order (ReactPHP: a list of strings).
struct TxtRecord {
    std::vector<std::string> strings{};
    bool operator==(const TxtRecord&) const = default;
};

class Resolver {
    struct Passkey {};

public:
    /// How to resolve. The defaults are the system's: nameservers, search list
    /// and ndots from /etc/resolv.conf, names from /etc/hosts first. (ReactPHP's
    /// Connector falls back to 8.8.8.8; reactsock never sends a query anywhere
    /// the system does not.) With no nameserver configured anywhere, c-ares
    /// (like glibc) asks 127.0.0.1:53.
    ///
    /// Also converts from JSON: an object with the keys below (an unknown key is
    /// std::invalid_argument naming it), a string (one nameserver) or null
    /// (the defaults).
    struct Config {
        // (timeout and attempts come first so that a JSON object literal such as
        // {{"nameservers", {"127.0.0.1"}}} can never also initialise a Config.)
        /// Seconds to wait for the first reply of a nameserver (> 0). c-ares
        /// doubles it each round, so with the defaults a silent nameserver is
        /// given up after 5 + 10 = 15 s, ReactPHP's total (3 × 5 s).
        double timeout = 5.0;
        /// Rounds over all nameservers before giving up (>= 1).
        int attempts = 2;
        /// "IP", "IP:port", "[IPv6]" or "[IPv6]:port", optionally prefixed with
        /// "udp://" (the default: UDP, TCP when a reply is truncated) or
        /// "tcp://" (TCP only; then all of them must be tcp://). Tried in
        /// order (see step 5 at the top). Empty: those of `resolv_conf`. Anything else (host names
        /// included) makes create() throw std::invalid_argument
        /// "Invalid nameserver address given".
        std::vector<std::string> nameservers{};
        /// Domains appended to names with fewer than `ndots` dots (resolv.conf
        /// `search`). nullopt: those of `resolv_conf`; an empty list: none.
        std::optional<std::vector<std::string>> search{};
        /// resolv.conf `options ndots:`; nullopt: that of `resolv_conf` (1 if unset).
        std::optional<int> ndots{};
        /// resolv.conf to read nameservers, search and ndots from (c-ares reads
        /// it in create(); a missing file counts as empty). Empty: none.
        std::string resolv_conf = "/etc/resolv.conf";
        /// hosts file consulted before DNS for A and AAAA (read in create();
        /// missing or unreadable: ignored). Empty: none.
        std::string hosts_file = "/etc/hosts";

        /// The JSON form described above; throws std::invalid_argument naming
        /// the offending key for an unknown key or a value of the wrong type.
        static Config from_json(const nlohmann::json& json);
    };

    /// A resolver on `loop` (default: Loop::get()). Reads `config.resolv_conf`
    /// and `config.hosts_file` now (small blocking reads, as ReactPHP's
    /// Factory does). Throws std::invalid_argument for an invalid config
    /// ("Invalid nameserver address given", a timeout that is not a positive
    /// number, attempts < 1, ndots < 0, an empty search domain, and for JSON
    /// an unknown key or a value of the wrong type).
    /// (Write `create(loop)` for the defaults: `create(loop, {})` is ambiguous
    /// between Config and JSON.)
    static std::shared_ptr<Resolver> create(std::shared_ptr<Loop> loop = nullptr);
    static std::shared_ptr<Resolver> create(std::shared_ptr<Loop> loop, const Config& config);
    static std::shared_ptr<Resolver> create(std::shared_ptr<Loop> loop,
                                            const nlohmann::json& config);

    /// As create(), plus a cache of up to `cache_size` (>= 1, else
    /// std::invalid_argument; ReactPHP's default 256) answers, the least
    /// recently used evicted first. An answer is kept for the smallest TTL
    /// among its records (the CNAMEs followed included); answers with TTL 0
    /// and failures are not cached.
    static std::shared_ptr<Resolver> create_cached(std::shared_ptr<Loop> loop = nullptr);
    static std::shared_ptr<Resolver> create_cached(std::shared_ptr<Loop> loop, const Config& config,
                                                   std::size_t cache_size = 256);
    static std::shared_ptr<Resolver> create_cached(std::shared_ptr<Loop> loop,
                                                   const nlohmann::json& config,
                                                   std::size_t cache_size = 256);

    /// Use create(); the key keeps this constructor to the class.
    Resolver(Passkey, std::shared_ptr<Loop> loop, const Config& config, std::size_t cache_size);

    /// Rejects every pending lookup with ECANCELED ("... has been cancelled:
    /// the resolver was destroyed"), stops their queries and releases every
    /// socket and timer at once. Lookups do not keep their resolver alive:
    /// hold the shared_ptr for as long as you wait for answers.
    ~Resolver();
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;

    /// One IPv4 address of `host`: an A lookup, as ReactPHP's resolve().
    ///  * Resolves with one of the addresses, picked at random as ReactPHP
    ///    does (round-robin records then spread load even from the cache).
    ///    An IP literal of either family resolves to itself.
    ///  * Rejects as listed at the top of this header.
    ///  * When: before this call returns if no query is needed (steps 1–4 at
    ///    the top) or the name is invalid; otherwise later, inside Loop::run().
    ///  * cancel(): stops waiting for the query and rejects with ECANCELED.
    ///    Once no other lookup of this resolver is waiting, every socket and
    ///    the timer are released at once: nothing keeps run() going.
    ///  * Threads: the loop's thread only. `host` is copied; values are copies.
    Promise<std::string> resolve(const std::string& host);

    /// Every value of `type` for `host`: addresses for A and AAAA (in the
    /// order of the answer), target names for CNAME. CNAME chains in the
    /// answer are followed, as in ReactPHP's resolveAll(). MX, TXT and SRV
    /// have typed results: use resolve_mx(), resolve_txt(), resolve_srv()
    /// (passing them here throws std::invalid_argument). An IP literal
    /// resolves to itself for its own family and is NODATA for the other.
    /// Rejects, settles and cancels as resolve().
    Promise<std::vector<std::string>> resolve_all(const std::string& host, RecordType type);

    /// The MX records of `host`, in the order of the answer (not sorted).
    /// These three reject, settle and cancel as resolve(); `localhost` and IP
    /// literals are NODATA for them.
    Promise<std::vector<MxRecord>> resolve_mx(const std::string& host);
    /// The TXT records of `host`.
    Promise<std::vector<TxtRecord>> resolve_txt(const std::string& host);
    /// The SRV records of `host` (e.g. "_sip._udp.example.com").
    Promise<std::vector<SrvRecord>> resolve_srv(const std::string& host);

    /// The loop this resolver runs on.
    [[nodiscard]] std::shared_ptr<Loop> loop() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

/// nlohmann::json hook: `json.get<Resolver::Config>()` (see Config::from_json).
void from_json(const nlohmann::json& json, Resolver::Config& config);

}  // namespace reactsock
