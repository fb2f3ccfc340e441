#include <reactsock/dns/resolver.hpp>

#include "address.hpp"
#include "dns/answer.hpp"
#include "dns/ares_channel.hpp"
#include "dns/cache.hpp"
#include "dns/config.hpp"
#include "dns/hosts_file.hpp"

#include <reactsock/error.hpp>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <functional>
#include <map>
#include <random>
#include <stdexcept>
#include <utility>

namespace reactsock {

using detail::DnsAnswer;
using detail::QueryStatus;

std::string_view to_string(RecordType type) noexcept {
    switch (type) {
        case RecordType::A:
            return "A";
        case RecordType::CNAME:
            return "CNAME";
        case RecordType::MX:
            return "MX";
        case RecordType::TXT:
            return "TXT";
        case RecordType::AAAA:
            return "AAAA";
        case RecordType::SRV:
            return "SRV";
    }
    return "UNKNOWN";
}

namespace {

// "<name> (<TYPE>)", ReactPHP's Query::describe().
std::string describe(std::string_view name, RecordType type) {
    std::string text = escape_for_message(name);
    text += " (";
    text += to_string(type);
    text += ')';
    return text;
}

// RFC 1035 lengths; no whitespace or control characters. Anything else
// (underscores, IDNA labels) is left to the nameserver.
bool valid_name(std::string_view name) {
    if (name.size() > 1 && name.back() == '.')
        name.remove_suffix(1);
    if (name.empty() || name.size() > 253)
        return false;
    std::size_t label = 0;
    for (const char c : name) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte == 0x7f)
            return false;
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if (++label > 63) {
            return false;
        }
    }
    return label > 0;
}

enum class Literal { none, v4, v6 };

Literal ip_literal(const std::string& host) {
    const auto ip = detail::parse_ip(host, detail::ScopeId::rejected);
    if (!ip)
        return Literal::none;
    return ip->is_v4() ? Literal::v4 : Literal::v6;
}

// RFC 6761 §6.3: localhost and every name below it are the loopback host.
bool is_localhost(std::string_view host) {
    std::string name = detail::ascii_lower(host);
    if (name.size() > 1 && name.back() == '.')
        name.pop_back();
    return name == "localhost" || name.ends_with(".localhost");
}

std::string cache_key(std::string_view host, RecordType type) {
    std::string key = detail::ascii_lower(host);
    key += '\0';
    key += to_string(type);
    return key;
}

std::exception_ptr nodata_error(const std::string& query) {
    return std::make_exception_ptr(Error(
        ENODATA, "DNS query for " + query + " did not return a valid answer (NOERROR / NODATA)"));
}

std::exception_ptr error_response(const std::string& query, int code, const char* reason) {
    return std::make_exception_ptr(
        Error(code, "DNS query for " + query + " returned an error response (" + reason + ")"));
}

std::exception_ptr query_error(const std::string& query, QueryStatus status,
                               const std::string& detail) {
    const std::string failed = "DNS query for " + query + " failed: ";
    switch (status) {
        case QueryStatus::nodata:
        case QueryStatus::success:  // success without records of the type
            return nodata_error(query);
        case QueryStatus::nxdomain:
            return error_response(query, ENOENT, "Non-Existent Domain / NXDOMAIN");
        case QueryStatus::format_error:
            return error_response(query, EPROTO, "Format Error");
        case QueryStatus::server_failure:
            return error_response(query, EAGAIN, "Server Failure");
        case QueryStatus::not_implemented:
            return error_response(query, EOPNOTSUPP, "Not Implemented");
        case QueryStatus::refused:
            return error_response(query, ECONNREFUSED, "Refused");
        case QueryStatus::timeout:
            return std::make_exception_ptr(
                Error(ETIMEDOUT, "DNS query for " + query + " timed out"));
        case QueryStatus::connection_refused:
            return std::make_exception_ptr(make_errno_error(ECONNREFUSED, failed));
        case QueryStatus::bad_response:
            return std::make_exception_ptr(
                Error(EBADMSG, failed + "Invalid response message received from DNS server"));
        case QueryStatus::bad_name:
            return std::make_exception_ptr(std::invalid_argument(failed + "Invalid domain name"));
        case QueryStatus::no_memory:
            return std::make_exception_ptr(make_errno_error(ENOMEM, failed));
        case QueryStatus::other:
            break;
    }
    return std::make_exception_ptr(Error(EIO, failed + detail));
}

}  // namespace

struct Resolver::Impl : std::enable_shared_from_this<Impl> {
    // A lookup waiting for its query.
    struct Pending {
        virtual ~Pending() = default;
        virtual void fulfil(const DnsAnswer& answer) = 0;
        virtual void fail(std::exception_ptr error) = 0;
        std::string host;
        RecordType type = RecordType::A;
        std::string query;  // "<host> (<TYPE>)"
        std::uint64_t channel_query = 0;
    };

