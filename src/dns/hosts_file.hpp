// src/dns/hosts_file.hpp — private: the names of a hosts file (/etc/hosts).
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace reactsock::detail {

/// Name → addresses, as in ReactPHP's HostsFile: names compare
/// case-insensitively, comments (#) are stripped, one line may list many
/// names, IPv6 zone ids (fe80::1%eth0) are dropped, invalid addresses skipped.
class HostsFile {
public:
    HostsFile() = default;

    /// Reads `path` (blocking; it is small). A missing or unreadable file gives
    /// an empty HostsFile, as does an empty path.
    static HostsFile load(const std::string& path);
    static HostsFile parse(std::string_view contents);

    /// The IPv4 (`v6` false) or IPv6 addresses listed for `name`, in file order.
    [[nodiscard]] const std::vector<std::string>* find(std::string_view name, bool v6) const;

private:
    struct Entry {
        std::vector<std::string> v4;
        std::vector<std::string> v6;
    };
    std::unordered_map<std::string, Entry> entries_;  // lower-case name, no trailing dot
};

}  // namespace reactsock::detail
