// What Linux says about the servers and the machine: /proc readers and the
// output of a shell command.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace bench::echo {

// A whole file as text; "" if it cannot be read.
std::string read_file(const std::string& path);

// utime + stime of every thread of `pid`, in seconds (/proc/PID/stat, fields 14 and 15).
std::optional<double> process_cpu_seconds(pid_t pid);

// VmRSS of `pid` in KiB (/proc/PID/status).
std::optional<double> process_rss_kib(pid_t pid);

// Seconds of /proc/stat's "cpu" (all CPUs) or "cpuN" line: busy = user + nice +
// system (irq, softirq, idle, iowait and steal apart), and softirq.
struct CpuTimes {
    double busy = 0;
    double softirq = 0;
};

// `cpu` < 0: all CPUs.
std::optional<CpuTimes> machine_cpu_seconds(int cpu);

// The standard output of `command` (sh -c), without trailing newlines.
std::string command_output(const std::string& command);

}  // namespace bench::echo