    template <class T>
    struct PendingOf final : Pending {
        PendingOf(Deferred<T> d, std::function<T(const DnsAnswer&)> c)
            : deferred(std::move(d)), convert(std::move(c)) {}
        void fulfil(const DnsAnswer& answer) override { settle(deferred, convert, answer); }
        void fail(std::exception_ptr error) override { deferred.reject(std::move(error)); }
        Deferred<T> deferred;
        std::function<T(const DnsAnswer&)> convert;
    };

    template <class T>
    static void settle(Deferred<T>& deferred, const std::function<T(const DnsAnswer&)>& convert,
                       const DnsAnswer& answer) {
        std::optional<T> value;
        try {
            value.emplace(convert(answer));
        } catch (...) {
            deferred.reject(std::current_exception());
            return;
        }
        deferred.resolve(std::move(*value));  // handlers run here; not inside the try
    }

    Impl(std::shared_ptr<Loop> l, const Config& config, std::size_t cache_size)
        : loop(std::move(l)),
          channel(detail::AresChannel::create(loop, detail::make_channel_options(config))),
          hosts(detail::HostsFile::load(config.hosts_file)),
          random(std::random_device{}()) {
        if (cache_size > 0)
            cache.emplace(cache_size);
    }

    ~Impl() { close(); }

    // What steps 1–3 of the header say: an answer without any query, or nullopt.
    // An empty DnsAnswer is NODATA.
    std::optional<DnsAnswer> local_answer(const std::string& host, RecordType type) const {
        const bool a = type == RecordType::A;
        const bool aaaa = type == RecordType::AAAA;
        switch (ip_literal(host)) {
            case Literal::v4:
                return a ? DnsAnswer{{host}, {}, {}, {}, 0} : DnsAnswer{};
            case Literal::v6:
                return aaaa ? DnsAnswer{{host}, {}, {}, {}, 0} : DnsAnswer{};
            case Literal::none:
                break;
        }
        if (is_localhost(host)) {
            if (a)
                return DnsAnswer{{"127.0.0.1"}, {}, {}, {}, 0};
            if (aaaa)
                return DnsAnswer{{"::1"}, {}, {}, {}, 0};
            return DnsAnswer{};
        }
        if (a || aaaa) {
            if (const auto* addresses = hosts.find(host, aaaa)) {
                return DnsAnswer{*addresses, {}, {}, {}, 0};
            }
        }
        return std::nullopt;
    }

    template <class T>
    Promise<T> lookup(const std::string& host, RecordType type,
                      std::function<T(const DnsAnswer&)> convert) {
        const std::string query = describe(host, type);
        if (ip_literal(host) == Literal::none && !valid_name(host)) {
            return reject<T>(
                std::invalid_argument("DNS query for " + query + " failed: Invalid domain name"));
        }
        if (auto local = local_answer(host, type)) {
            if (local->empty())
                return reject<T>(nodata_error(query));
            Deferred<T> deferred;
            settle(deferred, convert, *local);
            return deferred.promise();
        }
        if (cache) {
            if (const DnsAnswer* hit =
                    cache->find(cache_key(host, type), AnswerCache::Clock::now())) {
                Deferred<T> deferred;
                settle(deferred, convert, *hit);
                return deferred.promise();
            }
        }
        if (closed) {  // unreachable through the public API (the Resolver is gone)
            return reject<T>(Error(
                ECANCELED,
                "DNS query for " + query + " has been cancelled: the resolver was destroyed"));
        }

        const std::uint64_t id = next_id++;
        std::weak_ptr<Impl> weak = weak_from_this();
        Deferred<T> deferred([weak, id, query](Deferred<T>& self) {
            if (auto impl = weak.lock())
                impl->cancel(id);
            self.reject(Error(ECANCELED, "DNS query for " + query + " has been cancelled"));
        });
        Promise<T> promise = deferred.promise();
        auto pending = std::make_unique<PendingOf<T>>(std::move(deferred), std::move(convert));
        pending->host = host;
        pending->type = type;
        pending->query = query;
        pending_lookups.emplace(id, std::move(pending));
        const std::uint64_t channel_query =
            channel->search(host, type,
                            [weak, id](QueryStatus status, const std::vector<unsigned char>& reply,
                                       const std::string& detail) {
                                if (auto impl = weak.lock())
                                    impl->complete(id, status, reply, detail);
                            });
        // (c-ares may already have failed it, in which case it is gone.)
        if (auto it = pending_lookups.find(id); it != pending_lookups.end()) {
            it->second->channel_query = channel_query;
        }
        return promise;
    }

    void complete(std::uint64_t id, QueryStatus status, const std::vector<unsigned char>& reply,
                  const std::string& detail) {
        auto it = pending_lookups.find(id);
        if (it == pending_lookups.end())
            return;
        std::unique_ptr<Pending> pending = std::move(it->second);
        pending_lookups.erase(it);
        if (status != QueryStatus::success) {
            pending->fail(query_error(pending->query, status, detail));
            return;
        }
        auto answer = detail::parse_dns_answer(reply, pending->type);
        if (!answer) {
            pending->fail(query_error(pending->query, QueryStatus::bad_response, detail));
        } else if (answer->empty()) {
            pending->fail(nodata_error(pending->query));
        } else {
            if (cache) {
                cache->store(cache_key(pending->host, pending->type), *answer,
                             AnswerCache::Clock::now());
            }
            pending->fulfil(*answer);
        }
    }

