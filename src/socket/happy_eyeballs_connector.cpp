#include <reactsock/socket/happy_eyeballs_connector.hpp>

#include "address.hpp"
#include "options.hpp"
#include "socket/connector_util.hpp"
#include "socket/uri.hpp"

#include <reactsock/error.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <deque>
#include <map>
#include <random>
#include <stdexcept>

namespace reactsock {

namespace {

using Result = std::shared_ptr<Connection>;

std::minstd_rand& random_engine() {
    thread_local std::minstd_rand engine{std::random_device{}()};
    return engine;
}

// One connect() in progress: lookups, queued addresses, attempts, timers.
class Builder : public std::enable_shared_from_this<Builder> {
public:
    Builder(std::shared_ptr<ConnectorInterface> connector, std::shared_ptr<Loop> loop, HappyEyeballsConnectorOptions options,
            detail::Uri parts, bool had_scheme, std::string described)
        : connector_(std::move(connector)), loop_(std::move(loop)), options_(options), parts_(std::move(parts)),
          had_scheme_(had_scheme), described_(std::move(described)) {}

    Promise<Result> start(Resolver& resolver) {
        std::weak_ptr<Builder> weak = shared_from_this();
        out_ = Deferred<Result>([weak](Deferred<Result>& self) {
            auto builder = weak.lock();
            const bool attempting = builder && !builder->attempts_.empty();
            self.reject(Error(ECONNABORTED, "Connection to " + (builder ? builder->described_ : std::string("?")) +
                                                (attempting ? " cancelled (ECONNABORTED)"
                                                            : " cancelled during DNS lookup (ECONNABORTED)")));
            if (builder) builder->clean_up();
        });
        auto self = shared_from_this();
        auto v6 = resolver.resolve_all(parts_.host, RecordType::AAAA);
        auto v4 = resolver.resolve_all(parts_.host, RecordType::A);
        lookup_v6_ = detail::Access::state(v6);
        lookup_v4_ = detail::Access::state(v4);
        v6.then([self](const std::vector<std::string>& ips) { self->on_answer(true, ips); },
                [self](std::exception_ptr e) { self->on_lookup_failed(true, e); });
        v4.then([self](const std::vector<std::string>& ips) { self->on_answer(false, ips); },
                [self](std::exception_ptr e) { self->on_lookup_failed(false, e); });
        return out_.promise();
    }

private:
    void on_answer(bool v6, const std::vector<std::string>& ips) {
        (v6 ? v6_done_ : v4_done_) = true;
        if (!out_.is_pending()) return;
        if (!v6 && !v6_done_ && !ips.empty()) {
            // A came first: give AAAA a moment (resolution delay).
            held_v4_ = ips;
            std::weak_ptr<Builder> weak = shared_from_this();
            resolution_timer_ = loop_->add_timer(options_.resolution_delay, [weak] {
                if (auto self = weak.lock()) {
                    self->resolution_timer_.reset();
                    self->release_held();
                }
            });
            return;
        }
        mix(ips);
        try_next();
        // AAAA is in: its first attempt has started; the held A answer joins
        // the queue now (interleaved, as ReactPHP's builder does).
        if (v6) release_held();
    }

    void on_lookup_failed(bool v6, const std::exception_ptr& error) {
        (v6 ? v6_done_ : v4_done_) = true;
        if (!out_.is_pending()) return;
        (v6 ? last_error_v6_ : last_error_v4_) = describe_exception(error);
        last_failed_v6_ = v6;
        last_code_ = detail::error_code_of(error);
        if (v6) release_held();
        try_next();
    }

    void release_held() {
        if (resolution_timer_) {
            loop_->cancel_timer(resolution_timer_);
            resolution_timer_.reset();
        }
        if (held_v4_.empty()) return;
        auto held = std::move(held_v4_);
        held_v4_.clear();
        mix(held);
        try_next();
    }

