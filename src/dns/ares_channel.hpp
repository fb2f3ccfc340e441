// src/dns/ares_channel.hpp — private: one c-ares channel driven by a reactsock Loop.
//
// The narrow interface between the resolver and c-ares: no c-ares type
// appears here. c-ares reports the sockets it wants watched through its
// socket-state callback; each is watched with an asio stream_descriptor
// (async_wait, released without closing: the fd stays c-ares'), and
// ares_timeout() is mirrored by one loop timer.
//
// Invariants that keep c-ares and user code apart:
//  * No callback given to search() runs inside a c-ares call. c-ares'
//    own callbacks only queue outcomes; they are delivered once c-ares has
//    returned, so a callback may start or abandon queries or close the channel.
//  * A query the caller abandoned never reports. When no query that the
//    caller still waits for is left, the abandoned ones are cancelled in
//    c-ares at once (ares_cancel), so no socket and no timer stay behind.
#pragma once

#include <reactsock/dns/resolver.hpp>
#include <reactsock/loop/loop.hpp>

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace reactsock::detail {

/// A parsed nameserver address.
struct Nameserver {
    int family = 0;                           // AF_INET or AF_INET6
    std::array<unsigned char, 16> address{};  // network order; 4 bytes used for AF_INET
    std::uint16_t port = 53;
    bool tcp = false;  // "tcp://"
};

/// Parses "IP", "IP:port", "[IPv6]", "[IPv6]:port", with an optional udp:// or
/// tcp:// prefix; nullopt if it is not one of those.
std::optional<Nameserver> parse_nameserver(std::string_view text);

struct AresChannelOptions {
    std::vector<Nameserver> nameservers;  // empty: resolv_conf's
    bool tcp_only = false;
    std::optional<std::vector<std::string>> search;
    std::optional<int> ndots;
    int timeout_ms = 5000;
    int tries = 2;
    std::string resolv_conf;  // empty: none
};

enum class QueryStatus {
    success,  // the reply is in `answer`
    nodata,   // NOERROR, no answer records (`answer` may be empty)
    nxdomain,
    format_error,
    server_failure,
    not_implemented,
    refused,
    timeout,
    connection_refused,  // no nameserver could be reached
    bad_response,
    bad_name,
    no_memory,
    other,
};

/// `answer` is the raw DNS reply (when c-ares passed one on); `detail` is
/// c-ares' own text for the status.
using QueryCallback = std::function<void(
    QueryStatus status, const std::vector<unsigned char>& answer, const std::string& detail)>;

class AresChannel : public std::enable_shared_from_this<AresChannel> {
    struct Passkey {};

public:
    /// Throws reactsock::Error if c-ares cannot be initialised.
    static std::shared_ptr<AresChannel> create(std::shared_ptr<Loop> loop,
                                               const AresChannelOptions& options);
    AresChannel(Passkey, std::shared_ptr<Loop> loop);
    ~AresChannel();
    AresChannel(const AresChannel&) = delete;
    AresChannel& operator=(const AresChannel&) = delete;

    /// Starts ares_search(name, class IN, type). `callback` runs exactly once,
    /// unless the query is abandoned or the channel closed first. It may run
    /// before search() returns if c-ares fails the query at once (and no
    /// delivery is already in progress further up the stack).
    std::uint64_t search(const std::string& name, RecordType type, QueryCallback callback);

    /// The caller no longer wants query `id`: its callback will not run.
    void abandon(std::uint64_t id);

    /// Stops everything: no callback runs any more, sockets and the timer are
    /// released, the c-ares channel is destroyed. Idempotent.
    void close();

private:
    struct Watch;
    struct QueryContext;

    void init(const AresChannelOptions& options);
    static void on_socket_state(void* data, int fd, int readable, int writable);
    static void on_query_done(void* arg, int status, int timeouts, unsigned char* abuf, int alen);
    void socket_state(int fd, bool readable, bool writable);
    void arm(int fd, const std::shared_ptr<Watch>& watch);
    void on_ready(int fd, const std::shared_ptr<Watch>& watch, bool readable);
    void process(int read_fd, int write_fd);
    void deliver();
    void settle_abandoned();
    void update_timer();
    void release_all_watches();

    std::shared_ptr<Loop> loop_;
    void* channel_ = nullptr;  // ares_channel
    bool closed_ = false;
    bool delivering_ = false;
    std::uint64_t next_id_ = 1;
    int outstanding_ = 0;  // c-ares queries whose callback has not run yet

    std::unordered_map<std::uint64_t, QueryCallback> waiting_;  // not abandoned, not delivered
    struct Completed {
        std::uint64_t id;
        QueryStatus status;
        std::vector<unsigned char> answer;
        std::string detail;
    };
    std::deque<Completed> completed_;
    std::unordered_map<int, std::shared_ptr<Watch>> watches_;
    TimerHandle timer_;
};

}  // namespace reactsock::detail
