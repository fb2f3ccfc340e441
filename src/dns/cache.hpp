// src/dns/cache.hpp — private: the bounded LRU answer cache of create_cached().
#pragma once

#include "dns/answer.hpp"

#include <chrono>
#include <cstddef>
#include <list>
#include <string>
#include <unordered_map>
#include <utility>

namespace reactsock::detail {

/// Answers by key until their TTL runs out; at most `capacity` of them, the
/// least recently used evicted first. ReactPHP's CachingExecutor over
/// ArrayCache(256), keyed by name and type.
class AnswerCache {
public:
    using Clock = std::chrono::steady_clock;

    explicit AnswerCache(std::size_t capacity) : capacity_(capacity) {}

    /// The live answer for `key`, or nullptr (an expired one is dropped).
    const DnsAnswer* find(const std::string& key, Clock::time_point now) {
        const auto it = index_.find(key);
        if (it == index_.end())
            return nullptr;
        if (now >= it->second->expires) {
            entries_.erase(it->second);
            index_.erase(it);
            return nullptr;
        }
        entries_.splice(entries_.begin(), entries_, it->second);  // most recently used
        return &it->second->answer;
    }

    /// Keeps `answer` for `answer.ttl` seconds from `now` (not at all for 0).
    void store(const std::string& key, DnsAnswer answer, Clock::time_point now) {
        if (answer.ttl == 0 || capacity_ == 0)
            return;
        const auto expires = now + std::chrono::seconds(answer.ttl);
        if (const auto it = index_.find(key); it != index_.end()) {
            it->second->answer = std::move(answer);
            it->second->expires = expires;
            entries_.splice(entries_.begin(), entries_, it->second);
            return;
        }
        entries_.push_front(Entry{key, std::move(answer), expires});
        index_.emplace(key, entries_.begin());
        while (entries_.size() > capacity_) {
            index_.erase(entries_.back().key);
            entries_.pop_back();
        }
    }

    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }

private:
    struct Entry {
        std::string key;
        DnsAnswer answer;
        Clock::time_point expires;
    };
    std::size_t capacity_;
    std::list<Entry> entries_;  // front: most recently used
    std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace reactsock::detail
