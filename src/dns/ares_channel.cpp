#include "dns/ares_channel.hpp"

#include "address.hpp"

#include <reactsock/error.hpp>

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <type_traits>
#include <utility>

namespace reactsock::detail {

static_assert(std::is_same_v<ares_socket_t, int>, "c-ares sockets are file descriptors here");

namespace {

void init_library_once() {
    // ares_library_init() is reference counted but not thread-safe; on Linux it
    // allocates nothing, so it is done once per process and never undone.
    static std::once_flag once;
    std::call_once(once, [] {
        const int status = ares_library_init(ARES_LIB_INIT_ALL);
        if (status != ARES_SUCCESS) {
            throw Error(ENOMEM,
                        std::string("Unable to initialise c-ares: ") + ares_strerror(status));
        }
    });
}

QueryStatus map_status(int status) {
    switch (status) {
        case ARES_SUCCESS:
            return QueryStatus::success;
        case ARES_ENODATA:
            return QueryStatus::nodata;
        case ARES_ENOTFOUND:
            return QueryStatus::nxdomain;
        case ARES_EFORMERR:
            return QueryStatus::format_error;
        case ARES_ESERVFAIL:
            return QueryStatus::server_failure;
        case ARES_ENOTIMP:
            return QueryStatus::not_implemented;
        case ARES_EREFUSED:
            return QueryStatus::refused;
        case ARES_ETIMEOUT:
            return QueryStatus::timeout;
        case ARES_ECONNREFUSED:
            return QueryStatus::connection_refused;
        case ARES_EBADRESP:
            return QueryStatus::bad_response;
        case ARES_EBADNAME:
            return QueryStatus::bad_name;
        case ARES_ENOMEM:
            return QueryStatus::no_memory;
        default:
            return QueryStatus::other;
    }
}

}  // namespace

std::optional<Nameserver> parse_nameserver(std::string_view text) {
    Nameserver server;
    if (text.starts_with("udp://")) {
        text.remove_prefix(6);
    } else if (text.starts_with("tcp://")) {
        text.remove_prefix(6);
        server.tcp = true;
    }
    const auto host_port = split_host_port(text);
    if (!host_port)
        return std::nullopt;
    const auto ip = parse_ip(host_port->host, ScopeId::rejected);
    if (!ip || (host_port->bracketed && !ip->is_v6()) || host_port->port == 0)
        return std::nullopt;
    if (ip->is_v4()) {
        const auto bytes = ip->to_v4().to_bytes();
        std::copy(bytes.begin(), bytes.end(), server.address.begin());
        server.family = AF_INET;
    } else {
        const auto bytes = ip->to_v6().to_bytes();
        std::copy(bytes.begin(), bytes.end(), server.address.begin());
        server.family = AF_INET6;
    }
    server.port = host_port->port.value_or(53);
    return server;
}

struct AresChannel::Watch {
    explicit Watch(asio::io_context& io, int fd) : descriptor(io, fd) {}
    asio::posix::stream_descriptor descriptor;
    bool want_read = false;
    bool want_write = false;
    bool waiting_read = false;
    bool waiting_write = false;
};

// Handed to c-ares as the `arg` of one query; freed by on_query_done, which
// c-ares calls exactly once for every query (also on ares_cancel/ares_destroy).
struct AresChannel::QueryContext {
    AresChannel* channel;
    std::uint64_t id;
};

std::shared_ptr<AresChannel> AresChannel::create(std::shared_ptr<Loop> loop,
                                                 const AresChannelOptions& options) {
    init_library_once();
    auto channel = std::make_shared<AresChannel>(Passkey{}, std::move(loop));
    channel->init(options);
    return channel;
}

AresChannel::AresChannel(Passkey, std::shared_ptr<Loop> loop) : loop_(std::move(loop)) {}

AresChannel::~AresChannel() {
    close();
}

void AresChannel::init(const AresChannelOptions& options) {
    ares_options opts{};
    int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_RESOLVCONF;
    opts.sock_state_cb = &AresChannel::on_socket_state;
    opts.sock_state_cb_data = this;
    opts.timeout = options.timeout_ms;
    opts.tries = options.tries;
    // An empty file: c-ares then reads no system resolv.conf at all.
    std::string resolv_conf = options.resolv_conf.empty() ? "/dev/null" : options.resolv_conf;
    opts.resolvconf_path = resolv_conf.data();
    // NOCHECKRESP: an error answer (SERVFAIL, REFUSED, NOTIMP) is final and
    // reported as such, as in ReactPHP, whose fallback to the next nameserver
    // only happens on timeouts and transport errors. Without it, c-ares tries
    // the next server and then reports every such answer as ECONNREFUSED.
    mask |= ARES_OPT_FLAGS;
    opts.flags = ARES_FLAG_NOCHECKRESP | (options.tcp_only ? ARES_FLAG_USEVC : 0);
    if (options.ndots) {
        mask |= ARES_OPT_NDOTS;
        opts.ndots = *options.ndots;
    }
    std::vector<char*> domains;
    if (options.search) {
        mask |= ARES_OPT_DOMAINS;
        for (const std::string& domain : *options.search) {
            domains.push_back(const_cast<char*>(domain.c_str()));
        }
        opts.domains = domains.data();
        opts.ndomains = static_cast<int>(domains.size());
    }

    ares_channel channel = nullptr;
    int status = ares_init_options(&channel, &opts, mask);
    if (status != ARES_SUCCESS) {
        throw Error(status == ARES_ENOMEM ? ENOMEM : EIO,
                    std::string("Unable to initialise the DNS resolver: ") + ares_strerror(status));
    }
    channel_ = channel;

    if (!options.nameservers.empty()) {
        std::vector<ares_addr_port_node> nodes(options.nameservers.size());
        for (std::size_t i = 0; i < nodes.size(); ++i) {
            const Nameserver& server = options.nameservers[i];
            ares_addr_port_node& node = nodes[i];
            node.next = i + 1 < nodes.size() ? &nodes[i + 1] : nullptr;
            node.family = server.family;
            if (server.family == AF_INET) {
                std::memcpy(&node.addr.addr4, server.address.data(), 4);
            } else {
                std::memcpy(&node.addr.addr6, server.address.data(), 16);
            }
            node.udp_port = server.port;
            node.tcp_port = server.port;
        }
        status = ares_set_servers_ports(channel, nodes.data());
        if (status != ARES_SUCCESS) {
            close();
            throw Error(status == ARES_ENOMEM ? ENOMEM : EIO,
                        std::string("Unable to configure DNS servers: ") + ares_strerror(status));
        }
    }
}

std::uint64_t AresChannel::search(const std::string& name, RecordType type,
                                  QueryCallback callback) {
    const std::uint64_t id = next_id_++;
    if (closed_)
        return id;  // never reports
    waiting_.emplace(id, std::move(callback));
    // The strong reference keeps `this` alive through delivery below.
    auto self = shared_from_this();
    ++outstanding_;
    ares_search(static_cast<ares_channel>(channel_), name.c_str(), 1 /* class IN */,
                static_cast<int>(type), &AresChannel::on_query_done, new QueryContext{this, id});
    update_timer();
    deliver();  // a query c-ares failed at once (bad name, no memory)
    return id;
}

void AresChannel::abandon(std::uint64_t id) {
    waiting_.erase(id);
    settle_abandoned();
}

void AresChannel::close() {
    if (closed_)
        return;
    closed_ = true;
    waiting_.clear();
    completed_.clear();
    if (timer_) {
        loop_->cancel_timer(timer_);
        timer_.reset();
    }
    // Stop watching before c-ares closes the descriptors.
    release_all_watches();
    if (channel_ != nullptr) {
        // Runs on_query_done (ARES_EDESTRUCTION) for every outstanding query,
        // which frees its context; nothing is delivered any more.
        ares_destroy(static_cast<ares_channel>(channel_));
        channel_ = nullptr;
    }
    release_all_watches();  // in case c-ares reported a socket while being destroyed
}

void AresChannel::on_socket_state(void* data, int fd, int readable, int writable) {
    static_cast<AresChannel*>(data)->socket_state(fd, readable != 0, writable != 0);
}

void AresChannel::socket_state(int fd, bool readable, bool writable) {
    auto it = watches_.find(fd);
    if (!readable && !writable) {
        // c-ares is about to close `fd`: stop watching it, and keep the fd open.
        if (it != watches_.end()) {
            auto watch = std::move(it->second);
            watches_.erase(it);
            asio::error_code ignored;
            watch->descriptor.cancel(ignored);
            (void)watch->descriptor.release();
        }
        return;
    }
    if (closed_)
        return;
    if (it == watches_.end()) {
        it = watches_.emplace(fd, std::make_shared<Watch>(loop_->context(), fd)).first;
    }
    it->second->want_read = readable;
    it->second->want_write = writable;
    arm(fd, it->second);
}

void AresChannel::arm(int fd, const std::shared_ptr<Watch>& watch) {
    std::weak_ptr<AresChannel> weak_self = weak_from_this();
    std::weak_ptr<Watch> weak_watch = watch;
    if (watch->want_read && !watch->waiting_read) {
        watch->waiting_read = true;
        watch->descriptor.async_wait(asio::posix::stream_descriptor::wait_read,
                                     [weak_self, weak_watch, fd](const asio::error_code& ec) {
                                         auto self = weak_self.lock();
                                         auto watch = weak_watch.lock();
                                         if (!self || !watch)
                                             return;  // released: the descriptor is no longer ours
                                         watch->waiting_read = false;
                                         if (ec == asio::error::operation_aborted)
                                             return;
                                         self->on_ready(fd, watch, true);
                                     });
    }
    if (watch->want_write && !watch->waiting_write) {
        watch->waiting_write = true;
        watch->descriptor.async_wait(asio::posix::stream_descriptor::wait_write,
                                     [weak_self, weak_watch, fd](const asio::error_code& ec) {
                                         auto self = weak_self.lock();
                                         auto watch = weak_watch.lock();
                                         if (!self || !watch)
                                             return;
                                         watch->waiting_write = false;
                                         if (ec == asio::error::operation_aborted)
                                             return;
                                         self->on_ready(fd, watch, false);
                                     });
    }
}

void AresChannel::on_ready(int fd, const std::shared_ptr<Watch>& watch, bool readable) {
    if (closed_)
        return;
    auto self = shared_from_this();  // delivery may drop the owner's reference
    process(readable ? fd : ARES_SOCKET_BAD, readable ? ARES_SOCKET_BAD : fd);
    // Wait again if c-ares still wants this socket (it may have closed it,
    // or reopened the same number as a new socket with a new Watch).
    auto it = watches_.find(fd);
    if (!closed_ && it != watches_.end() && it->second == watch)
        arm(fd, watch);
    deliver();
}

void AresChannel::process(int read_fd, int write_fd) {
    if (closed_)
        return;
    ares_process_fd(static_cast<ares_channel>(channel_), read_fd, write_fd);
    update_timer();
}

void AresChannel::on_query_done(void* arg, int status, int /*timeouts*/, unsigned char* abuf,
                                int alen) {
    std::unique_ptr<QueryContext> context(static_cast<QueryContext*>(arg));
    AresChannel& self = *context->channel;
    --self.outstanding_;
    if (self.closed_ || !self.waiting_.contains(context->id))
        return;  // abandoned
    Completed done{context->id, map_status(status), {}, ares_strerror(status)};
    if (abuf != nullptr && alen > 0)
        done.answer.assign(abuf, abuf + alen);
    self.completed_.push_back(std::move(done));
}

void AresChannel::deliver() {
    if (delivering_ || closed_)
        return;
    auto self = shared_from_this();
    delivering_ = true;
    struct Reset {
        AresChannel& channel;
        ~Reset() { channel.delivering_ = false; }
    } reset{*this};
    while (!closed_ && !completed_.empty()) {
        Completed done = std::move(completed_.front());
        completed_.pop_front();
        auto it = waiting_.find(done.id);
        if (it == waiting_.end())
            continue;  // abandoned after it completed
        QueryCallback callback = std::move(it->second);
        waiting_.erase(it);
        callback(done.status, done.answer, done.detail);
    }
    settle_abandoned();
}

void AresChannel::settle_abandoned() {
    // Queries nobody waits for any more keep sockets and the timer busy:
    // cancel them once no wanted query needs the channel. (c-ares 1.18 has no
    // per-query cancel; ares_cancel ends them all and closes idle sockets.)
    if (closed_ || !waiting_.empty() || outstanding_ == 0)
        return;
    ares_cancel(static_cast<ares_channel>(channel_));
    completed_.clear();
    update_timer();
}

void AresChannel::update_timer() {
    if (closed_)
        return;
    timeval tv{};
    const timeval* next = ares_timeout(static_cast<ares_channel>(channel_), nullptr, &tv);
    if (timer_) {
        loop_->cancel_timer(timer_);
        timer_.reset();
    }
    if (next == nullptr)
        return;  // no query pending
    const double seconds =
        static_cast<double>(next->tv_sec) + static_cast<double>(next->tv_usec) / 1e6;
    std::weak_ptr<AresChannel> weak_self = weak_from_this();
    timer_ = loop_->add_timer(seconds, [weak_self] {
        auto self = weak_self.lock();
        if (!self || self->closed_)
            return;
        self->timer_.reset();
        self->process(ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // handles timeouts
        self->deliver();
    });
}

void AresChannel::release_all_watches() {
    auto watches = std::move(watches_);
    watches_.clear();
    for (auto& [fd, watch] : watches) {
        asio::error_code ignored;
        watch->descriptor.cancel(ignored);
        (void)watch->descriptor.release();
    }
}

}  // namespace reactsock::detail
