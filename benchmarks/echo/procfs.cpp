#include "echo/procfs.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace bench::echo {

namespace {

double clock_ticks_per_second() {
    static const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    return ticks;
}

}  // namespace

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
}

std::optional<double> process_cpu_seconds(pid_t pid) {
    const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    const auto paren = stat.rfind(')');
    if (paren == std::string::npos)
        return std::nullopt;
    std::istringstream fields(stat.substr(paren + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int index = 3; fields >> field; ++index) {
        if (index == 14)
            utime = std::stoull(field);
        if (index == 15) {
            stime = std::stoull(field);
            return static_cast<double>(utime + stime) / clock_ticks_per_second();
        }
    }
    return std::nullopt;
}

std::optional<double> process_rss_kib(pid_t pid) {
    std::istringstream status(read_file("/proc/" + std::to_string(pid) + "/status"));
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stod(line.substr(6));
    }
    return std::nullopt;
}

std::optional<CpuTimes> machine_cpu_seconds(int cpu) {
    std::istringstream stat(read_file("/proc/stat"));
    const std::string wanted = cpu < 0 ? "cpu" : "cpu" + std::to_string(cpu);
    std::string line;
    while (std::getline(stat, line)) {
        std::istringstream fields(line);
        std::string name;
        fields >> name;
        if (name != wanted)
            continue;
        unsigned long long v[7] = {};
        for (auto& x : v)
            fields >> x;  // user nice system idle iowait irq softirq
        return CpuTimes{static_cast<double>(v[0] + v[1] + v[2]) / clock_ticks_per_second(),
                        static_cast<double>(v[6]) / clock_ticks_per_second()};
    }
    return std::nullopt;
}

std::string command_output(const std::string& command) {
    std::string out;
    if (FILE* pipe = ::popen(command.c_str(), "r")) {
        char buffer[256];
        while (std::fgets(buffer, sizeof buffer, pipe))
            out += buffer;
        ::pclose(pipe);
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
        out.pop_back();
    return out;
}

}  // namespace bench::echo
