#include "dns/answer.hpp"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>

namespace reactsock::detail {

namespace {

constexpr std::uint16_t kClassIn = 1;
constexpr int kMaxChain = 16;
constexpr std::size_t kHeaderSize = 12;

struct Record {
    std::string owner;  // lower case
    std::uint16_t type = 0;
    std::uint16_t klass = 0;
    std::uint32_t ttl = 0;
    std::size_t rdata = 0;  // offset in the message
    std::size_t rdlength = 0;
};

std::uint16_t read16(const unsigned char* p) {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

std::uint32_t read32(const unsigned char* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}

// Expands the (possibly compressed) name at `offset`; sets `length` to the
// bytes it occupies there. nullopt if malformed.
std::optional<std::string> expand_name(const std::vector<unsigned char>& message,
                                       std::size_t offset, long& length) {
    if (offset >= message.size())
        return std::nullopt;
    char* name = nullptr;
    if (ares_expand_name(message.data() + offset, message.data(), static_cast<int>(message.size()),
                         &name, &length) != ARES_SUCCESS) {
        return std::nullopt;
    }
    std::unique_ptr<char, void (*)(void*)> owned(name, &ares_free_string);
    return std::string(name);
}

std::optional<std::string> name_in_rdata(const std::vector<unsigned char>& message,
                                         const Record& record, std::size_t skip) {
    if (record.rdlength <= skip)
        return std::nullopt;
    long length = 0;
    auto name = expand_name(message, record.rdata + skip, length);
    if (!name || static_cast<std::size_t>(length) > record.rdlength - skip)
        return std::nullopt;
    return name;
}

// Appends the value of `record` to `answer`; false if its data is malformed.
bool decode(const std::vector<unsigned char>& message, const Record& record, RecordType type,
            DnsAnswer& answer) {
    const unsigned char* data = message.data() + record.rdata;
    switch (type) {
        case RecordType::A:
        case RecordType::AAAA: {
            const bool v4 = type == RecordType::A;
            if (record.rdlength != (v4 ? 4u : 16u))
                return false;
            char text[INET6_ADDRSTRLEN] = {};
            if (inet_ntop(v4 ? AF_INET : AF_INET6, data, text, sizeof text) == nullptr)
                return false;
            answer.values.emplace_back(text);
            return true;
        }
        case RecordType::CNAME: {
            auto target = name_in_rdata(message, record, 0);
            if (!target)
                return false;
            answer.values.push_back(std::move(*target));
            return true;
        }
        case RecordType::MX: {
            if (record.rdlength < 3)
                return false;
            auto target = name_in_rdata(message, record, 2);
            if (!target)
                return false;
            answer.mx.push_back(MxRecord{read16(data), std::move(*target)});
            return true;
        }
        case RecordType::SRV: {
            if (record.rdlength < 7)
                return false;
            auto target = name_in_rdata(message, record, 6);
            if (!target)
                return false;
            answer.srv.push_back(
                SrvRecord{read16(data), read16(data + 2), read16(data + 4), std::move(*target)});
            return true;
        }
        case RecordType::TXT: {
            TxtRecord txt;
            std::size_t at = 0;
            while (at < record.rdlength) {
                const std::size_t length = data[at];
                if (at + 1 + length > record.rdlength)
                    return false;
                txt.strings.emplace_back(reinterpret_cast<const char*>(data + at + 1), length);
                at += 1 + length;
            }
            answer.txt.push_back(std::move(txt));
            return true;
        }
    }
    return false;
}

}  // namespace

std::string ascii_lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

std::optional<DnsAnswer> parse_dns_answer(const std::vector<unsigned char>& message,
                                          RecordType type) {
    if (message.size() < kHeaderSize)
        return std::nullopt;
    const std::uint16_t questions = read16(message.data() + 4);
    const std::uint16_t answers = read16(message.data() + 6);
    if (questions == 0)
        return std::nullopt;

    std::size_t at = kHeaderSize;
    std::string question;
    for (std::uint16_t i = 0; i < questions; ++i) {
        long length = 0;
        auto name = expand_name(message, at, length);
        if (!name)
            return std::nullopt;
        at += static_cast<std::size_t>(length) + 4;  // + type + class
        if (at > message.size())
            return std::nullopt;
        if (i == 0)
            question = ascii_lower(*name);
    }

    std::vector<Record> records;
    records.reserve(answers);
    for (std::uint16_t i = 0; i < answers; ++i) {
        long length = 0;
        auto owner = expand_name(message, at, length);
        if (!owner)
            return std::nullopt;
        at += static_cast<std::size_t>(length);
        if (at + 10 > message.size())
            return std::nullopt;
        Record record;
        record.owner = ascii_lower(*owner);
        record.type = read16(message.data() + at);
        record.klass = read16(message.data() + at + 2);
        record.ttl = read32(message.data() + at + 4);
        if (record.ttl > 0x7fffffffu)
            record.ttl = 0;  // RFC 2181 §8
        record.rdlength = read16(message.data() + at + 8);
        record.rdata = at + 10;
        at = record.rdata + record.rdlength;
        if (at > message.size())
            return std::nullopt;
        records.push_back(std::move(record));
    }

    DnsAnswer answer;
    std::uint32_t ttl = 0xffffffffu;
    std::string current = question;
    const auto wanted = static_cast<std::uint16_t>(type);
    for (int link = 0; link <= kMaxChain; ++link) {
        bool found = false;
        for (const Record& record : records) {
            if (record.klass != kClassIn || record.type != wanted || record.owner != current)
                continue;
            if (!decode(message, record, type, answer))
                return std::nullopt;
            ttl = std::min(ttl, record.ttl);
            found = true;
        }
        if (found) {
            answer.ttl = ttl;
            return answer;
        }
        // No record of the type: follow a CNAME of this name, if there is one.
        const auto alias = std::find_if(records.begin(), records.end(), [&](const Record& r) {
            return r.klass == kClassIn && r.type == static_cast<std::uint16_t>(RecordType::CNAME) &&
                   r.owner == current;
        });
        if (alias == records.end())
            break;
        auto target = name_in_rdata(message, *alias, 0);
        if (!target)
            return std::nullopt;
        ttl = std::min(ttl, alias->ttl);
        current = ascii_lower(*target);
    }
    return DnsAnswer{};  // NODATA
}

}  // namespace reactsock::detail
