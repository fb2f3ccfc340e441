#include "dns/hosts_file.hpp"

#include "address.hpp"
#include "dns/answer.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace reactsock::detail {

namespace {

std::string_view strip_dot(std::string_view name) {
    if (name.size() > 1 && name.back() == '.')
        name.remove_suffix(1);
    return name;
}

}  // namespace

HostsFile HostsFile::load(const std::string& path) {
    if (path.empty())
        return {};
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return {};
    std::ostringstream contents;
    contents << in.rdbuf();
    return parse(contents.str());
}

HostsFile HostsFile::parse(std::string_view contents) {
    HostsFile hosts;
    std::size_t start = 0;
    while (start <= contents.size()) {
        std::size_t end = contents.find('\n', start);
        if (end == std::string_view::npos)
            end = contents.size();
        std::string_view line = contents.substr(start, end - start);
        start = end + 1;
        if (const auto hash = line.find('#'); hash != std::string_view::npos)
            line = line.substr(0, hash);

        std::vector<std::string_view> fields;
        std::size_t at = 0;
        while (at < line.size()) {
            while (at < line.size() && (line[at] == ' ' || line[at] == '\t' || line[at] == '\r'))
                ++at;
            std::size_t stop = at;
            while (stop < line.size() && line[stop] != ' ' && line[stop] != '\t' &&
                   line[stop] != '\r') {
                ++stop;
            }
            if (stop > at)
                fields.push_back(line.substr(at, stop - at));
            at = stop;
        }
        if (fields.size() < 2)
            continue;

        std::string address(fields[0]);
        if (const auto zone = address.find('%'); zone != std::string::npos)
            address.resize(zone);
        const auto ip = parse_ip(address, ScopeId::rejected);
        if (!ip)
            continue;
        const bool v6 = ip->is_v6();
        for (std::size_t i = 1; i < fields.size(); ++i) {
            auto& list = v6 ? hosts.entries_[ascii_lower(strip_dot(fields[i]))].v6
                            : hosts.entries_[ascii_lower(strip_dot(fields[i]))].v4;
            if (std::find(list.begin(), list.end(), address) == list.end())
                list.push_back(address);
        }
        if (end == contents.size())
            break;
    }
    return hosts;
}

const std::vector<std::string>* HostsFile::find(std::string_view name, bool v6) const {
    const auto it = entries_.find(ascii_lower(strip_dot(name)));
    if (it == entries_.end())
        return nullptr;
    const auto& list = v6 ? it->second.v6 : it->second.v4;
    return list.empty() ? nullptr : &list;
}

}  // namespace reactsock::detail