    // From a promise's canceller: the lookup stops waiting; its promise is
    // rejected by the canceller itself.
    void cancel(std::uint64_t id) {
        auto it = pending_lookups.find(id);
        if (it == pending_lookups.end())
            return;
        const std::uint64_t channel_query = it->second->channel_query;
        pending_lookups.erase(it);
        channel->abandon(channel_query);
    }

    void close() {
        if (closed)
            return;
        closed = true;
        auto lookups = std::move(pending_lookups);
        pending_lookups.clear();
        channel->close();  // nothing pending in c-ares, no socket, no timer
        for (auto& [id, pending] : lookups) {
            pending->fail(std::make_exception_ptr(
                Error(ECANCELED, "DNS query for " + pending->query +
                                     " has been cancelled: the resolver was destroyed")));
        }
    }

    std::string pick(const DnsAnswer& answer) {
        std::uniform_int_distribution<std::size_t> index(0, answer.values.size() - 1);
        return answer.values[index(random)];
    }

    using AnswerCache = detail::AnswerCache;

    std::shared_ptr<Loop> loop;
    std::shared_ptr<detail::AresChannel> channel;
    detail::HostsFile hosts;
    std::optional<AnswerCache> cache;
    std::minstd_rand random;
    std::map<std::uint64_t, std::unique_ptr<Pending>> pending_lookups;  // by age
    std::uint64_t next_id = 1;
    bool closed = false;
};

std::shared_ptr<Resolver> Resolver::create(std::shared_ptr<Loop> loop) {
    return create(std::move(loop), Config{});
}

std::shared_ptr<Resolver> Resolver::create(std::shared_ptr<Loop> loop, const Config& config) {
    if (!loop)
        loop = Loop::get();
    return std::make_shared<Resolver>(Passkey{}, std::move(loop), config, 0);
}

std::shared_ptr<Resolver> Resolver::create(std::shared_ptr<Loop> loop,
                                           const nlohmann::json& config) {
    return create(std::move(loop), Config::from_json(config));
}

std::shared_ptr<Resolver> Resolver::create_cached(std::shared_ptr<Loop> loop) {
    return create_cached(std::move(loop), Config{});
}

std::shared_ptr<Resolver> Resolver::create_cached(std::shared_ptr<Loop> loop, const Config& config,
                                                  std::size_t cache_size) {
    if (cache_size == 0)
        throw std::invalid_argument("Invalid DNS cache size given: expected at least 1");
    if (!loop)
        loop = Loop::get();
    return std::make_shared<Resolver>(Passkey{}, std::move(loop), config, cache_size);
}

std::shared_ptr<Resolver> Resolver::create_cached(std::shared_ptr<Loop> loop,
                                                  const nlohmann::json& config,
                                                  std::size_t cache_size) {
    return create_cached(std::move(loop), Config::from_json(config), cache_size);
}

Resolver::Resolver(Passkey, std::shared_ptr<Loop> loop, const Config& config,
                   std::size_t cache_size)
    : impl_(std::make_shared<Impl>(std::move(loop), config, cache_size)) {}

Resolver::~Resolver() {
    impl_->close();
}

Promise<std::string> Resolver::resolve(const std::string& host) {
    if (ip_literal(host) != Literal::none)
        return reactsock::resolve(host);
    Impl* impl = impl_.get();  // a lookup's convert runs while the Impl is alive
    return impl_->lookup<std::string>(
        host, RecordType::A, [impl](const DnsAnswer& answer) { return impl->pick(answer); });
}

Promise<std::vector<std::string>> Resolver::resolve_all(const std::string& host, RecordType type) {
    if (type == RecordType::MX || type == RecordType::TXT || type == RecordType::SRV) {
        throw std::invalid_argument(
            "resolve_all() gives A, AAAA and CNAME values; use resolve_mx(), resolve_txt() or "
            "resolve_srv() for " +
            std::string(to_string(type)) + " records");
    }
    return impl_->lookup<std::vector<std::string>>(
        host, type, [](const DnsAnswer& answer) { return answer.values; });
}

Promise<std::vector<MxRecord>> Resolver::resolve_mx(const std::string& host) {
    return impl_->lookup<std::vector<MxRecord>>(host, RecordType::MX,
                                                [](const DnsAnswer& answer) { return answer.mx; });
}

Promise<std::vector<TxtRecord>> Resolver::resolve_txt(const std::string& host) {
    return impl_->lookup<std::vector<TxtRecord>>(
        host, RecordType::TXT, [](const DnsAnswer& answer) { return answer.txt; });
}

Promise<std::vector<SrvRecord>> Resolver::resolve_srv(const std::string& host) {
    return impl_->lookup<std::vector<SrvRecord>>(
        host, RecordType::SRV, [](const DnsAnswer& answer) { return answer.srv; });
}

std::shared_ptr<Loop> Resolver::loop() const {
    return impl_->loop;
}

}  // namespace reactsock