    // Shuffles a new batch and interleaves it with the queue, new first.
    void mix(std::vector<std::string> ips) {
        std::shuffle(ips.begin(), ips.end(), random_engine());
        std::deque<std::string> merged;
        std::size_t i = 0;
        while (i < ips.size() || !queue_.empty()) {
            if (i < ips.size()) merged.push_back(std::move(ips[i++]));
            if (!queue_.empty()) {
                merged.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
        }
        queue_ = std::move(merged);
    }

    void try_next() {
        if (!out_.is_pending()) return;
        if (queue_.empty() || attempt_timer_) {
            check_failure();
            return;
        }
        const std::string ip = queue_.front();
        queue_.pop_front();
        const int id = next_attempt_++;
        auto attempt = connector_->connect(detail::uri_with_ip(parts_, had_scheme_, ip, parts_.host));
        attempts_[id] = detail::Access::state(attempt);
        const bool v6 = ip.find(':') != std::string::npos;
        if (!queue_.empty() || !v4_done_ || !v6_done_ || !held_v4_.empty()) {
            std::weak_ptr<Builder> weak = shared_from_this();
            attempt_timer_ = loop_->add_timer(options_.connection_attempt_delay, [weak] {
                if (auto self = weak.lock()) {
                    self->attempt_timer_.reset();
                    self->try_next();
                }
            });
        }
        auto self = shared_from_this();
        attempt.then([self, id](const Result& connection) { self->on_connected(id, connection); },
                     [self, id, v6](std::exception_ptr e) { self->on_attempt_failed(id, v6, e); });
    }

    void on_connected(int id, const Result& connection) {
        attempts_.erase(id);
        if (!out_.is_pending()) {
            connection->close();  // another attempt won, or cancelled meanwhile
            return;
        }
        clean_up();
        out_.resolve(connection);
    }

    void on_attempt_failed(int id, bool v6, const std::exception_ptr& error) {
        attempts_.erase(id);
        if (!out_.is_pending()) return;
        (v6 ? last_error_v6_ : last_error_v4_) = detail::strip_hostname_query(describe_exception(error));
        last_failed_v6_ = v6;
        last_code_ = detail::error_code_of(error);
        attempted_ = true;
        // A failure starts the next attempt at once.
        if (attempt_timer_) {
            loop_->cancel_timer(attempt_timer_);
            attempt_timer_.reset();
        }
        try_next();
    }

    void check_failure() {
        if (!out_.is_pending() || !v4_done_ || !v6_done_) return;
        if (!queue_.empty() || !attempts_.empty() || !held_v4_.empty()) return;
        const std::string& last = last_failed_v6_ ? last_error_v6_ : last_error_v4_;
        const std::string& previous = last_failed_v6_ ? last_error_v4_ : last_error_v6_;
        const char* last_family = last_failed_v6_ ? "IPv6" : "IPv4";
        const char* previous_family = last_failed_v6_ ? "IPv4" : "IPv6";
        std::string message = "Connection to " + described_ + " failed";
        if (!attempted_) message += " during DNS lookup";
        if (previous.empty() || previous == last) {
            message += ": " + last;
        } else {
            message += std::string(attempted_ ? ": " : ". ") + "Last error for " + last_family + ": " + last +
                       ". Previous error for " + previous_family + ": " + previous;
        }
        clean_up();
        out_.reject(Error(last_code_, message));
    }

    // Cancels whatever is still running.
    void clean_up() {
        for (const auto& timer : {resolution_timer_, attempt_timer_}) {
            if (timer) loop_->cancel_timer(timer);
        }
        resolution_timer_.reset();
        attempt_timer_.reset();
        queue_.clear();
        held_v4_.clear();
        auto attempts = std::move(attempts_);
        attempts_.clear();
        for (auto& [id, weak] : attempts) {
            if (auto state = weak.lock()) detail::cancel(state);
        }
        for (auto* lookup : {&lookup_v4_, &lookup_v6_}) {
            if (auto state = lookup->lock()) detail::cancel(state);
        }
    }

    std::shared_ptr<ConnectorInterface> connector_;
    std::shared_ptr<Loop> loop_;
    HappyEyeballsConnectorOptions options_;
    detail::Uri parts_;
    bool had_scheme_;
    std::string described_;

    Deferred<Result> out_;
    std::weak_ptr<detail::StateBase> lookup_v6_;
    std::weak_ptr<detail::StateBase> lookup_v4_;
    bool v6_done_ = false;
    bool v4_done_ = false;
    std::deque<std::string> queue_;
    std::vector<std::string> held_v4_;
    TimerHandle resolution_timer_;
    TimerHandle attempt_timer_;
    std::map<int, std::weak_ptr<detail::StateBase>> attempts_;
    int next_attempt_ = 0;
    bool attempted_ = false;
    std::string last_error_v6_;
    std::string last_error_v4_;
    bool last_failed_v6_ = false;
    int last_code_ = 0;
};

}  // namespace

HappyEyeballsConnectorOptions HappyEyeballsConnectorOptions::from_json(const nlohmann::json& json) {
    detail::JsonOptions reader(json, "HappyEyeballsConnector");
    HappyEyeballsConnectorOptions options;
    reader.read("resolution_delay", options.resolution_delay);
    reader.read("connection_attempt_delay", options.connection_attempt_delay);
    reader.finish();
    return options;
}

void from_json(const nlohmann::json& json, HappyEyeballsConnectorOptions& out) {
    out = HappyEyeballsConnectorOptions::from_json(json);
}

HappyEyeballsConnector::HappyEyeballsConnector(std::shared_ptr<ConnectorInterface> connector,
                                               std::shared_ptr<Resolver> resolver, std::shared_ptr<Loop> loop,
                                               const Options& options)
    : connector_(std::move(connector)), resolver_(std::move(resolver)),
      loop_(loop ? std::move(loop) : Loop::get()), options_(options) {
    if (!connector_ || !resolver_) {
        throw std::invalid_argument("HappyEyeballsConnector needs a connector and a resolver");
    }
    for (double delay : {options.resolution_delay, options.connection_attempt_delay}) {
        if (!std::isfinite(delay) || delay < 0) {
            throw std::invalid_argument("HappyEyeballsConnector delays must be finite numbers of seconds >= 0");
        }
    }
}

Promise<std::shared_ptr<Connection>> HappyEyeballsConnector::connect(std::string_view uri_text) {
    const std::string uri(uri_text);
    auto target = detail::parse_named_target(uri);
    if (!target) return reject<Result>(detail::invalid_uri(uri));
    if (detail::parse_ip(target->parts.host)) return connector_->connect(uri);  // no lookup needed
    auto builder = std::make_shared<Builder>(connector_, loop_, options_, std::move(target->parts),
                                             target->had_scheme, std::move(target->described));
    return builder->start(*resolver_);
}

}  // namespace reactsock
